"""The edge site's Kafka configs (``sites[].config``) and the replication's fetch
settings (``strategy.mirror_config``), resolved to the fluid model's records.

Defaults are Kafka's: apache/kafka ``server-common/.../config/ServerLogConfigs.java``
and ``TopicConfig`` (``retention.ms`` 7 days, ``retention.bytes`` -1: no size limit,
``segment.bytes`` 1 GiB, ``segment.ms`` 7 days, ``log.retention.check.interval.ms``
5 minutes); the log manager's first retention check runs 30 s after a broker starts
(``LogManager.InitialTaskDelayMs``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from geosim.kafka.mirror_config import MirrorConfig
from geosim.kafka.reference import Table, config_table
from geosim.scenario.kafka_keys import KafkaKey, resolve_keys

#: Delay from a broker's start to its log manager's first retention check
#: (apache/kafka LogManager.InitialTaskDelayMs = 30 s).
FIRST_CHECK_DELAY = 30.0

KEYS: tuple[KafkaKey, ...] = (
    KafkaKey("retention.ms", "retention_time", "ms", 604800000,
             "apache/kafka TopicConfig (retention.ms 7 days)",
             "a closed segment whose newest record is older than this is deleted"),
    KafkaKey("retention.bytes", "retention_bytes", "bytes", -1,
             "apache/kafka TopicConfig (retention.bytes -1)",
             "per partition: the oldest segments are deleted while the log exceeds this "
             "by at least a segment (-1: no limit)", minimum=-1),
    KafkaKey("segment.bytes", "segment_bytes", "bytes", 1073741824,
             "apache/kafka TopicConfig (segment.bytes 1 GiB)",
             "a partition's active segment rolls at this size", minimum=14),
    KafkaKey("segment.ms", "segment_time", "ms", 604800000,
             "apache/kafka TopicConfig (segment.ms 7 days)",
             "a partition's active segment rolls at this age", minimum=1),
    KafkaKey("log.retention.check.interval.ms", "check_interval", "ms", 300000,
             "apache/kafka ServerLogConfigs (5 minutes)",
             "how often the broker deletes segments past retention", minimum=1),
)


@dataclass(frozen=True)
class SiteLogConfig:
    """A site's retention settings in canonical units (seconds, bytes per partition)."""

    retention_time: float = 604800.0
    retention_bytes: int = -1
    segment_bytes: int = 1073741824
    segment_time: float = 604800.0
    check_interval: float = 300.0


def resolve_site_config(config: Mapping[str, Any]) -> SiteLogConfig:
    """Kafka's defaults, then ``sites[].config``; raises the errors of
    :func:`~geosim.scenario.kafka_keys.resolve_keys` (unknown key, bad value)."""
    resolved = resolve_keys(KEYS, [config])
    return SiteLogConfig(**resolved.by_attr(KEYS))


def resolve_fetch(replication: str, config: Mapping[str, Any]) -> MirrorConfig:
    """The replication's fetch settings, by the keys of the strategy it imitates."""
    if replication == "cluster-linking":
        from geosim.strategies.cluster_linking.config import resolve
    else:
        from geosim.strategies.mirrormaker2.config import resolve
    return resolve(config)


def reference_tables() -> list[Table]:
    """The site configs (``strategy.sites[].config``)."""
    return [config_table("Edge site configs (`strategy.sites[].config`, edge)", KEYS)]


__all__ = ["FIRST_CHECK_DELAY", "KEYS", "SiteLogConfig", "reference_tables",
           "resolve_fetch", "resolve_site_config"]
