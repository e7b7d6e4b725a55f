"""PartitionTimeline (geosim.metrics.partitions) on hand-built events, with exact values:
offline windows, leader changes, the per-bin series and the parts of a leader failover
(detection, election, client)."""

from __future__ import annotations

import numpy as np

from geosim.core.events import (
    BrokerFenced,
    ClientsAttached,
    FaultStarted,
    PartitionChanged,
    ProduceAcked,
    Row,
)
from geosim.metrics.partitions import Failover, PartitionTimeline


def changed(t, p, region, *, isr=3, under=False, reason="test"):
    return PartitionChanged(t, p, region, isr, under, reason)


def row(partition: int, send_first: float) -> Row:
    return Row(0, partition, 0, 1, 1, 1, send_first, send_first)


def test_offline_windows_and_leader_changes():
    tl = PartitionTimeline()
    for p in range(3):
        tl.on_partition(changed(0.0, p, "a"))          # initial: no change
    tl.on_partition(changed(1.0, 0, "a"))              # the same region: no change
    tl.on_partition(changed(2.0, 0, None))             # offline: a change (of 5)
    tl.on_partition(changed(3.0, 0, None))             # still offline since 2.0
    tl.on_partition(changed(5.0, 0, "b"))              # back: a change
    tl.on_partition(changed(4.0, 1, None))             # offline to the end
    tl.on_partition(changed(4.0, 2, None))
    tl.on_partition(changed(6.5, 2, "a"))
    report = tl.report()
    assert report.partitions == 3 and report.leader_changes == 5
    # sorted by start, then partition (an open one, ending None, among them)
    assert report.offline_windows == [(0, 2.0, 5.0), (1, 4.0, None), (2, 4.0, 6.5)]
    assert report.failover == Failover()


def test_no_partition_event_no_report_and_no_series():
    tl = PartitionTimeline()
    assert tl.report() is None and tl.series(["a"], 3, 1.0) == []


def test_series_hold_each_bins_end_state():
    tl = PartitionTimeline()
    tl.on_partition(changed(0.0, 0, "a", isr=3))
    tl.on_partition(changed(0.0, 1, "b", isr=2, under=True))
    tl.on_partition(changed(1.0, 1, None, isr=1, under=True))   # exactly at bin 1's start
    tl.on_partition(changed(1.5, 0, "b", isr=2))
    tl.on_partition(changed(2.9, 1, "b", isr=3))
    out = {(r, m): list(v) for r, m, v in tl.series(["a", "b", "c"], 4, 1.0)}
    assert out[("all", "offline_partitions")] == [0, 1, 0, 0]
    assert out[("all", "under_min_isr_partitions")] == [1, 1, 0, 0]
    assert out[("all", "isr_size_mean")] == [2.5, 1.5, 2.5, 2.5]
    assert out[("a", "leaders")] == [1, 0, 0, 0]
    assert out[("b", "leaders")] == [1, 1, 2, 2]
    assert out[("c", "leaders")] == [0, 0, 0, 0]              # never led anything
    late = PartitionTimeline()
    late.on_partition(changed(1.5, 0, "a", isr=3))            # nothing known in bin 0
    assert list(late.series(["a"], 2, 1.0)[2][2]) == [0.0, 3.0]
    assert np.array_equal(tl.series([], 1, 10.0)[0][2], np.array([0.0]))
    wide = {(r, m): list(v) for r, m, v in tl.series(["a", "b"], 2, 2.0)}   # 0-2, 2-4 s
    assert wide[("all", "offline_partitions")] == [1, 0]
    assert wide[("all", "isr_size_mean")] == [1.5, 2.5]
    assert wide[("b", "leaders")] == [1, 2]


def failover_timeline(*, base: int = 0) -> PartitionTimeline:
    tl = PartitionTimeline()
    tl.on_partition(changed(0.0, 4, "a"))
    tl.on_partition(changed(0.0, 5, "a"))
    tl.on_fenced(BrokerFenced(5.0, 1, "z", True))     # before any fault: not detection
    tl.on_fault(FaultStarted(10.0, fault=0, kind="region-outage", target="a"))
    tl.on_fault(FaultStarted(12.0, fault=1, kind="region-outage", target="b"))
    tl.on_fenced(BrokerFenced(15.0, 1, "z", False))   # an unfencing: not detection
    tl.on_fenced(BrokerFenced(16.0, 1, "z", True))
    tl.on_fenced(BrokerFenced(17.0, 2, "z", True))    # the first fencing counts
    return tl


def test_failover_parts_from_the_first_fault_fencing_election_and_ack():
    tl = failover_timeline()
    tl.on_clients(ClientsAttached(0.0, "a", (0,), (), partition_base=4))
    tl.on_partition(changed(18.0, 5, "b", reason="leader restarted"))   # not a failover
    tl.on_acked(ProduceAcked(18.5, "a", 0, (row(1, 11.0),)))            # moved? no
    tl.on_partition(changed(19.0, 4, None, reason="leader fenced"))     # no leader yet
    tl.on_partition(changed(20.0, 4, "b", reason="leader fenced"))
    tl.on_partition(changed(21.0, 5, "b", reason="offline partition"))
    tl.on_acked(ProduceAcked(22.0, "a", 0, (row(0, 9.0),)))    # sent before the fault
    tl.on_acked(ProduceAcked(22.5, "a", 0, (row(3, 10.0),)))   # partition 7: not moved
    tl.on_acked(ProduceAcked(23.0, "a", 0, (row(0, 10.0),)))   # partition 4, sent at 10.0
    tl.on_acked(ProduceAcked(24.0, "a", 0, (row(1, 12.0),)))   # later: the first counts
    f = tl.report().failover
    assert (f.detection_seconds, f.election_seconds, f.client_seconds) == (6.0, 4.0, 3.0)


def test_an_unclean_election_counts_and_acks_before_any_move_do_not():
    tl = failover_timeline()
    tl.on_acked(ProduceAcked(18.0, "a", 0, (row(4, 11.0),)))   # nothing moved yet
    tl.on_partition(changed(19.0, 4, "b", reason="unclean election"))
    tl.on_acked(ProduceAcked(20.0, "a", 0, (row(4, 11.0),)))
    f = tl.report().failover
    assert (f.detection_seconds, f.election_seconds, f.client_seconds) == (6.0, 3.0, 1.0)


def test_no_fencing_no_failover_parts_and_no_election_no_client_part():
    tl = PartitionTimeline()
    tl.on_partition(changed(0.0, 0, "a"))
    tl.on_fault(FaultStarted(10.0, fault=0, kind="region-outage", target="a"))
    tl.on_partition(changed(20.0, 0, "b", reason="leader fenced"))   # no fencing seen
    tl.on_acked(ProduceAcked(21.0, "a", 0, (row(0, 11.0),)))
    assert tl.report().failover == Failover()
    tl = failover_timeline()
    tl.on_acked(ProduceAcked(21.0, "a", 0, (row(4, 11.0),)))
    assert tl.report().failover == Failover(6.0, None, None)
    tl = PartitionTimeline()                                       # no fault at all
    tl.on_partition(changed(0.0, 0, "a"))
    tl.on_fenced(BrokerFenced(5.0, 1, "z", True))
    tl.on_partition(changed(6.0, 0, "b", reason="leader fenced"))
    assert tl.report().failover == Failover()
