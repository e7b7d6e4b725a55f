"""Shared-storage cluster: partition leaders on stateless brokers, a WAL per broker,
batched uploads to object storage, failover without data copy. The model is the Kafka
cluster engine with shared storage (:mod:`geosim.kafka.shared_storage`).
"""

from __future__ import annotations

from typing import ClassVar

from geosim.kafka.cluster import KafkaCluster
from geosim.strategies.base import World
from geosim.strategies.kafka_family import KafkaClusterStrategy
from geosim.strategies.shared_storage.spec import SharedStorageStrategySpec


class SharedStorageStrategy(KafkaClusterStrategy):
    name: ClassVar[str] = "shared-storage"

    def build_engine(self, world: World) -> KafkaCluster:
        spec = world.scenario.strategy
        assert isinstance(spec, SharedStorageStrategySpec)
        return KafkaCluster(world, client_faults=self.zone_clients, storage=spec.storage)


__all__ = ["SharedStorageStrategy"]
