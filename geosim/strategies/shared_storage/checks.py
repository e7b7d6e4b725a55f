"""Scenario checks of the shared-storage strategy's block."""

from __future__ import annotations

from geosim.kafka.checks import check_storage
from geosim.kafka.config import BY_KEY
from geosim.scenario.checks import Checker
from geosim.scenario.kafka_keys import BadKafkaValue, UnknownKafkaKey
from geosim.scenario.omb import topic_config
from geosim.scenario.schema import OmbDriver
from geosim.strategies.shared_storage.spec import SharedStorageStrategySpec


def check(checker: Checker, strat: SharedStorageStrategySpec) -> None:
    """The broker configs resolve; nothing asks for replicas (durability is the WAL's:
    AutoMQ forces one replica and ``min.insync.replicas`` 1); the storage block holds."""
    if strat.replication_factor not in (None, 1):
        checker.fail("strategy.replication_factor", "must be 1 or unset: a shared-storage "
                     "cluster keeps one replica per partition", strat.replication_factor)
    if strat.replica_placement:
        checker.fail("strategy.replica_placement", "must be empty: a shared-storage cluster "
                     "keeps one replica per partition", dict(strat.replica_placement))
    for i, declared in enumerate(checker.scenario.workload.topics):
        path = f"workload.topics[{i}]"
        for key, value in declared.config.items():
            if key in ("replication.factor", "min.insync.replicas") and value != 1:
                checker.fail(f"{path}.config.{key}", "must be 1 or unset: a shared-storage "
                             "cluster keeps one replica per partition", value)
        for field_name in ("replica_placement", "observer_placement"):
            if getattr(declared, field_name):
                checker.fail(f"{path}.{field_name}", "must be empty: a shared-storage "
                             "cluster keeps one replica per partition",
                             dict(getattr(declared, field_name)))
        if not declared.mirror:
            checker.fail(f"{path}.mirror", "is for strategies that replicate between "
                         "clusters; shared-storage runs one cluster", declared.mirror)
    if strat.fetch_from_follower:
        checker.fail("strategy.fetch_from_follower", "must be false: there are no "
                     "followers to fetch from", True)
    driver = checker.scenario.workload.driver
    topic = topic_config(driver) if isinstance(driver, OmbDriver) else {}
    try:
        strat.broker_config(topic)
    except UnknownKafkaKey as exc:
        known = ", ".join(sorted(BY_KEY))
        checker.fail(f"strategy.config.{exc.key}", f"is not a modelled broker or topic "
                     f"config (known: {known})", strat.config[exc.key])
    except BadKafkaValue as exc:
        checker.fail(f"strategy.config.{exc.key}", exc.expected, exc.raw)
    if strat.storage.clusters:
        checker.fail("strategy.storage.clusters", "must be empty: it names the shared "
                     "clusters of a cross-cluster strategy", list(strat.storage.clusters))
    topo = checker.scenario.topology
    regions = sorted({key if key in topo.regions else key.rsplit("-", 1)[0]
                      for key, n in strat.brokers.items() if n > 0}) if strat.brokers \
        else sorted(topo.regions)
    check_storage(checker, strat.storage, "strategy.storage", regions)
