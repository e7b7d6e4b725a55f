"""Scenario-level behaviour of the diskless strategy (domain.md §8 diskless rows)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from oracles import lognormal_mean_below

from geosim.runner import run
from geosim.scenario.loader import scenario_from_dict

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def load(name: str, **changes) -> dict:
    data = yaml.safe_load((SCENARIOS / f"{name}.yaml").read_text())
    for path, value in changes.items():
        node = data
        keys = path.split("__")
        for key in keys[:-1]:
            node = node[int(key)] if isinstance(node, list) else node[key]
        node[keys[-1]] = value
    return data


def run_dict(data: dict, seed: int = 1):
    return run(scenario_from_dict(data, base_dir=SCENARIOS), seed)


@pytest.fixture(scope="module")
def outage():
    return run_dict(load("quickstart"))


@pytest.fixture(scope="module")
def destruction():
    data = load("quickstart")
    data["faults"] = [{"kind": "region-destruction", "region": "us-west2", "at": "60s"}]
    return run_dict(data)


@pytest.fixture(scope="module")
def no_faults():
    data = load("quickstart")
    data["faults"] = []
    return run_dict(data)


def test_no_fault_run_loses_nothing_and_delivers_everything(no_faults):
    s = no_faults.summary
    assert s["loss"]["lost_records"] == 0
    assert s["unavailable"]["records"] == 0
    assert s["records"]["failed"] == 0 and s["records"]["info"] == 0
    assert s["records"]["acked"] == s["records"]["offered"]
    assert s["records"]["delivered"] == s["records"]["acked"]
    assert s["checks"]["duplicates"] == s["checks"]["skips"] == s["checks"]["reorders"] == 0


def test_publish_latency_is_at_least_put_plus_quorum_commit(no_faults):
    # Oracle: an ack needs the flush wait (>= 0), a GCS PUT (p50 200 ms) and a Spanner
    # commit (>= the leader's round trip to its nearest majority, ~24 ms): the median
    # publish latency cannot be below 200 ms + 24 ms.
    p50 = no_faults.summary["latency"]["publish"]["all"]["before"]["p50"]
    assert p50 > 0.224
    # and end-to-end adds the consumer side on top
    assert no_faults.summary["latency"]["e2e"]["all"]["before"]["p50"] > p50


def test_transient_outage_loses_nothing_but_makes_recent_data_unavailable(outage):
    s = outage.summary
    assert s["loss"]["lost_records"] == 0
    assert s["loss"]["rpo_seconds"] == 0
    unavailable = s["unavailable"]
    # records acknowledged in us-west2 within the replication window (5 min median)
    # cannot be read from us-west1 while us-west2 is down: all the 50 s before the outage
    assert unavailable["records"] > 0
    assert set(unavailable["by_region"]) == {"us-west2"}
    assert unavailable["intervals"] == [[60.0, 90.0]]


def test_surviving_region_producers_are_not_interrupted(outage):
    rto = outage.summary["rto"]["us-west1"]["producers"]
    # first ack of a record sent after the fault comes within one publish latency
    assert rto["first_success"] is not None and rto["first_success"] < 1.0
    assert rto["rate_recovered"] == 0
    # Only the records in us-west2's producers when they died (at most one flush
    # interval of their 5,000 records/s) failed; none of us-west1's.
    failed = outage.report.totals
    assert failed["us-west1"]["failed_records"] == 0
    assert 0 < failed["us-west2"]["failed_records"] <= 5_000 * 0.25 + 2
    assert outage.summary["records"]["failed"] == failed["us-west2"]["failed_records"]


def test_no_send_window_spans_the_producers_downtime(outage):
    # us-west2's producers are down from 60 s to 90 s and offer nothing meanwhile: a row
    # cut after their restart starts at the restart, not where their last target was
    # lost (an earlier model spread such rows back over the outage: p99 3.8 s, max 8.4 s)
    before = outage.summary["latency"]["publish"]["all"]["before"]
    assert before["max"] < 1.0


def test_failed_region_producers_recover_after_the_outage(outage):
    rto = outage.summary["rto"]["us-west2"]["producers"]
    assert rto["first_success"] is not None and 30.0 <= rto["first_success"] < 32.0


def test_destruction_turns_unavailable_records_into_losses(outage, destruction):
    lost = destruction.summary["loss"]
    assert set(lost["by_region"]) == {"us-west2"}
    # RPO: the oldest lost ack is from the start of the run (nothing replicated yet,
    # the median replication delay being 5 minutes)
    assert 50.0 <= lost["rpo_seconds"] <= 60.0
    # Size: us-west2's producers (half of 10,000 records/s) over that window, each
    # object lost unless its copy (default SLA: p50 5 min, p99.9 1 h, max 12 h) landed
    # before the destruction: rate * E[min(D, window)].
    expected = 5_000 * lognormal_mean_below(300, 3600, 12 * 3600, lost["rpo_seconds"])
    assert lost["lost_records"] == pytest.approx(expected, rel=0.03)
    # what the outage made unavailable, the destruction loses (same seed, same writes)
    assert lost["lost_records"] == pytest.approx(
        outage.summary["unavailable"]["records"], rel=0.01)


def test_quorum_of_buckets_loses_nothing_under_destruction_and_pays_in_latency():
    quorum = run_dict(load("warpstream-quorum"))
    s = quorum.summary
    assert s["loss"]["lost_records"] == 0
    assert s["unavailable"]["records"] == 0
    assert s["records"]["acked"] > 0
    # With a constant PUT service time the oracle is exact: the second copy is in
    # another region, so at least a WAN round trip (>= 13 ms here) more. (With the
    # preset's spread of F, the k-th fastest of n draws can hide the round trip.)
    constant = {"dist": "constant", "value": 0.06}
    fixed = load("warpstream-quorum")
    fixed["object_store"]["put_latency"] = constant
    single = load("warpstream-quorum")
    single["object_store"]["put_latency"] = constant
    del single["strategy"]["write_quorum"]
    quorum_p50 = run_dict(fixed).summary["latency"]["publish"]["all"]["before"]["p50"]
    single_p50 = run_dict(single).summary["latency"]["publish"]["all"]["before"]["p50"]
    assert quorum_p50 > single_p50 + 0.010
    assert s["bytes"]["cross_region"]["by_purpose"]["object_put"] > 0


def test_turbo_replication_shrinks_the_unavailable_window():
    data = load("quickstart")
    data["object_store"] = {"kind": "dual-region", "regions": ["us-west1", "us-west2"],
                            "replication": {"preset": "turbo"}}
    data["simulation"]["duration"] = "1500s"
    data["faults"] = [{"kind": "region-destruction", "region": "us-west2", "at": "1200s"}]
    s = run_dict(data).summary
    # turbo: 100 % within 15 min, so nothing acked more than 15 min before is lost
    assert s["loss"]["rpo_seconds"] <= 900.0
    # and what is lost is us-west2's 5,000 records/s times the mean copy delay
    # (p50 2 min, 100 % within 15 min), about 148 s: rate * E[min(D, 900 s)]
    expected = 5_000 * lognormal_mean_below(120, 900, 900, 1200)
    assert s["loss"]["lost_records"] == pytest.approx(expected, rel=0.05)


def test_recovered_region_producers_resume_with_a_new_epoch(outage):
    s = outage.summary
    # A restarted producer numbers its rows in a new epoch: nothing is rejected out of
    # order, and records sent after the outage see normal publish latency.
    assert s["counters"]["rows_rejected_out_of_order"] == 0
    assert s["latency"]["publish"]["us-west2"]["after"]["p99"] < 2.0


def test_partition_log_enforces_idempotent_sequences():
    from geosim.core.events import Row
    from geosim.kafka.idempotence import PartitionLog

    def row(seq, epoch=0):
        return Row(fleet=0, partition=0, seq=epoch << 32 | seq, records=10,
                   bytes_uncompressed=10, bytes_compressed=10, send_first=0, send_last=0)

    log = PartitionLog(1)
    appended, rejected, duplicates = log.append([row(0), row(1), row(1), row(3)])
    assert [r.offset for r in appended] == [0, 10]      # the repeat of seq 1 ...
    assert [r.seq for r in duplicates] == [1]           # ... is acked, not appended
    assert [r.seq for r in rejected] == [3]             # the gap is out of order
    appended, rejected, _ = log.append([row(5, epoch=1)])  # a new epoch starts at 0
    assert not appended and len(rejected) == 1
    appended, rejected, _ = log.append([row(0, epoch=1), row(2, epoch=0)])
    assert [r.offset for r in appended] == [20]
    assert len(rejected) == 1                           # the old epoch is fenced


def test_every_group_reads_every_acked_record_after_an_outage_with_many_brokers():
    # Several brokers per zone commit in an order unrelated to object creation; after
    # the outage the rebalanced groups must still find every object they have to read.
    data = load("quickstart")
    data["strategy"]["brokers"] = {"us-west1": 6, "us-west2": 6}
    data["workload"]["omb"].update(partitionsPerTopic=48, consumerPerSubscription=8,
                                   subscriptionsPerTopic=2)
    s = run_dict(data, seed=3).summary
    assert s["records"]["delivered"] >= 2 * s["records"]["acked"]
    for region in ("us-west1", "us-west2"):
        assert s["rto"][region]["consumers"]["rate_recovered"] is not None


def test_objects_evicted_from_a_small_zone_cache_are_fetched_again():
    # With a cache far smaller than the backlog an outage builds, objects become ready
    # and are evicted before blocked partitions reach them; the consumer's next fetch
    # must read them again rather than wait forever.
    data = load("quickstart")
    data["strategy"]["cache_bytes_per_zone"] = "4MiB"
    s = run_dict(data).summary
    assert s["records"]["delivered"] >= s["records"]["acked"]
    assert s["rto"]["us-west2"]["consumers"]["rate_recovered"] is not None
    assert s["latency"]["e2e"]["us-west2"]["after"]["p99"] < 30.0


def test_zonal_quorum_survives_the_loss_of_a_bucket_zone():
    """s3-express-quorum: 2 of 3 single-zone buckets; a zone outage takes one bucket."""
    result = run_dict(load("s3-express-quorum"))
    s = result.summary
    assert s["loss"]["lost_records"] == 0
    assert s["unavailable"]["records"] == 0
    # (records in flight in the lost zone's brokers fail with them: not a bucket matter)
    # buckets in the other zones are written across zones, per request
    assert s["bytes"]["inter_zone"]["by_purpose"]["object_put"] > 0
    assert s["counters"]["object_gets_cross_zone"] > 0
    # single-digit-ms PUTs: publish p50 is the 50 ms flush window's wait plus the
    # second-fastest of three PUTs and the commit, far below the S3 Standard cluster's
    express = s["latency"]["publish"]["all"]["after"]["p50"]
    standard = run_dict(load("s3-standard-diskless")).summary
    assert express < 0.5 * standard["latency"]["publish"]["all"]["after"]["p50"]
