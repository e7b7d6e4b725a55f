"""Broker heartbeats as messages (geosim.kafka.controller): the controller fences a
broker whose heartbeats stop reaching it, whatever stops them (a partition in that
direction, loss), and only then; a cut in the other direction (the controller's
answers lost) fences nothing, as KRaft's controller times sessions from the heartbeats
it receives."""

from __future__ import annotations

from pathlib import Path

import pytest

from geosim.runner import build, run
from geosim.scenario.loader import load_scenario

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "stretch-3-regions.yaml"
BASE = ["simulation.duration=45s", "simulation.warmup=5s", "simulation.drain=5s"]


def controller_region() -> str:
    sc = load_scenario(SCENARIO, overrides=BASE)
    _ctx, world, _strategy = build(sc, sc.simulation.seed)
    zone = world.metadata.leader_zone
    return world.topology.region_of(zone)


def fenced_with(fault: str) -> int:
    sc = load_scenario(SCENARIO, overrides=[*BASE, f"faults=[{fault}]"])
    return run(sc).summary["counters"].get("brokers_fenced", 0)


@pytest.fixture(scope="module")
def where() -> tuple[str, str]:
    """(the controller's region, another region with brokers)."""
    ctl = controller_region()
    return ctl, next(r for r in ("us-west1", "us-west2", "us-west3") if r != ctl)


def test_heartbeats_cut_towards_the_controller_fence_the_brokers(where):
    ctl, other = where
    # two brokers per region (the scenario's strategy.brokers)
    assert fenced_with(f"{{kind: partition, between: [{other}, {ctl}], one_way: true, "
                       f"at: 15s, duration: 20s}}") == 2


def test_answers_cut_from_the_controller_fence_nothing(where):
    ctl, other = where
    assert fenced_with(f"{{kind: partition, between: [{ctl}, {other}], one_way: true, "
                       f"at: 15s, duration: 20s}}") == 0


def test_lost_heartbeats_fence_and_slow_ones_do_not(where):
    ctl, other = where
    lossy = (f"{{kind: brownout, between: [{other}, {ctl}], at: 15s, duration: 20s, "
             f"loss: 0.9}}")
    slow = (f"{{kind: brownout, between: [{other}, {ctl}], at: 15s, duration: 20s, "
            f"extra_latency: 200ms}}")
    # each of the region's two brokers is fenced, and may be again after a heartbeat
    # gets through (unfenced) within the 20 s: at least twice in all
    assert fenced_with(lossy) >= 2
    assert fenced_with(slow) == 0
