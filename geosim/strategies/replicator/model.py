"""Confluent Replicator: independent clusters linked by Kafka Connect source connectors.

Each flow is a Replicator connector whose tasks run on a Connect cluster in the
destination (or source) region; it creates the destination topic before copying, keeps
the topic's name by default (copies and local records share it, with provenance headers
against loops) and translates consumer offsets by timestamp. The model is the
cross-cluster engine with Replicator's flows, :mod:`geosim.kafka.replicator`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from geosim.kafka.mirror_config import MirrorConfig
from geosim.kafka.replicator import ReplicatorClusters
from geosim.strategies.base import World
from geosim.strategies.kafka_family import CrossClusterStrategy
from geosim.strategies.replicator import config
from geosim.strategies.replicator.spec import ReplicatorSpec


class ReplicatorStrategy(CrossClusterStrategy):
    name: ClassVar[str] = "replicator"

    def mirror_config(self, spec: Any) -> MirrorConfig:
        return config.resolved(spec)[0]

    def build_engine(self, world: World) -> ReplicatorClusters:
        spec = world.scenario.strategy
        assert isinstance(spec, ReplicatorSpec)
        mirror, settings = config.resolved(spec)
        return ReplicatorClusters(world, mirror=mirror, settings=settings,
                                  client_faults=self.zone_clients)

    def crash_workers(self, zone: str, count: int, up: bool) -> None:
        self.engine.crash_workers(zone, count, up)


__all__ = ["ReplicatorStrategy"]
