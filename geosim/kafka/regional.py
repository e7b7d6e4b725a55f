"""Regional clusters: a Kafka cluster as one of several (the cross-cluster model).

A :class:`ClusterScope` restricts the cluster model (:class:`~geosim.kafka.cluster.
KafkaCluster`) to its brokers, its own KRaft quorum, its partitions and the clients
attached to it; a :class:`RegionalCluster` is that model in one region.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from geosim.clients.producer import ProducerFleet
from geosim.kafka.cluster import KafkaCluster
from geosim.kafka.world import KafkaWorld


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

    def __init__(self, world: KafkaWorld, scope: ClusterScope):
        super().__init__(world, scope)
        self.region = scope.name


__all__ = ["ClusterScope", "RegionalCluster"]
