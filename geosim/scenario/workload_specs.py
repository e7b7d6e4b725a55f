"""The scenario's ``workload:`` section: the OMB workload and driver, client configs and
placements, and the topics a scenario may declare with their own rate, size, partitions
and replication policy.

Split from :mod:`geosim.scenario.sections` (whose bounds it uses);
:mod:`geosim.scenario.schema` assembles it. How a workload becomes producer fleets and
consumer groups is :mod:`geosim.clients.workload`.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import ConfigDict, Field, field_validator

from geosim.scenario.sections import (
    MAX_BROKERS,
    MAX_CLIENTS,
    MAX_COMPRESSION,
    MAX_MESSAGE,
    MAX_OMB_MINUTES,
    MAX_PARTITIONS,
    MAX_RECORD_RATE,
    MAX_SUBSCRIPTIONS,
    MAX_TOPICS,
    Model,
)
from geosim.scenario.types import described


class OmbWorkload(Model):
    """An OpenMessaging Benchmark workload, with OMB's own field names."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    # Upper bounds: far beyond any deployment, they keep a mistyped value from making a
    # run hang or overflow (MAX_* below; docs/scenario-reference.md).
    name: str = "workload"
    topics: int = Field(1, ge=1, le=MAX_TOPICS)
    partitionsPerTopic: int = Field(1, ge=1, le=MAX_PARTITIONS)
    keyDistributor: Literal["NO_KEY", "KEY_ROUND_ROBIN", "RANDOM_NANO"] = "NO_KEY"
    messageSize: int = Field(1024, ge=1, le=MAX_MESSAGE)
    useRandomizedPayloads: bool = False
    randomBytesRatio: float = Field(1.0, ge=0.0, le=1.0)
    randomizedPayloadPoolSize: int = Field(0, le=MAX_CLIENTS)
    payloadFile: str | None = None
    subscriptionsPerTopic: int = Field(1, ge=0, le=MAX_SUBSCRIPTIONS)
    consumerPerSubscription: int = Field(1, ge=0, le=MAX_CLIENTS)
    producersPerTopic: int = Field(1, ge=1, le=MAX_CLIENTS)
    producerRate: float = Field(1000, ge=0, le=MAX_RECORD_RATE, allow_inf_nan=False)
    consumerBacklogSizeGB: float = Field(0, ge=0, le=1e6, allow_inf_nan=False)
    backlogDrainRatio: float = Field(1.0, ge=0.0, le=1.0, allow_inf_nan=False)
    testDurationMinutes: float = Field(15, ge=0, le=MAX_OMB_MINUTES, allow_inf_nan=False)
    warmupDurationMinutes: float = Field(1, ge=0, le=MAX_OMB_MINUTES, allow_inf_nan=False)


class OmbDriver(Model):
    """An OMB driver file (Kafka family); the config blocks are Java properties."""

    name: str = "Kafka"
    driverClass: str = "io.openmessaging.benchmark.driver.kafka.KafkaBenchmarkDriver"
    replicationFactor: int = Field(3, ge=1, le=MAX_BROKERS)
    reset: bool = False
    topicConfig: str = ""
    commonConfig: str = ""
    producerConfig: str = ""
    consumerConfig: str = ""


Placement = dict[str, float]


#: Kafka's legal topic names: ASCII letters, digits, '.', '_' and '-', at most 249
#: characters (``org.apache.kafka.common.internals.Topic.validate``).
TOPIC_NAME = re.compile(r"[a-zA-Z0-9._-]{1,249}")


class TopicSpec(Model):
    """One topic with its own load and policy (``workload.topics``)."""

    name: str = described(..., "Topic name (Kafka's rules: letters, digits, `.`, `_`, `-`, "
                          "at most 249 characters).", source="Kafka Topic.validate")
    partitions: int | None = described(
        None, "Partitions of this topic. Default: the OMB workload's `partitionsPerTopic`.",
        ge=1, le=MAX_PARTITIONS)
    producerRate: float = described(
        ..., "Messages per second over all of this topic's producers (OMB's meaning).",
        unit="1/s", ge=0, le=MAX_RECORD_RATE, allow_inf_nan=False)
    messageSize: int | None = described(
        None, "Message size. Default: the OMB workload's `messageSize`.", unit="B",
        ge=1, le=MAX_MESSAGE)
    producer_config: dict[str, str | int | float | bool] = described(
        {}, "Kafka producer configs of this topic's producers (e.g. `acks`), over the "
        "driver's and `workload.producer_config`.")
    config: dict[str, str | int | float | bool] = described(
        {}, "Topic configs by Kafka key, over the cluster's: `min.insync.replicas`, and "
        "`replication.factor` as `kafka-topics --create` takes it (Kafka-family strategies).",
        source="Kafka TopicConfig")
    replica_placement: dict[str, int] = described(
        {}, "Sync replicas of this topic per region or zone id (as the strategy block's "
        "`replica_placement`). Default: the strategy's placement.")
    observer_placement: dict[str, int] = described(
        {}, "Observers of this topic per region or zone id (`observers` strategy; as its "
        "`observer_placement`). Default: the strategy's.")
    mirror: bool = described(
        True, "Whether cross-cluster strategies replicate this topic (MirrorMaker 2 "
        "`topics`, Cluster Linking mirror topics).")

    @field_validator("name")
    @classmethod
    def _kafka_name(cls, value: str) -> str:
        if not TOPIC_NAME.fullmatch(value) or value in (".", ".."):
            raise ValueError(f"{value!r} is not a legal Kafka topic name (letters, digits, "
                             "'.', '_', '-', at most 249 characters)")
        return value


class WorkloadSpec(Model):
    omb: str | OmbWorkload = described(
        ..., "OMB workload: a path (relative to the scenario file), a bundled name "
        "`omb:<file>` from the OMB repository's `workloads/`, or the fields inline.",
        source="figures.md §9")
    driver: str | OmbDriver = described(
        "omb:driver-kafka/kafka-latency.yaml", "OMB Kafka driver: path, `omb:` name or inline.",
        source="figures.md §9 (kafka-latency.yaml)")
    producer_config: dict[str, str | int | float | bool] = described(
        {}, "Kafka producer configs overriding the driver's (Kafka's own keys).")
    consumer_config: dict[str, str | int | float | bool] = described(
        {}, "Kafka consumer configs overriding the driver's (Kafka's own keys).")
    producers: Placement = described(
        {}, "Share of producers per region or zone id (normalized). Default: even over "
        "all zones of regions that host brokers.")
    consumers: Placement = described(
        {}, "Share of each group's consumers per region or zone id. Default: as producers.")
    compression_ratio: float | None = described(
        None, "Uncompressed / compressed bytes. Default: 1 without `compression.type`, "
        "otherwise 1 / randomBytesRatio for randomized payloads (the zero-filled rest "
        "compresses away), else 1.", source="figures.md §9 (payload compressibility)",
        ge=1.0, le=MAX_COMPRESSION, allow_inf_nan=False)
    max_rate: bool = described(
        False, "Find the highest sustainable rate as OMB's rate controller does: start at "
        "`producerRate` (10,000 messages/s when it is 0), and every 3 s grow the rate while "
        "the publish and receive backlogs stay within 1,000 messages, else back off to "
        "the rate achieved. `producerRate: 0` asks for the same. The result is "
        "`summary.json`'s `max_rate`.",
        source="openmessaging/benchmark WorkloadGenerator.java, RateController.java")
    topics: list[TopicSpec] = described(
        [], "Topics with their own rate, message size, partitions and policy; when given "
        "they replace the OMB workload's `topics`, `partitionsPerTopic` and `producerRate` "
        "(its other fields apply to each topic), and every figure is also reported per "
        "topic. Empty: the OMB workload's topics, all alike.")

    @field_validator("topics")
    @classmethod
    def _unique(cls, topics: list[TopicSpec]) -> list[TopicSpec]:
        seen: set[str] = set()
        for topic in topics:
            if topic.name in seen:
                raise ValueError(f"topic {topic.name!r} is declared twice")
            seen.add(topic.name)
        return topics
