"""Scenario-time checks of the Kafka-family strategy blocks: broker and topic configs,
placements and the replication factor; for the cross-cluster strategies also the
clusters, flows, failover and mirror configs. Each strategy's plug-in calls them with
what is its own (its placements; its flow-config keys and their resolution).

The checks resolve the Kafka-side configs through the spec
(:meth:`~geosim.kafka.spec.KafkaSpec.broker_config`,
:meth:`~geosim.kafka.spec.CrossClusterSpec.resolved_mirror_config`), which keeps them
for the build."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from geosim.clients.workload import place_brokers
from geosim.kafka.config import BY_KEY
from geosim.kafka.mirror_config import MirrorConfig
from geosim.kafka.spec import CrossClusterSpec, KafkaSpec
from geosim.kafka.storage_spec import KEYS as STORAGE_KEYS
from geosim.kafka.storage_spec import SharedStorageSpec
from geosim.scenario import object_services
from geosim.scenario.checks import Checker
from geosim.scenario.kafka_keys import BadKafkaValue, KafkaKey, UnknownKafkaKey
from geosim.scenario.omb import topic_config
from geosim.scenario.schema import OmbDriver


def check_kafka(checker: Checker, strat: KafkaSpec,
                placements: Sequence[str] = ("replica_placement",)) -> None:
    """Checks of a Kafka cluster's block; ``placements``: the spec's fields that place
    replicas by region or zone (counts)."""
    for field_name in placements:
        placement = getattr(strat, field_name)
        for key, count in placement.items():
            checker.location(key, f"strategy.{field_name}.{key}")
            if count < 0:
                checker.fail(f"strategy.{field_name}.{key}", "must be >= 0", count)
    _placements_fit(checker, strat, placements)
    driver = checker.scenario.workload.driver
    topic = topic_config(driver) if isinstance(driver, OmbDriver) else {}
    try:
        config = strat.broker_config(topic)
    except UnknownKafkaKey as exc:
        known = ", ".join(sorted(BY_KEY))
        checker.fail(f"strategy.config.{exc.key}", f"is not a modelled broker or topic "
                     f"config (known: {known})", strat.config[exc.key])
    except BadKafkaValue as exc:
        checker.fail(f"strategy.config.{exc.key}", exc.expected, exc.raw)
    rf = sum(strat.replica_placement.values()) if strat.replica_placement else (
        strat.replication_factor or (driver.replicationFactor
                                     if isinstance(driver, OmbDriver) else 1))
    brokers = sum(strat.brokers.values()) if strat.brokers else None
    if brokers is not None and rf > brokers:
        checker.fail("strategy.replication_factor", f"must be <= the number of brokers "
                  f"({brokers})", rf)
    if config.min_insync_replicas > rf:
        checker.fail("strategy.config.min.insync.replicas", f"must be <= the replication "
                  f"factor ({rf}): no produce with acks=all could ever succeed",
                  config.min_insync_replicas)
    _topics(checker, strat, placements, rf, config.min_insync_replicas, brokers)


#: Topic configs a declared topic may set (``workload.topics[].config``).
TOPIC_KEYS = ("min.insync.replicas", "replication.factor")


def _topics(checker: Checker, strat: KafkaSpec, placements: Sequence[str], rf: int,
            min_isr: int, brokers: int | None) -> None:
    """Each declared topic's policy: known topic configs with positive integer values,
    placements this strategy has, a replication factor the brokers can hold and a
    ``min.insync.replicas`` it can meet; ``mirror: false`` only between clusters."""
    for i, topic in enumerate(checker.scenario.workload.topics):
        path = f"workload.topics[{i}]"
        values = {}
        for key, value in topic.config.items():
            if key not in TOPIC_KEYS:
                checker.fail(f"{path}.config.{key}", "is not a modelled topic config "
                             f"(known: {', '.join(TOPIC_KEYS)})", value)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                checker.fail(f"{path}.config.{key}", "must be an integer >= 1", value)
            values[key] = value
        if topic.observer_placement and "observer_placement" not in placements:
            checker.fail(f"{path}.observer_placement", f"is for the observers strategy; "
                         f"{strat.name} has no observers", dict(topic.observer_placement))
        if not topic.mirror and not isinstance(strat, CrossClusterSpec):
            checker.fail(f"{path}.mirror", f"is for strategies that replicate between "
                         f"clusters; {strat.name} runs one cluster", topic.mirror)
        for field_name in ("replica_placement", "observer_placement"):
            for key, count in getattr(topic, field_name).items():
                checker.location(key, f"{path}.{field_name}.{key}")
                if count < 0:
                    checker.fail(f"{path}.{field_name}.{key}", "must be >= 0", count)
        topic_rf = (sum(topic.replica_placement.values()) if topic.replica_placement
                    else values.get("replication.factor", rf))
        if brokers is not None and topic_rf > brokers:
            checker.fail(f"{path}.config.replication.factor", f"must be <= the number of "
                         f"brokers ({brokers})", topic_rf)
        topic_min_isr = values.get("min.insync.replicas", min_isr)
        if topic_min_isr > topic_rf:
            checker.fail(f"{path}.config.min.insync.replicas", f"must be <= the topic's "
                         f"replication factor ({topic_rf}): no produce with acks=all could "
                         "ever succeed", topic_min_isr)

def _placements_fit(checker: Checker, strat: KafkaSpec, placements: Sequence[str]) -> None:
    """Each placed location has enough brokers for the replicas asked of it, counting
    those its earlier locations (and, for observers, the sync replicas) already took.

    Exact where locations nest or are disjoint; where a region of one placement holds
    a zone of a later one, how many replicas that zone gets depends on the partition,
    and the zero-length build (:mod:`geosim.preflight`) reports what does not fit. A
    cross-cluster spec places per cluster, so only its own cluster's brokers count.
    """
    if not strat.brokers or isinstance(strat, CrossClusterSpec):
        return
    region_zones = {region: [f"{region}-{z}" for z in spec.zones]
                    for region, spec in checker.scenario.topology.regions.items()}
    per_zone = place_brokers(strat.brokers, region_zones)

    def zones_of(location: str) -> set[str]:
        return set(region_zones.get(location, [location]))

    placed: list[tuple[str, int]] = []  # (location, replicas) in placement order
    for field_name in placements:
        for location, count in getattr(strat, field_name).items():
            if count <= 0:
                continue
            zones = zones_of(location)
            brokers = sum(per_zone.get(zone, 0) for zone in zones)
            taken, exact = 0, True
            for other, other_count in placed:
                other_zones = zones_of(other)
                if other_zones <= zones:
                    taken += other_count
                elif other_zones & zones:
                    exact = False
            if exact and count + taken > brokers:
                held = f", {taken} of them holding the partition's replicas placed " \
                       f"before" if taken else ""
                checker.fail(f"strategy.{field_name}.{location}", f"must be at most the "
                             f"brokers of {location} free for it ({brokers - taken}: "
                             f"{brokers} brokers{held})", count)
            placed.append((location, count))


def check_cross_cluster(checker: Checker, strat: CrossClusterSpec,
                        keys: Sequence[KafkaKey],
                        mirror_config: Callable[[CrossClusterSpec], MirrorConfig]) -> None:
    """Checks of a cross-cluster strategy's block: those of every Kafka cluster, then the
    flow configs (the strategy's ``keys``, resolved by ``mirror_config(spec)``), the
    clusters, flows and failover."""
    check_kafka(checker, strat)
    try:
        mirror_config(strat)
    except UnknownKafkaKey as exc:
        known = ", ".join(sorted(k.name for k in keys))
        checker.fail(f"strategy.mirror_config.{exc.key}", f"is not a modelled "
                     f"{strat.name} config (known: {known})", strat.mirror_config[exc.key])
    except BadKafkaValue as exc:
        checker.fail(f"strategy.mirror_config.{exc.key}", exc.expected, exc.raw)
    regions = checker.scenario.topology.regions
    for i, region in enumerate(strat.clusters):
        checker.region(region, f"strategy.clusters[{i}]")
    if strat.brokers:
        with_brokers = sorted({key if key in regions else key.rsplit("-", 1)[0]
                               for key, n in strat.brokers.items() if n > 0})
    else:
        with_brokers = sorted(regions)
    clusters = strat.clusters or with_brokers
    for i, region in enumerate(clusters):
        if region not in with_brokers:
            checker.fail(f"strategy.clusters[{i}]", "must be a region with brokers "
                      f"(strategy.brokers places them in {', '.join(with_brokers)})",
                      region)
    if len(clusters) < 2:
        checker.fail("strategy.clusters", "must name at least two regions (one cluster "
                  "each) to replicate between", list(clusters))
    if strat.primary is not None and strat.primary not in clusters:
        checker.fail("strategy.primary", f"must be one of the clusters "
                  f"({', '.join(clusters)})", strat.primary)
    seen = set()
    for i, flow in enumerate(strat.flows):
        for side in ("source", "target"):
            value = getattr(flow, side)
            if value not in clusters:
                checker.fail(f"strategy.flows[{i}].{side}", f"must be one of the clusters "
                          f"({', '.join(clusters)})", value)
        if flow.source == flow.target:
            checker.fail(f"strategy.flows[{i}].target", "must differ from the source",
                      flow.target)
        if (flow.source, flow.target) in seen:
            checker.fail(f"strategy.flows[{i}]", "is listed twice",
                      f"{flow.source}->{flow.target}")
        seen.add((flow.source, flow.target))
    if strat.shared_storage is not None:
        shared = strat.shared_storage
        for i, region in enumerate(shared.clusters):
            if region not in clusters:
                checker.fail(f"strategy.shared_storage.clusters[{i}]", f"must be one of "
                             f"the clusters ({', '.join(clusters)})", region)
        check_storage(checker, shared, "strategy.shared_storage",
                      shared.clusters or clusters)
    fo = strat.failover
    for name in ("detection", "decision"):
        if getattr(fo, name) < 0:
            checker.fail(f"strategy.failover.{name}", "must be >= 0 (in seconds)",
                      getattr(fo, name))
    if strat.migrate_at is not None and not (0 <= strat.migrate_at
                                             < checker.scenario.simulation.duration):
        checker.fail("strategy.migrate_at", f"must be within the run (0 to "
                  f"{checker.scenario.simulation.duration:g} s)", strat.migrate_at)


def check_storage(checker: Checker, storage: SharedStorageSpec, path: str,
                  regions: Sequence[str]) -> None:
    """Checks of a shared storage block (at ``path``) for clusters in ``regions``: its
    AutoMQ configs resolve, its WAL timings are positive, and every cluster region has a
    bucket of the scenario's object store to upload to."""
    try:
        storage.resolved()
    except UnknownKafkaKey as exc:
        known = ", ".join(k.name for k in STORAGE_KEYS)
        checker.fail(f"{path}.config.{exc.key}", f"is not a modelled shared-storage "
                     f"config (known: {known})", storage.config[exc.key])
    except BadKafkaValue as exc:
        checker.fail(f"{path}.config.{exc.key}", exc.expected, exc.raw)
    for name in ("wal_write_p50", "wal_write_p99", "wal_batch_interval",
                 "volume_throughput"):
        if getattr(storage, name) <= 0:
            checker.fail(f"{path}.{name}", "must be > 0", getattr(storage, name))
    if storage.wal_write_p99 < storage.wal_write_p50:
        checker.fail(f"{path}.wal_write_p99", f"must be >= wal_write_p50 "
                     f"({storage.wal_write_p50:g} s)", storage.wal_write_p99)
    store = checker.scenario.object_store
    service = store.service or object_services.default_service(
        checker.scenario.topology.provider, store.kind)
    if service and object_services.resolve(service).service.zonal:
        checker.fail("object_store.service", "must be a regional service: a shared-storage "
                     "cluster uploads its data there, and a zonal bucket would hold it in "
                     "one zone (a zonal WAL is `wal: block`)", service)
    for region in regions:
        if region not in store.regions:
            checker.fail("object_store.regions", f"must include {region}: a shared-storage "
                         f"cluster uploads to a bucket of its own region", list(store.regions))
