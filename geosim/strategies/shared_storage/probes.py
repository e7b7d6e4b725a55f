"""Coverage probes of shared-storage runs (for :mod:`geosim.testing`): the Kafka
engine's states, and the shared storage's own from the summary's counters."""

from __future__ import annotations

from geosim.kafka.probes import KafkaProbe


class SharedStorageProbe(KafkaProbe):
    """:class:`~geosim.kafka.probes.KafkaProbe`'s states, plus ``wal-failover`` (a
    fenced broker's WAL was recovered), ``partitions-moved`` (partitions reopened on
    other brokers) and ``catch-up-read`` (a moved partition was read from object
    storage)."""

    COUNTERS = {**KafkaProbe.COUNTERS, "wal_failovers": "wal-failover",
                "partitions_moved": "partitions-moved",
                "catch_up_reads": "catch-up-read"}


__all__ = ["SharedStorageProbe"]
