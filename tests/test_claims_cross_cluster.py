"""domain.md §8, the mirrormaker2 and cluster-linking rows, as property tests on
``geosim.testing``.

* RPO = 0 on failover (mirrormaker2, cluster-linking): false, RPO = the flow's lag when
  the primary's region is destroyed;
* no record is processed twice after failover (mirrormaker2): false, the group re-reads
  what it consumed since the last checkpoint;
* a consumer never skips after failover while translation is available
  (mirrormaker2): true.

As in ``tests/test_claims_kafka.py``: the true claim passes with its interesting states
reached; for each false claim one test asserts the search finds a counterexample within
the profile and a second replays the written file through the ``geosim`` command line
and gets the same violation and summary. Scenarios are small: two regions of one zone, a
cluster in each, 1-2 partitions, at most 300 msg/s.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from geosim.scenario.loader import scenario_from_dict
from geosim.testing import (
    LOSS_TICK,
    cross_cluster,
    find_counterexample,
    no_acked_loss,
    no_reprocessing_after_failover,
    no_skips_after_failover,
    region_faults,
    replay,
    run_example,
    scenarios,
    simulations,
    topologies,
    verify,
    workloads,
)

PRIMARY = ["us-west1"]  # the active cluster of every generated pair


def lean(config, faults, *, duration=(80, 80), drain=20):
    """Two regions of one zone each (published GCP latencies), a light workload."""
    return scenarios(config, faults=faults,
                     topology=topologies((2, 2), (1, 1), rtt_ms=None),
                     workload=workloads(partitions=(1, 2), rate=(100, 300),
                                        message_size=(256, 512), producers=(1, 1),
                                        consumers=(1, 1)),
                     simulation=simulations(duration, warmup=5, drain=drain,
                                            send_tick=LOSS_TICK))


# The primary is lost long enough for the clients to fail over (detection 5-15 s plus a
# decision of 5-20 s, at most 35 s) after the first checkpoints (5-30 s).
DESTROY_PRIMARY = region_faults(["region-destruction"], regions=PRIMARY, at=(35, 45))
LONG_PRIMARY_OUTAGE = region_faults(["region-outage"], regions=PRIMARY, at=(35, 40),
                                    duration=(40, 45))


# --- false: RPO = 0 on failover ---------------------------------------------------------

@pytest.fixture(scope="module", params=["mirrormaker2", "cluster-linking"])
def rpo_counterexample(request, tmp_path_factory):
    found = find_counterexample(no_acked_loss(),
                                lean(cross_cluster(request.param), DESTROY_PRIMARY),
                                directory=tmp_path_factory.mktemp("cx"), quiet=True)
    return request.param, found


def test_failover_loses_what_the_flow_had_not_copied(rpo_counterexample):
    strategy, found = rpo_counterexample
    assert found.data["strategy"]["name"] == strategy
    assert "acknowledged records" in found.violation.reason
    summary = run_example(found.data).summary
    [failover] = summary["mirror"]["failovers"]
    # what is lost is exactly what the target had not acknowledged; the RPO is the lag
    assert summary["loss"]["lost_records"] == failover["unreplicated_records"]
    assert 0 < summary["loss"]["rpo_seconds"] < 1.0
    assert "failover-unreplicated" in run_example(found.data).states


def test_rpo_counterexample_replays_through_the_command_line(rpo_counterexample, tmp_path):
    _strategy, found = rpo_counterexample
    summary = replay(found.path, found.seed, tmp_path / "out")
    assert no_acked_loss().check(summary) == found.violation
    assert summary == run_example(found.data).summary


# --- false: no record processed twice after failover (mirrormaker2) ---------------------

@pytest.fixture(scope="module")
def reprocessing(tmp_path_factory):
    return find_counterexample(no_reprocessing_after_failover(),
                               lean(cross_cluster("mirrormaker2"), LONG_PRIMARY_OUTAGE),
                               directory=tmp_path_factory.mktemp("cx"), quiet=True)


def test_mm2_failover_reprocesses_since_the_last_checkpoint(reprocessing):
    assert "processed twice" in reprocessing.violation.reason
    outcome = run_example(reprocessing.data)
    [failover] = outcome.summary["mirror"]["failovers"]
    assert 0 < failover["reprocessed"] <= failover["reprocess_bound"]
    assert {"failover", "failover-translated"} <= outcome.states


def test_reprocessing_counterexample_replays(reprocessing, tmp_path):
    summary = replay(reprocessing.path, reprocessing.seed, tmp_path / "out")
    assert no_reprocessing_after_failover().check(summary) == reprocessing.violation
    assert summary == run_example(reprocessing.data).summary


# --- true: no skip after failover while translation is available (mirrormaker2) ---------

def test_mm2_consumers_never_skip_after_failover():
    report = verify(no_skips_after_failover(),
                    lean(cross_cluster("mirrormaker2"), LONG_PRIMARY_OUTAGE),
                    reach=["failover", "failover-translated", "producers-cut-off"],
                    quiet=True)
    assert report.examples >= 10


# --- the generator ------------------------------------------------------------------------

@settings(max_examples=30, deadline=None)
@given(data=lean(cross_cluster("cluster-linking", checkpoint_s=(5, 30),
                               mode=("failover", "promote")), DESTROY_PRIMARY))
def test_cross_cluster_scenarios_are_valid_and_keep_their_bounds(data):
    scenario = scenario_from_dict(data)  # validates
    strategy = data["strategy"]
    assert scenario.strategy.name == "cluster-linking"
    assert strategy["primary"] == "us-west1" and set(strategy["brokers"]) == {
        "us-west1", "us-west2"}
    assert 5000 <= strategy["mirror_config"]["consumer.offset.sync.ms"] <= 30000
    assert strategy["failover"]["mode"] in ("failover", "promote")
    assert 1 <= strategy["config"]["min.insync.replicas"] <= strategy["replication_factor"]
    (fault,) = data["faults"]
    assert fault["region"] == "us-west1" and fault["kind"] == "region-destruction"
