"""The replicator strategy's claims (issue 16) as property tests on ``geosim.testing``.

* after a failover with timestamp translation a consumer group never skips a
  replicated record it had not consumed (at least once), and its reprocessing is
  reported: true;
* active-active with kept topic names and provenance headers loses nothing and never
  loops, under Connect worker crashes, client crashes and WAN trouble: true.

Scenarios are small, as in ``tests/test_claims_cross_cluster.py``: two regions of one
zone, a cluster in each, 1-2 partitions, at most 300 msg/s.
"""

from __future__ import annotations

from hypothesis import given, settings

from geosim.scenario.loader import scenario_from_dict
from geosim.testing import (
    LOSS_TICK,
    Claim,
    no_acked_loss,
    no_duplicates,
    no_replication_loops,
    no_skips_after_failover,
    region_faults,
    replicator,
    run_example,
    scenarios,
    simulations,
    topologies,
    transient_faults,
    verify,
    workloads,
)

PRIMARY = ["us-west1"]
LONG_PRIMARY_OUTAGE = region_faults(["region-outage"], regions=PRIMARY, at=(35, 40),
                                    duration=(40, 45))
CONNECT_AND_WAN = transient_faults(("connect-worker-crash", "client-crash", "partition",
                                    "brownout"), count=(1, 2), duration=(5, 30))


def lean(config, faults, *, duration=(80, 80), drain=20):
    return scenarios(config, faults=faults,
                     topology=topologies((2, 2), (1, 1), rtt_ms=None),
                     workload=workloads(partitions=(1, 2), rate=(100, 300),
                                        message_size=(256, 512), producers=(1, 1),
                                        consumers=(1, 1)),
                     simulation=simulations(duration, warmup=5, drain=drain,
                                            send_tick=LOSS_TICK))


def test_timestamp_translation_never_skips_after_failover():
    config = replicator(pattern=("active-passive",), checkpoint_s=(5, 30))
    report = verify(no_skips_after_failover(), lean(config, LONG_PRIMARY_OUTAGE),
                    reach=["failover", "failover-translated", "timestamp-translation"],
                    quiet=True)
    assert report.examples >= 10


def test_reprocessing_is_reported_per_failover():
    config = replicator(pattern=("active-passive",), checkpoint_s=(5, 5))

    @settings(max_examples=3, deadline=None, database=None)
    @given(data=lean(config, LONG_PRIMARY_OUTAGE))
    def check(data):
        outcome = run_example(data)
        [failover] = outcome.summary["mirror"]["failovers"]
        assert failover["translated"] >= 1 and failover["skipped"] == 0
        # the group re-reads at least the last record it had consumed
        assert failover["reprocessed"] > 0

    check()


def _no_loss_no_loop(summary: dict) -> str | None:
    for claim in (no_acked_loss(), no_replication_loops(), no_duplicates()):
        found = claim.checker(summary)
        if found:
            return found
    return None


def test_active_active_with_provenance_loses_nothing_and_never_loops():
    claim = Claim("replicator-active-active", "active-active with kept names and "
                  "provenance headers loses nothing, never loops, never duplicates",
                  _no_loss_no_loop)
    config = replicator(pattern=("active-active",), tasks=(1, 2), workers=(1, 2))
    report = verify(claim, lean(config, CONNECT_AND_WAN, duration=(60, 60)),
                    reach=["provenance-skip", "connect-rebalance"], quiet=True)
    assert report.examples >= 10


@settings(max_examples=20, deadline=None)
@given(data=lean(replicator(tasks=(1, 3), workers=(1, 3), checkpoint_s=(5, 30)),
                 CONNECT_AND_WAN))
def test_replicator_scenarios_are_valid_and_keep_their_bounds(data):
    scenario = scenario_from_dict(data)  # validates
    strategy = data["strategy"]
    assert scenario.strategy.name == "replicator"
    assert strategy["pattern"] in ("active-passive", "active-active")
    assert 1 <= strategy["mirror_config"]["tasks.max"] <= 3
    assert 1 <= strategy["connect"]["workers"] <= 3
    assert 5000 <= strategy["mirror_config"]["offset.translator.batch.period.ms"] <= 30000
    assert strategy["mirror_config"]["provenance.header.enable"] is True
    # the generator's default cluster bounds (docs/property-testing.md)
    assert all(2 <= n <= 3 for n in strategy["brokers"].values())
    assert strategy["replication_factor"] == 2
    assert strategy["config"]["min.insync.replicas"] == 1
