"""Replicator's connector configs (``strategy.mirror_config``) and its Connect workers'
configs (``strategy.connect.config``): the keys, their defaults and sources, and their
resolution to the engine's :class:`~geosim.kafka.mirror_config.MirrorConfig` and
:class:`~geosim.kafka.replicator.ReplicatorSettings`.

Connector defaults: Confluent's Replicator configuration reference
(docs.confluent.io/platform/current/multi-dc-deployments/replicator/
configuration_options.html, cited below as *Replicator reference*); worker defaults:
apache/kafka ``connect/runtime`` ``DistributedConfig`` and ``WorkerConfig``.
"""

from __future__ import annotations

from geosim.kafka.connect import ConnectConfig
from geosim.kafka.mirror_config import MirrorConfig
from geosim.kafka.reference import Table, broker_config_tables, config_table
from geosim.kafka.replicator import ReplicatorSettings
from geosim.kafka.spec import CrossClusterSpec
from geosim.scenario.kafka_keys import BadKafkaValue, KafkaKey, resolve_keys
from geosim.strategies.replicator.spec import ReplicatorSpec

REFERENCE = "Replicator reference"
KEPT = "${topic}"

#: Keys of the engine's flow configs (fields of MirrorConfig).
FLOW_KEYS: tuple[KafkaKey, ...] = (
    KafkaKey("tasks.max", "tasks", "int", 1, "apache/kafka ConnectorConfig (tasks.max 1)",
             "Replicator tasks per connector (flow), at most one per partition; each owns "
             "the partitions i with i % tasks == k", minimum=1),
    KafkaKey("offset.translator.batch.period.ms", "checkpoint_interval", "ms", 60000,
             f"{REFERENCE} (offset.translator.batch.period.ms 60000)",
             "how often the translating tasks translate the consumer groups' timestamps "
             "into destination offsets and commit them", minimum=1),
    KafkaKey("src.consumer.fetch.max.bytes", "fetch_max_bytes", "bytes", 52428800,
             "apache/kafka ConsumerConfig (fetch.max.bytes 50 MiB; src.consumer.* overrides "
             "the source consumer)", "bytes per fetch response from one source broker",
             minimum=1),
    KafkaKey("src.consumer.fetch.max.wait.ms", "fetch_max_wait", "ms", 500,
             "apache/kafka ConsumerConfig (fetch.max.wait.ms 500)",
             "a fetch waits at most this long at the source for new data"),
    KafkaKey("src.consumer.request.timeout.ms", "request_timeout", "ms", 30000,
             "apache/kafka ConsumerConfig (request.timeout.ms 30000)",
             "a fetch (or an admin request) without an answer is retried after this",
             minimum=1),
)

#: Replicator's own keys (fields of ReplicatorSettings, or read here).
REPLICATOR_KEYS: tuple[KafkaKey, ...] = (
    KafkaKey("topic.rename.format", "rename_format", "text", KEPT,
             f"{REFERENCE} (topic.rename.format ${{topic}})",
             "destination topic name; `${topic}` keeps the source's name, so copies and the "
             "destination's own records share its topic (any other format: a separate "
             "topic, as MirrorMaker 2's remote topics)"),
    KafkaKey("provenance.header.enable", "provenance_headers", "bool", False,
             f"{REFERENCE} (provenance.header.enable false)",
             "copies carry their origin cluster in a header, and a record whose origin is "
             "the destination is not copied there (loop prevention for active-active with "
             "kept names)"),
    KafkaKey("topic.auto.create", "topic_auto_create", "bool", True,
             f"{REFERENCE} (topic.auto.create true)",
             "create the destination topic (a controller commit there) before copying; "
             "false: the topic exists beforehand"),
    KafkaKey("topic.config.sync", "topic_config_sync", "bool", True,
             f"{REFERENCE} (topic.config.sync true)",
             "copy the topic's configs to the destination periodically"),
    KafkaKey("topic.config.sync.interval.ms", "config_sync_interval", "ms", 120000,
             f"{REFERENCE} (topic.config.sync.interval.ms 120000)",
             "how often the topic configs are copied", minimum=1),
    KafkaKey("offset.translator.tasks.max", "translator_tasks", "int", -1,
             f"{REFERENCE} (offset.translator.tasks.max -1: every task)",
             "tasks that translate consumer offsets: -1 every task, 0 none (a failed-over "
             "group then starts by auto.offset.reset), else the first that many",
             minimum=-1),
)

KEYS: tuple[KafkaKey, ...] = FLOW_KEYS + REPLICATOR_KEYS

#: Connect worker configs (``strategy.connect.config``).
CONNECT_KEYS: tuple[KafkaKey, ...] = (
    KafkaKey("session.timeout.ms", "session_timeout", "ms", 10000,
             "apache/kafka DistributedConfig (session.timeout.ms 10000)",
             "a worker silent this long has left the group (a rebalance starts)", minimum=1),
    KafkaKey("heartbeat.interval.ms", "heartbeat_interval", "ms", 3000,
             "apache/kafka DistributedConfig (heartbeat.interval.ms 3000)",
             "members learn of a rebalance at their next heartbeat: a new assignment takes "
             "effect this much later (assumption)", minimum=1),
    KafkaKey("scheduled.rebalance.max.delay.ms", "rebalance_delay", "ms", 300000,
             "apache/kafka DistributedConfig (scheduled.rebalance.max.delay.ms 300000; "
             "KIP-415)",
             "a departed worker's tasks stay unassigned this long, waiting for it to return"),
    KafkaKey("offset.flush.interval.ms", "offset_flush_interval", "ms", 60000,
             "apache/kafka WorkerConfig (offset.flush.interval.ms 60000)",
             "the tasks commit their source offsets this often; a restarted task resumes "
             "there and copies again what it had copied since", minimum=1),
)


def resolve(spec: ReplicatorSpec) -> tuple[MirrorConfig, ReplicatorSettings]:
    """Defaults, then ``strategy.mirror_config`` and ``strategy.connect.config``.

    Raises :class:`~geosim.scenario.kafka_keys.UnknownKafkaKey` /
    :class:`~geosim.scenario.kafka_keys.BadKafkaValue` for the connector keys (layer 0)
    and :class:`ConnectKeyError` wrapping them for the worker keys."""
    values = resolve_keys(KEYS, [spec.mirror_config]).values
    rename = values["topic.rename.format"]
    if "${topic}" not in rename:
        raise BadKafkaValue("topic.rename.format", "must contain ${topic}", rename, 0)
    try:
        worker = resolve_keys(CONNECT_KEYS, [spec.connect.config]).values
    except (KeyError, ValueError) as exc:
        raise ConnectKeyError(exc) from None
    translate = values["offset.translator.tasks.max"] != 0
    mirror = MirrorConfig(
        tasks=values["tasks.max"], checkpoint_interval=values[
            "offset.translator.batch.period.ms"],
        fetch_max_bytes=values["src.consumer.fetch.max.bytes"],
        fetch_max_wait=values["src.consumer.fetch.max.wait.ms"],
        request_timeout=values["src.consumer.request.timeout.ms"],
        offset_flush_interval=worker["offset.flush.interval.ms"],
        emit_checkpoints=translate, sync_group_offsets=False, offset_lag_max=0,
        keep_topic_names=rename == KEPT)
    settings = ReplicatorSettings(
        provenance_headers=values["provenance.header.enable"],
        topic_auto_create=values["topic.auto.create"],
        config_sync_interval=(values["topic.config.sync.interval.ms"]
                              if values["topic.config.sync"] else None),
        translator_tasks=values["offset.translator.tasks.max"],
        worker_side=spec.connect.side,
        connect=ConnectConfig(
            workers=spec.connect.workers,
            session_timeout=worker["session.timeout.ms"],
            heartbeat_interval=worker["heartbeat.interval.ms"],
            rebalance_delay=worker["scheduled.rebalance.max.delay.ms"]))
    return mirror, settings


class ConnectKeyError(Exception):
    """A bad ``strategy.connect.config`` key or value (``cause``: the
    :class:`~geosim.scenario.kafka_keys.UnknownKafkaKey` or ``BadKafkaValue``)."""

    def __init__(self, cause: Exception):
        super().__init__(cause)
        self.cause = cause


def resolved(spec: ReplicatorSpec) -> tuple[MirrorConfig, ReplicatorSettings]:
    """The spec's configs, resolved once (the checks resolve them, a build reads them)."""
    return spec.resolved_replicator(resolve)


def mirror_config(spec: CrossClusterSpec) -> MirrorConfig:
    """The engine's flow configs of ``spec`` (for the generic cross-cluster checks)."""
    assert isinstance(spec, ReplicatorSpec)
    return resolved(spec)[0]


def reference_tables() -> list[Table]:
    """The cluster's configs, then Replicator's and the Connect workers'."""
    return [*broker_config_tables(),
            config_table("Replicator configs (`strategy.mirror_config`, replicator)", KEYS),
            config_table("Connect worker configs (`strategy.connect.config`, replicator)",
                         CONNECT_KEYS)]


__all__ = ["CONNECT_KEYS", "FLOW_KEYS", "KEYS", "REPLICATOR_KEYS", "ConnectKeyError",
           "mirror_config", "reference_tables", "resolve", "resolved"]
