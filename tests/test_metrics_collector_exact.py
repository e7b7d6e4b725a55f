"""MetricsCollector's own arithmetic, case by case, on a few hand-built events.

Written for the collector's mutants (docs/mutation.md): each case pins one rule of
:mod:`geosim.metrics.collector` with a value worked out by hand: merged latency
spreads, the gap and first-success bounds, undeclared regions, the backlog gauge, the
untracked records, the number of bins, the nominal offered load, the RTO baseline's
fallback, a max-rate run's rates, the topics and sections passed through.
"""

from __future__ import annotations

import numpy as np
import pytest

from geosim.core.events import (
    Delivered,
    ObjectStored,
    Offered,
    PartitionChanged,
    ProduceAcked,
    ProduceFailed,
    RateAdjusted,
    Recorder,
    Row,
)
from geosim.metrics import MetricsCollector
from geosim.metrics.sections import ReportSection, SectionContext


def _collector(recorder: Recorder, *, regions=("a",), warmup=10.0, faults=(),
               production_end=200.0, bin_width=1.0, offered=None, **kwargs):
    return MetricsCollector(recorder, regions=list(regions), warmup=warmup,
                            fault_windows=list(faults), production_end=production_end,
                            bin_width=bin_width, offered_bytes_per_s=offered or {}, **kwargs)


def _row(records, send=(0.0, 0.0), *, seq=0, partition=0, object_id=-1, nbytes=None) -> Row:
    return Row(fleet=1, partition=partition, seq=seq, records=records,
               bytes_uncompressed=10 * records if nbytes is None else nbytes,
               bytes_compressed=5 * records, send_first=send[0], send_last=send[1],
               object_id=object_id)


def _ack(recorder, t, *rows, region="a"):
    recorder.emit(ProduceAcked(t=t, region=region, fleet=1, rows=tuple(rows)))


def _finish(collector, t_end=300.0, **kwargs):
    return collector.finalize(t_end, bytes_by_pair={}, zone_region={}, counters={}, **kwargs)


def _series(report, region, metric):
    frame = report.timeseries
    rows = frame[(frame.region == region) & (frame.metric == metric)]
    return dict(zip(rows.t, rows.value, strict=True))


# --- latency spreads ---------------------------------------------------------------------

def test_consecutive_rows_of_one_window_are_one_spread_of_their_records():
    """Rows of 100 and 300 records, both sent over [20, 21], acked at 22: 400 records
    uniform on [1, 2] s (median 1.5, 90th percentile 1.9)."""
    recorder = Recorder()
    collector = _collector(recorder)
    _ack(recorder, 22.0, _row(100, (20.0, 21.0)), _row(300, (20.0, 21.0), seq=1))
    latency = _finish(collector).latency("publish", "a", "before")
    assert latency.count == 400
    assert latency.quantile(0.5) == pytest.approx(1.5, rel=1e-9)
    assert latency.quantile(0.9) == pytest.approx(1.9, rel=1e-9)


@pytest.mark.parametrize(("second", "median"), [
    # 100 on [1, 2] (100/s) and 300 on [1.5, 2] (600/s): 50 below 1.5, then 700/s, so the
    # 200th record is at 1.5 + 150 / 700.
    ((20.0, 20.5), 1.5 + 150 / 700),
    # 100 on [1, 2] (100/s) and 300 on [1, 1.5] (600/s): 700/s up to 1.5, 200 / 700.
    ((20.5, 21.0), 1.0 + 200 / 700),
])
def test_rows_of_different_windows_are_spread_apart(second, median):
    """A row sent over [20, 21] and one of 300 records sharing only one end of that
    window, acked together at 22: two spreads, not one of 400 on [1, 2]."""
    recorder = Recorder()
    collector = _collector(recorder)
    _ack(recorder, 22.0, _row(100, (20.0, 21.0)), _row(300, second, seq=1))
    latency = _finish(collector).latency("publish", "a", "before")
    assert latency.count == 400
    assert latency.quantile(0.5) == pytest.approx(median, rel=1e-9)
    assert (latency.min, latency.max) == pytest.approx((1.0, 2.0))


def test_delivered_rows_of_two_windows_are_spread_apart():
    """End-to-end: delivered at 30, rows sent over [20, 21] (100) and [24, 26] (200):
    100 on [9, 10] and 200 on [4, 6]; the median (150th) is the 150th of the second,
    at 4 + 150 / 100 = 5.5."""
    recorder = Recorder()
    collector = _collector(recorder)
    recorder.emit(Delivered(t=30.0, region="a", group=1,
                            rows=(_row(100, (20.0, 21.0)), _row(200, (24.0, 26.0), seq=1))))
    latency = _finish(collector).latency("e2e", "a", "before")
    assert latency.count == 300
    assert latency.quantile(0.5) == pytest.approx(5.5, rel=1e-9)
    assert (latency.min, latency.max) == pytest.approx((4.0, 10.0))


# --- gaps and first successes --------------------------------------------------------------

def test_longest_gap_below_a_second_counts_from_an_ack_at_warmup():
    """Warmup 10, production to 11.5: acks at 10.0 (at warmup: counted), 10.7, 11.0;
    gaps 0.7 and 0.3, then 0.5 to the end of production: 0.7."""
    recorder = Recorder()
    collector = _collector(recorder, production_end=11.5)
    for t in (10.0, 10.7, 11.0):
        _ack(recorder, t, _row(1, (t, t)))
    assert _finish(collector).rto["a"]["producers"].longest_gap == pytest.approx(0.7)


def test_an_ack_in_the_drain_adds_no_gap():
    """Acks at 20 and 30, then at 250 after production ends at 200: the gaps are 10 and
    220; production ended 50 s before the last ack, which adds nothing."""
    recorder = Recorder()
    collector = _collector(recorder)
    for t in (20.0, 30.0, 250.0):
        _ack(recorder, t, _row(1, (t, t)))
    assert _finish(collector).rto["a"]["producers"].longest_gap == 220.0


def test_a_region_acked_only_during_warmup_has_the_whole_window_as_its_gap():
    """Warmup 10, production to 10.5; region a's only ack at 5: its gap is the whole
    measured window, 0.5 s. Region b, never acked, has none."""
    recorder = Recorder()
    collector = _collector(recorder, regions=("a", "b"), production_end=10.5)
    _ack(recorder, 5.0, _row(1, (5.0, 5.0)))
    rto = _finish(collector).rto
    assert rto["a"]["producers"].longest_gap == 0.5
    assert rto["b"]["producers"].longest_gap is None


def test_first_success_may_be_at_the_fault_start():
    """Fault at 100: a row sent at 100.0 and acked and delivered at 100.0 is the first
    success of both, 0 s after the fault start; the later row changes nothing."""
    recorder = Recorder()
    collector = _collector(recorder, faults=[(100.0, 120.0)])
    early, at_fault = _row(5, (99.0, 99.0)), _row(5, (100.0, 100.0), seq=1)
    late = _row(5, (130.0, 130.0), seq=2)
    _ack(recorder, 100.0, early, at_fault)
    recorder.emit(Delivered(t=100.0, region="a", group=1, rows=(early, at_fault)))
    _ack(recorder, 131.0, late)
    recorder.emit(Delivered(t=131.0, region="a", group=1, rows=(late,)))
    rto = _finish(collector).rto["a"]
    assert rto["producers"].first_success == 0.0
    assert rto["consumers"].first_success == 0.0


def test_producers_baseline_falls_back_to_the_nominal_rate():
    """Warmup 10, fault at 10.5: no whole 1 s bin between them, so the producers'
    baseline is the nominal 1,000 B/s and the consumers' is unknown."""
    recorder = Recorder()
    collector = _collector(recorder, faults=[(10.5, 20.0)], offered={"a": 1000.0})
    _ack(recorder, 10.2, _row(100, (10.1, 10.1)))
    rto = _finish(collector).rto["a"]
    assert rto["producers"].baseline_bytes_per_s == 1000.0
    assert rto["consumers"].baseline_bytes_per_s is None


# --- regions and bins ----------------------------------------------------------------------

def test_events_of_an_undeclared_region_make_it_a_region():
    """Regions w, x, y, z are not declared: an ack in w (7 records), a delivery in x (3),
    a failure in y (2) and an offer in z (9), each the first event of its region, are
    counted there all the same."""
    recorder = Recorder()
    collector = _collector(recorder)
    _ack(recorder, 20.0, _row(7), region="w")
    recorder.emit(Delivered(t=21.0, region="x", group=1, rows=(_row(3),)))
    recorder.emit(ProduceFailed(t=22.0, region="y", fleet=1, rows=(_row(2),),
                                outcome="fail", reason="x"))
    recorder.emit(Offered(t=23.0, region="z", fleet=1, records=9, bytes_uncompressed=90))
    report = _finish(collector)
    assert report.regions == ["a", "w", "x", "y", "z"]
    totals = report.totals
    assert (totals["w"]["acked_records"], totals["x"]["delivered_records"],
            totals["y"]["failed_records"], totals["z"]["offered_records"]) == (7, 3, 2, 9)


@pytest.mark.parametrize("t", [0.0, 0.7, 1.2])
def test_acks_and_deliveries_fall_in_the_bin_of_their_time(t):
    """Half-second bins: time 0 is in bin 0, 0.7 in bin 1 (0.5-1.0), 1.2 in bin 2."""
    recorder = Recorder()
    collector = _collector(recorder, bin_width=0.5, production_end=2.0)
    _ack(recorder, t, _row(4, (t, t)))
    recorder.emit(Delivered(t=t, region="a", group=1, rows=(_row(6, (t, t)),)))
    report = _finish(collector, t_end=2.0)
    start = 0.5 * int(t / 0.5)
    acked = _series(report, "a", "acked_records")
    delivered = _series(report, "a", "delivered_records")
    assert {k: v for k, v in acked.items() if v} == {start: 4.0}
    assert {k: v for k, v in delivered.items() if v} == {start: 6.0}


def test_every_series_puts_a_time_at_a_bin_edge_in_the_bin_it_starts():
    """Tenth-of-a-second bins, which are not binary fractions: an ack, a delivery and
    an offer at 0.3 s all fall in bin 3 (0.3-0.4), though ``0.3 // 0.1`` is 2.0."""
    recorder = Recorder()
    collector = _collector(recorder, warmup=0.0, bin_width=0.1, production_end=1.0)
    _ack(recorder, 0.3, _row(4, (0.3, 0.3)))
    recorder.emit(Delivered(t=0.3, region="a", group=1, rows=(_row(6, (0.3, 0.3)),)))
    recorder.emit(Offered(t=0.3, region="a", fleet=1, records=9, bytes_uncompressed=90))
    report = _finish(collector, t_end=1.0)
    for metric, records in (("acked_records", 4.0), ("delivered_records", 6.0),
                            ("offered_records", 9.0)):
        series = _series(report, "a", metric)
        assert [(round(k, 9), v) for k, v in series.items() if v] == [(0.3, records)]


def test_bins_cover_production_when_the_run_ends_before_it():
    """10 s bins, production to 100, the report taken at 50: ten bins (0 to 90)."""
    recorder = Recorder()
    collector = _collector(recorder, bin_width=10.0, production_end=100.0)
    report = _finish(collector, t_end=50.0)
    assert sorted(_series(report, "a", "acked_records")) == [10.0 * k for k in range(10)]


def test_nominal_load_ends_with_production():
    """Nominal 100 B/s, production to 20, 10 s bins, report at 40, 500 B acked at 5 and
    300 B at 25 (the drain): the bins after production have nothing offered, so no
    availability (NaN rows are left out, not 300 / 0); the offered bytes there are 0."""
    recorder = Recorder()
    collector = _collector(recorder, bin_width=10.0, production_end=20.0,
                           offered={"a": 100.0})
    _ack(recorder, 5.0, _row(50, nbytes=500))
    _ack(recorder, 25.0, _row(30, nbytes=300, seq=1))
    report = _finish(collector, t_end=40.0)
    assert _series(report, "a", "offered_bytes") == {0.0: 1000.0, 10.0: 1000.0, 20.0: 0.0,
                                                     30.0: 0.0}
    assert _series(report, "a", "availability") == {0.0: 0.5, 10.0: 0.0}


def test_availability_is_against_a_nominal_load_of_one_byte_per_second():
    """Nominal 1 B/s, 10 s bins, production to 20.5; 50 B offered and 5 B acked in the
    first bin: availability 5 / 10 (the nominal load), not 5 / 50 (the offered). The
    third bin's half second of production is a nominal 0.5 B: availability 0 / 0.5."""
    recorder = Recorder()
    collector = _collector(recorder, bin_width=10.0, production_end=20.5,
                           offered={"a": 1.0})
    recorder.emit(Offered(t=1.0, region="a", fleet=1, records=5, bytes_uncompressed=50))
    _ack(recorder, 2.0, _row(5, nbytes=5))
    report = _finish(collector, t_end=30.0)
    assert _series(report, "a", "availability") == {0.0: 0.5, 10.0: 0.0, 20.0: 0.0}
    assert report.totals["a"]["offered_bytes"] == 50


# --- offered load and the backlog ----------------------------------------------------------

def test_offered_counts_and_the_backlog_gauge():
    """Two fleets in a, production to 3. Bin 1: fleet 1's backlog 5 and fleet 2's 7
    (total 12), then fleet 1's 2 (total 9): the bin holds the largest, 12. Bin 2: fleet 2's
    0 (total 2). At 3.0 (the end of production) fleet 1's 4: total 4, the end's backlog;
    the later 9 (at 3.5) is after production. Accepted, blocked and send-failed records
    are summed."""
    recorder = Recorder()
    collector = _collector(recorder, production_end=3.0)
    for t, fleet, backlog, failed in [(1.2, 1, 5, 0), (1.4, 2, 7, 0), (1.6, 1, 2, 3),
                                      (2.5, 2, 0, 0), (3.0, 1, 4, 0), (3.5, 1, 9, 0)]:
        recorder.emit(Offered(t=t, region="a", fleet=fleet, records=10, bytes_uncompressed=100,
                              accepted=6, blocked=1, send_failed=failed, backlog=backlog))
    report = _finish(collector, t_end=4.0)
    assert _series(report, "a", "backlog_records") == {0.0: 0.0, 1.0: 12.0, 2.0: 2.0,
                                                       3.0: 9.0}
    totals = report.totals["a"]
    assert totals["backlog_records"] == 4
    assert (totals["offered_records"], totals["accepted_records"], totals["blocked_records"],
            totals["failed_records"]) == (60, 36, 6, 3)


# --- untracked records ---------------------------------------------------------------------

def _partition_online(recorder, t):
    recorder.emit(PartitionChanged(t=t, partition=0, leader_region="a", isr_size=1,
                                   under_min_isr=False, reason="start"))


def test_untracked_records_leave_out_those_of_partition_logs():
    """30 records acked before any partition event and 100 after, none in an object: the
    object fold cannot place 130, the partition fold tracks the 100: 30 untracked."""
    recorder = Recorder()
    collector = _collector(recorder)
    _ack(recorder, 20.0, _row(30))
    _partition_online(recorder, 21.0)
    _ack(recorder, 22.0, _row(100, seq=1))
    assert _finish(collector).loss.untracked_records == 30


def test_untracked_records_are_never_negative():
    """100 records of a stored object acked while partitions are tracked: the object
    fold places them all, the partition fold tracks 100: untracked max(0 - 100, 0) = 0."""
    recorder = Recorder()
    collector = _collector(recorder)
    _partition_online(recorder, 19.0)
    recorder.emit(ObjectStored(t=19.5, object_id=3, writer_region="a", size=1,
                               copies=(("a", 19.5),)))
    _ack(recorder, 20.0, _row(100, object_id=3))
    assert _finish(collector).loss.untracked_records == 0


# --- max-rate runs -------------------------------------------------------------------------

def test_max_rate_is_measured_over_whole_bins():
    """2 s bins, warmup 4, production to 13: whole bins 2 to 5 (4-12 s), the second half
    bins 4 and 5. Acks of 10, 20, 30, 40 records in bins 2 to 5 and 1,000 in bins 1 and 6
    (outside): measured 100 / 8 s, sustainable 70 / 4 s; the final rate is the last set."""
    recorder = Recorder()
    collector = _collector(recorder, warmup=4.0, production_end=13.0, bin_width=2.0)
    for t, records in [(3.0, 1000), (5.0, 10), (7.0, 20), (9.0, 30), (11.0, 40),
                       (12.5, 1000)]:
        _ack(recorder, t, _row(records, (t, t)))
    recorder.emit(RateAdjusted(t=4.0, rate=50.0, published=0, received=0))
    recorder.emit(RateAdjusted(t=8.0, rate=80.0, published=30, received=0))
    assert _finish(collector).max_rate == {
        "sustainable_records_per_s": 70 / 4,
        "measured_records_per_s": 100 / 8,
        "final_rate_records_per_s": 80.0,
        "rates": [[4.0, 50.0], [8.0, 80.0]],
    }


def test_max_rate_without_a_whole_bin_has_no_measured_rate():
    """2 s bins, warmup 4, production to 5: no whole bin (bin 2 ends at 6)."""
    recorder = Recorder()
    collector = _collector(recorder, warmup=4.0, production_end=5.0, bin_width=2.0)
    recorder.emit(RateAdjusted(t=4.5, rate=50.0, published=0, received=0))
    result = _finish(collector).max_rate
    assert result["sustainable_records_per_s"] is None
    assert result["measured_records_per_s"] is None


def test_max_rate_counts_the_last_bin_ending_at_the_end_of_production():
    """0.1 s bins, production to 1.0 (warmup 0.5): bins 5 to 9 are whole, bin 9 ending
    at 1.0 though 1.0 // 0.1 is 9.0 in floating point. 10 records acked in bin 9 at
    0.95 s: measured 10 / 0.5 s, sustainable (bins 7 to 9) 10 / 0.3 s."""
    recorder = Recorder()
    collector = _collector(recorder, warmup=0.5, production_end=1.0, bin_width=0.1)
    _ack(recorder, 0.95, _row(10, (0.95, 0.95)))
    recorder.emit(RateAdjusted(t=0.5, rate=50.0, published=0, received=0))
    result = _finish(collector, t_end=1.0).max_rate
    assert result["measured_records_per_s"] == pytest.approx(20.0, rel=1e-9)
    assert result["sustainable_records_per_s"] == pytest.approx(100 / 3, rel=1e-9)


def test_a_run_without_rate_adjustments_has_no_max_rate():
    recorder = Recorder()
    collector = _collector(recorder)
    _ack(recorder, 20.0, _row(10))
    assert _finish(collector).max_rate == {}


# --- passed through: defaults, topics, sections --------------------------------------------

def test_defaults_of_the_ack_grace_and_the_check_window():
    """Without a scenario, an object waits 300 s for its acks and the reorder check keeps
    128 seqs per (fleet, partition)."""
    collector = _collector(Recorder())
    assert collector.objects.ack_grace == 300.0
    assert collector.checks.window == 128


def test_declared_topics_are_reported_by_name():
    """Topics t0 (partition 0) and t1 (partition 1): 7 records acked to partition 1, of
    a send at 19 acked at 20 (1 s, in the phase before any fault). No partition event:
    losses are not attributed to topics."""
    recorder = Recorder()
    collector = _collector(recorder, topics=(["t0", "t1"], [0, 1]))
    _ack(recorder, 20.0, _row(7, (19.0, 19.0), partition=1))
    topics = _finish(collector).topics
    assert list(topics) == ["t0", "t1"]
    assert (topics["t0"]["acked_records"], topics["t1"]["acked_records"]) == (0, 7)
    assert topics["t1"]["histograms"][("publish", "before")].max == pytest.approx(1.0)
    assert topics["t1"]["lost_records"] is None


class _Counted:
    """A section's report: the number of acks it saw, as one series row per bin."""

    def __init__(self, acks: int):
        self.acks = acks

    def to_dict(self):
        return {"acks": self.acks}

    def series(self, nbins):
        return [("a", "section_acks", np.full(nbins, float(self.acks)))]

    def files(self):
        return {}


class _Fold:
    def __init__(self, silent: bool):
        self.silent = silent
        self.acks = 0

    def subscribe(self, recorder):
        recorder.subscribe(ProduceAcked, self.on_acked)

    def on_acked(self, ev):
        self.acks += 1

    def finalize(self, t_end):
        return None if self.silent else _Counted(self.acks)


class _Counting(ReportSection):
    name = "counted"
    silent = False

    def fold(self, context: SectionContext):
        return _Fold(self.silent)


class _Silent(_Counting):
    name = "silent"
    silent = True


def test_sections_are_folded_and_those_with_a_report_kept():
    """Section 'counted' saw the two acks and adds its row to each of the 3 bins (10 s
    bins, production to 30); section 'silent' reports nothing and is left out."""
    recorder = Recorder()
    collector = _collector(recorder, bin_width=10.0, production_end=30.0,
                           sections=[_Counting(), _Silent()])
    _ack(recorder, 5.0, _row(1))
    _ack(recorder, 15.0, _row(1, seq=1))
    report = _finish(collector, t_end=30.0)
    assert list(report.sections) == ["counted"]
    assert report.sections["counted"].to_dict() == {"acks": 2}
    assert _series(report, "a", "section_acks") == {0.0: 2.0, 10.0: 2.0, 20.0: 2.0}


def test_sections_of_one_name_are_refused():
    with pytest.raises(ValueError, match="report sections of one name: counted, counted"):
        _collector(Recorder(), sections=[_Counting(), _Counting()])
