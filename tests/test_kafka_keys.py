"""Kafka's config keys: one parser for the client, broker and flow configs, and each
Kafka-side config resolved once per scenario (by the checks; the build reads it)."""

from __future__ import annotations

from pathlib import Path

import pytest

import geosim.kafka.spec
import geosim.strategies.mirrormaker2.config
from geosim.kafka.config import resolve_broker_config
from geosim.runner import build
from geosim.scenario.errors import ScenarioError
from geosim.scenario.kafka_keys import (
    BadKafkaValue,
    KafkaKey,
    UnknownKafkaKey,
    resolve_keys,
)
from geosim.scenario.loader import load_scenario
from geosim.scenario.omb import topic_config
from geosim.scenario.schema import Scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"

MS = KafkaKey("linger.ms", "linger", "ms", 5, "test", "")
BYTES = KafkaKey("batch.size", "batch_size", "bytes", 16384, "test", "")
INT = KafkaKey("tasks.max", "tasks", "int", 1, "test", "", minimum=1, maximum=5)
SECONDS = KafkaKey("emit.checkpoints.interval.seconds", "interval", "s", 60, "test", "")
BOOL = KafkaKey("enable.idempotence", "idempotence", "bool", True, "test", "")
ACKS = KafkaKey("acks", "acks", "choice", "all", "test", "",
                choices=("all", "-1", "0", "1"), aliases=(("-1", "all"),))


# --- the parser ----------------------------------------------------------------------------

@pytest.mark.parametrize(("key", "raw", "value"), [
    (MS, 250, 0.25), (MS, "250", 0.25), (MS, " 30000 ", 30.0), (MS, 1000.0, 1.0),
    (BYTES, "1048576", 1048576), (INT, 5, 5),
    (SECONDS, 10, 10.0), (SECONDS, 2.5, 2.5),
    (BOOL, "TRUE", True), (BOOL, False, False),
    (ACKS, "ALL", "all"), (ACKS, -1, "all"), (ACKS, "1", "1"),
])
def test_a_value_is_held_in_canonical_units(key, raw, value):
    parsed = key.parse(raw)
    assert parsed == value and type(parsed) is type(value)


@pytest.mark.parametrize(("key", "raw", "expected"), [
    (MS, 1.5, "must be an integer (milliseconds)"),
    (MS, True, "must be an integer (milliseconds)"),
    (MS, float("nan"), "must be an integer (milliseconds)"),
    (MS, -1, "must be >= 0 (milliseconds)"),
    (BYTES, "1MiB", "must be an integer (bytes)"),
    (INT, 0, "must be >= 1"),
    (INT, 6, "must be <= 5"),
    (SECONDS, "10", "must be a number of seconds >= 0"),
    (SECONDS, float("nan"), "must be a number of seconds >= 0"),
    (BOOL, "yes", "must be true or false"),
    (ACKS, "2", "must be one of all, -1, 0, 1"),
    (ACKS, True, "must be one of all, -1, 0, 1"),
])
def test_a_bad_value_says_what_was_expected(key, raw, expected):
    with pytest.raises(ValueError) as err:
        key.parse(raw)
    assert str(err.value) == expected


def test_defaults_are_in_canonical_units_and_seconds_stay_as_written():
    assert MS.default_value() == 0.005
    assert SECONDS.default_value() == 60 and type(SECONDS.default_value()) is int
    assert ACKS.default_value() == "all"


# --- layers ----------------------------------------------------------------------------------

def test_later_layers_win_and_lenient_layers_ignore_unknown_keys():
    keys = (MS, BYTES, BOOL)
    resolved = resolve_keys(keys, [{"linger.ms": "1", "bootstrap.servers": "x"},
                                   {"linger.ms": 20, "batch.size": "32768"}], strict=[1])
    assert resolved.values == {"linger.ms": 0.02, "batch.size": 32768,
                               "enable.idempotence": True}
    assert resolved.set_by == {"linger.ms": 1, "batch.size": 1}
    assert resolved.ignored == {"bootstrap.servers": 0}
    assert resolved.by_attr(keys) == {"linger": 0.02, "batch_size": 32768,
                                      "idempotence": True}


def test_errors_name_the_key_and_the_layer():
    with pytest.raises(UnknownKafkaKey) as unknown:
        resolve_keys((MS,), [{"linger.ms": 1}, {"lingr.ms": 1}])
    assert (unknown.value.key, unknown.value.layer, unknown.value.args[0]) == \
        ("lingr.ms", 1, "lingr.ms")
    with pytest.raises(BadKafkaValue) as bad:
        resolve_keys((MS, BOOL), [{}, {"enable.idempotence": "maybe", "linger.ms": -1}])
    assert (bad.value.key, bad.value.layer, bad.value.raw) == \
        ("enable.idempotence", 1, "maybe")
    assert bad.value.args[0] == ("enable.idempotence", "must be true or false")


def test_the_client_broker_and_flow_configs_share_the_parser():
    """The same mistake reads the same wherever a Kafka value is written."""
    messages = []
    for name, override in (
            ("mm2-active-passive", "workload.producer_config.linger.ms=1.5"),
            ("mm2-active-passive", "strategy.config.replica.lag.time.max.ms=1.5"),
            ("mm2-active-passive", "strategy.mirror_config.offset.flush.interval.ms=1.5"),
            ("cluster-linking-active-passive",
             "strategy.mirror_config.consumer.offset.sync.ms=1.5")):
        with pytest.raises(ScenarioError) as err:
            load_scenario(SCENARIOS / f"{name}.yaml", [override])
        path = override.partition("=")[0]
        messages.append(str(err.value).partition(f"{path}: ")[2])
    assert messages == ["must be an integer (milliseconds), got 1.5"] * 4


# --- resolved once ---------------------------------------------------------------------------

@pytest.fixture
def counted(monkeypatch):
    """Count the broker and MirrorMaker 2 flow-config resolutions."""
    calls = {"broker": 0, "mirror": 0}
    resolve_mirror = geosim.strategies.mirrormaker2.config.resolve

    def broker(*args, **kwargs):
        calls["broker"] += 1
        return resolve_broker_config(*args, **kwargs)

    def mirror(*args, **kwargs):
        calls["mirror"] += 1
        return resolve_mirror(*args, **kwargs)

    monkeypatch.setattr(geosim.kafka.spec, "resolve_broker_config", broker)
    monkeypatch.setattr(geosim.strategies.mirrormaker2.config, "resolve", mirror)
    return calls


def test_the_checks_resolve_and_the_build_reads(counted):
    sc = load_scenario(SCENARIOS / "mm2-active-passive.yaml",
                       ["strategy.mirror_config.offset.lag.max=7"])
    assert counted == {"broker": 1, "mirror": 1}
    _, _, strategy = build(sc, 1)
    assert counted == {"broker": 1, "mirror": 1}  # two clusters, one resolution each
    assert len(strategy.clusters) == 2
    assert strategy.cfg.offset_lag_max == 7
    assert all(c.config is sc.strategy.broker_config(topic_config(sc.workload.driver))
               for c in strategy.clusters.values())


def test_a_scenario_built_without_the_loader_resolves_once_at_build(counted):
    loaded = load_scenario(SCENARIOS / "mm2-active-passive.yaml")
    unchecked = Scenario.model_validate(loaded.model_dump())
    assert unchecked == loaded  # what was resolved is not part of the scenario's value
    counted.update(broker=0, mirror=0)
    _, _, strategy = build(unchecked, 1)
    assert counted == {"broker": 1, "mirror": 1}
    assert strategy.cfg == geosim.strategies.mirrormaker2.config.mirror_config(
        loaded.strategy)


def test_a_copy_with_other_configs_is_resolved_anew():
    sc = load_scenario(SCENARIOS / "stretch-3-regions.yaml")
    topic = topic_config(sc.workload.driver)
    before = sc.strategy.broker_config(topic)
    copy = sc.strategy.model_copy(update={"config": {"min.insync.replicas": 1}})
    assert copy.broker_config(topic).min_insync_replicas == 1
    assert sc.strategy.broker_config(topic) == before
    assert before.min_insync_replicas != 1
    assert sc.strategy.broker_config({"min.insync.replicas": "1"}) == before  # config wins


def test_broker_config_defaults_are_the_key_table_defaults():
    # BrokerConfig() is what code and tests build without a scenario; it must agree with
    # Kafka's defaults as the key table states them (the resolved config of an empty
    # scenario), field by field.
    from dataclasses import fields

    from geosim.kafka.config import BrokerConfig
    resolved = resolve_broker_config({})
    plain = BrokerConfig()
    for f in fields(BrokerConfig):
        assert getattr(plain, f.name) == getattr(resolved, f.name), f.name


# --- defaults against their cited sources ------------------------------------------------

_KEY_TABLES = ("geosim.kafka.config", "geosim.kafka.storage_spec", "geosim.scenario.omb",
               "geosim.strategies.mirrormaker2.config", "geosim.strategies.replicator.config",
               "geosim.strategies.cluster_linking.config", "geosim.strategies.edge.config")
_UNITS = {"KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "minutes": 60_000, "hours": 3_600_000,
          "days": 86_400_000}


def _every_key() -> list[tuple[str, KafkaKey]]:
    import importlib
    found: dict[tuple[str, str], KafkaKey] = {}
    for name in _KEY_TABLES:
        for value in vars(importlib.import_module(name)).values():
            if isinstance(value, tuple):
                for key in value:
                    if isinstance(key, KafkaKey):
                        found[(name, key.name)] = key
    return [(f"{module} {name}", key) for (module, name), key in sorted(found.items())]


def _cited(key: KafkaKey) -> object | None:
    """The default the key's source states, as ``(<name> <value>[ unit])`` with ``<name>``
    the key or a suffix of it (``fetch.max.bytes 50 MiB`` for
    ``consumer.fetch.max.bytes``), in Kafka's spelling; None if it states none."""
    import re
    for name, value, unit in re.findall(
            r"([\w.]+) (-?\d+|true|false|\$\{\w+\})(?: (KiB|MiB|GiB|minutes|hours|days)\b)?",
            key.source):
        if key.name == name or key.name.endswith("." + name):
            if value in ("true", "false"):
                return value == "true"
            if value.startswith("$"):
                return value
            return int(value) * _UNITS.get(unit, 1)
    return None


def test_the_cited_default_of_every_key_is_its_default():
    """Where a key's source states Kafka's default (``apache/kafka DistributedConfig
    (session.timeout.ms 10000)``), the table's default is that value; the 24
    keys whose sources state one are checked."""
    checked = 0
    for label, key in _every_key():
        cited = _cited(key)
        if cited is not None:
            checked += 1
            assert key.default == cited, label
    assert checked >= 24


def test_broker_configs_refuse_unknown_keys_only_in_the_strategy_block():
    import dataclasses

    from geosim.scenario.kafka_keys import BadKafkaValue, UnknownKafkaKey

    # the driver's topicConfig may carry configs the model ignores (retention, ...)
    resolved = resolve_broker_config({}, {"retention.ms": "1000", "min.insync.replicas": "2"})
    assert resolved.min_insync_replicas == 2
    with pytest.raises(UnknownKafkaKey) as unknown:
        resolve_broker_config({"retention.ms": 1000})
    assert (unknown.value.key, unknown.value.layer) == ("retention.ms", 1)
    # min.insync.replicas below 1 is refused naming the layer and the value as written
    with pytest.raises(BadKafkaValue) as bad:
        resolve_broker_config({}, {"min.insync.replicas": "0"})
    assert (bad.value.key, bad.value.raw, bad.value.layer) == ("min.insync.replicas", "0", 0)
    with pytest.raises(BadKafkaValue) as bad:
        resolve_broker_config({"min.insync.replicas": 0}, {"min.insync.replicas": "2"})
    assert (bad.value.raw, bad.value.layer) == (0, 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        resolved.min_insync_replicas = 3  # type: ignore[misc]
