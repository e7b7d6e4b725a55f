"""The ``strategy:`` block of the shared-storage strategy."""

from __future__ import annotations

from typing import Literal

from geosim.kafka.spec import KafkaSpec
from geosim.kafka.storage_spec import SharedStorageSpec
from geosim.scenario.types import described


class SharedStorageStrategySpec(KafkaSpec):
    """One Kafka-compatible cluster whose brokers keep no durable state (AutoMQ-style):
    one replica per partition, a WAL per broker, uploads to the object store."""

    name: Literal["shared-storage"] = "shared-storage"
    rack: Literal["zone", "region"] = described(
        "zone", "What `broker.rack` names; with one replica per partition it only spreads "
        "the partitions' leaders over the zones.", source="domain.md §4 (rack-aware "
        "placement)")
    storage: SharedStorageSpec = described(
        SharedStorageSpec(), "The WAL, its upload and its failover "
        "(geosim/kafka/storage_spec.py; docs/shared-storage.md).")
