"""Stretch cluster: one Kafka cluster over several regions, synchronous ISR replication.

``broker.rack`` is the zone or the region; replicas are placed rack-aware (or by
explicit counts per region); producers far from a partition's leader cross regions on
every write; consumers may fetch from a follower in their rack. The model is the Kafka
cluster engine, :mod:`geosim.kafka.cluster`.
"""

from __future__ import annotations

from typing import ClassVar

from geosim.strategies.kafka_family import KafkaClusterStrategy


class StretchStrategy(KafkaClusterStrategy):
    name: ClassVar[str] = "stretch"


__all__ = ["StretchStrategy"]
