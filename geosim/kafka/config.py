"""Broker and topic configs of the Kafka model, by Kafka's own keys.

A scenario sets them in ``strategy.config`` (and ``min.insync.replicas`` may come from the
OMB driver's ``topicConfig``); every key has Kafka's default and its source
(figures.md §5, apache/kafka 4.0 snapshot). Durations are given in Kafka's units
(``*.ms``) and held in seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class BrokerKey:
    key: str
    kind: str            # "int", "bool", "ms" (held in seconds), "bytes"
    default: Any
    source: str
    help: str


KEYS: tuple[BrokerKey, ...] = (
    BrokerKey("min.insync.replicas", "int", 1, "figures.md K6",
              "acks=all produces fail with NotEnoughReplicas while the ISR is smaller"),
    BrokerKey("unclean.leader.election.enable", "bool", False, "figures.md K5",
              "elect an out-of-sync replica when no ISR member is alive"),
    BrokerKey("eligible.leader.replicas.enable", "bool", False,
              "KIP-966 (default on from Kafka 4.1)",
              "Eligible Leader Replicas: replicas removed from the ISR below "
              "min.insync.replicas stay electable; a broker back from an unclean "
              "shutdown is not"),
    BrokerKey("replica.lag.time.max.ms", "ms", 30000, "figures.md K1",
              "a follower not caught up for this long leaves the ISR"),
    BrokerKey("replica.fetch.wait.max.ms", "ms", 500, "figures.md K23",
              "a follower fetch waits at most this long for data at the leader"),
    BrokerKey("replica.fetch.response.max.bytes", "bytes", 10485760,
              "apache/kafka ReplicationConfigs.java",
              "bytes per follower fetch response (per broker pair)"),
    BrokerKey("replica.socket.timeout.ms", "ms", 30000, "figures.md K23",
              "a follower fetch without an answer is retried after this"),
    BrokerKey("replica.fetch.backoff.ms", "ms", 1000, "apache/kafka ReplicationConfigs.java",
              "a follower waits this long after a failed fetch"),
    BrokerKey("unclean.leader.election.interval.ms", "ms", 300000, "figures.md K25",
              "how often the controller attempts unclean elections (when enabled)"),
    BrokerKey("broker.session.timeout.ms", "ms", 9000, "figures.md K2",
              "the controller fences a broker silent for this long"),
    BrokerKey("broker.heartbeat.interval.ms", "ms", 2000, "figures.md K3",
              "brokers heartbeat to the controller this often"),
)
BY_KEY = {k.key: k for k in KEYS}


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
    broker_session_timeout: float = 9.0
    broker_heartbeat_interval: float = 2.0


def _convert(spec: BrokerKey, raw: Any) -> Any:
    if spec.kind == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("true", "false"):
            return text == "true"
        raise ValueError("must be true or false")
    try:
        number = float(raw) if not isinstance(raw, bool) else None
    except (TypeError, ValueError):
        number = None
    if number is None or number != int(number):
        raise ValueError("must be an integer" + (" (milliseconds)" if spec.kind == "ms" else ""))
    if number < 0:
        raise ValueError("must be >= 0")
    return number / 1000.0 if spec.kind == "ms" else int(number)


def resolve_broker_config(config: Mapping[str, Any],
                          topic_config: Mapping[str, str] | None = None) -> BrokerConfig:
    """Kafka's defaults, then the driver's ``topicConfig``, then ``strategy.config``.

    Raises ``KeyError(key)`` for an unknown key and ``ValueError((key, message))`` for
    a bad value; the scenario loader turns them into one-line errors.
    """
    values = {k.key: (k.default / 1000.0 if k.kind == "ms" else k.default) for k in KEYS}
    for layer in (topic_config or {}, config):
        for key, raw in layer.items():
            spec = BY_KEY.get(key)
            if spec is None:
                if layer is config:
                    raise KeyError(key)
                continue  # other topic configs (retention, segment sizes) are not modelled
            try:
                values[key] = _convert(spec, raw)
            except ValueError as exc:
                raise ValueError((key, str(exc))) from None
    if values["min.insync.replicas"] < 1:
        raise ValueError(("min.insync.replicas", "must be >= 1"))
    return BrokerConfig(
        min_insync_replicas=values["min.insync.replicas"],
        unclean_leader_election=values["unclean.leader.election.enable"],
        eligible_leader_replicas=values["eligible.leader.replicas.enable"],
        replica_lag_time_max=values["replica.lag.time.max.ms"],
        replica_fetch_wait_max=values["replica.fetch.wait.max.ms"],
        replica_fetch_response_max_bytes=values["replica.fetch.response.max.bytes"],
        replica_socket_timeout=values["replica.socket.timeout.ms"],
        replica_fetch_backoff=values["replica.fetch.backoff.ms"],
        unclean_election_interval=values["unclean.leader.election.interval.ms"],
        broker_session_timeout=values["broker.session.timeout.ms"],
        broker_heartbeat_interval=values["broker.heartbeat.interval.ms"],
    )


__all__ = ["BY_KEY", "KEYS", "BrokerConfig", "BrokerKey", "resolve_broker_config"]
