"""Figures per declared topic (geosim.metrics.topics.TopicFold), on hand-built events:
counts, latency spreads by phase, losses and replicated bytes, exact."""

from __future__ import annotations

import pytest

from geosim.core.events import (
    TOPIC_REPLICATION_COUNTER,
    Delivered,
    ProduceAcked,
    ProduceFailed,
    Recorder,
    Row,
)
from geosim.metrics.topics import TopicFold

# three local partitions: 0 and 1 are "payments", 2 is "logs"; phases start at 10 s
# (before) and 50 s (during)
NAMES, TOPIC_OF, BOUNDS = ["payments", "logs"], [0, 0, 1], [10.0, 50.0, 80.0, 100.0]


def row(partition: int, records: int, send: tuple[float, float]) -> Row:
    return Row(fleet=0, partition=partition, seq=0, records=records,
               bytes_uncompressed=records * 100, bytes_compressed=records * 10,
               send_first=send[0], send_last=send[1])


def fold() -> tuple[Recorder, TopicFold]:
    recorder = Recorder()
    return recorder, TopicFold(recorder, names=NAMES, topic_of=TOPIC_OF, bounds=BOUNDS)


def test_each_row_counts_for_the_topic_of_its_partition_in_every_cluster():
    recorder, f = fold()
    assert [f.topic(p) for p in (0, 1, 2, 3, 4, 5)] == [0, 0, 1, 0, 0, 1]  # copies: p + 3k
    recorder.emit(ProduceAcked(20.0, "a", 0, (row(0, 4, (19.0, 19.5)), row(2, 3, (19.0, 19.0)))))
    recorder.emit(ProduceAcked(21.0, "a", 0, (row(4, 2, (20.0, 20.0)),)))   # a copy of 1
    recorder.emit(Delivered(22.0, "a", 1, (row(1, 5, (21.0, 21.0)),)))
    recorder.emit(ProduceFailed(23.0, "a", 0, (row(2, 6, (22.0, 22.0)),), "fail",
                                 "NotEnoughReplicas"))
    recorder.emit(ProduceFailed(23.0, "a", 0, (row(0, 7, (22.0, 22.0)),), "info",
                                 "request timeout"))
    report = f.report({0: (5, 500), 3: (1, 100), 2: (2, 200)},
                      {TOPIC_REPLICATION_COUNTER + "logs": 4096, "other": 9})
    payments, logs = report["payments"], report["logs"]
    assert {k: payments[k] for k in ("acked_records", "acked_bytes", "delivered_records",
                                     "delivered_bytes", "failed_records", "info_records",
                                     "lost_records", "lost_bytes",
                                     "replication_cross_region_bytes")} == {
        "acked_records": 6, "acked_bytes": 600, "delivered_records": 5,
        "delivered_bytes": 500, "failed_records": 0, "info_records": 7,
        "lost_records": 6, "lost_bytes": 600, "replication_cross_region_bytes": 0}
    assert (logs["acked_records"], logs["failed_records"], logs["info_records"],
            logs["lost_records"], logs["replication_cross_region_bytes"]) == (3, 6, 0, 2, 4096)


def test_latencies_spread_over_each_rows_send_window_in_the_phase_each_record_was_sent():
    recorder, f = fold()
    recorder.emit(ProduceAcked(20.0, "a", 0, (row(0, 4, (19.0, 19.5)),)))    # before
    recorder.emit(ProduceAcked(9.5, "a", 0, (row(1, 1, (9.0, 9.0)),)))       # warmup
    recorder.emit(Delivered(60.0, "a", 1, (row(2, 2, (49.5, 50.5)),)))       # across
    h = f.report({}, {})
    before = h["payments"]["histograms"][("publish", "before")]
    assert (before.count, before.min, before.max) == (4.0, 0.5, 1.0)
    assert before.mean == pytest.approx(0.75)
    warmup = h["payments"]["histograms"][("publish", "warmup")]
    assert (warmup.count, warmup.min) == (1.0, 0.5)
    # the window crosses the fault's start at 50 s: half its records were sent before
    e2e = h["logs"]["histograms"]
    assert e2e[("e2e", "before")].count == 1.0 and e2e[("e2e", "during")].count == 1.0
    assert (e2e[("e2e", "before")].min, e2e[("e2e", "before")].max) == (10.0, 10.5)
    assert (e2e[("e2e", "during")].min, e2e[("e2e", "during")].max) == (9.5, 10.0)


def test_without_losses_by_partition_the_topics_losses_are_unknown():
    _recorder, f = fold()
    report = f.report({0: (5, 500)}, {}, losses_attributed=False)
    assert (report["payments"]["lost_records"], report["payments"]["lost_bytes"]) == (
        None, None)
