"""Regional clusters: a Kafka cluster as one of several (the cross-cluster model).

A :class:`ClusterScope` restricts the cluster model (:class:`~geosim.kafka.cluster.
KafkaCluster`) to its brokers, its own KRaft quorum (:func:`regional_quorum`: a region
outage takes the whole cluster down; nothing of it depends on another region), its
partitions and the clients attached to it; a :class:`RegionalCluster` is that model in
one region. Which clusters replicate to which (:func:`pattern_flows`) and which cluster
a region's clients use (:func:`home_cluster`) follow the strategy's ``pattern``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from geosim.clients.producer import ProducerFleet
from geosim.components.metadata_store import MetadataStore, defaults_for, place_voters
from geosim.kafka.cluster import KafkaCluster
from geosim.kafka.storage_spec import SharedStorageSpec
from geosim.kafka.world import KafkaWorld
from geosim.scenario.schema import MetadataSpec, VoterSpec


@dataclass
class ClusterScope:
    """What makes a Kafka cluster one of several (the cross-cluster strategies): its
    brokers, its own controller quorum, its partitions and the clients attached to it.

    ``fleets`` is the run's list of producer fleets (rows name their fleet by index in
    it); ``producing`` the fleets writing to this cluster. Groups are attached with
    :meth:`~geosim.kafka.reads.ReadPath.attach_group`. Events name partitions
    ``partition_base + i`` so that partition ``i`` of two clusters stay apart.
    """

    name: str
    broker_counts: dict[str, int]
    metadata: Any                       # geosim.components.metadata_store.MetadataStore
    partitions: int
    partition_base: int
    fleets: list[ProducerFleet]
    producing: list[ProducerFleet] = field(default_factory=list)
    local_partitions: int | None = None  # producers write to partitions below this
    mirror_sinks: list[Any] = field(default_factory=list)  # by Row.mirror


class RegionalCluster(KafkaCluster):
    """One independent cluster: the Kafka model inside one region (named by it).
    Client faults are applied by the cross-cluster model, to its live clients."""

    def __init__(self, world: KafkaWorld, scope: ClusterScope,
                 storage: SharedStorageSpec | None = None):
        super().__init__(world, scope, storage=storage)
        self.region = scope.name


def regional_quorum(world: KafkaWorld, region: str, voters: int) -> MetadataStore:
    """A cluster's KRaft quorum: ``voters`` voters over the region's zones, with the
    kraft preset's election timeout."""
    kraft = defaults_for(MetadataSpec(preset="kraft", regions=[region]))[1]
    spec = MetadataSpec(preset="custom", regions=[region],
                        voters=[VoterSpec(region=region, count=voters)],
                        election_timeout=kraft)
    return MetadataStore(world.ctx, world.network, spec,
                         place_voters(spec, world.topology.zones), name=f"kraft-{region}")


def pattern_flows(pattern: str, primary: str, regions: list[str]) -> list[tuple[str, str]]:
    """The (source, target) flows of a ``pattern``: every ordered pair
    (active-active), every other cluster into the primary (hub-and-spoke), or the
    primary into every other (active-passive)."""
    others = [r for r in regions if r != primary]
    if pattern == "active-active":
        return [(a, b) for a in regions for b in regions if a != b]
    if pattern == "hub-and-spoke":
        return [(r, primary) for r in others]
    return [(primary, r) for r in others]


def home_cluster(region: str, regions: list[str], flows: list[tuple[str, str]], *,
                 primary: str, pattern: str, explicit_flows: bool) -> str:
    """The cluster a region's clients use before any failover."""
    if region not in regions:
        return primary
    if not explicit_flows:
        return primary if pattern == "active-passive" else region
    if region == primary or (primary, region) not in flows:
        return region
    return primary


__all__ = ["ClusterScope", "RegionalCluster", "home_cluster", "pattern_flows",
           "regional_quorum"]
