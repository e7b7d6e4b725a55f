"""OpenMessaging Benchmark driver configs: Java properties and Kafka client settings.

An OMB Kafka driver file carries its client settings as Java properties blocks
(``commonConfig``, ``producerConfig``, ``consumerConfig``, ``topicConfig``). This module
parses those blocks and resolves the Kafka client settings geosim models into typed,
frozen records in canonical units (seconds, bytes), each value tagged with where it came
from: the driver file, the scenario's ``workload.producer_config`` /
``workload.consumer_config``, or Kafka's own default (figures.md §5).

Precedence, as in OMB's Kafka driver (common properties, then the client's own block)
and then the scenario on top::

    Kafka default < driver commonConfig < driver producerConfig/consumerConfig
                  < scenario producer_config/consumer_config

Keys a driver sets that geosim does not model (``bootstrap.servers``,
``max.partition.fetch.bytes``...) are kept in ``ignored``; a key the *scenario* sets that
geosim does not model is an error, since the user evidently expected it to matter.

:func:`client_configs` gives both records for a Scenario (loading its driver file if it is
still a reference); the files themselves are found and read by
:mod:`geosim.scenario.omb_files`.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from geosim.scenario.errors import INLINE, ScenarioError, format_value
from geosim.scenario.kafka_keys import BadKafkaValue, KafkaKey, UnknownKafkaKey, resolve_keys
from geosim.scenario.omb_files import load_omb
from geosim.scenario.schema import OmbDriver, OmbWorkload, Scenario, WorkloadSpec

__all__ = [
    "CONSUMER_KEYS",
    "PRODUCER_KEYS",
    "ConsumerConfig",
    "ProducerConfig",
    "client_configs",
    "compression_ratio",
    "describe_default",
    "parse_properties",
    "resolve_consumer_config",
    "resolve_producer_config",
    "topic_config",
]


# --- Java properties ---------------------------------------------------------------------

_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}


def _logical_lines(text: str) -> list[str]:
    """Join physical lines ending in an odd number of backslashes (Java continuation)."""
    out: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.lstrip() if pending else raw
        trailing = len(line) - len(line.rstrip("\\"))
        if trailing % 2 == 1:
            pending += line[:-1]
            continue
        out.append(pending + line)
        pending = ""
    if pending:
        out.append(pending)
    return out


def _unescape(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == "u" and i + 6 <= len(text):
                try:
                    out.append(chr(int(text[i + 2:i + 6], 16)))
                    i += 6
                    continue
                except ValueError:
                    pass
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def parse_properties(text: str | None) -> dict[str, str]:
    """Parse a Java properties block into a dict of strings.

    Follows ``java.util.Properties.load``: ``#`` and ``!`` start comment lines; the key
    ends at the first unescaped ``=``, ``:`` or whitespace; whitespace around the
    separator is skipped; a trailing backslash continues the line; later duplicates win.
    One deliberate difference: trailing whitespace of a value is dropped, because in a
    YAML block it is invisible and would turn ``acks=all`` into an invalid ``"all "``.

    >>> parse_properties("# comment\\nacks=all\\nlinger.ms: 5\\nbatch.size 131072")
    {'acks': 'all', 'linger.ms': '5', 'batch.size': '131072'}
    """
    result: dict[str, str] = {}
    if not text:
        return result
    for line in _logical_lines(text):
        stripped = line.lstrip()
        if not stripped or stripped[0] in "#!":
            continue
        i = 0
        while i < len(stripped):
            ch = stripped[i]
            if ch == "\\":
                i += 2
                continue
            if ch in "=:" or ch.isspace():
                break
            i += 1
        key = _unescape(stripped[:i])
        rest = stripped[i:].lstrip(" \t\f")
        if rest[:1] in ("=", ":"):
            rest = rest[1:].lstrip(" \t\f")
        result[key] = _unescape(rest).rstrip()
    return result


def topic_config(driver: OmbDriver) -> dict[str, str]:
    """The driver's ``topicConfig`` block (``min.insync.replicas`` etc.), as strings."""
    return parse_properties(driver.topicConfig)


# --- Kafka client keys -------------------------------------------------------------------

_K = "Kafka default (figures.md {ref})"
_NOT_IN_FIGURES = "Kafka default ({cls}; not tabulated in figures.md §5)"
_INT_MAX = 2**31 - 1

PRODUCER_KEYS: tuple[KafkaKey, ...] = (
    KafkaKey("acks", "acks", "choice", "all",
             _K.format(ref="K8; `all` since Kafka 3.0, KIP-679"),
             "Acknowledgement level: `0`, `1` or `all` (`-1` is read as `all`).",
             choices=("all", "-1", "0", "1"), aliases=(("-1", "all"),)),
    KafkaKey("linger.ms", "linger", "ms", 5,
             _K.format(ref="K10; 5 since Kafka 4.0 (KIP-1030), 0 up to 3.9"),
             "How long a batch may wait for more records before it is sent."),
    KafkaKey("batch.size", "batch_size", "bytes", 16384, _K.format(ref="K11"),
             "Per-partition batch size at which a batch is sent without waiting."),
    KafkaKey("max.request.size", "max_request_size", "bytes", 1048576,
             _NOT_IN_FIGURES.format(cls="ProducerConfig"),
             "Largest produce request (bounds the bytes one request carries)."),
    KafkaKey("max.in.flight.requests.per.connection", "max_in_flight_requests_per_connection",
             "int", 5, _K.format(ref="K15"),
             "Unacknowledged requests per connection; at most 5 with idempotence.",
             minimum=1, maximum=_INT_MAX),
    KafkaKey("retries", "retries", "int", _INT_MAX, _K.format(ref="K16"),
             "Retry budget of a failed send (bounded in practice by delivery.timeout.ms).",
             maximum=_INT_MAX),
    KafkaKey("retry.backoff.ms", "retry_backoff", "ms", 100, _K.format(ref="K16"),
             "Initial wait before retrying a failed request."),
    KafkaKey("retry.backoff.max.ms", "retry_backoff_max", "ms", 1000, _K.format(ref="K16"),
             "Cap of the exponential retry backoff."),
    KafkaKey("delivery.timeout.ms", "delivery_timeout", "ms", 120000, _K.format(ref="K13"),
             "A send not acknowledged within this (from send()) fails; must be >= "
             "linger.ms + request.timeout.ms."),
    KafkaKey("request.timeout.ms", "request_timeout", "ms", 30000, _K.format(ref="K12"),
             "How long the client waits for one request's response before retrying."),
    KafkaKey("enable.idempotence", "enable_idempotence", "bool", True,
             _K.format(ref="K9; true since Kafka 3.0"),
             "Idempotent producer: retries do not duplicate. Silently off when not set "
             "explicitly and acks != all, retries = 0 or more than 5 in flight "
             "(KAFKA-13673)."),
    KafkaKey("compression.type", "compression_type", "choice", "none",
             _NOT_IN_FIGURES.format(cls="ProducerConfig"),
             "Batch compression codec.",
             choices=("none", "gzip", "snappy", "lz4", "zstd")),
    KafkaKey("buffer.memory", "buffer_memory", "bytes", 33554432, _K.format(ref="K17"),
             "Memory for records waiting to be sent; send() blocks when it is full."),
    KafkaKey("max.block.ms", "max_block", "ms", 60000, _K.format(ref="K17"),
             "How long send() may block waiting for buffer.memory before it fails."),
)

CONSUMER_KEYS: tuple[KafkaKey, ...] = (
    KafkaKey("session.timeout.ms", "session_timeout", "ms", 45000,
             _K.format(ref="K18; 45000 since Kafka 3.0, KIP-735"),
             "A member silent this long is removed from the group (rebalance).", minimum=1),
    KafkaKey("heartbeat.interval.ms", "heartbeat_interval", "ms", 3000, _K.format(ref="K19"),
             "Interval of group heartbeats; must be < session.timeout.ms.", minimum=1),
    KafkaKey("auto.commit.interval.ms", "auto_commit_interval", "ms", 5000,
             _K.format(ref="K20"), "Interval of automatic offset commits."),
    KafkaKey("enable.auto.commit", "enable_auto_commit", "bool", True,
             _NOT_IN_FIGURES.format(cls="ConsumerConfig"),
             "Commit offsets periodically in the background."),
    KafkaKey("fetch.max.wait.ms", "fetch_max_wait", "ms", 500, _K.format(ref="K20"),
             "Longest time a fetch waits on the broker for data."),
    KafkaKey("auto.offset.reset", "auto_offset_reset", "choice", "latest",
             _NOT_IN_FIGURES.format(cls="ConsumerConfig"),
             "Where a group with no committed offset starts.",
             choices=("latest", "earliest", "none")),
    KafkaKey("partition.assignment.strategy", "assignment_strategy", "assignors",
             "RangeAssignor,CooperativeStickyAssignor",
             "apache/kafka ConsumerConfig (default [RangeAssignor, "
             "CooperativeStickyAssignor] since 3.0); ConsumerCoordinator takes the newest "
             "rebalance protocol every listed assignor supports",
             "Partition assignors, a list of Kafka's class names (RangeAssignor, "
             "RoundRobinAssignor, StickyAssignor, CooperativeStickyAssignor; fully "
             "qualified or not) or librdkafka's (range, roundrobin, cooperative-sticky). "
             "They decide the rebalance protocol: cooperative only when every one is "
             "CooperativeStickyAssignor, else eager (every member gives up all its "
             "partitions at each rebalance)."),
    KafkaKey("group.protocol", "group_protocol", "choice", "classic",
             "apache/kafka ConsumerConfig (DEFAULT_GROUP_PROTOCOL classic); the consumer "
             "protocol is KIP-848",
             "The group protocol. classic: the JoinGroup/SyncGroup rebalances "
             "partition.assignment.strategy decides (eager or cooperative). consumer "
             "(KIP-848): the coordinator assigns; each member gives up and takes "
             "partitions at its own heartbeats, every group.consumer.heartbeat.interval.ms "
             "(5 s), and is removed after group.consumer.session.timeout.ms (45 s), the "
             "coordinator's configs (a Kafka cluster's strategy.config; session.timeout.ms "
             "and heartbeat.interval.ms are not used); no member waits for another.",
             choices=("classic", "consumer")),
    KafkaKey("group.instance.id", "group_instance_id", "text", None,
             "apache/kafka ConsumerConfig (null: dynamic membership); static membership "
             "is KIP-345",
             "Static membership. Set, every consumer of the group is a static member "
             "(geosim gives each its own id: this value and the consumer's index); a "
             "static member restarted within session.timeout.ms takes its partitions "
             "back without a rebalance (its partitions go unread while it is down). "
             "Unset: dynamic members, whose restart is a new member's join."),
    KafkaKey("max.poll.interval.ms", "max_poll_interval", "ms", 300000, _K.format(ref="K20"),
             "A member that does not poll within this leaves the group.", minimum=1),
    KafkaKey("request.timeout.ms", "request_timeout", "ms", 30000, _K.format(ref="K12"),
             "How long the client waits for one request's response."),
)


# --- typed records -------------------------------------------------------------------------

def _frozen_map() -> Any:
    return field(default_factory=lambda: MappingProxyType({}), compare=False, hash=False)


@dataclass(frozen=True)
class ProducerConfig:
    """Resolved Kafka producer settings in canonical units (seconds, bytes).

    ``source`` maps each Kafka key to where its value came from; ``ignored`` maps keys the
    driver set but geosim does not model to their origin.
    """

    acks: str
    linger: float
    batch_size: int
    max_request_size: int
    max_in_flight_requests_per_connection: int
    retries: int
    retry_backoff: float
    retry_backoff_max: float
    delivery_timeout: float
    request_timeout: float
    enable_idempotence: bool
    compression_type: str
    buffer_memory: int
    max_block: float
    source: Mapping[str, str] = _frozen_map()
    ignored: Mapping[str, str] = _frozen_map()

    def as_kafka_properties(self) -> dict[str, str]:
        """The honoured settings as Kafka would print them (milliseconds, bytes)."""
        return _as_properties(self, PRODUCER_KEYS)


@dataclass(frozen=True)
class ConsumerConfig:
    """Resolved Kafka consumer settings in canonical units (seconds, bytes).

    ``source`` and ``ignored`` as for :class:`ProducerConfig`.
    """

    session_timeout: float
    heartbeat_interval: float
    auto_commit_interval: float
    enable_auto_commit: bool
    fetch_max_wait: float
    auto_offset_reset: str
    assignment_strategy: tuple[str, ...]
    group_protocol: str
    group_instance_id: str | None
    max_poll_interval: float
    request_timeout: float
    source: Mapping[str, str] = _frozen_map()
    ignored: Mapping[str, str] = _frozen_map()

    def as_kafka_properties(self) -> dict[str, str]:
        """The honoured settings as Kafka would print them (milliseconds, bytes)."""
        return _as_properties(self, CONSUMER_KEYS)


def _as_properties(cfg: Any, keys: tuple[KafkaKey, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key in keys:
        value = getattr(cfg, key.attr)
        if value is None:
            continue  # unset (Kafka's null)
        if key.kind == "ms":
            out[key.name] = str(round(value * 1000))
        elif key.kind == "bool":
            out[key.name] = "true" if value else "false"
        elif key.kind == "assignors":
            out[key.name] = ",".join(value)
        else:
            out[key.name] = str(value)
    return out


# --- resolution ----------------------------------------------------------------------------

@dataclass
class _Origin:
    """Where a raw value was set: for error messages (file, path) and for ``source``."""

    file: str
    path: str
    label: str


def _layers(driver: OmbDriver, block: str, overrides: Mapping[str, Any] | None,
            driver_file: str | None, scenario_file: str | None,
            override_field: str, topic: tuple[str, Mapping[str, Any]] | None = None,
            ) -> list[tuple[Mapping[str, Any], _Origin]]:
    """The raw settings in precedence order (lowest first) with their origins."""
    dfile = driver_file or "<driver>"
    dlabel = f"driver {driver_file}" if driver_file else "driver"
    sfile = scenario_file or INLINE
    slabel = f"scenario {scenario_file}" if scenario_file else "scenario"
    layers: list[tuple[Mapping[str, Any], _Origin]] = [
        (parse_properties(driver.commonConfig),
         _Origin(dfile, "commonConfig", f"{dlabel} commonConfig")),
        (parse_properties(getattr(driver, block)),
         _Origin(dfile, block, f"{dlabel} {block}")),
        (dict(overrides or {}),
         _Origin(sfile, f"workload.{override_field}", f"{slabel} workload.{override_field}")),
    ]
    if topic is not None:
        # a declared topic's own configs (workload.topics[i].producer_config)
        path, settings = topic
        layers.append((dict(settings), _Origin(sfile, path, f"{slabel} {path}")))
    return layers


def _resolve(keys: tuple[KafkaKey, ...], other_keys: tuple[KafkaKey, ...], driver: OmbDriver,
             block: str, overrides: Mapping[str, Any] | None, driver_file: str | None,
             scenario_file: str | None, override_field: str, other_field: str,
             topic: tuple[str, Mapping[str, Any]] | None = None,
             ) -> tuple[dict[str, Any], dict[str, str], dict[str, str], dict[str, _Origin]]:
    """Merge the layers; return (attr values, sources, ignored, explicit origins by key)."""
    layers = _layers(driver, block, overrides, driver_file, scenario_file, override_field,
                     topic)
    try:
        # driver blocks carry keys geosim does not model; the scenario may not
        resolved = resolve_keys(keys, [settings for settings, _ in layers],
                                strict=list(range(2, len(layers))))
    except UnknownKafkaKey as exc:
        origin = layers[exc.layer][1]
        names = [key.name for key in keys]
        hint = (f"is a {other_field.split('_')[0]} config: set it in workload.{other_field}"
                if exc.key in {key.name for key in other_keys} - set(names) else
                f"is not a Kafka {override_field.split('_')[0]} config geosim models; "
                f"honoured keys: {', '.join(names)}")
        raise ScenarioError(origin.file, f"{origin.path}.{exc.key}", hint) from None
    except BadKafkaValue as exc:
        origin = layers[exc.layer][1]
        raise ScenarioError(origin.file, f"{origin.path}.{exc.key}", exc.expected,
                            exc.raw) from None
    sources = {key.name: key.source for key in keys}
    explicit: dict[str, _Origin] = {}
    for name, index in resolved.set_by.items():
        origin = layers[index][1]
        sources[name] = origin.label
        explicit[name] = _Origin(origin.file, f"{origin.path}.{name}", origin.label)
    ignored = {name: layers[index][1].label for name, index in resolved.ignored.items()}
    return resolved.by_attr(keys), sources, ignored, explicit


def resolve_producer_config(driver: OmbDriver, overrides: Mapping[str, Any] | None = None, *,
                            driver_file: str | None = None,
                            scenario_file: str | None = None,
                            topic: tuple[str, Mapping[str, Any]] | None = None
                            ) -> ProducerConfig:
    """Kafka producer settings from an OMB driver plus the scenario's overrides (and a
    declared topic's, ``topic`` = (its path, its configs), over those).

    ``driver_file`` and ``scenario_file`` name the files in error messages and in
    ``source``. Raises :class:`ScenarioError` for invalid values (``acks=2``,
    ``linger.ms=-1``) and for combinations the Kafka producer rejects.

    Two Kafka rules are applied, as ``KafkaProducer`` does: an idempotence left at its
    default is switched off by conflicting settings (acks != all, retries = 0, more
    than 5 in flight; KAFKA-13673), while an explicit ``enable.idempotence=true`` with
    them is an error; and an unset ``delivery.timeout.ms`` is raised to
    ``linger.ms + request.timeout.ms`` when below it, while an explicit one is an error.
    """
    values, sources, ignored, explicit = _resolve(
        PRODUCER_KEYS, CONSUMER_KEYS, driver, "producerConfig", overrides, driver_file,
        scenario_file, "producer_config", "consumer_config", topic)

    conflicts = []
    if values["acks"] != "all":
        conflicts.append(("acks", f"acks={values['acks']}"))
    if values["max_in_flight_requests_per_connection"] > 5:
        conflicts.append(("max.in.flight.requests.per.connection",
                          "max.in.flight.requests.per.connection="
                          f"{values['max_in_flight_requests_per_connection']}"))
    if values["retries"] == 0:
        conflicts.append(("retries", "retries=0"))
    if values["enable_idempotence"] and conflicts:
        if "enable.idempotence" in explicit:
            name, text = conflicts[0]
            where = explicit[name]
            needs = {"acks": "must be all",
                     "max.in.flight.requests.per.connection": "must be <= 5",
                     "retries": "must be > 0"}[name]
            raise ScenarioError(
                where.file, where.path,
                f"{needs} with enable.idempotence=true (set in "
                f"{explicit['enable.idempotence'].label})", text.split("=", 1)[1])
        values["enable_idempotence"] = False
        sources["enable.idempotence"] = (
            "Kafka: default idempotence switched off by "
            f"{', '.join(text for _, text in conflicts)} (KAFKA-13673)")

    floor = values["linger"] + values["request_timeout"]
    if values["delivery_timeout"] < floor:
        if "delivery.timeout.ms" in explicit:
            where = explicit["delivery.timeout.ms"]
            raise ScenarioError(
                where.file, where.path,
                f"must be >= linger.ms + request.timeout.ms ({round(floor * 1000)})",
                round(values["delivery_timeout"] * 1000))
        values["delivery_timeout"] = floor
        sources["delivery.timeout.ms"] = (
            "Kafka: unset delivery.timeout.ms raised to linger.ms + request.timeout.ms")

    return ProducerConfig(**values, source=MappingProxyType(sources),
                          ignored=MappingProxyType(ignored))


def resolve_consumer_config(driver: OmbDriver, overrides: Mapping[str, Any] | None = None, *,
                            driver_file: str | None = None,
                            scenario_file: str | None = None) -> ConsumerConfig:
    """Kafka consumer settings from an OMB driver plus the scenario's overrides.

    Same layering and errors as :func:`resolve_producer_config`; additionally
    ``heartbeat.interval.ms`` must be below ``session.timeout.ms``, as the Kafka consumer
    requires.
    """
    values, sources, ignored, explicit = _resolve(
        CONSUMER_KEYS, PRODUCER_KEYS, driver, "consumerConfig", overrides, driver_file,
        scenario_file, "consumer_config", "producer_config")
    if values["heartbeat_interval"] >= values["session_timeout"]:
        name = ("heartbeat.interval.ms" if "heartbeat.interval.ms" in explicit
                else "session.timeout.ms")
        where = explicit[name]
        if name == "heartbeat.interval.ms":
            expected = (f"must be < session.timeout.ms "
                        f"({round(values['session_timeout'] * 1000)})")
            value = round(values["heartbeat_interval"] * 1000)
        else:
            expected = (f"must be > heartbeat.interval.ms "
                        f"({round(values['heartbeat_interval'] * 1000)})")
            value = round(values["session_timeout"] * 1000)
        raise ScenarioError(where.file, where.path, expected, value)
    return ConsumerConfig(**values, source=MappingProxyType(sources),
                          ignored=MappingProxyType(ignored))


def client_configs(scenario: Scenario, *, source: str = INLINE,
                   base_dir: str | Path | None = None,
                   ) -> tuple[ProducerConfig, ConsumerConfig]:
    """The resolved Kafka producer and consumer settings of a scenario's workload.

    Accepts a Scenario built without the loader too (its driver may still be a
    reference string, resolved here).
    """
    driver = scenario.workload.driver
    driver_file = None
    if isinstance(driver, str):
        driver_file = driver
        base = Path(base_dir) if base_dir is not None else None
        driver = typing.cast(OmbDriver, load_omb("driver", driver, base, source,
                                                 "workload.driver")[0])
    producer = resolve_producer_config(driver, scenario.workload.producer_config,
                                       driver_file=driver_file, scenario_file=source)
    consumer = resolve_consumer_config(driver, scenario.workload.consumer_config,
                                       driver_file=driver_file, scenario_file=source)
    return producer, consumer


# --- payload compressibility -----------------------------------------------------------------

def compression_ratio(workload_spec: WorkloadSpec, omb: OmbWorkload,
                      producer_cfg: ProducerConfig) -> float:
    """Uncompressed / compressed bytes of the workload's batches.

    The rule of ``WorkloadSpec.compression_ratio``: the scenario's explicit value if set;
    otherwise 1 when the producer does not compress (``compression.type=none``); otherwise
    ``1 / randomBytesRatio`` for OMB's randomized payloads, whose non-random part is zeros
    that compress away; otherwise 1 (a fixed payload file of unknown content).

    ``randomBytesRatio`` 0 would give an infinite ratio; geosim assumes at least one
    incompressible byte per message, so the ratio is at most ``messageSize``.
    """
    if workload_spec.compression_ratio is not None:
        return float(workload_spec.compression_ratio)
    if producer_cfg.compression_type == "none":
        return 1.0
    if omb.useRandomizedPayloads:
        random_fraction = max(omb.randomBytesRatio, 1.0 / omb.messageSize)
        return 1.0 / random_fraction
    return 1.0


def describe_default(key: KafkaKey) -> str:
    """Kafka's default for ``key`` as a short human string (for the reference doc)."""
    default = key.default
    if default is None:
        return "null (unset)"
    if key.kind == "ms":
        return f"{default} ms"
    if key.kind == "bytes":
        return f"{default} bytes"
    if key.kind == "bool":
        return "true" if default else "false"
    return format_value(default) if not isinstance(default, str) else default
