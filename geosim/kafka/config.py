"""Broker and topic configs of the Kafka model, by Kafka's own keys.

A scenario sets them in ``strategy.config`` (and ``min.insync.replicas`` may come from the
OMB driver's ``topicConfig``); every key has Kafka's default and its source
(figures.md §5, apache/kafka 4.0 snapshot). Durations are given in Kafka's units
(``*.ms``) and held in seconds; the keys and their parsing are
:mod:`geosim.scenario.kafka_keys`'s, shared with the client and flow configs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from geosim.clients.consumer import CONSUMER_GROUP_HEARTBEAT, CONSUMER_GROUP_SESSION_TIMEOUT
from geosim.scenario.kafka_keys import BadKafkaValue, KafkaKey, resolve_keys

KEYS: tuple[KafkaKey, ...] = (
    KafkaKey("min.insync.replicas", "min_insync_replicas", "int", 1, "figures.md K6",
             "acks=all produces fail with NotEnoughReplicas while the ISR is smaller"),
    KafkaKey("unclean.leader.election.enable", "unclean_leader_election", "bool", False,
             "figures.md K5", "elect an out-of-sync replica when no ISR member is alive"),
    KafkaKey("eligible.leader.replicas.enable", "eligible_leader_replicas", "bool", False,
             "KIP-966 (default on from Kafka 4.1)",
             "Eligible Leader Replicas: replicas removed from the ISR below "
             "min.insync.replicas stay electable; a broker back from an unclean "
             "shutdown is not"),
    KafkaKey("replica.lag.time.max.ms", "replica_lag_time_max", "ms", 30000, "figures.md K1",
             "a follower not caught up for this long leaves the ISR"),
    KafkaKey("replica.fetch.wait.max.ms", "replica_fetch_wait_max", "ms", 500,
             "figures.md K23", "a follower fetch waits at most this long for data at the "
             "leader"),
    KafkaKey("replica.fetch.response.max.bytes", "replica_fetch_response_max_bytes", "bytes",
             10485760, "apache/kafka ReplicationConfigs.java",
             "bytes per follower fetch response (per broker pair), and the most of one "
             "partition a response carries (it is fetched over one connection)"),
    KafkaKey("replica.socket.timeout.ms", "replica_socket_timeout", "ms", 30000,
             "figures.md K23", "a follower fetch without an answer is retried after this"),
    KafkaKey("replica.fetch.backoff.ms", "replica_fetch_backoff", "ms", 1000,
             "apache/kafka ReplicationConfigs.java",
             "a follower waits this long after a failed fetch"),
    KafkaKey("unclean.leader.election.interval.ms", "unclean_election_interval", "ms", 300000,
             "figures.md K25",
             "how often the controller attempts unclean elections (when enabled)"),
    KafkaKey("auto.leader.rebalance.enable", "auto_leader_rebalance_enable", "bool", True,
             "apache/kafka ReplicationConfigs.java",
             "the controller moves leaderships back to their preferred replicas (the first "
             "of each replica list) once they are in the ISR again"),
    KafkaKey("leader.imbalance.check.interval.seconds", "leader_imbalance_check_interval",
             "s", 300, "apache/kafka ReplicationConfigs.java",
             "the delay from a controller write that leaves a leadership off its preferred "
             "replica to the controller's balancing pass (and between passes)"),
    KafkaKey("broker.session.timeout.ms", "broker_session_timeout", "ms", 9000,
             "figures.md K2", "the controller fences a broker silent for this long"),
    KafkaKey("broker.heartbeat.interval.ms", "broker_heartbeat_interval", "ms", 2000,
             "figures.md K3", "brokers heartbeat to the controller this often"),
    KafkaKey("group.consumer.session.timeout.ms", "group_consumer_session_timeout", "ms",
             round(CONSUMER_GROUP_SESSION_TIMEOUT * 1000),
             "apache/kafka GroupCoordinatorConfig.java",
             "the consumer protocol (group.protocol: consumer): a member silent this long "
             "after its last heartbeat is removed", minimum=1),
    KafkaKey("group.consumer.heartbeat.interval.ms", "group_consumer_heartbeat_interval",
             "ms", round(CONSUMER_GROUP_HEARTBEAT * 1000),
             "apache/kafka GroupCoordinatorConfig.java",
             "the consumer protocol: how often each member heartbeats", minimum=1),
    KafkaKey("offsets.topic.num.partitions", "offsets_topic_num_partitions", "int", 50,
             "apache/kafka GroupCoordinatorConfig.java",
             "partitions of __consumer_offsets; a group's coordinator leads one of them"),
    KafkaKey("offsets.topic.replication.factor", "offsets_topic_replication_factor", "int",
             3, "apache/kafka GroupCoordinatorConfig.java",
             "replicas of each __consumer_offsets partition (at most the brokers holding "
             "data replicas)"),
)
BY_KEY = {k.name: k for k in KEYS}


@dataclass(frozen=True)
class BrokerConfig:
    """Resolved broker/topic configs in canonical units (seconds, bytes)."""

    min_insync_replicas: int = 1
    unclean_leader_election: bool = False
    eligible_leader_replicas: bool = False
    replica_lag_time_max: float = 30.0
    replica_fetch_wait_max: float = 0.5
    replica_fetch_response_max_bytes: int = 10485760
    replica_socket_timeout: float = 30.0
    replica_fetch_backoff: float = 1.0
    unclean_election_interval: float = 300.0
    auto_leader_rebalance_enable: bool = True
    leader_imbalance_check_interval: float = 300.0
    broker_session_timeout: float = 9.0
    broker_heartbeat_interval: float = 2.0
    group_consumer_session_timeout: float = CONSUMER_GROUP_SESSION_TIMEOUT
    group_consumer_heartbeat_interval: float = CONSUMER_GROUP_HEARTBEAT
    offsets_topic_num_partitions: int = 50
    offsets_topic_replication_factor: int = 3


def resolve_broker_config(config: Mapping[str, Any],
                          topic_config: Mapping[str, str] | None = None) -> BrokerConfig:
    """Kafka's defaults, then the driver's ``topicConfig``, then ``strategy.config``.

    Other topic configs (retention, segment sizes) are not modelled and are ignored; an
    unknown key of ``strategy.config`` raises :class:`~geosim.scenario.kafka_keys.
    UnknownKafkaKey` (a ``KeyError(key)``) and a bad value :class:`~geosim.scenario.
    kafka_keys.BadKafkaValue` (a ``ValueError((key, message))``); the scenario checks
    turn them into one-line errors.
    """
    resolved = resolve_keys(KEYS, [topic_config or {}, config], strict=[1])
    if resolved.values["min.insync.replicas"] < 1:
        layer = resolved.set_by["min.insync.replicas"]
        raw = (topic_config or {}, config)[layer]["min.insync.replicas"]
        raise BadKafkaValue("min.insync.replicas", "must be >= 1", raw, layer)
    for key in ("offsets.topic.num.partitions", "offsets.topic.replication.factor",
                "leader.imbalance.check.interval.seconds"):
        if resolved.values[key] < 1:
            layer = resolved.set_by[key]
            raise BadKafkaValue(key, "must be >= 1", (topic_config or {}, config)[layer][key],
                                layer)
    return BrokerConfig(**resolved.by_attr(KEYS))


__all__ = ["BY_KEY", "KEYS", "BrokerConfig", "resolve_broker_config"]
