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


def test_replication_factor_and_append_interval_bounds():
    import pytest

    from geosim.scenario.errors import ScenarioError

    spec, _sim = spec_and_simulation("strategy.replication_factor=1",
                                     "strategy.config={min.insync.replicas: 1}",
                                     "strategy.append_interval=1s")
    assert spec.replication_factor == 1 and spec.append_interval == 1.0
    with pytest.raises(ScenarioError, match="replication_factor"):
        spec_and_simulation("strategy.replication_factor=0")
    with pytest.raises(ScenarioError, match="append_interval"):
        spec_and_simulation("strategy.append_interval=1.5s")


def test_shared_storage_configs_resolve_to_automqs_defaults_or_the_given_values():
    import dataclasses

    import pytest

    from geosim.kafka.storage_spec import StorageConfig, resolve_storage_config

    assert resolve_storage_config({}) == StorageConfig(500 * 2**20, 60.0)
    resolved = resolve_storage_config({"s3.wal.upload.interval.ms": 5000,
                                       "s3.wal.upload.threshold": 1024})
    assert resolved == StorageConfig(1024, 5.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        resolved.upload_interval = 1.0  # type: ignore[misc]
