"""Cluster Linking's link configs (``strategy.mirror_config``): the keys, their defaults
from Confluent's documentation (figures.md §7, C6–C7), and their resolution to the
engine's :class:`~geosim.kafka.mirror_config.MirrorConfig`: mirror topics keep the
source's offsets, and consumer offsets are copied rather than checkpointed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from geosim.kafka.mirror_config import MirrorConfig, resolve_mirror_config
from geosim.kafka.reference import Table, broker_config_tables, config_table
from geosim.kafka.spec import CrossClusterSpec
from geosim.scenario.kafka_keys import KafkaKey

KEYS: tuple[KafkaKey, ...] = (
    KafkaKey("consumer.offset.sync.enable", "offset_sync_enabled", "bool", True,
             "figures.md C6 (enabled in the documented failover set-ups)",
             "copy consumer group offsets from the source to the destination"),
    KafkaKey("consumer.offset.sync.ms", "offset_sync_interval", "ms", 30000,
             "figures.md C7 (30000 as commonly documented; one source says 5000)",
             "how often consumer group offsets are copied"),
    KafkaKey("consumer.fetch.max.bytes", "fetch_max_bytes", "bytes", 52428800,
             "assumption (the link's fetcher as a Kafka consumer, fetch.max.bytes 50 MiB)",
             "bytes per fetch response from one source broker"),
    KafkaKey("consumer.fetch.max.wait.ms", "fetch_max_wait", "ms", 500,
             "assumption (as replica.fetch.wait.max.ms, figures.md K23)",
             "a fetch waits at most this long at the source for new data"),
    KafkaKey("consumer.request.timeout.ms", "request_timeout", "ms", 30000,
             "assumption (as replica.socket.timeout.ms, figures.md K23)",
             "a fetch without an answer is retried after this"),
)


def resolve(config: Mapping[str, Any]) -> MirrorConfig:
    """Defaults, then ``strategy.mirror_config``; errors as
    :func:`~geosim.kafka.mirror_config.resolve_mirror_config`'s."""
    return resolve_mirror_config(KEYS, config, positive=("consumer.offset.sync.ms",),
                                 offset_preserving=True, emit_checkpoints=False, tasks=1)


def mirror_config(spec: CrossClusterSpec) -> MirrorConfig:
    """The spec's link configs, resolved once (the checks resolve them, a build reads
    them)."""
    return spec.resolved_mirror_config(resolve)


def reference_tables() -> list[Table]:
    """The cluster's configs, then the cluster link's (``strategy.mirror_config``)."""
    return [*broker_config_tables(),
            config_table("Cluster link configs (`strategy.mirror_config`, cluster-linking)",
                         KEYS)]


__all__ = ["KEYS", "mirror_config", "reference_tables", "resolve"]
