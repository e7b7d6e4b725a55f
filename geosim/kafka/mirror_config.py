"""The flow configs of the cross-cluster engine, resolved from a strategy's own keys.

A cross-cluster strategy (its package under ``geosim/strategies/``) declares the keys of
its ``strategy.mirror_config`` as :class:`~geosim.scenario.kafka_keys.KafkaKey` entries
whose ``attr`` is a field of :class:`MirrorConfig`, and resolves them with
:func:`resolve_mirror_config`; the engine (:mod:`geosim.kafka.cross_cluster`) consumes
the :class:`MirrorConfig` and knows no strategy. Durations are given in the key's unit
(``*.ms`` or ``*.seconds``) and held in seconds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from geosim.scenario.kafka_keys import BadKafkaValue, KafkaKey, resolve_keys


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
    offset_preserving: bool = False     # copies keep the source's offsets (mirror topics)
    offset_sync_enabled: bool = False   # consumer group offsets copied as they are
    offset_sync_interval: float = 30.0
    keep_topic_names: bool = False      # copies go into the target's own topic (Replicator's
                                        # default topic.rename.format ${topic})


def resolve_mirror_config(keys: Sequence[KafkaKey], config: Mapping[str, Any], *,
                          at_least_one: Sequence[str] = (), positive: Sequence[str] = (),
                          **fixed: Any) -> MirrorConfig:
    """The strategy's defaults (``keys``), then ``strategy.mirror_config``; the keys of
    ``at_least_one`` must be >= 1 and those of ``positive`` > 0; ``fixed`` sets fields of
    :class:`MirrorConfig` no key names (what the strategy always does).

    Raises :class:`~geosim.scenario.kafka_keys.UnknownKafkaKey` (a ``KeyError(key)``)
    for an unknown key and :class:`~geosim.scenario.kafka_keys.BadKafkaValue` (a
    ``ValueError((key, message))``) for a bad value.
    """
    resolved = resolve_keys(keys, [config])
    for names, expected, ok in ((at_least_one, "must be >= 1", lambda v: v >= 1),
                                (positive, "must be > 0", lambda v: v > 0)):
        for name in names:
            if not ok(resolved.values[name]):
                raise BadKafkaValue(name, expected, config.get(name), 0)
    return MirrorConfig(**resolved.by_attr(keys), **fixed)


__all__ = ["MirrorConfig", "resolve_mirror_config"]
