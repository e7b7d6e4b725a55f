"""``geosim validate`` and the build ``geosim run`` does before its clock starts agree
(issue 19, item 3): over a corpus of inputs, either both refuse with the same one-line
message, or both accept. The scenario checks are what refuses; the zero-length build of
``validate`` (:mod:`geosim.preflight`) is the net for what they miss."""

from __future__ import annotations

from pathlib import Path

import pytest

from geosim import cli
from geosim.runner import build
from geosim.scenario.errors import ScenarioError
from geosim.scenario.loader import load_scenario
from geosim.world.faults import FaultInjector

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"

RTT = "rtt: {dist: constant, value: 20ms}"

# (scenario, --set items, what the refusal must say, or None if the input is fine)
CORPUS = [
    # a region no provider matrix knows, and providers without one
    ("stretch-3-regions", ["topology.regions.us-west9.zones=[a]"],
     "topology.regions.us-west9: no latency known between regions us-west1 and us-west9"),
    ("stretch-3-regions", ["topology.regions.us-west9.zones=[a]",
                           f"topology.links=[{{between: [us-west1, us-west9], {RTT}}}, "
                           f"{{between: [us-west2, us-west9], {RTT}}}, "
                           f"{{between: [us-west3, us-west9], {RTT}}}]"], None),
    ("stretch-3-regions", ["topology.regions.us-west9.zones=[a]",
                           f"topology.links=[{{between: [us-west1, us-west9], {RTT}}}]"],
     "topology.regions.us-west9: no latency known between regions us-west2 and us-west9"),
    ("stretch-3-regions", ["topology.provider=azure"],
     "provider azure publishes no region medians"),
    ("stretch-3-regions", ["topology.provider=none"],
     "provider none publishes no region medians"),
    ("region-outage-five-strategies", ["topology.provider=aws"],
     "provider aws publishes no median for this pair"),
    ("stretch-3-regions", ["topology.provider=azure",
                           "topology.links=[{between: [us-west1, us-west2]}]"],
     "topology.links[0].rtt: is required: no latency known between regions us-west1"),
    ("stretch-3-regions", ["topology.links=[{between: [us-west1-a, us-west9-a]}]"],
     "topology.links[0].between[1]: unknown region or zone"),
    ("stretch-3-regions", ["topology.links=[{between: [us-west1, us-west2], "
                           "rtt: {dist: lognormal, p50: 2ms, p99: 1ms}}]"],
     "topology.links[0].rtt: needs 0 < p50 <= p99"),
    # diskless producers need a broker in their own zone
    ("quickstart", ["strategy.brokers={us-west1-a: 3}"],
     "workload.producers.us-west1: places producers in zone us-west1-b, which has no broker"),
    ("warpstream-quorum", ["strategy.brokers={us-west1-a: 1}"],
     "places producers in zone us-west1-b, which has no broker"),
    ("quickstart", ["strategy.brokers={us-west1-a: 1}",
                    "workload.producers={us-west1-a: 1, us-west1-b: 0}"], None),
    ("quickstart", ["strategy.brokers_per_writer=2"],
     "strategy.brokers_per_writer: must divide the broker count of every zone"),
    # replica and observer placements name locations without enough brokers
    ("observers-2dc", ["strategy.replica_placement={us-west1: 2, us-west3: 2}"],
     "strategy.replica_placement.us-west3: must be at most the brokers of us-west3 free "
     "for it (0: 0 brokers), got 2"),
    ("observers-2dc", ["strategy.observer_placement={us-west1: 2, us-west2: 1}"],
     "strategy.observer_placement.us-west1: must be at most the brokers of us-west1 free "
     "for it (1: 3 brokers, 2 of them"),
    ("observers-2dc", ["strategy.replica_placement={us-west1: 3, us-west2: 2}"],
     "strategy.observer_placement.us-west1: must be at most"),
    # a location placed with no replicas takes none: the zone after it is checked exactly
    ("observers-2dc", ["topology.regions.us-west1.zones=[a, b]",
                       "strategy.brokers={us-west1: 4, us-west2: 3}",
                       "strategy.replica_placement={us-west1: 0, us-west1-a: 3, us-west2: 1}"],
     "strategy.replica_placement.us-west1-a: must be at most the brokers of us-west1-a free "
     "for it (2: 2 brokers), got 3"),
    ("observers-2dc", ["strategy.brokers={us-west1: 3, us-west2: 3, us-west3: 0}"], None),
    ("stretch-3-regions", ["strategy.replication_factor=9"],
     "strategy.replication_factor: must be <= the number of brokers (6)"),
    ("stretch-3-regions", ["strategy.brokers={us-west1: 2, us-west2: 2, us-west3: 0}"], None),
    ("stretch-3-regions", ["strategy.rack=zone"], None),
    # metadata voters
    ("stretch-3-regions", ["metadata.preset=custom", "metadata.regions=[]",
                           "metadata.voters=[{region: us-west1, zone: b}]"],
     "metadata.voters[0].zone: must be a zone suffix of region us-west1"),
    ("quickstart", ["metadata.preset=custom", "metadata.regions=[]",
                    "metadata.voters=[{region: us-west1, count: 0}]"],
     "metadata.voters[0].count: must be >= 1"),
    ("quickstart", ["metadata.preset=etcd", "metadata.regions=[us-west1]"], None),
    ("stretch-3-regions", ["metadata.regions=[us-west9]"],
     "metadata.regions[0]: unknown region"),
    # fault targets
    ("stretch-3-regions", ["faults[0].region=us-west9"], "faults[0].region: unknown region"),
    ("stretch-3-regions", ["faults[0]={kind: zone-outage, zone: us-west2-b, at: 40s, "
                           "duration: 10s}"], "faults[0].zone: unknown zone of region us-west2"),
    ("stretch-3-regions", ["faults[0]={kind: broker-crash, zone: us-west1-a, at: 10s, "
                           "duration: 5s, count: 2}"], None),
    # the cross-cluster strategies' clusters
    ("mm2-active-passive", ["strategy.primary=us-east1"],
     "strategy.primary: must be one of the clusters"),
    ("mm2-active-passive", ["strategy.brokers={us-west1: 6}"],
     "strategy.clusters: must name at least two regions"),
    ("mm2-active-passive", ["topology.regions.us-east4.zones=[a]"], None),
    ("cluster-linking-active-passive", ["strategy.brokers={us-west1: 6, us-central1: 1}"],
     None),
]


def zero_length_build(path: Path, overrides: list[str]) -> str | None:
    """What ``geosim run`` meets before its clock starts: the load's one-line refusal,
    or None once every component is wired (a build error propagates: a missing check)."""
    try:
        scenario = load_scenario(path, overrides)
    except ScenarioError as exc:
        return str(exc)
    _ctx, world, strategy = build(scenario, scenario.simulation.seed)
    FaultInjector(world, strategy)
    return None


@pytest.mark.parametrize(("name", "overrides", "says"), CORPUS,
                         ids=[f"{c[0]}:{'|'.join(c[1])}" for c in CORPUS])
def test_validate_and_the_build_agree(capsys, name, overrides, says):
    path = SCENARIOS / f"{name}.yaml"
    refused = zero_length_build(path, overrides)
    status = cli.main(["validate", str(path), *(a for o in overrides for a in ("--set", o))])
    out, err = capsys.readouterr()
    if says is None:
        assert refused is None and status == 0 and err == "", (refused, err)
        assert out.startswith(f"ok: {name} ")
        return
    assert refused is not None and says in refused, refused
    assert refused.startswith(f"{path}: ") and "\n" not in refused
    assert status == 2 and out == ""
    assert err == f"geosim: error: {refused}\n"


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_bundled_scenario_validates_and_builds(capsys, path):
    assert zero_length_build(path, []) is None
    assert cli.main(["validate", str(path)]) == 0
    assert capsys.readouterr().out.startswith("ok: ")


def test_a_build_failure_the_checks_miss_is_one_line_naming_the_file(capsys, monkeypatch):
    """The net: a component that refuses at build time becomes the usual user error."""
    import geosim.preflight

    def refuse(scenario, seed):
        raise ValueError("a component refuses\nsecond line")

    monkeypatch.setattr(geosim.preflight, "build", refuse)
    path = SCENARIOS / "quickstart.yaml"
    status = cli.main(["validate", str(path)])
    out, err = capsys.readouterr()
    assert status == 2 and out == ""
    assert err == (f"geosim: error: {path}: passes the scenario checks but cannot be built "
                   f"(ValueError: a component refuses); the checks should have named the "
                   f"field: please report it\n")
