"""The metrics fold: subscribes to a run's events and builds a :class:`MetricsReport`.

``MetricsCollector`` is the single subscriber that wires the metric parts to the
event stream: latency histograms per (kind, region, phase), per-region time
series, loss and unavailability (:mod:`geosim.metrics.availability`), RTO
(:mod:`geosim.metrics.recovery`), Jepsen-style checks
(:mod:`geosim.metrics.checks`) and, at the end, the byte classification
(:mod:`geosim.metrics.traffic`). It reads events only; it never imports model
components.

Latency definitions (domain.md §7, architecture.md): a row's records were sent
uniformly over ``[send_first, send_last]``, so the publish latency of the row
acknowledged at ``t`` is uniform over ``[t - send_last, t - send_first]`` and is
added to the histogram with weight ``row.records``; end-to-end latency likewise
with the delivery time. A sample's phase is the phase of its record's send time
(records evenly spread over the window, :func:`geosim.metrics.phases.add_latencies`):
a window across a phase bound is cut there. Its region is the region of the event (the
producing fleet's or the consumer's).
The ``all`` histograms are the merge of the regions' histograms.

Memory does not grow with the number of events: histograms and bins are fixed
or grow with simulated time / bin width, per-object and per-partition state is
pruned or bounded (see the modules above).
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from geosim.core.events import (
    BrokerFenced,
    ClientsAttached,
    Delivered,
    FaultStarted,
    ObjectCommitted,
    ObjectStored,
    Offered,
    PartitionChanged,
    ProduceAcked,
    ProduceFailed,
    RateAdjusted,
    Rebalanced,
    Recorder,
    RegionState,
    Row,
    Subscriber,
    WindowAcked,
    WindowDelivered,
    WindowRows,
)
from geosim.metrics.availability import ObjectAvailability
from geosim.metrics.checks import ConsistencyChecker
from geosim.metrics.histogram import LatencyHistogram
from geosim.metrics.interconnects import interconnect_series, interconnect_summary
from geosim.metrics.mirror import MirrorFold
from geosim.metrics.partition_loss import PartitionLoss, merge
from geosim.metrics.partitions import PartitionTimeline
from geosim.metrics.phases import PHASES, PhaseClock, add_latencies, sent_from
from geosim.metrics.recovery import baseline_rate, rate_recovery_time
from geosim.metrics.report import MetricsReport, Recovery, with_losses
from geosim.metrics.sections import LossContributor, ReportSection, SectionContext
from geosim.metrics.timeseries import BinnedSeries, bump
from geosim.metrics.topics import TopicFold
from geosim.metrics.traffic import classify_bytes

KINDS: tuple[str, ...] = ("publish", "e2e")
# Time-series metrics, in the order they appear in the tidy frame.
SERIES: tuple[str, ...] = (
    "offered_records", "offered_bytes", "acked_records", "acked_bytes", "failed_records",
    "info_records", "delivered_records", "delivered_bytes", "accepted_records",
    "blocked_records", "backlog_records", "availability",
)
#: The columns the events fill (every series but availability, which is derived).
COLUMNS: tuple[str, ...] = SERIES[:-1]
#: A gauge, not a flow: each bin holds the largest backlog seen in it, and the totals
#: hold the backlog at the end of production.
GAUGES: frozenset[str] = frozenset({"backlog_records"})


class _Region:
    """Hot-path state of one region: its histograms and live series columns."""

    __slots__ = ("name", "publish", "e2e", "acked_records", "acked_bytes", "failed_records",
                 "info_records", "delivered_records", "delivered_bytes", "offered_records",
                 "offered_bytes", "offered_seen", "first_ack", "first_delivery", "last_ack",
                 "longest_gap", "any_ack", "accepted_records", "blocked_records",
                 "backlog_records", "backlog", "backlog_at_end")
    # The live series columns (COLUMNS), set from the series by name.
    acked_records: array
    acked_bytes: array
    failed_records: array
    info_records: array
    delivered_records: array
    delivered_bytes: array
    offered_records: array
    offered_bytes: array
    accepted_records: array
    blocked_records: array
    backlog_records: array

    def __init__(self, name: str, series: BinnedSeries):
        self.name = name
        self.publish = [LatencyHistogram() for _ in PHASES]
        self.e2e = [LatencyHistogram() for _ in PHASES]
        for metric in COLUMNS:
            setattr(self, metric, series.column(name, metric))
        self.offered_seen = False
        self.backlog: dict[int, int] = {}   # per fleet: its latest backlog
        self.backlog_at_end = 0
        self.first_ack: float | None = None        # first qualifying ack after the fault
        self.first_delivery: float | None = None
        self.last_ack: float | None = None         # last ack at or after warmup
        self.longest_gap = 0.0
        self.any_ack = False


class MetricsCollector:
    """Fold of a run's events into metrics; subscribes itself to ``recorder``.

    ``fault_windows`` holds ``(start, end)`` of every fault (``end == start`` for a
    permanent fault such as a destruction). ``offered_bytes_per_s`` is each
    region's nominal offered load: it is the availability denominator (so a region
    whose producers are down reads 0), and the producers' RTO baseline when there
    is no whole bin between warmup and the first fault. ``ack_grace`` (s) bounds how
    long an object waits for acks of its committed rows; ``check_window`` is the
    number of recent seqs per (fleet, partition) the reorder check keeps. ``sections``:
    the strategy's report sections (:mod:`geosim.metrics.sections`), folded alongside.
    """

    def __init__(self, recorder: Recorder, *, regions: list[str], warmup: float,
                 fault_windows: list[tuple[float, float]], production_end: float,
                 bin_width: float, offered_bytes_per_s: dict[str, float],
                 ack_grace: float = 300.0, check_window: int = 128,
                 topics: tuple[Sequence[str], Sequence[int]] | None = None,
                 sections: Sequence[ReportSection] = ()):
        self.warmup = float(warmup)
        self.production_end = float(production_end)
        self.fault_windows = sorted((float(s), float(e)) for s, e in fault_windows)
        self.clock = PhaseClock.build(self.warmup, self.fault_windows, self.production_end)
        self._bounds = list(self.clock.bounds)
        self.fault_start = self.clock.first_fault_start
        # No fault: nothing qualifies as a post-fault success.
        self._fault_start = self.fault_start if self.fault_start is not None else math.inf
        self.offered_bytes_per_s = dict(offered_bytes_per_s)
        self.series = BinnedSeries(bin_width)
        self.rates: list[tuple[float, float]] = []  # a max-rate run's controller rates
        self._inv_bin = self.series.inv_width  # BinnedSeries.index's rule, inlined
        self._regions: dict[str, _Region] = {}
        for name in regions:
            self._region(name)
        self.objects = ObjectAvailability(
            regions, fault_starts=[s for s, _ in self.fault_windows], ack_grace=ack_grace)
        self.checks = ConsistencyChecker(window=check_window)
        self.partitions = PartitionLoss()
        self.partitions.subscribe(recorder)
        kind: type
        handler: Subscriber
        # Declared topics (workload.topics): names and each partition's topic.
        self.topics = None if topics is None else TopicFold(
            recorder, names=topics[0], topic_of=topics[1], bounds=self._bounds)
        self.mirror = MirrorFold(self.fault_start)
        self.mirror.subscribe(recorder)
        # The strategy's report sections (geosim.metrics.sections), each its own fold.
        context = SectionContext(self.warmup, self.production_end, self.series.bin_width,
                                 tuple(self.fault_windows))
        self.sections = {section.name: section.fold(context) for section in sections}
        if len(self.sections) < len(sections):
            raise ValueError(f"report sections of one name: "
                             f"{', '.join(s.name for s in sections)}")
        for fold in self.sections.values():
            fold.subscribe(recorder)
        self.leadership = PartitionTimeline()
        for kind, handler in ((PartitionChanged, self.leadership.on_partition),
                              (BrokerFenced, self.leadership.on_fenced),
                              (FaultStarted, self.leadership.on_fault),
                              (ProduceAcked, self.leadership.on_acked),
                              (WindowAcked, self.leadership.on_acked),
                              (ClientsAttached, self.leadership.on_clients)):
            recorder.subscribe(kind, handler)
        for kind, handler in (
                (ProduceAcked, self._on_acked), (Delivered, self._on_delivered),
                (WindowAcked, self._on_window_acked),
                (WindowDelivered, self._on_window_delivered),
                (ProduceFailed, self._on_failed), (Offered, self._on_offered),
                (RateAdjusted, self._on_rate),
                (Rebalanced, self.checks.on_rebalanced),
                (ObjectStored, self.objects.on_stored),
                (ObjectCommitted, self.objects.on_committed),
                (RegionState, self.objects.on_region_state)):
            recorder.subscribe(kind, handler)

    def _region(self, name: str) -> _Region:
        region = self._regions.get(name)
        if region is None:
            region = self._regions[name] = _Region(name, self.series)
        return region

    # --- hot path -----------------------------------------------------------------

    def _on_acked(self, ev: ProduceAcked) -> None:
        t = ev.t
        region = self._regions.get(ev.region) or self._region(ev.region)
        on_object = self.objects.on_ack
        on_check = self.checks.on_acked
        fleet = ev.fleet
        records = nbytes = 0
        add_latencies(region.publish, self._bounds, t, ev.rows)
        for row in ev.rows:
            records += row.records
            nbytes += row.bytes_uncompressed
            on_object(t, row)
            on_check(fleet, row)
        index = int(t * self._inv_bin)  # event times are never negative
        column = region.acked_records
        if index < len(column):  # inline bump(): this runs for every ack
            column[index] += records
            region.acked_bytes[index] += nbytes
        else:
            bump(column, index, records)
            bump(region.acked_bytes, index, nbytes)
        region.any_ack = True
        if region.first_ack is None and t >= self._fault_start:
            fault_start = self._fault_start
            if any(sent_from(row, fault_start) for row in ev.rows):
                region.first_ack = t
        if t >= self.warmup:
            last = region.last_ack
            if last is not None:
                gap = t - last
                # equivalent: at equality the gap is set to the value it already holds
                if gap > region.longest_gap:  # mutate: equivalent
                    region.longest_gap = gap
            region.last_ack = t
        self.objects.advance(t)

    def _on_delivered(self, ev: Delivered) -> None:
        t = ev.t
        region = self._regions.get(ev.region) or self._region(ev.region)
        on_check = self.checks.on_delivered
        group = ev.group
        records = nbytes = 0
        add_latencies(region.e2e, self._bounds, t, ev.rows)
        for row in ev.rows:
            records += row.records
            nbytes += row.bytes_uncompressed
            on_check(t, group, row)
        index = int(t * self._inv_bin)  # event times are never negative
        column = region.delivered_records
        if index < len(column):
            column[index] += records
            region.delivered_bytes[index] += nbytes
        else:
            bump(column, index, records)
            bump(region.delivered_bytes, index, nbytes)
        if region.first_delivery is None and t >= self._fault_start:
            fault_start = self._fault_start
            if any(sent_from(row, fault_start) for row in ev.rows):
                region.first_delivery = t

    # --- the window engine's bulk results ----------------------------------------

    def _add_spread(self, histograms: list[LatencyHistogram], times: np.ndarray,
                    first: np.ndarray, last: np.ndarray, records: np.ndarray) -> None:
        """:func:`add_latencies` over arrays: rows whose send window lies in one phase
        in bulk, the few across a bound one by one."""
        bounds = self._bounds
        p_first = np.searchsorted(bounds, first, side="right")
        p_last = np.searchsorted(bounds, last, side="right")
        # a window ending at a bound counts before it (phases.sent_before)
        at_bound = np.isin(last, bounds)
        whole = (p_first == p_last) | ((p_last == p_first + 1) & at_bound)
        for phase in np.unique(p_first[whole]).tolist():
            sel = whole & (p_first == phase)
            histograms[phase].add_uniform_many(times[sel] - last[sel], times[sel] - first[sel],
                                               records[sel])
        for i in np.flatnonzero(~whole).tolist():
            row = Row(-1, -1, -1, int(records[i]), 0, 0, float(first[i]), float(last[i]))
            add_latencies(histograms, bounds, float(times[i]), (row,))

    def _bin(self, column: array, times: np.ndarray, values: np.ndarray) -> None:
        index = (times * self._inv_bin).astype(np.int64)
        sums = np.bincount(index, weights=values)
        if len(sums) > len(column):
            bump(column, len(sums) - 1, 0.0)
        for i in np.flatnonzero(sums).tolist():
            column[i] += float(sums[i])

    def _fold_window(self, ev: WindowRows, histograms: list[LatencyHistogram],
                     count: array, size: array) -> tuple[np.ndarray, float | None]:
        """A window's rows into the phases' histograms and the series ``count`` and
        ``size``; returns their times and the first at or after the fault's start."""
        times = np.asarray(ev.times, dtype=float)
        if not len(times):
            return times, None
        records = np.asarray(ev.records, dtype=float)
        self._add_spread(histograms, times, np.asarray(ev.first, dtype=float),
                         np.asarray(ev.last, dtype=float), records)
        self._bin(count, times, records)
        self._bin(size, times, np.asarray(ev.bytes, dtype=float))
        after = times[times >= self._fault_start]
        return times, float(after.min()) if len(after) else None

    def _on_window_acked(self, ev: WindowAcked) -> None:
        """A fleet's answers over a window of the window engine, in bulk: as
        :meth:`_on_acked` for each, with the rows standing for it per partition checked."""
        region = self._regions.get(ev.region) or self._region(ev.region)
        times, first = self._fold_window(ev, region.publish, region.acked_records,
                                         region.acked_bytes)
        if len(times):
            region.any_ack = True
            if region.first_ack is None:
                region.first_ack = first
            late = np.sort(times[times >= self.warmup])
            if len(late):
                if region.last_ack is not None:
                    late = np.concatenate(([region.last_ack], late))
                if len(late) > 1:
                    region.longest_gap = max(region.longest_gap, float(np.diff(late).max()))
                region.last_ack = max(region.last_ack or -math.inf, float(late[-1]))
        on_check = self.checks.on_acked
        for row in ev.rows:
            on_check(ev.fleet, row)
        self.objects.advance(ev.t)

    def _on_window_delivered(self, ev: WindowDelivered) -> None:
        """Deliveries over a window of the window engine, in bulk (as
        :meth:`_on_delivered`), and a group's rows standing for them checked."""
        region = self._regions.get(ev.region) or self._region(ev.region)
        _times, first = self._fold_window(ev, region.e2e, region.delivered_records,
                                          region.delivered_bytes)
        if region.first_delivery is None:
            region.first_delivery = first
        if ev.group >= 0:
            on_check = self.checks.on_delivered
            for row in ev.rows:
                on_check(ev.t, ev.group, row)

    def _on_failed(self, ev: ProduceFailed) -> None:
        region = self._regions.get(ev.region) or self._region(ev.region)
        column = region.failed_records if ev.outcome == "fail" else region.info_records
        bump(column, self.series.index(ev.t), sum(row.records for row in ev.rows))

    def _on_rate(self, ev: RateAdjusted) -> None:
        self.rates.append((ev.t, ev.rate))

    def _on_offered(self, ev: Offered) -> None:
        region = self._regions.get(ev.region) or self._region(ev.region)
        index = self.series.index(ev.t)
        bump(region.offered_records, index, ev.records)
        bump(region.offered_bytes, index, ev.bytes_uncompressed)
        region.offered_seen = True
        if ev.accepted:
            bump(region.accepted_records, index, ev.accepted)
        if ev.blocked:
            bump(region.blocked_records, index, ev.blocked)
        if ev.send_failed:  # never written: send() timed out, or died in a crashed buffer
            bump(region.failed_records, index, ev.send_failed)
        region.backlog[ev.fleet] = ev.backlog
        total = sum(region.backlog.values())
        column = region.backlog_records
        bump(column, index, 0)
        column[index] = max(column[index], total)
        if ev.t <= self.production_end:
            region.backlog_at_end = total

    # --- results --------------------------------------------------------------------

    def finalize(self, t_end: float, *, bytes_by_pair: Mapping[tuple[str, str, str], int],
                 zone_region: Mapping[str, str], counters: dict,
                 interconnects: Mapping[str, tuple[float, Sequence[Sequence[float]]]]
                 | None = None) -> MetricsReport:
        """The report as of ``t_end`` (the end of the run, after the drain);
        ``interconnects``: name -> (bandwidth, bytes per bin per direction)."""
        t_end = float(t_end)
        self.objects.advance(t_end)
        loss, unavailable = merge(self.objects.finalize(t_end),
                                  self.partitions.finalize(t_end))
        # Rows of partition logs are accounted by the partition fold, not by objects.
        loss.untracked_records = max(loss.untracked_records
                                     - self.partitions.tracked_records, 0)
        mirror = self.mirror.finalize(t_end)
        sections = {name: report for name, fold in self.sections.items()
                    if (report := fold.finalize(t_end)) is not None}
        contributed = [report.losses() for report in sections.values()
                       if isinstance(report, LossContributor)]
        if any(contributed):
            loss = with_losses(loss, contributed)
        nbins = self.series.nbins(max(t_end, self.production_end))
        names = sorted(self._regions)
        bins = {name: self._bins(name, nbins) for name in names}
        width = self.series.bin_width
        usage = interconnects or {}
        return MetricsReport(
            regions=names,
            t_end=t_end,
            warmup=self.warmup,
            production_end=self.production_end,
            bin_width=self.series.bin_width,
            fault_windows=list(self.fault_windows),
            phase_bounds=self.clock.bounds,
            histograms=self._histograms(names),
            totals=self._totals(bins),
            loss=loss,
            unavailable=unavailable,
            rto={name: self._recovery(name, bins[name]) for name in names},
            checks=self.checks.report,
            traffic=classify_bytes(bytes_by_pair, zone_region, self.production_end),
            counters=dict(counters),
            timeseries=self._frame(bins, nbins, self.leadership.series(
                names, nbins, self.series.bin_width)
                + self.mirror.series(nbins, self.series.bin_width)
                + interconnect_series(usage, nbins, width)
                + [row for section in sections.values() for row in section.series(nbins)]),
            partitions=self.leadership.report(),
            mirror=mirror,
            interconnects=interconnect_summary(usage, width, self.production_end),
            # Losses by partition come from partition logs only: a diskless object mixes
            # topics, so its loss is not attributed to one (docs/summary.md).
            topics={} if self.topics is None else self.topics.report(
                self.partitions.lost_by_partition, counters,
                losses_attributed=self.partitions.active),
            max_rate=self._max_rate(bins),
            sections=sections,
        )

    def _max_rate(self, bins: dict[str, dict[str, np.ndarray]]) -> dict:
        """A max-rate run's result: the acked (OMB: published) rate over the whole bins
        of the second half of the measured window (warmup to the end of production),
        once the controller has ramped up, and over the whole window."""
        if not self.rates:
            return {}
        width = self.series.bin_width
        first = int(math.ceil(self.warmup / width - 1e-9))
        # Whole bins end by the end of production; the tolerance as baseline_rate's.
        last = int(math.floor(self.production_end / width + 1e-9))
        middle = (first + last) // 2

        def rate(lo: int, hi: int) -> float | None:
            acked = sum(float(c["acked_records"][lo:hi].sum()) for c in bins.values())
            return acked / ((hi - lo) * width) if hi > lo else None

        return {
            "sustainable_records_per_s": rate(middle, last),
            "measured_records_per_s": rate(first, last),
            "final_rate_records_per_s": self.rates[-1][1],
            "rates": [[t, r] for t, r in self.rates],
        }

    def _bins(self, name: str, nbins: int) -> dict[str, np.ndarray]:
        out = {metric: self.series.values(name, metric, nbins) for metric in COLUMNS}
        rate = self.offered_bytes_per_s.get(name, 0.0)
        # Nominal load over the part of each bin before the end of production.
        width = self.series.bin_width
        starts = np.arange(nbins) * width
        nominal = rate * np.clip(self.production_end - starts, 0.0, width)
        if not self._regions[name].offered_seen:
            # No Offered events (all zero): the nominal load is what was offered.
            out["offered_bytes"] = nominal
        # Availability is measured against the region's nominal load, so a region whose
        # producers are down (and offer nothing) reads 0 rather than undefined.
        offered = nominal if rate > 0 else out["offered_bytes"]
        availability = np.full(nbins, np.nan)
        positive = offered > 0
        availability[positive] = out["acked_bytes"][positive] / offered[positive]
        out["availability"] = availability
        return out

    def _histograms(self, names: list[str]) -> dict[tuple[str, str, str], LatencyHistogram]:
        out: dict[tuple[str, str, str], LatencyHistogram] = {}
        for kind in KINDS:
            for p, phase in enumerate(PHASES):
                parts = []
                for name in names:
                    histogram = getattr(self._regions[name], kind)[p]
                    if not histogram.empty:
                        out[(kind, name, phase)] = histogram
                        parts.append(histogram)
                if parts:
                    out[(kind, "all", phase)] = LatencyHistogram.merged(parts)
        return out

    def _totals(self, bins: dict[str, dict[str, np.ndarray]]) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for name, columns in bins.items():
            out[name] = {metric: int(round(float(columns[metric].sum())))
                         for metric in COLUMNS if metric not in GAUGES}
            out[name]["backlog_records"] = self._regions[name].backlog_at_end
        out["all"] = {metric: sum(out[name][metric] for name in bins) for metric in COLUMNS}
        return out

    def _recovery(self, name: str, bins: dict[str, np.ndarray]) -> dict[str, Recovery]:
        region = self._regions[name]
        width = self.series.bin_width
        fault_start = self.fault_start
        if region.last_ack is not None:
            # longest_gap >= 0: a last ack in the drain (after production) adds no gap
            gap: float | None = max(region.longest_gap, self.production_end - region.last_ack)
        elif region.any_ack:
            gap = max(self.production_end - self.warmup, 0.0)
        else:
            gap = None
        producers = Recovery(longest_gap=gap)
        consumers = Recovery()
        if fault_start is None:
            return {"producers": producers, "consumers": consumers}
        for recovery, column, first, fallback in (
                (producers, "acked_bytes", region.first_ack,
                 self.offered_bytes_per_s.get(name)),
                (consumers, "delivered_bytes", region.first_delivery, None)):
            baseline = baseline_rate(bins[column], width, self.warmup, fault_start)
            if baseline is None:
                baseline = fallback
            recovery.baseline_bytes_per_s = baseline
            recovery.first_success = None if first is None else first - fault_start
            recovery.rate_recovered = rate_recovery_time(
                bins[column], width, fault_start, self.production_end, baseline)
        return {"producers": producers, "consumers": consumers}

    def _frame(self, bins: dict[str, dict[str, np.ndarray]], nbins: int,
               extra: Sequence[tuple[str, str, np.ndarray]] = ()) -> pd.DataFrame:
        starts = np.arange(nbins) * self.series.bin_width
        t_parts, region_parts, metric_parts, value_parts = [], [], [], []
        for name, metric, values in extra:
            t_parts.append(starts)
            value_parts.append(values)
            region_parts.append(np.full(nbins, name, dtype=object))
            metric_parts.append(np.full(nbins, metric, dtype=object))
        for name, columns in bins.items():
            for metric in SERIES:
                values = columns[metric]
                keep = ~np.isnan(values)
                count = int(keep.sum())
                t_parts.append(starts[keep])
                value_parts.append(values[keep])
                region_parts.append(np.full(count, name, dtype=object))
                metric_parts.append(np.full(count, metric, dtype=object))
        if not t_parts:
            return pd.DataFrame({"t": [], "region": [], "metric": [], "value": []})
        return pd.DataFrame({
            "t": np.concatenate(t_parts),
            "region": np.concatenate(region_parts),
            "metric": np.concatenate(metric_parts),
            "value": np.concatenate(value_parts),
        })
