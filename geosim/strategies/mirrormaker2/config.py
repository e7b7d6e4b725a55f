"""MirrorMaker 2's flow configs (``strategy.mirror_config``): the keys, their defaults
from apache/kafka's ``connect/mirror`` configs (figures.md §6), and their resolution to
the engine's :class:`~geosim.kafka.mirror_config.MirrorConfig`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from geosim.kafka.mirror_config import MirrorConfig, resolve_mirror_config
from geosim.kafka.reference import Table, broker_config_tables, config_table
from geosim.kafka.spec import CrossClusterSpec
from geosim.scenario.kafka_keys import KafkaKey

KEYS: tuple[KafkaKey, ...] = (
    KafkaKey("offset.lag.max", "offset_lag_max", "int", 100, "figures.md MM8",
             "an offset sync is emitted once the downstream offset moved this many "
             "records past the previous sync"),
    KafkaKey("offset.flush.interval.ms", "offset_flush_interval", "ms", 60000,
             "figures.md MM13",
             "the task commits its source offsets (where a restarted task resumes) and "
             "publishes its delayed offset syncs this often"),
    KafkaKey("emit.checkpoints.enabled", "emit_checkpoints", "bool", True, "figures.md MM2",
             "translate consumer group offsets into checkpoints in the target"),
    KafkaKey("emit.checkpoints.interval.seconds", "checkpoint_interval", "s", 60,
             "figures.md MM2", "how often group offsets are translated into checkpoints"),
    KafkaKey("sync.group.offsets.enabled", "sync_group_offsets", "bool", False,
             "figures.md MM3", "write translated offsets into the target's consumer groups"),
    KafkaKey("sync.group.offsets.interval.seconds", "sync_group_offsets_interval", "s", 60,
             "figures.md MM3",
             "how often translated offsets are written into the target groups"),
    KafkaKey("tasks.max", "tasks", "int", 1, "apache/kafka ConnectorConfig (tasks.max 1)",
             "source tasks; each holds one connection to every source leader broker"),
    KafkaKey("consumer.fetch.max.bytes", "fetch_max_bytes", "bytes", 52428800,
             "apache/kafka ConsumerConfig (fetch.max.bytes 50 MiB)",
             "bytes per fetch response from one source broker"),
    KafkaKey("consumer.fetch.max.wait.ms", "fetch_max_wait", "ms", 500,
             "apache/kafka ConsumerConfig (fetch.max.wait.ms 500)",
             "a fetch waits at most this long at the source for new data"),
    KafkaKey("consumer.request.timeout.ms", "request_timeout", "ms", 30000,
             "apache/kafka ConsumerConfig (request.timeout.ms 30000)",
             "a fetch without an answer is retried after this"),
)


def resolve(config: Mapping[str, Any]) -> MirrorConfig:
    """Defaults, then ``strategy.mirror_config``; errors as
    :func:`~geosim.kafka.mirror_config.resolve_mirror_config`'s."""
    return resolve_mirror_config(
        KEYS, config, at_least_one=("offset.lag.max", "tasks.max"),
        positive=("emit.checkpoints.interval.seconds", "offset.flush.interval.ms",
                  "sync.group.offsets.interval.seconds"))


def mirror_config(spec: CrossClusterSpec) -> MirrorConfig:
    """The spec's flow configs, resolved once (the checks resolve them, a build reads
    them)."""
    return spec.resolved_mirror_config(resolve)


def reference_tables() -> list[Table]:
    """The cluster's configs, then MirrorMaker 2's (``strategy.mirror_config``)."""
    return [*broker_config_tables(),
            config_table("MirrorMaker 2 configs (`strategy.mirror_config`, mirrormaker2)",
                         KEYS)]


__all__ = ["KEYS", "mirror_config", "reference_tables", "resolve"]
