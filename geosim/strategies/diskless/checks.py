"""Scenario-time checks of the diskless strategy block."""

from __future__ import annotations

from geosim.clients.workload import place_brokers
from geosim.scenario.checks import Checker
from geosim.scenario.schema import BrokerCrash, UncleanElection
from geosim.strategies.diskless.spec import DisklessSpec


def check(checker: Checker, strat: DisklessSpec) -> None:
    """Flush bounds, the writer size, the write quorum against the buckets; no
    operator step that needs partition leaders."""
    if strat.flush_interval <= 0:
        checker.fail("strategy.flush_interval", "must be > 0 (in seconds)",
                  strat.flush_interval)
    if strat.flush_bytes <= 0:
        checker.fail("strategy.flush_bytes", "must be > 0 (in bytes)", strat.flush_bytes)
    _writers(checker, strat)
    _topics(checker)
    _zone_local_brokers(checker, strat)
    if strat.write_quorum is not None:
        store = checker.scenario.object_store
        if store.kind != "regional":
            checker.fail("strategy.write_quorum", f"requires object_store.kind regional "
                      f"(one bucket per region), but object_store.kind is {store.kind}",
                      strat.write_quorum)
        buckets, where = (store.zones, "object_store.zones") if store.zones \
            else (store.regions, "object_store.regions")
        if strat.write_quorum > len(buckets):
            checker.fail("strategy.write_quorum", f"must be <= the number of buckets, "
                      f"{where} ({len(buckets)})", strat.write_quorum)
    for i, fault in enumerate(checker.scenario.faults):
        if isinstance(fault, UncleanElection):
            checker.fail(f"faults[{i}].kind", "is an operator step of Kafka strategies "
                         "(stretch, observers); diskless has no partition leaders",
                         fault.kind)


def _writers(checker: Checker, strat: DisklessSpec) -> None:
    """``brokers_per_writer`` must split every zone's brokers, and every broker crash,
    into whole writers."""

    per = strat.brokers_per_writer
    if per == 1:
        return
    counts = place_brokers(strat.brokers, {
        region: [f"{region}-{z}" for z in spec.zones]
        for region, spec in checker.scenario.topology.regions.items()})
    if not strat.brokers:
        counts = {"every zone": 3}  # the default placement
    for zone, n in sorted(counts.items()):
        if n % per:
            checker.fail("strategy.brokers_per_writer", f"must divide the broker count of "
                      f"every zone ({zone} has {n})", per)
    for i, fault in enumerate(checker.scenario.faults):
        if isinstance(fault, BrokerCrash) and fault.count % per:
            checker.fail(f"faults[{i}].count", f"must be a multiple of "
                      f"strategy.brokers_per_writer ({per}): writers crash whole",
                      fault.count)


def _zone_local_brokers(checker: Checker, strat: DisklessSpec) -> None:
    """Producers write to a broker of their own zone: every zone given a producer share
    must have a broker (without ``strategy.brokers``, every client zone gets three)."""
    if not strat.brokers:
        return
    region_zones = {region: [f"{region}-{z}" for z in spec.zones]
                    for region, spec in checker.scenario.topology.regions.items()}
    with_brokers = {zone for zone, n in place_brokers(strat.brokers, region_zones).items()
                    if n > 0}
    for key, share in checker.scenario.workload.producers.items():
        if share <= 0:
            continue
        for zone in region_zones.get(key, [key]):
            if zone not in with_brokers:
                checker.fail(f"workload.producers.{key}", f"places producers in zone {zone}, "
                             f"which has no broker (strategy.brokers places them in "
                             f"{', '.join(sorted(with_brokers))}); diskless producers write "
                             f"to a broker of their own zone")


def _topics(checker: Checker) -> None:
    """A declared topic's replication policy has no meaning here: diskless brokers keep
    no replicas (durability is the object store's), and one cluster mirrors nothing."""
    for i, topic in enumerate(checker.scenario.workload.topics):
        for field_name, unset in (("config", {}), ("replica_placement", {}),
                                  ("observer_placement", {}), ("mirror", True)):
            value = getattr(topic, field_name)
            if value != unset:
                checker.fail(f"workload.topics[{i}].{field_name}", "has no meaning for the "
                             "diskless strategy (no broker replicas: the object store keeps "
                             "the data; one cluster mirrors nothing)",
                             dict(value) if isinstance(value, dict) else value)
