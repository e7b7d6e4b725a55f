"""The shared storage of a Kafka cluster (AutoMQ-style), as a scenario describes it.

A cluster whose storage is *shared* keeps partition leadership on its brokers but no
durable state on them: every append goes to a small write-ahead log (WAL) and is
acknowledged once the WAL write is durable; the WAL is uploaded to the region's object
store in batches; a failed broker's partitions move to other brokers once its WAL has
been recovered, with no data copied between brokers. The engine is
:mod:`geosim.kafka.shared_storage`; this module is the spec (the ``shared-storage``
strategy's ``strategy.storage`` block, and ``strategy.shared_storage`` of the
cross-cluster strategies) and its AutoMQ config keys, resolved by Kafka's key parser.

Sources (AutoMQ/automq at f1ce98ec, 2026-08-21):

* ``core/src/main/java/kafka/automq/AutoMQConfig.java`` — ``s3.wal.upload.threshold``,
  ``s3.wal.upload.interval.ms`` (default 60000), the object WAL URI's ``batchInterval``
  (250 ms) and ``maxBytesInBatch`` (8 MiB, ``ObjectWALConfig.Builder``);
* ``core/src/main/scala/kafka/server/KafkaConfig.scala`` ``adjustS3Configs`` — an unset
  upload threshold is min(``s3.wal.cache.size`` / 3, 500 MiB);
* ``metadata/.../ReplicationControlManager.java`` (createTopic) — replication factor
  and ``min.insync.replicas`` forced to 1: durability is the storage's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from geosim.scenario.kafka_keys import KafkaKey, resolve_keys
from geosim.scenario.sections import Model
from geosim.scenario.types import Duration, Rate, Size, described

_AUTOMQ = "AutoMQ/automq core/src/main/java/kafka/automq/AutoMQConfig.java"

#: The AutoMQ broker configs geosim honours (``storage.config``).
KEYS: tuple[KafkaKey, ...] = (
    KafkaKey("s3.wal.upload.threshold", "upload_threshold", "bytes", 500 * 2**20,
             f"{_AUTOMQ}; KafkaConfig.scala adjustS3Configs: min(s3.wal.cache.size / 3, "
             "500 MiB) when unset (500 MiB from a 1.5 GiB WAL cache on)",
             "A broker uploads its WAL to object storage once this many bytes are "
             "waiting.", minimum=1),
    KafkaKey("s3.wal.upload.interval.ms", "upload_interval", "ms", 60000,
             f"{_AUTOMQ} (S3_WAL_UPLOAD_INTERVAL_MS_DEFAULT)",
             "A broker uploads its WAL at least this often (AutoMQ's -1, size only, is "
             "not modelled)."),
)


@dataclass(frozen=True)
class StorageConfig:
    """``storage.config`` resolved, in canonical units (the defaults are the keys')."""

    upload_threshold: int
    upload_interval: float


def resolve_storage_config(config: Mapping[str, Any]) -> StorageConfig:
    """AutoMQ's defaults, then ``config``; raises the key parser's errors
    (:class:`~geosim.scenario.kafka_keys.UnknownKafkaKey`,
    :class:`~geosim.scenario.kafka_keys.BadKafkaValue`)."""
    resolved = resolve_keys(KEYS, [config])
    return StorageConfig(**resolved.by_attr(KEYS))


class SharedStorageSpec(Model):
    """Where a shared-storage cluster's WAL lives and how it is uploaded and recovered."""

    wal: Literal["block", "object"] = described(
        "block", "`block`: each broker's WAL is a block volume of its zone (EBS gp3, GCP "
        "pd): a zonal resource, which survives a broker crash (re-attached to another "
        "broker of the zone) but not the loss of its zone. `object`: the WAL is written "
        "as objects to the scenario's object store (AutoMQ's `s3.wal.path=0@s3://...`), "
        "batched every `wal_batch_interval` or `wal_batch_bytes`; it survives what the "
        "bucket survives (a regional bucket: a zone loss).",
        source="AutoMQ/automq AutoMQConfig.java (s3.wal.path); "
        "docs.aws.amazon.com/ebs/latest/userguide/ebs-volumes.html (a volume is attached "
        "to an instance in the same Availability Zone)")
    wal_write_p50: Duration = described(
        0.001, "Block WAL: median time of one WAL write to become durable (a lognormal "
        "through this and `wal_write_p99`).", unit="s",
        source="assumption: AWS documents gp3 as 'single-digit millisecond' latency "
        "(docs.aws.amazon.com/ebs/latest/userguide/general-purpose.html); low confidence")
    wal_write_p99: Duration = described(
        0.005, "Block WAL: 99th percentile of a WAL write.", unit="s",
        source="assumption (as wal_write_p50)")
    wal_batch_interval: Duration = described(
        0.25, "Object WAL: a broker writes one WAL object at least this often "
        "(`batchInterval` of `s3.wal.path`).", unit="s",
        source="AutoMQ/automq s3stream .../wal/impl/object/ObjectWALConfig.java "
        "(Builder: batchInterval 250 ms)")
    wal_batch_bytes: Size = described(
        8 * 2**20, "Object WAL: a WAL object is written as soon as this many bytes wait "
        "(`maxBytesInBatch` of `s3.wal.path`).", unit="bytes",
        source="AutoMQ/automq ObjectWALConfig.java (Builder: maxBytesInBatch 8 MiB)")
    volume_attach: Duration = described(
        10.0, "Block WAL failover: time to detach the failed broker's volume and attach "
        "it to another broker of its zone.", unit="s",
        source="assumption (AWS documents no attach time; EBS Multi-Attach would make it "
        "~0); low confidence")
    volume_throughput: Rate = described(
        125 * 10**6, "Block WAL failover: the volume's read rate while its WAL is "
        "recovered (gp3 baseline 125 MB/s).", unit="bytes/s",
        source="docs.aws.amazon.com/ebs/latest/userguide/general-purpose.html (gp3 "
        "baseline 3,000 IOPS and 125 MiB/s)")
    wal_lost_decision: Duration = described(
        60.0, "When a WAL is destroyed with its zone, the failover can never read it: "
        "after this long an operator reopens its partitions on other brokers from what "
        "was uploaded (AutoMQ retries the failover forever).", unit="s",
        source="assumption (an operator step); AutoMQ FailoverListener retries with "
        "backoff up to 60 s")
    config: dict[str, str | int | float | bool] = described(
        {}, "AutoMQ broker configs by key (`s3.wal.upload.threshold`, "
        "`s3.wal.upload.interval.ms`).", source="AutoMQ/automq AutoMQConfig.java")
    clusters: list[str] = described(
        [], "Cross-cluster strategies only: the regions whose cluster uses shared storage "
        "(the others keep ISR replication). Default: every cluster.")

    def resolved(self) -> StorageConfig:
        return resolve_storage_config(self.config)


__all__ = ["KEYS", "SharedStorageSpec", "StorageConfig", "resolve_storage_config"]
