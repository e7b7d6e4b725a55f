"""Figures per declared topic (``workload.topics``): a fold over the same events as the
run's totals, keyed by the topic a row's partition belongs to.

Rows carry their partition; a partition belongs to one topic (topics own consecutive
blocks of the run's numbering, :class:`geosim.clients.workload.ResolvedTopic`), and a
cross-cluster copy of partition ``p`` lives at ``p`` plus a multiple of the local
partition count, so ``partition % local`` names its topic in every cluster. Per topic:
acked, failed and delivered records and bytes, publish and end-to-end latency per phase
(the same record-weighted spreads as the run's, :func:`geosim.metrics.phases.add_latencies`),
acknowledged records lost (from the partition fold's losses by partition), and the bytes the Kafka
engine replicated for the topic's partitions across regions (counters
``TOPIC_REPLICATION_COUNTER`` + topic name).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from geosim.core.events import (
    TOPIC_REPLICATION_COUNTER,
    Delivered,
    ProduceAcked,
    ProduceFailed,
    Recorder,
)
from geosim.metrics.histogram import LatencyHistogram
from geosim.metrics.phases import PHASES, add_latencies


class TopicFold:
    """Per-topic counts and latency histograms; subscribes itself to ``recorder``."""

    def __init__(self, recorder: Recorder, *, names: Sequence[str], topic_of: Sequence[int],
                 bounds: Sequence[float]):
        self.names = list(names)
        self._topic_of = list(topic_of)
        self._local = len(self._topic_of)
        self._bounds = list(bounds)
        n = len(self.names)
        self.publish = [[LatencyHistogram() for _ in PHASES] for _ in range(n)]
        self.e2e = [[LatencyHistogram() for _ in PHASES] for _ in range(n)]
        self.counts = [{"acked_records": 0, "acked_bytes": 0, "failed_records": 0,
                        "info_records": 0, "delivered_records": 0, "delivered_bytes": 0}
                       for _ in range(n)]
        recorder.subscribe(ProduceAcked, self.on_acked)
        recorder.subscribe(Delivered, self.on_delivered)
        recorder.subscribe(ProduceFailed, self.on_failed)

    def topic(self, partition: int) -> int:
        return self._topic_of[partition % self._local]

    def _spread(self, histograms: list[list[LatencyHistogram]], t: float, rows,
                records_key: str, bytes_key: str) -> None:
        bounds = self._bounds
        for row in rows:
            k = self.topic(row.partition)
            add_latencies(histograms[k], bounds, t, (row,))
            counts = self.counts[k]
            counts[records_key] += row.records
            counts[bytes_key] += row.bytes_uncompressed

    def on_acked(self, ev: ProduceAcked) -> None:
        self._spread(self.publish, ev.t, ev.rows, "acked_records", "acked_bytes")

    def on_delivered(self, ev: Delivered) -> None:
        self._spread(self.e2e, ev.t, ev.rows, "delivered_records", "delivered_bytes")

    def on_failed(self, ev: ProduceFailed) -> None:
        key = "failed_records" if ev.outcome == "fail" else "info_records"
        for row in ev.rows:
            self.counts[self.topic(row.partition)][key] += row.records

    def report(self, lost_by_partition: Mapping[int, tuple[int, int]],
               counters: Mapping[str, int], *, losses_attributed: bool = True
               ) -> dict[str, dict]:
        """Per topic name: counts, lost records and bytes (None when losses are not
        attributed to partitions: diskless objects mix topics), replicated bytes, and
        the latency histograms by (kind, phase)."""
        lost = [[0, 0] for _ in self.names]
        for partition, (records, nbytes) in lost_by_partition.items():
            entry = lost[self.topic(partition)]
            entry[0] += records
            entry[1] += nbytes
        out = {}
        for k, name in enumerate(self.names):
            out[name] = {
                **self.counts[k],
                "lost_records": lost[k][0] if losses_attributed else None,
                "lost_bytes": lost[k][1] if losses_attributed else None,
                "replication_cross_region_bytes": int(
                    counters.get(TOPIC_REPLICATION_COUNTER + name, 0)),
                "histograms": {(kind, phase): histograms[k][p]
                               for kind, histograms in (("publish", self.publish),
                                                        ("e2e", self.e2e))
                               for p, phase in enumerate(PHASES)},
            }
        return out


__all__ = ["TopicFold"]
