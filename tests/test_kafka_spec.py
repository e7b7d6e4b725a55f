"""The Kafka-family strategy block's own logic (geosim.kafka.spec): the send tick's
precedence and what counts as a coarser resolution, and the holder of resolved configs
(resolved once per inputs, outside the spec's value)."""

from __future__ import annotations

from pathlib import Path

from geosim.kafka.spec import DEFAULT_SEND_TICK, MAX_VOTERS, Resolutions
from geosim.scenario.loader import load_scenario

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "stretch-3-regions.yaml"


def spec_and_simulation(*overrides: str):
    sc = load_scenario(SCENARIO, overrides=list(overrides))
    return sc.strategy, sc.simulation


def test_the_send_tick_is_the_blocks_then_the_scenarios_then_kafkas_linger():
    assert DEFAULT_SEND_TICK == 0.005          # Kafka 4.0's linger.ms (figures.md K10)
    spec, sim = spec_and_simulation()
    assert spec.send_tick(sim) == 0.005 and spec.resolution(sim) == {}
    spec, sim = spec_and_simulation("simulation.send_tick=25ms")
    assert spec.send_tick(sim) == 0.025 and spec.resolution(sim) == {"send_tick": 0.025}
    spec, sim = spec_and_simulation("simulation.send_tick=25ms", "strategy.append_interval=2ms")
    assert spec.send_tick(sim) == 0.002
    assert spec.resolution(sim) == {}          # finer than the reference: no loss


def test_resolved_configs_are_kept_per_inputs_and_never_part_of_the_value():
    r = Resolutions()
    calls = []

    def resolve(value):
        return lambda: calls.append(value) or value

    assert r.get("broker", ("a",), resolve(1)) == 1
    assert r.get("broker", ("a",), resolve(2)) == 1        # same inputs: kept
    assert r.get("broker", ("b",), resolve(3)) == 3        # new inputs: resolved again
    assert r.get("mirror", ("b",), resolve(4)) == 4        # another config apart
    assert calls == [1, 3, 4]
    assert r == Resolutions() and r != {"broker": 3}
    spec, _sim = spec_and_simulation()
    config = spec.broker_config({"min.insync.replicas": "2"})
    assert spec.broker_config({"min.insync.replicas": "2"}) is config
    assert spec.broker_config({"min.insync.replicas": "1"}) is not config
    assert MAX_VOTERS == 99
