"""MetricsCollector on hand-built event sequences, with exact expected numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geosim.core.events import (
    Delivered,
    ObjectCommitted,
    ObjectStored,
    Offered,
    ProduceAcked,
    ProduceFailed,
    Rebalanced,
    Recorder,
    RegionState,
    Row,
)
from geosim.metrics import MetricsCollector, PhaseClock
from geosim.metrics.histogram import LatencyHistogram
from geosim.metrics.phases import add_latencies, sent_before
from geosim.metrics.recovery import rate_recovery_time
from geosim.metrics.timeseries import BinnedSeries
from geosim.metrics.traffic import classify_bytes

INF = math.inf


class Run:
    """A recorder, a collector and helpers to emit hand-built events."""

    def __init__(self, *, regions=("a", "b", "c"), warmup=10.0, faults=(),
                 production_end=200.0, bin_width=1.0, offered=None, **kwargs):
        self.recorder = Recorder()
        self.collector = MetricsCollector(
            self.recorder, regions=list(regions), warmup=warmup, fault_windows=list(faults),
            production_end=production_end, bin_width=bin_width,
            offered_bytes_per_s=offered or {}, **kwargs)
        self._seq: dict[tuple[int, int], int] = {}
        self._offset: dict[int, int] = {}

    def row(self, records=100, *, fleet=1, partition=0, send=(0.0, 0.0), object_id=-1,
            nbytes=None, seq=None, offset=None) -> Row:
        if seq is None:
            seq = self._seq.get((fleet, partition), 0)
            self._seq[(fleet, partition)] = seq + 1
        if offset is None:
            offset = self._offset.get(partition, 0)
            self._offset[partition] = offset + records
        return Row(fleet=fleet, partition=partition, seq=seq, records=records,
                   bytes_uncompressed=10 * records if nbytes is None else nbytes,
                   bytes_compressed=5 * records, send_first=send[0], send_last=send[1],
                   offset=offset, object_id=object_id)

    def emit(self, event) -> None:
        self.recorder.emit(event)

    def store(self, t, object_id, writer, copies, rows, *, ack_at=None, region=None):
        """Store, commit and (optionally) acknowledge an object's rows."""
        self.emit(ObjectStored(t=t, object_id=object_id, writer_region=writer, size=1,
                               copies=tuple(copies.items())))
        self.emit(ObjectCommitted(t=t, object_id=object_id, region=writer, rows=tuple(rows)))
        if ack_at is not None:
            self.emit(ProduceAcked(t=ack_at, region=region or writer, fleet=rows[0].fleet,
                                   rows=tuple(rows)))

    def down(self, t, region):
        self.emit(RegionState(t=t, region=region, up=False))

    def up(self, t, region):
        self.emit(RegionState(t=t, region=region, up=True))

    def destroy(self, t, region):
        self.emit(RegionState(t=t, region=region, up=False, destroyed=True))

    def finish(self, t_end=300.0, **kwargs):
        kwargs.setdefault("bytes_by_pair", {})
        kwargs.setdefault("zone_region", {})
        kwargs.setdefault("counters", {})
        return self.collector.finalize(t_end, **kwargs)


# --- loss and unavailability --------------------------------------------------------

def test_destroyed_region_loses_its_unreplicated_object():
    run = Run(faults=[(100.0, 100.0)])
    rows = [run.row(60, send=(48.0, 49.0), object_id=7), run.row(40, send=(48.5, 49.0),
                                                                  object_id=7, fleet=2)]
    run.store(49.6, 7, "a", {"a": 49.6, "b": 1000.0}, rows)
    run.emit(ProduceAcked(t=50.0, region="a", fleet=1, rows=(rows[0],)))
    run.emit(ProduceAcked(t=50.5, region="a", fleet=2, rows=(rows[1],)))
    run.destroy(100.0, "a")
    report = run.finish()
    assert report.loss.records == 100
    assert report.loss.bytes == 1000
    assert report.loss.rpo_seconds == 50.0       # fault start 100 - oldest lost ack 50
    assert report.loss.by_region["a"].records == 100
    assert report.unavailable.records == 0 and report.unavailable.intervals == []


def test_object_replicated_before_destruction_is_neither_lost_nor_unavailable():
    run = Run(faults=[(100.0, 100.0)])
    rows = [run.row(100, object_id=1)]
    run.store(49.6, 1, "a", {"a": 49.6, "b": 80.0}, rows, ack_at=50.0)
    run.emit(ObjectStored(t=150.0, object_id=2, writer_region="b", size=1,
                          copies=(("b", 150.0),)))  # advances the pruning past t=80
    run.destroy(100.0, "a")
    report = run.finish()
    assert report.loss.records == 0 and report.loss.rpo_seconds == 0.0
    assert report.unavailable.records == 0
    assert run.collector.objects.open_objects <= 1


def test_outage_then_recovery_is_unavailability_without_loss():
    run = Run(faults=[(100.0, 160.0)])
    rows = [run.row(100, object_id=3)]
    run.store(49.6, 3, "a", {"a": 49.6, "b": 1000.0}, rows, ack_at=50.0)
    run.down(100.0, "a")
    run.up(160.0, "a")
    report = run.finish()
    assert report.loss.records == 0
    assert report.unavailable.records == 100
    assert report.unavailable.bytes == 1000
    assert report.unavailable.intervals == [(100.0, 160.0)]
    assert report.unavailable.max_seconds == 60.0
    assert report.unavailable.open_records == 0
    assert report.unavailable.by_region["a"].records == 100


def test_copy_due_during_outage_appears_at_recovery_and_survives_destruction():
    run = Run(faults=[(100.0, 160.0), (170.0, 170.0)])
    rows = [run.row(100, object_id=4)]
    run.store(49.6, 4, "a", {"a": 49.6, "b": 120.0}, rows, ack_at=50.0)
    run.down(100.0, "a")   # the copy to b, due at 120, has no reachable source
    run.up(160.0, "a")     # ... so it is made now
    run.destroy(170.0, "a")
    report = run.finish()
    assert report.loss.records == 0
    assert report.unavailable.intervals == [(100.0, 160.0)]
    assert report.unavailable.records == 100


def test_outage_escalating_to_destruction_counts_as_loss_only():
    run = Run(faults=[(100.0, 100.0)])
    rows = [run.row(100, object_id=5)]
    run.store(49.6, 5, "a", {"a": 49.6, "b": 120.0}, rows, ack_at=50.0)
    run.down(100.0, "a")
    run.destroy(150.0, "a")  # the copy due at 120 was blocked: never made
    report = run.finish()
    assert report.loss.records == 100
    assert report.loss.rpo_seconds == 50.0  # the fault started at 100
    assert report.unavailable.records == 0 and report.unavailable.intervals == []


def test_destination_down_at_copy_time_gets_the_copy_on_recovery():
    run = Run()
    rows = [run.row(100, object_id=6)]
    run.store(49.6, 6, "a", {"a": 49.6, "b": 120.0}, rows, ack_at=50.0)
    run.down(110.0, "b")
    run.up(130.0, "b")      # copy made at 130 (the source a was up)
    run.destroy(140.0, "a")
    report = run.finish()
    assert report.loss.records == 0
    assert report.unavailable.records == 0


@pytest.mark.parametrize("individual", [False, True])
def test_copy_to_a_down_region_is_not_made_before_it_recovers(individual):
    # The copy to b is due at 120 while b is down (110-150): it waits for b. a, the only
    # holder, is destroyed at 140: the copy is never made, the object is lost. RPO:
    # fault start 110 minus the ack at 50. ``individual``: a second committed row is
    # never acknowledged (and the ack grace outlasts the run), so the object stays in
    # per-object form; else it is acknowledged whole and held in a cohort.
    run = Run(faults=[(110.0, 150.0)], ack_grace=1e6 if individual else 300.0)
    rows = [run.row(100, object_id=8)] + ([run.row(1, object_id=8)] if individual else [])
    run.store(49.6, 8, "a", {"a": 49.6, "b": 120.0}, rows)
    run.emit(ProduceAcked(t=50.0, region="a", fleet=1, rows=(rows[0],)))
    assert (run.collector.objects.open_objects, run.collector.objects.cohort_objects) == (
        (1, 0) if individual else (0, 1))
    run.down(110.0, "b")
    run.destroy(140.0, "a")
    run.up(150.0, "b")
    report = run.finish()
    assert report.loss.records == 100
    assert report.loss.rpo_seconds == 60.0
    assert report.unavailable.records == 0


def test_regional_object_is_folded_and_still_counted_in_an_outage():
    run = Run(faults=[(100.0, 130.0)])
    rows = [run.row(70, object_id=8), run.row(30, object_id=8)]
    run.store(49.6, 8, "a", {"a": 49.6}, rows, ack_at=50.0)
    # Every row acked and no copy pending: the object is folded into an aggregate.
    assert run.collector.objects.open_objects == 0
    assert run.collector.objects.groups == 1
    run.down(100.0, "a")
    run.up(130.0, "a")
    run.down(150.0, "a")    # a second outage: same records, counted once
    report = run.finish(t_end=170.0)
    assert report.unavailable.records == 100
    assert report.unavailable.intervals == [(100.0, 130.0), (150.0, 170.0)]
    assert report.unavailable.open_records == 100
    assert report.unavailable.max_seconds == 30.0
    assert report.loss.records == 0


def test_fully_replicated_object_unavailable_only_while_both_regions_are_down():
    run = Run(faults=[(100.0, 140.0)])
    rows = [run.row(100, object_id=9)]
    run.store(49.6, 9, "a", {"a": 49.6, "b": 55.0}, rows, ack_at=50.0)
    run.down(100.0, "b")
    run.down(110.0, "a")
    run.up(130.0, "a")
    run.up(140.0, "b")
    report = run.finish()
    assert report.unavailable.intervals == [(110.0, 130.0)]
    assert report.unavailable.records == 100
    assert report.loss.records == 0


def test_rows_acked_while_unreadable_are_counted_without_crashing():
    run = Run()
    rows = [run.row(100, object_id=10), run.row(50, object_id=10)]
    run.store(49.6, 10, "a", {"a": 49.6, "b": 1000.0}, rows)
    run.emit(ProduceAcked(t=50.0, region="a", fleet=1, rows=(rows[0],)))
    run.down(60.0, "a")
    run.emit(ProduceAcked(t=61.0, region="a", fleet=1, rows=(rows[1],)))
    run.up(70.0, "a")
    report = run.finish()
    assert report.unavailable.records == 150
    assert report.unavailable.intervals == [(60.0, 70.0)]


def test_unrelated_and_unacked_objects_are_not_counted():
    run = Run()
    run.store(49.6, 11, "a", {"a": 49.6, "b": 1000.0}, [run.row(100, object_id=11)])  # no ack
    rows = [run.row(100, object_id=12)]
    run.store(49.6, 12, "c", {"c": 49.6, "b": 1000.0}, rows, ack_at=50.0)
    run.destroy(100.0, "a")
    run.emit(ProduceAcked(t=101.0, region="c", fleet=1, rows=(run.row(5),)))  # no object
    report = run.finish()
    assert report.loss.records == 0
    assert report.unavailable.records == 0
    assert report.loss.untracked_records == 5


def test_per_object_state_is_pruned_after_replication():
    run = Run(bin_width=10.0, production_end=10_000.0)
    for i in range(1000):
        t = 20.0 + i
        rows = [run.row(10, object_id=i)]
        run.store(t, i, "a", {"a": t, "b": t + 30.0}, rows, ack_at=t + 0.1)
    # Acknowledged objects wait for their copy to b in a compact cohort, and only
    # those whose copy is still pending (the last 30 s, plus one sweep) are kept.
    assert run.collector.objects.open_objects == 0
    assert run.collector.objects.cohort_objects <= 36
    assert run.collector.objects.groups == 1
    # Once every copy is made, no cohort is held at all (emptied ones are forgotten).
    run.collector.objects.advance(1100.0)
    assert (run.collector.objects.cohort_objects, run.collector.objects.cohorts) == (0, 0)
    run.destroy(2000.0, "a")
    report = run.finish(t_end=2100.0)
    assert report.loss.records == 0


def test_late_acks_for_an_object_lost_earlier_count_as_lost():
    run = Run(faults=[(100.0, 100.0)])
    rows = [run.row(100, object_id=13), run.row(20, object_id=13)]
    run.store(49.6, 13, "a", {"a": 49.6, "b": 1000.0}, rows)
    run.emit(ProduceAcked(t=50.0, region="a", fleet=1, rows=(rows[0],)))
    run.destroy(100.0, "a")
    run.emit(ProduceAcked(t=101.0, region="a", fleet=1, rows=(rows[1],)))
    report = run.finish()
    assert report.loss.records == 120
    assert report.loss.rpo_seconds == 50.0


# --- latency -----------------------------------------------------------------------------

def test_publish_and_e2e_latency_of_a_known_smear():
    run = Run(regions=("a", "b"), warmup=10.0)
    row_a = run.row(1000, send=(20.0, 21.0))
    row_b = run.row(1000, send=(30.0, 30.5))
    run.emit(ProduceAcked(t=22.0, region="a", fleet=1, rows=(row_a,)))   # uniform [1, 2]
    run.emit(ProduceAcked(t=31.5, region="b", fleet=1, rows=(row_b,)))   # uniform [1, 1.5]
    run.emit(Delivered(t=23.0, region="b", group=1, rows=(row_a,)))  # [2, 3]
    report = run.finish()
    pub_a = report.latency("publish", "a", "before")
    assert pub_a.count == 1000
    assert pub_a.quantile(0.5) == pytest.approx(1.5, rel=1e-9)
    assert pub_a.quantile(0.99) == pytest.approx(1.99, rel=1e-9)
    assert pub_a.max == 2.0 and pub_a.mean == pytest.approx(1.5)
    pub_all = report.latency("publish", "all", "before")
    assert pub_all.count == 2000
    # 1000 records uniform on [1, 2] and 1000 on [1, 1.5]: density 3000/s on [1, 1.5].
    assert pub_all.quantile(0.5) == pytest.approx(1 + 1000 / 3000, rel=1e-9)
    e2e = report.latency("e2e", "b", "before")
    assert e2e.quantile(0.5) == pytest.approx(2.5, rel=1e-9) and e2e.count == 1000
    assert report.latency("e2e", "a", "before").empty


def test_latency_sample_phase_is_the_phase_of_its_send_time():
    run = Run(regions=("a",), warmup=10.0, faults=[(100.0, 150.0)], production_end=200.0)
    for send, ack in [(5.0, 5.5), (50.0, 50.2), (99.9, 100.4), (120.0, 121.0), (170.0, 170.1)]:
        run.emit(ProduceAcked(t=ack, region="a", fleet=1, rows=(run.row(10, send=(send, send)),)))
    report = run.finish()
    counts = {phase: report.latency("publish", "a", phase).count
              for phase in ("warmup", "before", "during", "after", "drain")}
    assert counts == {"warmup": 10, "before": 20, "during": 10, "after": 10, "drain": 0}
    assert report.latency("publish", "a", "before").max == pytest.approx(0.5)


def test_a_send_window_across_the_fault_start_counts_each_record_in_its_own_phase():
    # A producer held 10 records sent from 95 s (before the fault at 100 s) to 105 s and
    # was answered at 130 s: 5 were sent before the fault, 5 during it.
    run = Run(regions=("a",), warmup=10.0, faults=[(100.0, 150.0)], production_end=200.0)
    held = run.row(10, send=(95.0, 105.0))
    run.emit(ProduceAcked(t=130.0, region="a", fleet=1, rows=(held,)))
    run.emit(Delivered(t=131.0, region="a", group=1, rows=(held,)))
    report = run.finish()
    before = report.latency("publish", "a", "before")
    during = report.latency("publish", "a", "during")
    assert (before.count, during.count) == (5, 5)
    assert (before.min, before.max) == (30.0, 35.0)   # sent over [95, 100)
    assert (during.min, during.max) == (25.0, 30.0)   # sent over [100, 105]
    assert report.latency("e2e", "a", "before").count == 5
    assert report.latency("e2e", "a", "during").count == 5


def test_a_send_window_across_several_phase_bounds_is_cut_at_each():
    # warmup ends at 10 s, the fault lasts from 12 s to 14 s: 8 records sent from 8 s to
    # 16 s fall 2 / 2 / 2 / 2 in warmup / before / during / after
    run = Run(regions=("a",), warmup=10.0, faults=[(12.0, 14.0)], production_end=200.0)
    run.emit(ProduceAcked(t=20.0, region="a", fleet=1, rows=(run.row(8, send=(8.0, 16.0)),)))
    report = run.finish()
    counts = [report.latency("publish", "a", phase).count
              for phase in ("warmup", "before", "during", "after", "drain")]
    assert counts == [2, 2, 2, 2, 0]
    assert report.latency("publish", "a", "after").min == 4.0  # sent at 16 s


def test_a_window_ending_at_a_bound_was_sent_before_it():
    # the producers' last rows end at the end of production: nothing is sent in the drain
    run = Run(regions=("a",), warmup=10.0, production_end=200.0)
    run.emit(ProduceAcked(t=200.1, region="a", fleet=1,
                          rows=(run.row(10, send=(199.0, 200.0)),)))
    report = run.finish()
    assert report.latency("publish", "a", "before").count == 10
    assert report.latency("publish", "a", "drain").empty


@given(first=st.floats(0.0, 100.0), width=st.floats(0.0, 50.0),
       records=st.integers(1, 500),
       bounds=st.lists(st.floats(0.0, 160.0), min_size=1, max_size=4).map(sorted))
def test_a_rows_records_are_shared_out_whole_over_its_phases(first, width, records, bounds):
    last = first + width
    shares = [sent_before(first, last, records, b) for b in bounds]
    assert all(0 <= a <= b <= records for a, b in zip([0, *shares], shares, strict=False))
    for b, share in zip(bounds, shares, strict=True):
        if width > 0 and first < b < last:  # within half a record of the window's share
            assert abs(share - records * (b - first) / width) <= 0.5
        elif b <= first:
            assert share == 0
        elif b > last:
            assert share == records


@given(windows=st.lists(st.tuples(st.floats(0.0, 200.0), st.floats(0.0, 60.0),
                                  st.integers(1, 1000)), min_size=1, max_size=6),
       cuts=st.lists(st.floats(0.0, 260.0), min_size=4, max_size=4).map(sorted))
def test_cutting_windows_at_phase_bounds_keeps_every_record_once(windows, cuts):
    # each record lands in exactly one phase, at a latency within its row's spread
    histograms = [LatencyHistogram() for _ in range(5)]
    rows = [Row(fleet=0, partition=i, seq=0, records=n, bytes_uncompressed=n,
                bytes_compressed=n, send_first=first, send_last=first + width)
            for i, (first, width, n) in enumerate(windows)]
    t = 300.0
    add_latencies(histograms, cuts, t, rows)
    assert sum(h.count for h in histograms) == pytest.approx(sum(r.records for r in rows))
    lo = min(t - r.send_last for r in rows)
    hi = max(t - r.send_first for r in rows)
    for phase, h in enumerate(histograms):
        if h.count:
            assert lo - 1e-9 <= h.min and h.max <= hi + 1e-9
            # a phase holds only records sent inside it
            start = cuts[phase - 1] if phase else -math.inf
            end = cuts[phase] if phase < len(cuts) else math.inf
            assert t - end - 1e-9 <= h.min and h.max <= t - start + 1e-9


def test_a_row_held_across_the_fault_start_is_a_first_success():
    # the first ack after the fault carries a row whose last records were sent after it
    run = Run(regions=("a",), warmup=10.0, faults=[(100.0, 120.0)], production_end=200.0)
    run.emit(ProduceAcked(t=50.0, region="a", fleet=1, rows=(run.row(10, send=(49.0, 49.5)),)))
    run.emit(ProduceAcked(t=125.0, region="a", fleet=1,
                          rows=(run.row(10, send=(99.0, 101.0)),)))
    report = run.finish()
    assert report.rto["a"]["producers"].first_success == pytest.approx(25.0)


def test_phase_clock_boundaries():
    clock = PhaseClock.build(10.0, [(100.0, 150.0), (120.0, 120.0)], 200.0)
    # The destruction at 120 lasts until production ends.
    assert clock.bounds == (10.0, 100.0, 200.0, 200.0)
    assert [clock.phase(t) for t in (0.0, 10.0, 99.0, 100.0, 199.0, 200.0)] == [
        "warmup", "before", "before", "during", "during", "drain"]
    steady = PhaseClock.build(10.0, [], 200.0)
    assert [steady.phase(t) for t in (5.0, 50.0, 250.0)] == ["warmup", "before", "drain"]
    assert steady.span("before") == (10.0, 200.0)


# --- time series ---------------------------------------------------------------------------

def test_timeseries_bins_and_availability():
    run = Run(regions=("a",), bin_width=10.0, production_end=30.0)
    run.emit(Offered(t=5.0, region="a", fleet=1, records=100, bytes_uncompressed=1000))
    run.emit(Offered(t=15.0, region="a", fleet=1, records=100, bytes_uncompressed=1000))
    run.emit(ProduceAcked(t=6.0, region="a", fleet=1, rows=(run.row(50, nbytes=500),)))
    run.emit(ProduceAcked(t=16.0, region="a", fleet=1, rows=(run.row(100, nbytes=1000),)))
    run.emit(ProduceFailed(t=7.0, region="a", fleet=1, rows=(run.row(30),), outcome="fail",
                           reason="x"))
    run.emit(ProduceFailed(t=8.0, region="a", fleet=1, rows=(run.row(20),), outcome="info",
                           reason="timeout"))
    run.emit(Delivered(t=17.0, region="a", group=1, rows=(run.row(100),)))
    report = run.finish(t_end=30.0)
    frame = report.timeseries
    assert list(frame.columns) == ["t", "region", "metric", "value"]

    def series(metric):
        rows = frame[(frame.region == "a") & (frame.metric == metric)]
        return dict(zip(rows.t, rows.value, strict=True))

    assert series("acked_bytes") == {0.0: 500.0, 10.0: 1000.0, 20.0: 0.0}
    assert series("availability") == {0.0: 0.5, 10.0: 1.0}
    assert series("failed_records")[0.0] == 30.0 and series("info_records")[0.0] == 20.0
    assert series("delivered_records")[10.0] == 100.0
    assert report.totals["a"]["offered_records"] == 200
    assert report.totals["all"]["acked_records"] == 150
    # "all" totals every column the regions total, as their sum
    regions = [name for name in report.totals if name != "all"]
    assert set(report.totals["all"]) == set(report.totals["a"])
    for metric, value in report.totals["all"].items():
        assert value == sum(report.totals[name][metric] for name in regions), metric
    assert report.totals["all"]["delivered_bytes"] == report.totals["a"]["delivered_bytes"] > 0


def test_availability_falls_back_to_the_nominal_offered_rate():
    run = Run(regions=("a",), bin_width=10.0, production_end=25.0, offered={"a": 100.0})
    run.emit(ProduceAcked(t=6.0, region="a", fleet=1, rows=(run.row(50, nbytes=500),)))
    frame = run.finish(t_end=30.0).timeseries
    avail = frame[frame.metric == "availability"]
    assert dict(zip(avail.t, avail.value, strict=True)) == {0.0: 0.5, 10.0: 0.0, 20.0: 0.0}



def test_a_region_without_offered_events_reports_its_nominal_load_as_offered_bytes():
    """Mutation round six: only the availability of the nominal fallback was checked.
    Nominal 100 B/s for both regions, production ending at 25 s, 10 s bins: region a
    emits no ``Offered``, so its offered bytes are the nominal load over each bin's
    part before the end of production (1,000, 1,000, 500; 2,500 in the totals); b's
    are what it offered (700 in the first bin). Both availabilities are against the
    nominal load: 500 / 1,000 and 200 / 1,000."""
    run = Run(regions=("a", "b"), bin_width=10.0, production_end=25.0,
              offered={"a": 100.0, "b": 100.0})
    run.emit(Offered(t=5.0, region="b", fleet=2, records=70, bytes_uncompressed=700))
    run.emit(ProduceAcked(t=6.0, region="a", fleet=1, rows=(run.row(50, nbytes=500),)))
    run.emit(ProduceAcked(t=7.0, region="b", fleet=2,
                          rows=(run.row(20, nbytes=200, fleet=2),)))
    report = run.finish(t_end=30.0)
    frame = report.timeseries

    def series(region, metric):
        rows = frame[(frame.region == region) & (frame.metric == metric)]
        return dict(zip(rows.t, rows.value, strict=True))

    assert series("a", "offered_bytes") == {0.0: 1000.0, 10.0: 1000.0, 20.0: 500.0}
    assert series("a", "offered_records") == {0.0: 0.0, 10.0: 0.0, 20.0: 0.0}
    assert series("b", "offered_bytes") == {0.0: 700.0, 10.0: 0.0, 20.0: 0.0}
    assert series("a", "availability") == {0.0: 0.5, 10.0: 0.0, 20.0: 0.0}
    assert series("b", "availability") == {0.0: 0.2, 10.0: 0.0, 20.0: 0.0}
    assert report.totals["a"]["offered_bytes"] == 2500
    assert report.totals["b"]["offered_bytes"] == 700
    assert report.totals["all"]["offered_bytes"] == 3200

# --- RTO ------------------------------------------------------------------------------------

def _steady_run(drop=(100, 120), fault=100.0, recover_rate=1000, **kwargs):
    """One ack and one delivery of 1000 bytes per second, none while ``drop``."""
    run = Run(regions=("a", "b"), warmup=10.0, faults=[(fault, fault + 20.0)],
              production_end=200.0, **kwargs)
    for second in range(0, 200):
        if drop[0] <= second < drop[1]:
            continue
        nbytes = 1000 if second < drop[0] else recover_rate
        row = run.row(100, nbytes=nbytes, send=(second + 0.1, second + 0.2))
        run.emit(ProduceAcked(t=second + 0.5, region="a", fleet=1, rows=(row,)))
        run.emit(Delivered(t=second + 0.7, region="a", group=1, rows=(row,)))
    return run


def test_rto_first_success_and_rate_recovery():
    report = _steady_run().finish()
    producers = report.rto["a"]["producers"]
    assert producers.first_success == pytest.approx(20.5)  # ack at 120.5 of a row sent 120.1
    assert producers.baseline_bytes_per_s == pytest.approx(1000.0)
    assert producers.rate_recovered == pytest.approx(20.0)  # bins from 120 on are back
    assert producers.longest_gap == pytest.approx(21.0)     # 99.5 -> 120.5
    consumers = report.rto["a"]["consumers"]
    assert consumers.first_success == pytest.approx(20.7)
    assert consumers.rate_recovered == pytest.approx(20.0)
    # Region b has neither producers nor consumers: no baseline, no RTO.
    assert report.rto["b"]["producers"].rate_recovered is None
    assert report.rto["b"]["producers"].first_success is None


def test_rto_when_the_rate_never_drops_or_never_recovers():
    never_dropped = _steady_run(drop=(0, 0)).finish()
    assert never_dropped.rto["a"]["producers"].rate_recovered == 0.0
    never_back = _steady_run(recover_rate=500).finish()   # half the rate after the fault
    assert never_back.rto["a"]["producers"].rate_recovered is None
    assert never_back.rto["a"]["producers"].first_success == pytest.approx(20.5)


def test_rate_recovery_requires_a_sustained_return():
    base = np.full(200, 100.0)
    base[100:110] = 0.0
    base[110:114] = 100.0   # a 4-bin blip: not sustained
    base[114:118] = 0.0
    assert rate_recovery_time(base, 1.0, 100.0, 200.0, 100.0) == 18.0
    base[118] = 450.0       # a catch-up burst right after the outage ...
    base[119:] = 100.0
    # ... averages with the silent bins before it to the baseline, but the windows
    # after it are above the band: recovered once they are back inside it.
    assert rate_recovery_time(base, 1.0, 100.0, 200.0, 100.0) == 19.0
    base[118:] = 150.0      # an overshoot is not "within 10 %"
    base[130:] = 105.0
    assert rate_recovery_time(base, 1.0, 100.0, 200.0, 100.0) == 30.0
    base[130:] = 50.0       # never back
    assert rate_recovery_time(base, 1.0, 100.0, 200.0, 100.0) is None
    assert rate_recovery_time(base, 1.0, 100.0, 200.0, None) is None


def test_rate_recovery_time_in_bins_other_than_one_second():
    # The same outage in half-second bins: bins hold half the records, the time is the
    # same (bins 200-219 silent: 100 s to 110 s; back within 10 % from 110 s).
    base = np.full(400, 50.0)
    base[200:220] = 0.0
    assert rate_recovery_time(base, 0.5, 100.0, 200.0, 100.0) == 10.0
    base = np.full(100, 400.0)   # 2-second bins
    base[50:55] = 0.0
    assert rate_recovery_time(base, 2.0, 100.0, 200.0, 200.0) == 10.0


def test_flush_quantization_is_not_an_outage():
    # A flush of 250 B every 0.25 s, jittered: a 1 s bin catches 3, 4 or 5 of them.
    rng = np.random.default_rng(3)
    flushes = np.arange(0.0, 300.0, 0.25) + rng.uniform(-0.12, 0.12, size=1200)
    bins = 250.0 * np.histogram(flushes, bins=np.arange(301.0))[0]
    assert set(bins[1:-1]) == {750.0, 1000.0, 1250.0}
    assert rate_recovery_time(bins, 1.0, 100.0, 300.0, 1000.0) == 0.0
    bins[150:160] = 0.0   # a real 10 s outage
    assert rate_recovery_time(bins, 1.0, 100.0, 300.0, 1000.0) == 60.0


def test_no_fault_means_no_rto_but_a_gap():
    run = Run(regions=("a",))
    for t in (20.0, 25.0, 40.0):
        run.emit(ProduceAcked(t=t, region="a", fleet=1, rows=(run.row(1, send=(t, t)),)))
    rto = run.finish().rto["a"]["producers"]
    assert rto.first_success is None and rto.rate_recovered is None
    assert rto.longest_gap == 160.0   # from the last ack to the end of production


# --- checks -----------------------------------------------------------------------------------

def _deliver(run, t, *rows, group=1):
    run.emit(Delivered(t=t, region="a", group=group, rows=tuple(rows)))


def test_duplicate_and_skip_detection_on_deliveries():
    run = Run()
    mk = lambda offset, n: run.row(n, offset=offset, seq=0)  # noqa: E731
    _deliver(run, 1.0, mk(100, 10), mk(110, 10))
    _deliver(run, 2.0, mk(105, 10))     # re-reads 105..114: 10 records again
    _deliver(run, 3.0, mk(115, 5))      # still re-reading 115..119
    _deliver(run, 4.0, mk(120, 10))     # caught up
    _deliver(run, 5.0, mk(140, 10))     # skips 130..139
    _deliver(run, 6.0, mk(100, 10), group=2)   # another group: independent
    checks = run.finish().checks
    assert checks.duplicates == 15
    assert checks.skips == 10
    assert checks.redelivered_after_rebalance == 0


def test_redelivery_after_rebalance_is_counted_separately():
    run = Run()
    mk = lambda offset, n: run.row(n, offset=offset, seq=0)  # noqa: E731
    _deliver(run, 1.0, mk(0, 10), mk(10, 10), mk(20, 10))
    partition = mk(0, 1).partition
    run.emit(Rebalanced(t=2.0, group=1, members=(1,), reason="member left",
                        reassigned=(partition,)))
    _deliver(run, 3.0, mk(10, 10))      # resumed from the committed offset 10
    _deliver(run, 4.0, mk(20, 10), mk(30, 10))
    _deliver(run, 5.0, mk(25, 5))       # later re-read, no rebalance: a duplicate
    checks = run.finish().checks
    assert checks.redelivered_after_rebalance == 20
    assert checks.duplicates == 5
    assert checks.skips == 0


def test_a_rebalance_that_does_not_name_a_partition_leaves_its_re_reads_duplicates():
    """The re-delivery exemption is per partition: a rebalance of the group that does
    not resume this partition from its commit (another partition moved) does not
    excuse a re-read of it."""
    run = Run()
    mk = lambda offset, n: run.row(n, offset=offset, seq=0)  # noqa: E731
    _deliver(run, 1.0, mk(0, 10), mk(10, 10))
    partition = mk(0, 1).partition
    run.emit(Rebalanced(t=2.0, group=1, members=(1,), reason="member left",
                        reassigned=(partition + 1,)))
    _deliver(run, 3.0, mk(10, 10))      # read again, its partition never resumed
    checks = run.finish().checks
    assert (checks.redelivered_after_rebalance, checks.duplicates) == (0, 10)


def test_reorder_and_duplicate_write_detection_on_acks():
    run = Run()

    def ack(seq, offset, records=10, fleet=1):
        row = run.row(records, fleet=fleet, seq=seq, offset=offset)
        run.emit(ProduceAcked(t=1.0, region="a", fleet=fleet, rows=(row,)))

    ack(0, 0)
    ack(2, 20)
    ack(1, 10)      # late ack, consistent: fine
    ack(3, 15)      # later seq at a lower offset than seq 2: reorder
    ack(1, 40)      # seq 1 again at another offset: duplicate write of 10 records
    ack(2, 20)      # idempotent re-ack at the same offset: fine
    ack(0, 5, fleet=2)  # another fleet: independent
    checks = run.finish().checks
    assert checks.reorders == 1
    assert checks.duplicate_writes == 10


def test_ack_check_memory_is_bounded_by_its_window():
    run = Run(check_window=8)
    for seq in range(100):
        row = run.row(1, seq=seq, offset=seq)
        run.emit(ProduceAcked(t=1.0, region="a", fleet=1, rows=(row,)))
    seqs = run.collector.checks._acks[(1, 0)][0]
    assert 8 <= len(seqs) <= 16 and seqs[-1] == 99
    run.emit(ProduceAcked(t=2.0, region="a", fleet=1, rows=(run.row(1, seq=3, offset=200),)))
    assert run.finish().checks.reorders == 1   # too old to tell: reported as a reorder


# --- bytes ------------------------------------------------------------------------------------

def test_bytes_are_classified_by_region_and_zone():
    zone_region = {"a-1": "a", "a-2": "a", "b-1": "b", "a": "a"}
    traffic = classify_bytes({
        ("a-1", "b-1", "replicate"): 300,
        ("b-1", "a-2", "consume"): 100,
        ("a-1", "a-2", "produce"): 50,
        ("a-2", "a-1", "produce"): 25,
        ("a-1", "a-1", "produce"): 999,   # intra-zone: free, not reported
        ("a-1", "a", "object_put"): 70,   # to the region's own service endpoint: neither
    }, zone_region, period=100.0)
    assert traffic.cross_region.total == 400
    assert traffic.cross_region.by_pair == {"a->b": 300, "b->a": 100}
    assert traffic.cross_region.by_purpose == {"consume": 100, "replicate": 300}
    assert traffic.cross_region.rate == 4.0
    assert traffic.inter_zone.total == 75
    assert traffic.inter_zone.by_pair == {"a-1->a-2": 50, "a-2->a-1": 25}
    assert traffic.inter_zone.by_purpose == {"produce": 75}
    with pytest.raises(KeyError, match="zz"):
        classify_bytes({("a-1", "zz", "x"): 1}, zone_region, 1.0)


def test_finalize_passes_bytes_and_counters_through():
    run = Run(regions=("a", "b"), production_end=100.0)
    report = run.finish(bytes_by_pair={("a", "b", "mirror"): 1000},
                        zone_region={"a": "a", "b": "b"}, counters={"object_puts": 3})
    assert report.traffic.cross_region.total == 1000
    assert report.traffic.cross_region.rate == 10.0
    assert report.counters == {"object_puts": 3}


# --- the fold against a brute-force reference -----------------------------------------------

def _reference(objects, region_events, t_end):
    """Per-object replay of the availability definitions, without any pruning."""
    lost_records, rpo, unavailable, open_records = 0, 0.0, 0, 0
    intervals = []
    for t_store, writer, copies, records in objects:
        state = {r: "up" for r in "abc"}
        for t, region, kind in region_events:
            if t < t_store:
                state[region] = "destroyed" if kind == "destroy" else kind
        existing = {writer}
        moments = sorted([(c, 0, r, None) for r, c in copies.items() if c < INF] +
                         [(t, 1, r, k) for t, r, k in region_events if t > t_store])
        blocked, since, counted, lost = set(), None, False, False
        t_ack = t_store + 0.1

        def readable():
            return any(state[e] == "up" for e in existing)  # noqa: B023

        for t, is_event, region, kind in moments:
            if not is_event:
                if state[region] == "destroyed" or not existing:
                    continue
                (existing if state[region] == "up" and readable() else blocked).add(region)
                continue
            state[region] = "destroyed" if kind == "destroy" else kind
            if kind == "destroy":
                existing.discard(region)
                blocked.discard(region)
                if not existing:
                    lost = True
                    lost_records += records
                    rpo = max(rpo, t - t_ack)
                    if counted:
                        unavailable -= records
                    break
            if kind == "up":
                changed = True
                while changed:
                    changed = False
                    for b in sorted(blocked):
                        if state[b] == "up" and readable():
                            existing.add(b)
                            blocked.discard(b)
                            changed = True
            if not readable() and since is None:
                since = t
                if not counted:
                    unavailable += records
                    counted = True
            elif readable() and since is not None:
                intervals.append((since, t))
                since = None
        if since is not None and not lost:
            intervals.append((since, t_end))
            open_records += records
    union = []
    for start, end in sorted(intervals):
        if union and start <= union[-1][1]:
            union[-1] = (union[-1][0], max(union[-1][1], end))
        else:
            union.append((start, end))
    longest = max((end - start for start, end in intervals), default=0.0)
    return lost_records, rpo, unavailable, union, open_records, longest


_region_events = st.lists(
    st.tuples(st.integers(1, 60), st.sampled_from("abc"),
              st.sampled_from(["down", "up", "down", "up", "destroy"])), max_size=16)
_objects = st.lists(
    st.tuples(st.integers(0, 59), st.sampled_from("abc"),
              st.dictionaries(st.sampled_from("abc"),
                              st.sampled_from([0.3, 2.2, 6.7, 13.1, 31.4, INF]), max_size=3),
              st.integers(1, 100)), max_size=40)


@settings(max_examples=300, deadline=None)
@given(_region_events, _objects, st.sampled_from([0.5, 5.0]), st.booleans())
def test_fold_matches_a_per_object_reference(raw_events, raw_objects, sweep, individual):
    """``individual``: each object also commits a row that is never acknowledged, and
    the ack grace outlasts the run, so no object is ever released: every copy is
    decided by the per-object path (TrackedObject), never by cohorts or groups."""
    # Keep region events that make sense in order (down when up, up when down, ...).
    state, events = {r: "up" for r in "abc"}, []
    for t, region, kind in sorted(set(raw_events)):
        if state[region] == "destroyed" or (kind == "down") != (state[region] == "up") \
                and kind != "destroy":
            continue
        state[region] = "destroyed" if kind == "destroy" else kind
        events.append((float(t), region, kind))
    # Objects are written only by regions that are up at the time.
    objects = []
    for slot, writer, delays, records in sorted(raw_objects, key=lambda o: o[0]):
        t_store = slot + 0.5
        writer_state = "up"
        for t, region, kind in events:
            if region == writer and t < t_store:
                writer_state = "destroyed" if kind == "destroy" else kind
        if writer_state != "up":
            continue
        copies = {r: t_store + d for r, d in delays.items() if r != writer}
        objects.append((t_store, writer, copies, records))

    run = Run(faults=[(t, t) for t, _, kind in events if kind == "destroy"] or
              [(e[0], e[0]) for e in events[:1]],
              production_end=100.0, ack_grace=1e6 if individual else 300.0)
    run.collector.objects.sweep_interval = sweep
    stream = [(o[0], 0, i) for i, o in enumerate(objects)]
    stream += [(t, 1, j) for j, (t, _, _) in enumerate(events)]
    for t, is_event, index in sorted(stream):
        if is_event:
            _, region, kind = events[index]
            if kind == "destroy":
                run.destroy(t, region)
            elif kind == "up":
                run.up(t, region)
            else:
                run.down(t, region)
            continue
        t_store, writer, copies, records = objects[index]
        row = run.row(records, object_id=index)
        committed = [row, run.row(1, object_id=index)] if individual else [row]
        run.store(t_store, index, writer, {writer: t_store, **copies}, committed,
                  ack_at=None if individual else t_store + 0.1)
        if individual:
            run.emit(ProduceAcked(t=t_store + 0.1, region=writer, fleet=row.fleet,
                                  rows=(row,)))
    if individual:
        assert run.collector.objects.cohort_objects == 0
        assert run.collector.objects.groups == 0
    report = run.finish(t_end=100.0)

    lost, rpo, unavailable, union, open_records, longest = _reference(objects, events, 100.0)
    # RPO is measured from the fault start; here every destruction is its own fault.
    assert report.loss.records == lost
    assert report.loss.rpo_seconds == pytest.approx(rpo)
    assert report.unavailable.records == unavailable
    got = [bound for interval in report.unavailable.intervals for bound in interval]
    assert got == pytest.approx([bound for interval in union for bound in interval])
    assert report.unavailable.open_records == open_records
    assert report.unavailable.max_seconds == pytest.approx(longest)


def test_copies_regrouped_by_a_destruction_keep_their_oldest_ack():
    # Two objects of writer a: one held in a and b (acked at 10 s), one in b only (acked
    # at 20 s). Destroying a leaves both held in b only (one group); destroying b then
    # loses both, and the RPO counts from the older ack: 40 - 10 s.
    run = Run(faults=[(30.0, 30.0), (40.0, 40.0)])
    run.store(10.0, 1, "a", {"a": 10.0, "b": 10.0}, [run.row(10, object_id=1)], ack_at=10.0)
    run.store(20.0, 2, "a", {"b": 20.0}, [run.row(10, object_id=2)], ack_at=20.0)
    run.destroy(30.0, "a")
    run.destroy(40.0, "b")
    report = run.finish(t_end=100.0)
    assert report.loss.records == 20
    assert report.loss.rpo_seconds == 30.0


def test_destroying_another_region_keeps_a_copy_blocked_by_an_outage():
    """A copy to b blocked by b's outage is still owed after c (another destination) is
    destroyed: it is made when b returns, so destroying the writer's region later loses
    nothing (fourth mutation sample, availability.py:461)."""
    run = Run(faults=[(100.0, 160.0), (140.0, 140.0), (170.0, 170.0)])
    rows = [run.row(100, object_id=8)]
    run.store(49.6, 8, "a", {"a": 49.6, "b": 120.0, "c": 130.0}, rows, ack_at=50.0)
    run.down(100.0, "b")      # the copy to b, due at 120, is blocked
    run.destroy(140.0, "c")   # c held a copy since 130
    run.up(160.0, "b")        # ... b gets its copy now
    run.destroy(170.0, "a")
    report = run.finish()
    assert report.loss.records == 0


def test_a_series_has_a_pair_only_once_a_bin_of_it_is_not_zero():
    series = BinnedSeries(1.0)
    assert not series.has("us-west1", "acked_records")        # never written
    series.add("us-west1", "acked_records", 2.5, 0.0)
    assert not series.has("us-west1", "acked_records")        # written, all zero
    series.add("us-west1", "acked_records", 3.5, 4.0)
    assert series.has("us-west1", "acked_records")
    assert not series.has("us-west2", "acked_records")
    assert list(series.values("us-west1", "acked_records", 5)) == [0, 0, 0, 4.0, 0]



def test_an_object_whose_only_copy_is_to_a_destroyed_region_or_at_inf_is_lost_at_once():
    """Mutation round seven (``availability.py:136 or -> and``): an ``ObjectStored`` copy
    to a region already destroyed is never made, whatever its time, like one at ``inf``
    (the event's docstring). An object written in a at 150 whose only copy is claimed
    in c (destroyed at 100) at 150, or in b (up) at ``inf``, never has a copy: its 100
    acknowledged records are lost, all in a, the writer's region."""
    for other, when in (("c", 150.0), ("b", INF)):
        run = Run(faults=[(100.0, 100.0)])
        run.destroy(100.0, "c")
        rows = [run.row(100, object_id=5)]
        run.store(150.0, 5, "a", {other: when}, rows, ack_at=151.0)
        report = run.finish()
        assert report.loss.records == 100, other
        assert report.loss.bytes == 1000, other
        assert report.loss.by_region["a"].records == 100, other
