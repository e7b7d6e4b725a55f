"""domain.md §8, the Kafka stretch-cluster rows, as property tests on ``geosim.testing``.

* stretch over 3 regions, one replica per region (rack = region, RF 3, min.insync 2,
  acks=all, KRaft voters in the 3 regions, unclean election off): no acknowledged
  record is lost in any single-region outage or destruction (true);
* stretch over 2 regions, rack = region, RF 3, min.insync 2, a third-site voter: no
  acknowledged record is lost (false: a WAN brownout drops the remote replica out of
  the ISR, then the region holding two replicas is destroyed);
* stretch over 2 regions with the controller majority in one region (min.insync 1, so
  that only the quorum decides): writes stay available in any single-region outage
  (false: lose that region; with a third-site voter instead, it holds);
* acks=1: no acknowledged record is lost (false: the leader's region is lost before
  the followers fetch; acks=all on the same run loses nothing).

As in ``tests/test_claims_diskless.py``: true claims pass with their interesting states
reached; for each false claim one test asserts the search finds a counterexample within
the profile and a second replays the written file through the ``geosim`` command line
and gets the same violation and summary. The generated scenarios are small (one zone per
region, 1-3 partitions, at most 500 msg/s, 50-60 s of production and a 10-20 s drain)
and run at the 25 ms send tick, so one Kafka example runs in about half a second (1.3 s
at the reference 5 ms tick).
"""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings

from geosim.scenario.loader import scenario_from_dict
from geosim.testing import (
    LOSS_TICK,
    find_counterexample,
    no_acked_loss,
    observers,
    region_faults,
    replay,
    run_example,
    scenarios,
    search,
    simulations,
    stretch,
    topologies,
    verify,
    workloads,
    writes_available,
)

FIRST_TWO = ["us-west1", "us-west2"]  # the broker regions of a two-region stretch


def small(config, faults, *, regions=3, duration=(50, 50)):
    """Small, fast Kafka scenarios: one zone per region, a light workload."""
    return scenarios(config, faults=faults,
                     topology=topologies((regions, regions), (1, 1)),
                     workload=workloads(partitions=(1, 3), rate=(100, 500),
                                        message_size=(256, 1024), producers=(1, 2),
                                        consumers=(1, 2)),
                     simulation=simulations(duration, warmup=5, drain=20,
                                            send_tick=LOSS_TICK))


def lean(config, faults, *, regions=3, duration=(50, 50), drain=10):
    """Leaner still, for the searches of false claims (less to shrink): published GCP
    latencies, 1-2 partitions, one producer and one consumer fleet, a 10 s drain."""
    return scenarios(config, faults=faults,
                     topology=topologies((regions, regions), (1, 1), rtt_ms=None),
                     workload=workloads(partitions=(1, 2), rate=(100, 300),
                                        message_size=(256, 512), producers=(1, 1),
                                        consumers=(1, 1)),
                     simulation=simulations(duration, warmup=5, drain=drain,
                                            send_tick=LOSS_TICK))


# --- true: three regions, one replica in each --------------------------------------------

THREE_REGIONS = stretch(broker_regions=(3, 3), brokers_per_region=(1, 2), rf=(3, 3),
                        min_insync=(2, 2), acks=("all",), unclean=(False,),
                        controllers=("all-regions",))
ANY_REGION_FAULT = region_faults(["region-outage", "region-destruction"], duration=(5, 30),
                                 preludes=("brownout", "partition"))


def test_three_region_stretch_loses_nothing_in_any_single_region_fault():
    report = verify(no_acked_loss(), small(THREE_REGIONS, ANY_REGION_FAULT),
                    reach=["broker-fenced", "producers-cut-off", "fault:region-destruction",
                           "fault:region-outage", "degraded-before-region-fault"])
    assert report.examples >= 10


# --- false: two regions, rack = region, RF 3 ----------------------------------------------

TWO_REGIONS = stretch(broker_regions=(2, 2), brokers_per_region=(2, 2), rf=(3, 3),
                      min_insync=(2, 2), acks=("all",), controllers=("all-regions",))
# §8's failure mode: a WAN brownout long enough (> replica.lag.time.max.ms, 30 s) for
# the remote replica to leave the ISR, still on when a broker region is destroyed.
BROWNOUT_THEN_DESTRUCTION = region_faults(
    ["region-destruction"], regions=FIRST_TWO, at=(40, 55), preludes=("brownout",),
    min_preludes=1, prelude_lead=(35, 40), prelude_overlaps=True, peers=FIRST_TWO,
    bandwidth_kbps=(50, 500))


@pytest.fixture(scope="module")
def two_region_loss(tmp_path_factory):
    return find_counterexample(no_acked_loss(),
                               lean(TWO_REGIONS, BROWNOUT_THEN_DESTRUCTION, duration=(60, 60)),
                               directory=tmp_path_factory.mktemp("cx"), quiet=True)


def test_two_region_stretch_loses_acked_data_after_a_brownout(two_region_loss, tmp_path):
    """The search finds the loss, the loss needs the brownout, and the counterexample
    replays through the command line. One test, so that the search (about 25 s) runs
    once: tests of one module may run in different pytest-xdist workers, each building
    the module's fixtures again."""
    assert "acknowledged records" in two_region_loss.violation.reason
    faults = two_region_loss.data["faults"]
    assert [f["kind"] for f in faults] == ["brownout", "region-destruction"]
    outcome = run_example(two_region_loss.data)
    assert {"isr-shrank", "acked-rows-truncated", "degraded-before-region-fault"} \
        <= outcome.states
    assert "kafka: " in two_region_loss.explanation  # the brokers' story, in the file

    # The other half of the §8 verdict: without the brownout the remote replica stays in
    # the ISR, so destroying the region holding two replicas loses nothing.
    data = {**two_region_loss.data, "faults": two_region_loss.data["faults"][-1:]}
    assert run_example(data).summary["loss"]["lost_records"] == 0

    # The saved counterexample replays through `geosim run` to the same summary.
    summary = replay(two_region_loss.path, two_region_loss.seed, tmp_path / "out")
    assert no_acked_loss().check(summary) == two_region_loss.violation
    assert summary == outcome.summary


# --- false: two regions, controller majority in one --------------------------------------

# min.insync.replicas 1, so that losing a region leaves the other writable once the
# controller has fenced its brokers and shrunk the ISRs: then only the controller quorum
# decides whether writes resume before the failed region returns (with min.insync 2, a
# partition with two replicas in the failed region stays under min ISR whatever the
# quorum: not the claim's point).
def two_region_stretch(controllers):
    return stretch(broker_regions=(2, 2), brokers_per_region=(2, 2), rf=(3, 3),
                   min_insync=(1, 1), acks=("all",), controllers=(controllers,))


# Moving leaders off a failed region takes the broker session timeout (9 s) and controller
# commits; the producers then wait for their requests to the silent old leaders to time
# out (request.timeout.ms, 30 s from the fault) and retry (retry.backoff.max.ms, 1 s, and
# a round trip): about 30-31 s. Outages last longer than the bound, so a cluster whose
# quorum is stuck until the region returns violates it.
WRITES = writes_available(40)
# Production runs on for at least the bound after the fault (faults by 25 s, production
# to 70 s): a region fault starting later could not show a recovery within 40 s, and a
# deep search found such a run "never recovered" (the fault at 20 s of 50 s, the
# producers' hold ending with production).
LONG_OUTAGES = region_faults(["region-outage"], duration=(45, 60), at=(5, 25))
LONG_RUN = (70, 70)


@pytest.fixture(scope="module")
def majority_lost(tmp_path_factory):
    return find_counterexample(WRITES, lean(two_region_stretch("majority-in-one"),
                                            LONG_OUTAGES, regions=2, duration=LONG_RUN),
                               directory=tmp_path_factory.mktemp("cx"), quiet=True)


def test_with_a_third_site_voter_writes_stay_available():
    # The control: the same clusters with the quorum over a third site keep writing.
    verify(WRITES, lean(two_region_stretch("all-regions"), LONG_OUTAGES, duration=LONG_RUN),
           reach=["broker-fenced", "producers-cut-off"], max_examples=10, quiet=True)


def test_controller_majority_in_one_region_stops_writes_when_it_fails(majority_lost):
    assert "RTO" in majority_lost.violation.reason
    (fault,) = majority_lost.data["faults"]
    # the region that failed holds the controller majority (two of three voters)
    majority = majority_lost.data["metadata"]["voters"][0]
    assert majority["count"] == 2 and fault["region"] == majority["region"]
    assert "broker-fenced" not in run_example(majority_lost.data).states


def test_controller_majority_counterexample_replays(majority_lost, tmp_path):
    summary = replay(majority_lost.path, majority_lost.seed, tmp_path / "out")
    assert WRITES.check(summary) == majority_lost.violation
    assert summary == run_example(majority_lost.data).summary


# --- false: acks=1 ---------------------------------------------------------------------------

ACKS_1 = stretch(broker_regions=(3, 3), brokers_per_region=(1, 2), rf=(3, 3),
                 min_insync=(1, 2), acks=("1",), controllers=("all-regions",))


@pytest.fixture(scope="module")
def acks_1_loss(tmp_path_factory):
    return find_counterexample(no_acked_loss(),
                               lean(ACKS_1, region_faults(["region-destruction"])),
                               directory=tmp_path_factory.mktemp("cx"), quiet=True)


def test_acks_1_loses_acked_data_when_the_leader_region_is_lost(acks_1_loss):
    assert "acknowledged records" in acks_1_loss.violation.reason
    assert acks_1_loss.data["workload"]["producer_config"]["acks"] == "1"
    assert acks_1_loss.data["faults"][-1]["kind"] == "region-destruction"


def test_acks_all_loses_nothing_in_the_acks_1_counterexample(acks_1_loss):
    # The control: the same run with acks=all acknowledges only what the ISR holds.
    data = copy.deepcopy(acks_1_loss.data)
    data["workload"]["producer_config"]["acks"] = "all"
    assert run_example(data).summary["loss"]["lost_records"] == 0


def test_acks_1_counterexample_replays(acks_1_loss, tmp_path):
    summary = replay(acks_1_loss.path, acks_1_loss.seed, tmp_path / "out")
    assert no_acked_loss().check(summary) == acks_1_loss.violation
    assert summary == run_example(acks_1_loss.data).summary


# --- the generators themselves ------------------------------------------------------------

@settings(max_examples=30, deadline=None)
@given(data=small(stretch(broker_regions=(2, 3), rf=(1, 3), min_insync=(1, 3),
                          acks=("all", "1"), unclean=(False, True),
                          controllers=("all-regions", "broker-regions", "majority-in-one")),
                  BROWNOUT_THEN_DESTRUCTION, duration=(60, 60)))
def test_stretch_scenarios_are_valid_and_keep_their_bounds(data):
    scenario = scenario_from_dict(data)  # validates
    strategy = data["strategy"]
    assert 1 <= strategy["config"]["min.insync.replicas"] <= strategy["replication_factor"]
    assert data["workload"]["producer_config"]["request.timeout.ms"] == 30000
    assert scenario.strategy.name == "stretch"
    broker_regions = list(strategy["brokers"])
    meta = data["metadata"]
    if meta["preset"] == "custom":  # majority-in-one: two voters in the first, one next
        assert meta["voters"] == [{"region": broker_regions[0], "count": 2},
                                  {"region": broker_regions[1], "count": 1}]
    *preludes, main = data["faults"]
    assert len(preludes) == 1
    at = int(main["at"][:-1])
    for fault in preludes:  # the brownout starts 35-40 s before and lasts into the fault
        start = int(fault["at"][:-1])
        assert 35 <= at - start <= 40 and start + int(fault["duration"][:-1]) > at
        assert sorted(fault["between"]) == FIRST_TWO and fault["bandwidth"].endswith("kbps")


def test_observer_configurations_reach_observer_promotion():
    # Observers (Confluent MRC): two regions, one sync replica and one observer in each;
    # losing a region drops the ISR under min.insync.replicas and promotes the observer.
    config = observers(broker_regions=(2, 2), brokers_per_region=(2, 2), rf=(2, 2),
                       min_insync=(2, 2), observers=(1, 1), promotion=("under-min-isr",))
    report = search(no_acked_loss(),
                    small(config, region_faults(["region-outage"], regions=FIRST_TWO,
                                                duration=(15, 30))),
                    max_examples=4, quiet=True)
    assert report.coverage.reached("observer-promotion")
