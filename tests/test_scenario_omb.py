"""OMB files and Kafka client settings: properties parsing, precedence, defaults, sources,
Kafka's cross-key rules, compression ratio, and every bundled OMB file."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from geosim.scenario.errors import ScenarioError
from geosim.scenario.loader import (
    BUNDLED_OMB_DIR,
    bundled_omb_files,
    load_omb_driver,
    load_omb_workload,
    scenario_from_dict,
)
from geosim.scenario.omb import (
    CONSUMER_KEYS,
    PRODUCER_KEYS,
    compression_ratio,
    parse_properties,
    resolve_consumer_config,
    resolve_producer_config,
    topic_config,
)
from geosim.scenario.schema import OmbDriver, OmbWorkload, WorkloadSpec


def driver(**blocks: str) -> OmbDriver:
    return OmbDriver(**blocks)


# --- properties -------------------------------------------------------------------------------

def test_properties_forms() -> None:
    text = ("\n    # a comment\n    ! another comment\n    acks=all\n    linger.ms : 5\n"
            "    batch.size 131072\n    compression.type=lz4   \n    empty.value=\n")
    assert parse_properties(text) == {"acks": "all", "linger.ms": "5", "batch.size": "131072",
                                      "compression.type": "lz4", "empty.value": ""}


def test_properties_continuation_escapes_and_duplicates() -> None:
    text = "bootstrap.servers=a:9092,\\\n    b:9092\nkey\\=with\\:seps=v\\tx\nacks=1\nacks=all\n"
    assert parse_properties(text) == {"bootstrap.servers": "a:9092,b:9092",
                                      "key=with:seps": "v\tx", "acks": "all"}


def test_properties_empty_inputs() -> None:
    assert parse_properties("") == {} and parse_properties(None) == {}
    assert parse_properties("\n  \n# only comments\n") == {}


_KEY = st.from_regex(r"[a-z][a-z0-9.]{0,20}", fullmatch=True)
_VALUE = st.from_regex(r"[A-Za-z0-9_.,/-]{0,20}", fullmatch=True)


@given(st.dictionaries(_KEY, _VALUE, max_size=8), st.sampled_from(["=", ": ", " ", " = "]))
def test_properties_round_trip(settings: dict[str, str], separator: str) -> None:
    text = "\n".join(f"{key}{separator}{value}" for key, value in settings.items())
    assert parse_properties(text) == settings


def test_topic_config() -> None:
    assert topic_config(load_omb_driver("omb:driver-kafka/kafka-sync.yaml")) == {
        "min.insync.replicas": "2", "flush.messages": "1", "flush.ms": "0"}


# --- defaults and sources ---------------------------------------------------------------------

def test_kafka_defaults_when_nothing_is_set() -> None:
    producer = resolve_producer_config(driver())
    assert (producer.acks, producer.linger, producer.batch_size) == ("all", 0.005, 16384)
    assert producer.max_request_size == 1048576
    assert producer.max_in_flight_requests_per_connection == 5
    assert producer.retries == 2147483647
    assert (producer.retry_backoff, producer.retry_backoff_max) == (0.1, 1.0)
    assert (producer.delivery_timeout, producer.request_timeout) == (120.0, 30.0)
    assert producer.enable_idempotence is True
    assert producer.compression_type == "none" and producer.buffer_memory == 33554432
    consumer = resolve_consumer_config(driver())
    assert (consumer.session_timeout, consumer.heartbeat_interval) == (45.0, 3.0)
    assert consumer.auto_commit_interval == 5.0 and consumer.enable_auto_commit is True
    assert consumer.fetch_max_wait == 0.5 and consumer.auto_offset_reset == "latest"
    assert consumer.max_poll_interval == 300.0 and consumer.request_timeout == 30.0


def test_every_default_names_its_source() -> None:
    producer = resolve_producer_config(driver())
    assert set(producer.source) == {key.name for key in PRODUCER_KEYS}
    assert producer.source["linger.ms"].startswith("Kafka default (figures.md K10; 5 since "
                                                   "Kafka 4.0 (KIP-1030)")
    assert producer.source["acks"].startswith("Kafka default (figures.md K8")
    consumer = resolve_consumer_config(driver())
    assert set(consumer.source) == {key.name for key in CONSUMER_KEYS}
    assert consumer.source["session.timeout.ms"].startswith("Kafka default (figures.md K18")


def test_precedence_and_sources() -> None:
    d = driver(commonConfig="request.timeout.ms=20000\nlinger.ms=50\nbootstrap.servers=x:1",
               producerConfig="linger.ms=10\nbatch.size=65536")
    producer = resolve_producer_config(d, {"batch.size": 1024}, driver_file="d.yaml",
                                       scenario_file="s.yaml")
    assert producer.request_timeout == 20.0 and producer.linger == 0.01
    assert producer.batch_size == 1024
    assert producer.source["request.timeout.ms"] == "driver d.yaml commonConfig"
    assert producer.source["linger.ms"] == "driver d.yaml producerConfig"
    assert producer.source["batch.size"] == "scenario s.yaml workload.producer_config"
    assert dict(producer.ignored) == {"bootstrap.servers": "driver d.yaml commonConfig"}
    # commonConfig applies to consumers too.
    consumer = resolve_consumer_config(d)
    assert consumer.request_timeout == 20.0
    assert consumer.source["request.timeout.ms"] == "driver commonConfig"


def test_values_are_typed_and_acks_minus_one_is_all() -> None:
    producer = resolve_producer_config(driver(producerConfig="acks=-1\nenable.idempotence=TRUE"),
                                       {"compression.type": "ZSTD", "linger.ms": 2.0})
    assert producer.acks == "all" and producer.enable_idempotence is True
    assert producer.compression_type == "zstd" and producer.linger == 0.002


def test_as_kafka_properties_round_trips_units() -> None:
    producer = resolve_producer_config(load_omb_driver("omb:driver-kafka/kafka-latency.yaml"))
    props = producer.as_kafka_properties()
    assert props["linger.ms"] == "1" and props["batch.size"] == "131072"
    assert props["acks"] == "all" and props["enable.idempotence"] == "true"
    again = resolve_producer_config(driver(producerConfig="\n".join(
        f"{k}={v}" for k, v in props.items())))
    assert again.as_kafka_properties() == props


def test_resolved_configs_are_frozen() -> None:
    producer = resolve_producer_config(driver())
    with pytest.raises(AttributeError):
        producer.linger = 1.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        producer.source["acks"] = "x"  # type: ignore[index]


# --- invalid values ---------------------------------------------------------------------------

def message(call) -> str:
    with pytest.raises(ScenarioError) as info:
        call()
    return str(info.value)


def test_invalid_driver_values_name_file_and_key() -> None:
    d = driver(producerConfig="acks=2")
    assert message(lambda: resolve_producer_config(d, driver_file="omb:x.yaml")) == (
        "omb:x.yaml: producerConfig.acks: must be one of all, -1, 0, 1, got '2'")
    d = driver(producerConfig="linger.ms=-1")
    assert message(lambda: resolve_producer_config(d, driver_file="d.yaml")) == (
        "d.yaml: producerConfig.linger.ms: must be >= 0 (milliseconds), got '-1'")
    d = driver(commonConfig="request.timeout.ms=30s")
    assert message(lambda: resolve_consumer_config(d, driver_file="d.yaml")) == (
        "d.yaml: commonConfig.request.timeout.ms: must be an integer (milliseconds), "
        "got '30s'")
    d = driver(consumerConfig="enable.auto.commit=yes")
    assert message(lambda: resolve_consumer_config(d, driver_file="d.yaml")) == (
        "d.yaml: consumerConfig.enable.auto.commit: must be true or false, got 'yes'")
    d = driver(consumerConfig="auto.offset.reset=smallest")
    assert message(lambda: resolve_consumer_config(d, driver_file="d.yaml")) == (
        "d.yaml: consumerConfig.auto.offset.reset: must be one of latest, earliest, none, "
        "got 'smallest'")


def test_assignors_decide_the_rebalance_protocol() -> None:
    """``partition.assignment.strategy``: Kafka's default list, a cooperative-only
    list, class names fully qualified or as Kafka prints them, librdkafka's names; the
    protocol is the newest every assignor supports (ConsumerCoordinator)."""
    from geosim.clients.consumer import rebalance_protocol

    def protocol(value) -> str:
        config = resolve_consumer_config(driver(), {"partition.assignment.strategy": value})
        return rebalance_protocol(config.assignment_strategy)

    default = resolve_consumer_config(driver())
    assert default.assignment_strategy == ("RangeAssignor", "CooperativeStickyAssignor")
    assert default.as_kafka_properties()["partition.assignment.strategy"] == (
        "RangeAssignor,CooperativeStickyAssignor")
    assert protocol("RangeAssignor,CooperativeStickyAssignor") == "eager"
    assert protocol("org.apache.kafka.clients.consumer.CooperativeStickyAssignor") == (
        "cooperative")
    assert protocol(["class org.apache.kafka.clients.consumer.CooperativeStickyAssignor",
                     "cooperative-sticky"]) == "cooperative"
    assert protocol(["roundrobin"]) == "eager"
    d = driver(consumerConfig="partition.assignment.strategy=UniformAssignor")
    assert message(lambda: resolve_consumer_config(d, driver_file="d.yaml")) == (
        "d.yaml: consumerConfig.partition.assignment.strategy: must be a list of "
        "RangeAssignor, RoundRobinAssignor, StickyAssignor, CooperativeStickyAssignor, "
        "got 'UniformAssignor'")


def test_group_protocol_consumer_takes_the_coordinator_s_session_and_heartbeat() -> None:
    """``group.protocol``: classic by default (the assignors decide the protocol);
    consumer (KIP-848) takes the coordinator's session (45 s) and heartbeat (5 s),
    whatever the consumer's own keys say; another value is a one-line error."""
    from geosim.clients.consumer import (
        CONSUMER_GROUP_HEARTBEAT,
        CONSUMER_GROUP_SESSION_TIMEOUT,
        rebalance_protocol,
    )
    default = resolve_consumer_config(driver())
    assert default.group_protocol == "classic"
    assert rebalance_protocol(default.assignment_strategy, default.group_protocol) == "eager"
    config = resolve_consumer_config(driver(), {"group.protocol": "CONSUMER",
                                                "session.timeout.ms": 10000})
    assert rebalance_protocol(config.assignment_strategy, config.group_protocol) == (
        "consumer")
    assert (CONSUMER_GROUP_SESSION_TIMEOUT, CONSUMER_GROUP_HEARTBEAT) == (45.0, 5.0)
    d = driver(consumerConfig="group.protocol=streams")
    assert message(lambda: resolve_consumer_config(d, driver_file="d.yaml")) == (
        "d.yaml: consumerConfig.group.protocol: must be one of classic, consumer, "
        "got 'streams'")


def test_group_instance_id_makes_the_members_static() -> None:
    """``group.instance.id``: unset (Kafka's null) by default, so members are dynamic
    and the key is not printed; set, every member is static; empty, a one-line error."""
    default = resolve_consumer_config(driver())
    assert default.group_instance_id is None
    assert "group.instance.id" not in default.as_kafka_properties()
    config = resolve_consumer_config(driver(), {"group.instance.id": "omb-consumer"})
    assert config.group_instance_id == "omb-consumer"
    assert config.as_kafka_properties()["group.instance.id"] == "omb-consumer"
    d = driver(consumerConfig="group.instance.id=")
    assert message(lambda: resolve_consumer_config(d, driver_file="d.yaml")) == (
        "d.yaml: consumerConfig.group.instance.id: must be a non-empty string, got ''")


def test_invalid_scenario_values_name_the_scenario_path() -> None:
    assert message(lambda: resolve_producer_config(driver(), {"max.in.flight.requests"
                                                              ".per.connection": 0},
                                                   scenario_file="s.yaml")) == (
        "s.yaml: workload.producer_config.max.in.flight.requests.per.connection: "
        "must be >= 1, got 0")
    assert message(lambda: resolve_producer_config(driver(), {"batch.size": 1.5})) == (
        "<inline>: workload.producer_config.batch.size: must be an integer (bytes), got 1.5")
    assert message(lambda: resolve_producer_config(driver(), {"retries": True})) == (
        "<inline>: workload.producer_config.retries: must be an integer, got true")


def test_unknown_keys_from_driver_are_ignored_but_from_scenario_rejected() -> None:
    d = driver(consumerConfig="max.partition.fetch.bytes=10485760")
    assert dict(resolve_consumer_config(d).ignored) == {
        "max.partition.fetch.bytes": "driver consumerConfig"}
    assert message(lambda: resolve_consumer_config(d, {"max.partition.fetch.bytes": 1})) \
        .startswith("<inline>: workload.consumer_config.max.partition.fetch.bytes: is not a "
                    "Kafka consumer config geosim models; honoured keys: session.timeout.ms")


# --- Kafka's cross-key rules ------------------------------------------------------------------

def test_default_idempotence_is_switched_off_by_conflicts() -> None:
    producer = resolve_producer_config(driver(producerConfig="acks=1"))
    assert producer.enable_idempotence is False
    assert producer.source["enable.idempotence"] == (
        "Kafka: default idempotence switched off by acks=1 (KAFKA-13673)")
    producer = resolve_producer_config(driver(), {"max.in.flight.requests.per.connection": 10})
    assert producer.enable_idempotence is False


def test_explicit_idempotence_with_conflicts_is_an_error() -> None:
    d = driver(producerConfig="enable.idempotence=true")
    assert message(lambda: resolve_producer_config(d, {"acks": "0"}, driver_file="d.yaml",
                                                   scenario_file="s.yaml")) == (
        "s.yaml: workload.producer_config.acks: must be all with enable.idempotence=true "
        "(set in driver d.yaml producerConfig), got '0'")
    # Explicitly off: conflicts are fine.
    off = resolve_producer_config(driver(producerConfig="enable.idempotence=false\nacks=1"))
    assert off.enable_idempotence is False and off.acks == "1"


def test_delivery_timeout_floor() -> None:
    # OMB's kafka-throughput.yaml raises request.timeout.ms to 1200 s and leaves
    # delivery.timeout.ms unset: Kafka raises it to linger.ms + request.timeout.ms.
    producer = resolve_producer_config(load_omb_driver("omb:driver-kafka/kafka-throughput.yaml"))
    assert producer.request_timeout == 1200.0
    assert producer.delivery_timeout == pytest.approx(1200.001)
    assert producer.source["delivery.timeout.ms"].startswith("Kafka: unset delivery.timeout.ms")
    assert message(lambda: resolve_producer_config(driver(), {"delivery.timeout.ms": 1000})) \
        == ("<inline>: workload.producer_config.delivery.timeout.ms: must be >= linger.ms + "
            "request.timeout.ms (30005), got 1000")


def test_heartbeat_below_session_timeout() -> None:
    assert message(lambda: resolve_consumer_config(driver(), {"heartbeat.interval.ms": 45000})
                   ) == ("<inline>: workload.consumer_config.heartbeat.interval.ms: must be < "
                         "session.timeout.ms (45000), got 45000")
    assert message(lambda: resolve_consumer_config(driver(), {"session.timeout.ms": 2000})) \
        == ("<inline>: workload.consumer_config.session.timeout.ms: must be > "
            "heartbeat.interval.ms (3000), got 2000")


# --- compression ratio ------------------------------------------------------------------------

def _ratio(producer_config: dict, explicit: float | None = None, **omb) -> float:
    workload = WorkloadSpec(omb=OmbWorkload(**omb), compression_ratio=explicit)
    cfg = resolve_producer_config(driver(), producer_config)
    return compression_ratio(workload, workload.omb, cfg)


def test_compression_ratio_rule() -> None:
    randomized = {"useRandomizedPayloads": True, "randomBytesRatio": 0.25}
    assert _ratio({}, **randomized) == 1.0                            # no compression.type
    assert _ratio({"compression.type": "lz4"}, **randomized) == 4.0   # zeros compress away
    assert _ratio({"compression.type": "lz4"}, payloadFile="p.data") == 1.0
    assert _ratio({"compression.type": "zstd"}, 2.5, **randomized) == 2.5  # explicit wins
    # All-zero payloads: at least one incompressible byte per message.
    assert _ratio({"compression.type": "zstd"}, useRandomizedPayloads=True,
                  randomBytesRatio=0.0, messageSize=100) == 100.0


# --- bundled files ----------------------------------------------------------------------------

def test_bundle_is_complete_and_licensed() -> None:
    assert len(bundled_omb_files("workloads")) == 130
    assert len(bundled_omb_files("driver-kafka")) == 14
    assert "Apache License" in (BUNDLED_OMB_DIR / "LICENSE").read_text()
    assert "85599891" in (BUNDLED_OMB_DIR / "README.md").read_text()
    for path in (BUNDLED_OMB_DIR / "workloads").glob("*.yaml"):
        assert "Licensed under the Apache License" in path.read_text(), path.name


@pytest.mark.parametrize("ref", bundled_omb_files("workloads"))
def test_every_bundled_workload_loads(ref: str) -> None:
    workload = load_omb_workload(ref)
    assert workload.topics >= 1 and workload.messageSize >= 1
    assert workload.producerRate >= 0


@pytest.mark.parametrize("ref", bundled_omb_files("driver-kafka"))
def test_every_bundled_driver_resolves(ref: str) -> None:
    d = load_omb_driver(ref)
    producer = resolve_producer_config(d, driver_file=ref)
    consumer = resolve_consumer_config(d, driver_file=ref)
    assert producer.acks == "all" and d.replicationFactor == 3
    assert producer.source["acks"] == f"driver {ref} producerConfig"
    assert consumer.enable_auto_commit is False and consumer.auto_offset_reset == "earliest"
    assert topic_config(d)["min.insync.replicas"] == "2"


def test_bundled_max_rate_workloads_are_max_rate_runs() -> None:
    # OMB's producerRate 0 asks for the maximum sustainable rate: geosim runs its rate
    # controller (a max-rate run), and a fixed rate makes it an ordinary run again.
    zero_rate = [ref for ref in bundled_omb_files("workloads")
                 if load_omb_workload(ref).producerRate == 0]
    assert len(zero_rate) == 5
    base = {"name": "t", "topology": {"regions": {"r1": {"zones": ["a", "b"]}}},
            "object_store": {"kind": "regional", "regions": ["r1"]},
            "metadata": {"preset": "etcd", "regions": ["r1"]},
            "workload": {"omb": zero_rate[0]}, "strategy": {"name": "diskless"}}
    scenario = scenario_from_dict(base)
    assert scenario.workload.omb.producerRate == 0 and not scenario.workload.max_rate
    fixed = scenario_from_dict(base, overrides=["workload.omb.producerRate=1000"])
    assert fixed.workload.omb.producerRate == 1000
