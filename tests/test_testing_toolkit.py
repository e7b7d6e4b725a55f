"""The property-testing toolkit itself: generators, claims, probes, drivers, profiles."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from hypothesis import given, settings

from geosim.core.events import ObjectStored, Recorder, RegionState
from geosim.scenario.loader import load_scenario, scenario_from_dict
from geosim.strategies.diskless.probes import ReplicationWindowProbe
from geosim.testing import (
    ClaimFailed,
    CoverageNotReached,
    NoCounterexample,
    claim,
    diskless,
    explain_run,
    find_counterexample,
    no_acked_loss,
    no_duplicates,
    no_skips,
    reads_available,
    region_faults,
    reprocessing_below,
    rpo_below,
    rto_below,
    scenarios,
    simulation_examples,
    topologies,
    transient_faults,
    verify,
    workloads,
)
from geosim.testing.coverage import Coverage
from geosim.testing.generators import seconds

ROOT = Path(__file__).resolve().parent.parent

SPACE = scenarios(diskless(bucket=["multi-region", "regional"], bucket_regions=(2, 3),
                           write_quorum=(1, 3), replication_p50_s=(1, 600)),
                  topology=topologies(regions=(3, 4), zones=(1, 3), rtt_ms=(5, 150)),
                  workload=workloads(partitions=(1, 6), rate=(50, 500)),
                  faults=region_faults(["region-outage", "region-destruction"],
                                       preludes=("brownout", "partition",
                                                 "replication-pause"),
                                       max_preludes=2))


# --- generators ---------------------------------------------------------------------

@settings(max_examples=60)
@given(data=SPACE)
def test_generated_scenarios_are_valid_and_within_bounds(data):
    scenario = scenario_from_dict(data)  # raises on anything invalid
    regions = list(scenario.topology.regions)
    assert 3 <= len(regions) <= 4
    assert all(1 <= len(r.zones) <= 3 for r in scenario.topology.regions.values())
    assert len(scenario.topology.links) == len(regions) * (len(regions) - 1) // 2
    for link in scenario.topology.links:
        assert 0.005 <= link.rtt.p50 <= 0.150
    assert 1 <= scenario.workload.omb.partitionsPerTopic <= 6
    assert 50 <= scenario.workload.omb.producerRate <= 500
    if scenario.strategy.write_quorum is not None:
        assert scenario.object_store.kind == "regional"
        assert 1 <= scenario.strategy.write_quorum <= len(scenario.object_store.regions)
    # clients only where brokers are (diskless clients talk to their own zone)
    brokers = set(scenario.strategy.brokers)
    assert set(scenario.workload.producers) <= brokers
    assert set(scenario.workload.consumers) <= brokers
    # the timeline: preludes first, then one region fault, healed before production ends
    *before, main = scenario.faults
    assert main.kind in ("region-outage", "region-destruction")
    assert len(before) <= 2
    for fault in before:
        assert scenario.simulation.warmup <= fault.at < main.at
        assert fault.kind == "replication-pause" or main.region in fault.between
    for fault in scenario.faults:
        assert fault.at + getattr(fault, "duration", 0) <= scenario.simulation.duration


@settings(max_examples=60)
@given(data=scenarios(diskless(bucket=["regional"], bucket_regions=(3, 3)),
                      faults=transient_faults(count=(1, 3))))
def test_transient_fault_timelines_heal_before_production_ends(data):
    scenario = scenario_from_dict(data)
    assert 1 <= len(scenario.faults) <= 3
    for fault in scenario.faults:
        assert fault.kind not in ("region-destruction", "replication-pause")
        assert fault.at + fault.duration <= scenario.simulation.duration


def test_generator_bounds_are_checked():
    with pytest.raises(ValueError, match="region-outage or region-destruction"):
        region_faults(["zone-outage"])
    with pytest.raises(KeyError, match="no configuration generator for strategy 'nope'"):
        from geosim.testing import configs
        configs("nope")


@settings(max_examples=10)
@given(data=scenarios(diskless(metadata=("spanner-dual-region",)),
                      topology=topologies(regions=(2, 2), zones=(1, 2))))
def test_a_dual_region_metadata_store_fits_two_data_regions(data):
    """``spanner-dual-region`` needs two regions holding data, and two are enough."""
    scenario = scenario_from_dict(data)
    assert scenario.metadata.preset == "spanner-dual-region"
    assert len(scenario.topology.regions) == 2


@settings(max_examples=15)
@given(data=scenarios(diskless(bucket=("dual-region",), bucket_regions=(1, 3)),
                      topology=topologies(regions=(3, 4), zones=(1, 2))))
def test_a_dual_region_bucket_holds_data_in_exactly_two_regions_whatever_the_bounds(data):
    """A dual-region bucket spans two regions, so its data regions are two even when
    ``bucket_regions`` would allow one or three."""
    scenario = scenario_from_dict(data)
    store = scenario.object_store
    assert store.kind == "dual-region"
    assert len(store.regions) == 2


def test_seconds_reads_scenario_durations():
    assert seconds("25s") == 25 and seconds("40ms") == 0.04 and seconds("2m") == 120


# --- claims -----------------------------------------------------------------------------

def summary(**changes) -> dict:
    """A summary with the keys the claims read, healthy unless ``changes`` say otherwise."""
    base = {
        "scenario": "s", "strategy": "diskless", "seed": 7, "simulated_seconds": 180.0,
        "faults": [{"kind": "region-outage", "target": "r2", "start": 20.0, "end": 30.0}],
        "records": {"offered": 100, "acked": 90, "failed": 6, "info": 4, "delivered": 90},
        "loss": {"lost_records": 0, "lost_bytes": 0, "rpo_seconds": 0.0, "by_region": {}},
        "unavailable": {"records": 0, "bytes": 0, "max_seconds": 0.0, "intervals": [],
                        "by_region": {}},
        "rto": {"r1": {"producers": {"first_success": 0.5, "baseline_bytes_per_s": 1e3},
                       "consumers": {"first_success": 0.7, "baseline_bytes_per_s": 1e3}},
                "r2": {"producers": {"first_success": 10.2, "baseline_bytes_per_s": 1e3},
                       "consumers": {"first_success": None, "baseline_bytes_per_s": 0.0}}},
        "checks": {"duplicates": 0, "redelivered_after_rebalance": 0, "skips": 0,
                   "reorders": 0, "duplicate_writes": 0},
    }
    for path, value in changes.items():
        section, key = path.split("__")
        base[section] = {**base[section], key: value}
    return base


def test_claims_hold_on_a_healthy_summary():
    for c in (no_acked_loss(), rpo_below(0), reads_available(), no_skips(), no_duplicates(),
              reprocessing_below(0), rto_below(1.0)):
        assert c.check(summary()) is None, c.name


def test_loss_claims_explain_what_was_lost():
    lossy = summary(loss__lost_records=12, loss__lost_bytes=12288, loss__rpo_seconds=3.5,
                    loss__by_region={"r2": {"lost_records": 12}})
    violation = no_acked_loss().check(lossy)
    assert violation.claim == "no-acked-loss"
    assert violation.reason == ("12 acknowledged records (12.0 KiB) lost, RPO 3.5 s "
                                "(by writer region: r2 12)")
    assert rpo_below(5).check(lossy) is None
    assert "RPO 3.5 s > 1 s" in rpo_below(1).check(lossy).reason


def test_rto_claim_looks_at_unaffected_regions_by_default():
    # r2 was hit by the outage: its producers' 10.2 s do not count, r1's 0.5 s do
    assert rto_below(1.0).check(summary()) is None
    assert rto_below(1.0, regions="all").check(summary()).reason == \
        "producers RTO > 1 s: r2 after 10.2 s"
    never = summary(rto__r1={"producers": {"first_success": None,
                                           "baseline_bytes_per_s": 1e3}})
    assert "r1 never recovered" in rto_below(60).check(never).reason


def test_unavailability_and_reprocessing_claims():
    unreadable = summary(unavailable__records=5, unavailable__bytes=5000,
                         unavailable__max_seconds=10.0, unavailable__intervals=[[20, 30]])
    assert "unreadable for up to 10 s > 0 s, during 20-30 s" in \
        reads_available().check(unreadable).reason
    assert reads_available(max_seconds=10).check(unreadable) is None
    reread = summary(checks__redelivered_after_rebalance=40)
    assert reprocessing_below(50).check(reread) is None
    assert reprocessing_below(10).check(reread).reason == \
        "40 records processed twice > 10 (40 after a rebalance)"
    assert no_duplicates().check(reread) is None  # expected after a rebalance


def test_claims_combine_and_user_claims_are_one_decorator_away():
    @claim("few-failures", "at most 5 records fail")
    def few_failures(s):
        failed = s["records"]["failed"]
        return None if failed <= 5 else f"{failed} records failed"

    both = no_acked_loss() & few_failures
    assert both.name == "no-acked-loss+few-failures"
    assert both.check(summary()).reason == "6 records failed"
    assert both.needing("rebalance").states == ("rebalance",)


def test_explain_run_tells_the_story():
    text = explain_run(summary(loss__lost_records=3, loss__rpo_seconds=1.0))
    assert "faults: region-outage r2 at 20 s until 30 s" in text
    assert "records: 100 offered, 90 acked, 6 failed, 4 unknown, 90 delivered" in text
    assert "loss: 3 records, RPO 1 s" in text
    assert "r1 producers 0.5 s" in text


# --- coverage --------------------------------------------------------------------------

def probe_states(events) -> set[str]:
    recorder = Recorder()
    probe = ReplicationWindowProbe()
    probe.attach(recorder, None)
    for event in events:
        recorder.emit(event)
    return probe.reached({})


def test_replication_window_probe_sees_objects_pending_at_the_fault():
    pending = ObjectStored(1.0, 1, "r1", 100, (("r1", 1.0), ("r2", 9.0)))
    assert probe_states([pending, RegionState(5.0, "r1", False)]) == \
        {"outage-in-replication-window"}
    assert probe_states([pending, RegionState(5.0, "r1", False, True)]) == \
        {"destruction-in-replication-window", "writer-region-destroyed"}
    # replicated before the fault; another region's objects do not count
    assert probe_states([pending, RegionState(10.0, "r1", False)]) == set()
    assert probe_states([pending, RegionState(5.0, "r2", False)]) == set()
    never = ObjectStored(1.0, 2, "r1", 100, (("r1", 1.0), ("r2", math.inf)))
    assert probe_states([never, RegionState(500.0, "r1", False)]) == \
        {"outage-in-replication-window"}


def test_coverage_counts_examples_per_state():
    coverage = Coverage()
    coverage.add({"a", "b"})
    coverage.add({"a"})
    coverage.add(set())
    assert coverage.examples == 3 and coverage.counts["a"] == 2
    assert coverage.missing(["a", "c"]) == ["c"]
    assert "a" in coverage.report() and "67 %" in coverage.report()


# --- drivers -------------------------------------------------------------------------

SMALL = scenarios(diskless(), faults=region_faults(["region-outage"]))


def test_a_claim_whose_states_were_never_reached_does_not_pass_silently():
    quiet = scenarios(diskless())  # no faults at all
    with pytest.raises(CoverageNotReached, match="never reached fault:region-outage"):
        verify(no_acked_loss(), quiet, reach=["fault:region-outage"], max_examples=3,
               quiet=True)


def test_verify_without_states_to_reach_refuses_before_running():
    with pytest.raises(ValueError, match=r"verify\(no-acked-loss\): no states to reach"):
        verify(no_acked_loss(), SMALL, max_examples=1, quiet=True)


def test_a_claim_with_its_own_states_needs_no_reach():
    quiet = scenarios(diskless())  # no faults: the claim's own state is never reached
    with pytest.raises(CoverageNotReached, match="never reached fault:region-outage"):
        verify(no_acked_loss().needing("fault:region-outage"), quiet, max_examples=2,
               quiet=True)


def test_a_violated_claim_fails_with_the_run_and_a_replayable_file(tmp_path):
    with pytest.raises(ClaimFailed) as failure:
        verify(reads_available(), SMALL, reach=["fault:region-outage"], max_examples=10,
               directory=tmp_path, quiet=True)
    message = str(failure.value)
    assert "reads-available" in message and "faults: region-outage" in message
    counterexample = failure.value.counterexample
    assert counterexample.path.parent == tmp_path
    assert f"replay: geosim run {counterexample.path} --seed {counterexample.seed}" in message
    text = counterexample.path.read_text()
    assert text.startswith("# geosim counterexample to the claim 'reads-available'")
    loaded = load_scenario(counterexample.path)
    assert loaded.simulation.seed == counterexample.seed
    assert loaded == scenario_from_dict(counterexample.data)


def test_find_counterexample_fails_when_the_claim_holds(tmp_path):
    with pytest.raises(NoCounterexample, match="no counterexample to no-acked-loss"):
        find_counterexample(no_acked_loss(), SMALL, max_examples=3, directory=tmp_path)


def test_profiles_set_the_number_of_simulations_per_search():
    expected = {"geosim-ci": 25, "geosim-deep": 1000}
    assert simulation_examples() == expected[settings.get_current_profile_name()]
    ci = settings.get_profile("geosim-ci")
    assert ci.derandomize and ci.database is None and ci.deadline is None
    deep = settings.get_profile("geosim-deep")
    # deep is a random search with the example database, whichever profile is current
    assert not deep.derandomize and deep.database is not None


# --- the README's example -----------------------------------------------------------------

def test_readme_property_testing_example_runs_and_is_short(tmp_path, monkeypatch):
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Property testing", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert len(code.strip().splitlines()) < 15
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    tests = [f for name, f in namespace.items() if name.startswith("test_")]
    assert tests
    for test in tests:
        test()


def test_cross_cluster_offers_the_cross_cluster_plugins_only():
    from geosim.testing import cross_cluster
    with pytest.raises(ValueError) as err:
        cross_cluster("stretch")
    assert str(err.value) == ("cross_cluster: name must be cluster-linking or "
                              "mirrormaker2 or replicator, got 'stretch'")


def _reaches(space, predicate) -> dict:
    from hypothesis import HealthCheck, find
    return find(space, predicate, settings=settings(
        max_examples=300, deadline=None, database=None,
        suppress_health_check=list(HealthCheck)))


def test_plugin_generators_reach_both_ends_of_their_default_bounds():
    """The defaults the generators document (docs/property-testing.md) are what they
    draw: ``offset.lag.max`` over 1..100 for MirrorMaker 2; Replicator's clusters with
    2 or 3 brokers per region (its RF and ``min.insync.replicas``: in
    ``test_claims_replicator.py``)."""
    from geosim.testing import configs
    mm2 = scenarios(configs("mirrormaker2"))
    for end in (1, 100):
        _reaches(mm2, lambda d, end=end: d["strategy"]["mirror_config"]["offset.lag.max"]
                 == end)
    rep = scenarios(configs("replicator"))
    for n in (2, 3):
        _reaches(rep, lambda d, n=n: set(d["strategy"]["brokers"].values()) == {n})


def test_a_cross_cluster_generator_takes_a_two_region_topology_and_refuses_one_region():
    """Mutation round seven (``kafka/generators.py:173 2 -> 3``): the cross-cluster
    generator needs the topology's first two regions (domain.md §5: an active-passive
    pair), so two regions are enough: the clusters, clients and primary are those two,
    the object store and metadata in the first. One region is refused by name."""
    from hypothesis import HealthCheck, find

    from geosim.testing import configs
    two = {"topology": {"provider": "gcp", "regions": {
        "us-west1": {"zones": ["a"]}, "us-central1": {"zones": ["a"]}}}}
    for name in ("cluster-linking", "mirrormaker2", "replicator"):
        drawn = find(configs(name)(two), lambda d: True, settings=settings(
            max_examples=10, deadline=None, database=None,
            suppress_health_check=list(HealthCheck)))
        strategy = drawn["strategy"]
        assert (sorted(strategy["brokers"]), strategy["primary"], strategy["pattern"]) == (
            ["us-central1", "us-west1"], "us-west1", "active-passive")
        assert drawn["client_regions"] == ["us-west1", "us-central1"]
        assert drawn["object_store"]["regions"] == drawn["metadata"]["regions"] == [
            "us-west1"]
        one = {"topology": {"provider": "gcp", "regions": {"us-west1": {"zones": ["a"]}}}}
        with pytest.raises(ValueError) as err:
            configs(name)(one)
        assert str(err.value) == f"{name}: needs a topology of at least 2 regions"
