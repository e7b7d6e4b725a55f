"""MirrorMaker 2 and Cluster Linking configs of the cross-cluster model, by their own keys.

A scenario sets them in ``strategy.mirror_config``. MirrorMaker 2 defaults come from
apache/kafka's ``connect/mirror`` configs (figures.md §6); Cluster Linking's from
Confluent's documentation (figures.md §7, C6–C7). Durations are given in the key's
unit (``*.ms`` or ``*.seconds``) and held in seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from geosim.kafka.config import BrokerKey, _convert

MM2_KEYS: tuple[BrokerKey, ...] = (
    BrokerKey("offset.lag.max", "int", 100, "figures.md MM8",
              "an offset sync is emitted once the downstream offset moved this many "
              "records past the previous sync"),
    BrokerKey("offset.flush.interval.ms", "ms", 60000, "figures.md MM13",
              "the task commits its source offsets (where a restarted task resumes) and "
              "publishes its delayed offset syncs this often"),
    BrokerKey("emit.checkpoints.enabled", "bool", True, "figures.md MM2",
              "translate consumer group offsets into checkpoints in the target"),
    BrokerKey("emit.checkpoints.interval.seconds", "s", 60, "figures.md MM2",
              "how often group offsets are translated into checkpoints"),
    BrokerKey("sync.group.offsets.enabled", "bool", False, "figures.md MM3",
              "write translated offsets into the target's consumer groups"),
    BrokerKey("sync.group.offsets.interval.seconds", "s", 60, "figures.md MM3",
              "how often translated offsets are written into the target groups"),
    BrokerKey("tasks.max", "int", 1, "apache/kafka ConnectorConfig (tasks.max 1)",
              "source tasks; each holds one connection to every source leader broker"),
    BrokerKey("consumer.fetch.max.bytes", "bytes", 52428800,
              "apache/kafka ConsumerConfig (fetch.max.bytes 50 MiB)",
              "bytes per fetch response from one source broker"),
    BrokerKey("consumer.fetch.max.wait.ms", "ms", 500,
              "apache/kafka ConsumerConfig (fetch.max.wait.ms 500)",
              "a fetch waits at most this long at the source for new data"),
    BrokerKey("consumer.request.timeout.ms", "ms", 30000,
              "apache/kafka ConsumerConfig (request.timeout.ms 30000)",
              "a fetch without an answer is retried after this"),
)

LINK_KEYS: tuple[BrokerKey, ...] = (
    BrokerKey("consumer.offset.sync.enable", "bool", True,
              "figures.md C6 (enabled in the documented failover set-ups)",
              "copy consumer group offsets from the source to the destination"),
    BrokerKey("consumer.offset.sync.ms", "ms", 30000,
              "figures.md C7 (30000 as commonly documented; one source says 5000)",
              "how often consumer group offsets are copied"),
    BrokerKey("consumer.fetch.max.bytes", "bytes", 52428800,
              "assumption (the link's fetcher as a Kafka consumer, fetch.max.bytes 50 MiB)",
              "bytes per fetch response from one source broker"),
    BrokerKey("consumer.fetch.max.wait.ms", "ms", 500,
              "assumption (as replica.fetch.wait.max.ms, figures.md K23)",
              "a fetch waits at most this long at the source for new data"),
    BrokerKey("consumer.request.timeout.ms", "ms", 30000,
              "assumption (as replica.socket.timeout.ms, figures.md K23)",
              "a fetch without an answer is retried after this"),
)


@dataclass(frozen=True)
class MirrorConfig:
    """Resolved flow configs in canonical units (seconds, bytes)."""

    offset_lag_max: int = 100
    offset_flush_interval: float = 60.0
    emit_checkpoints: bool = True
    checkpoint_interval: float = 60.0
    sync_group_offsets: bool = False
    sync_group_offsets_interval: float = 60.0
    tasks: int = 1
    fetch_max_bytes: int = 52428800
    fetch_max_wait: float = 0.5
    request_timeout: float = 30.0
    offset_preserving: bool = False     # Cluster Linking
    offset_sync_enabled: bool = False   # Cluster Linking consumer offset sync
    offset_sync_interval: float = 30.0


def _value(spec: BrokerKey, raw: Any) -> Any:
    if spec.kind == "s":
        if isinstance(raw, bool) or not isinstance(raw, int | float) or raw < 0:
            raise ValueError("must be a number of seconds >= 0")
        return float(raw)
    return _convert(spec, raw)


def _resolve(keys: tuple[BrokerKey, ...], config: Mapping[str, Any]) -> dict[str, Any]:
    values = {k.key: (k.default / 1000.0 if k.kind == "ms" else k.default) for k in keys}
    by_key = {k.key: k for k in keys}
    for key, raw in config.items():
        spec = by_key.get(key)
        if spec is None:
            raise KeyError(key)
        try:
            values[key] = _value(spec, raw)
        except ValueError as exc:
            raise ValueError((key, str(exc))) from None
    return values


def resolve_mirror_config(strategy: str, config: Mapping[str, Any]) -> MirrorConfig:
    """Defaults, then ``strategy.mirror_config``, for ``mirrormaker2`` or
    ``cluster-linking``. Raises ``KeyError(key)`` for an unknown key and
    ``ValueError((key, message))`` for a bad value."""
    if strategy == "cluster-linking":
        v = _resolve(LINK_KEYS, config)
        if v["consumer.offset.sync.ms"] <= 0:
            raise ValueError(("consumer.offset.sync.ms", "must be > 0"))
        return MirrorConfig(
            offset_preserving=True, emit_checkpoints=False,
            offset_sync_enabled=v["consumer.offset.sync.enable"],
            offset_sync_interval=v["consumer.offset.sync.ms"],
            fetch_max_bytes=v["consumer.fetch.max.bytes"],
            fetch_max_wait=v["consumer.fetch.max.wait.ms"],
            request_timeout=v["consumer.request.timeout.ms"], tasks=1)
    v = _resolve(MM2_KEYS, config)
    for key in ("offset.lag.max", "tasks.max"):
        if v[key] < 1:
            raise ValueError((key, "must be >= 1"))
    for key in ("emit.checkpoints.interval.seconds", "offset.flush.interval.ms",
                "sync.group.offsets.interval.seconds"):
        if v[key] <= 0:
            raise ValueError((key, "must be > 0"))
    return MirrorConfig(
        offset_lag_max=v["offset.lag.max"],
        offset_flush_interval=v["offset.flush.interval.ms"],
        emit_checkpoints=v["emit.checkpoints.enabled"],
        checkpoint_interval=v["emit.checkpoints.interval.seconds"],
        sync_group_offsets=v["sync.group.offsets.enabled"],
        sync_group_offsets_interval=v["sync.group.offsets.interval.seconds"],
        tasks=v["tasks.max"], fetch_max_bytes=v["consumer.fetch.max.bytes"],
        fetch_max_wait=v["consumer.fetch.max.wait.ms"],
        request_timeout=v["consumer.request.timeout.ms"])


__all__ = ["LINK_KEYS", "MM2_KEYS", "MirrorConfig", "resolve_mirror_config"]
