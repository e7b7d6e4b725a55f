"""Properties of diskless runs under generated fault timelines (Hypothesis).

Invariants checked on every generated run of the quickstart cluster:

* every offered record's send ends exactly once: ok, fail or info;
* a transient fault (everything heals before the drain) loses no acknowledged record,
  and every consumer group eventually reads every acknowledged record;
* deliveries never skip offsets.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geosim.core.events import Row
from geosim.runner import run
from geosim.scenario.loader import scenario_from_dict
from geosim.strategies.diskless import PartitionLog

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
BASE = yaml.safe_load((SCENARIOS / "quickstart.yaml").read_text())
ZONES = ["us-west1-a", "us-west1-b", "us-west2-a", "us-west2-b"]
REGIONS = ["us-west1", "us-west2", "us-west3"]


KINDS = ["region-outage", "zone-outage", "partition", "brownout", "object-store-slowdown",
         "replication-pause", "metadata-loss", "client-crash", "broker-crash"]


@st.composite
def transient_faults(draw, kinds=tuple(KINDS)):
    kind = draw(st.sampled_from(kinds))
    fault = {"kind": kind, "at": f"{draw(st.integers(15, 80))}s"}
    duration = f"{draw(st.integers(2, 40))}s"
    if kind == "region-outage":
        fault.update(region=draw(st.sampled_from(REGIONS)), duration=duration)
    elif kind == "zone-outage":
        fault.update(zone=draw(st.sampled_from(ZONES)), duration=duration)
    elif kind == "partition":
        a, b = draw(st.permutations(REGIONS))[:2]
        fault.update(between=[a, b], one_way=draw(st.booleans()), duration=duration)
    elif kind == "brownout":
        a, b = draw(st.permutations(REGIONS))[:2]
        fault.update(between=[a, b], extra_latency=f"{draw(st.integers(0, 200))}ms",
                     loss=draw(st.sampled_from([0.0, 0.1, 0.5])), duration=duration)
    elif kind == "object-store-slowdown":
        fault.update(factor=draw(st.sampled_from([2.0, 10.0, 50.0])), duration=duration)
    elif kind in ("replication-pause", "metadata-loss"):
        fault.update(duration=duration)
    elif kind == "client-crash":
        fault.update(clients=draw(st.sampled_from(["producers", "consumers"])),
                     zone=draw(st.sampled_from(ZONES)), duration=duration)
    else:
        fault.update(zone=draw(st.sampled_from(ZONES)), count=1, duration=duration)
    return fault


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(faults=st.lists(transient_faults(), min_size=1, max_size=2),
       seed=st.integers(0, 2**16))
def test_transient_faults_settle_every_send_and_lose_nothing(faults, seed):
    data = {**BASE, "faults": faults,
            "simulation": {**BASE["simulation"], "drain": "150s"}}
    summary = run(scenario_from_dict(data, base_dir=SCENARIOS), seed).summary
    records = summary["records"]
    assert records["acked"] + records["failed"] + records["info"] == records["offered"]
    assert summary["loss"]["lost_records"] == 0
    assert summary["checks"]["skips"] == 0
    # one subscription: after the drain, the group has read every acknowledged record
    assert records["delivered"] >= records["acked"]


@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 1), st.integers(0, 6)),
                max_size=60))
def test_partition_log_offsets_are_contiguous_and_sequences_gapless(batches):
    log = PartitionLog(2)
    appended_all = []
    for partition, epoch, n in batches:
        row = Row(fleet=0, partition=partition % 2, seq=epoch << 32 | n, records=3,
                  bytes_uncompressed=3, bytes_compressed=3, send_first=0, send_last=0)
        appended, _, _ = log.append([row])
        appended_all += appended
    for partition in (0, 1):
        rows = [r for r in appended_all if r.partition == partition]
        assert [r.offset for r in rows] == [3 * i for i in range(len(rows))]
        # within an epoch, sequences go 0, 1, 2, ... with no gap and no repeat
        by_epoch: dict[int, list[int]] = {}
        for r in rows:
            by_epoch.setdefault(r.seq >> 32, []).append(r.seq & 0xFFFFFFFF)
        for seqs in by_epoch.values():
            assert seqs == list(range(len(seqs)))
        # epochs only move forward
        epochs = [r.seq >> 32 for r in rows]
        assert epochs == sorted(epochs)


QUORUM = yaml.safe_load((SCENARIOS / "warpstream-quorum.yaml").read_text())


@settings(max_examples=10, deadline=None)
@given(region=st.sampled_from(REGIONS), at=st.integers(15, 120),
       before=st.lists(transient_faults([k for k in KINDS if k != "replication-pause"]),
                       max_size=1),
       seed=st.integers(0, 2**16))
def test_quorum_of_buckets_loses_nothing_when_any_region_is_destroyed(region, at, before,
                                                                       seed):
    # domain.md §8: RPO = 0 under region destruction for diskless writing to a quorum
    # of 3 regional buckets, also after another fault earlier in the run.
    faults = before + [{"kind": "region-destruction", "region": region, "at": f"{at}s"}]
    data = {**QUORUM, "faults": faults}
    summary = run(scenario_from_dict(data, base_dir=SCENARIOS), seed).summary
    assert summary["loss"]["lost_records"] == 0
    records = summary["records"]
    assert records["acked"] + records["failed"] + records["info"] == records["offered"]
