"""Edge sites: backlog, loss to retention and failures, staleness, catch-up, central
ingest and link utilisation, folded from the edge model's fluid states: the fold and
the report of the edge strategy's report section (:mod:`geosim.strategies.edge.section`,
the seam of :mod:`geosim.metrics.sections`).

The edge strategy emits, per class of identical sites, an
:class:`~geosim.strategies.edge.events.EdgeState` whenever its regime changes; in between every
quantity moves linearly, so this fold integrates exactly. Definitions (per site; a
class's sites share them; the fleet's figures weight each class by its sites):

- **Backlog**: bytes (records) the site holds that the central copy lacks; its peak is
  the local retention a site needs to lose nothing.
- **Lost to retention** / **to failures**: bytes deleted by ``retention.ms`` /
  ``retention.bytes`` before they were copied, and bytes a site failure destroyed.
- **Staleness** of the central copy: now minus the produce time of the newest record
  it holds of the site (from the run's start while it holds none); percentiles and
  maximum over time from warmup to the end of production (each instant weighs
  equally: a time-weighted distribution; after production the newest record only ages).
- **Catch-up**: from each reconnection (the link coming up) to the first instant the
  replication has nothing left but what is in flight; *incomplete* when the link went
  down first.
- **Central ingest**: the fleet's replication throughput (bytes crossing the uplinks
  per second); its peak over time. Replicated bytes count when they land.
- **Link utilisation**: replication throughput over the link's rate, while up or slow
  (links without a rate are left out).

Series (bins of the run): per class, backlog, staleness and cumulative figures at each
bin's end; for the fleet (``region`` ``edge`` of the tidy time series) the summed
backlog, the largest staleness and the bytes replicated in the bin.
"""

from __future__ import annotations

import copy
import math
from array import array
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from geosim.core.events import Recorder
from geosim.metrics.report import RegionLoss
from geosim.metrics.sections import SectionContext
from geosim.strategies.edge.events import EdgeClassDeclared, EdgeState

QUANTILES = (("p50", 0.5), ("p90", 0.9), ("p99", 0.99))


class _ClassFold:
    """One class's integrals, per site."""

    def __init__(self, ev: EdgeClassDeclared):
        self.index = ev.cls
        self.template = ev.template
        self.sites = list(ev.sites)
        self.rate = ev.produce_rate
        self.record_bytes = ev.record_bytes
        self.region = ev.region
        self.message_bytes = ev.message_bytes
        self.rpo = 0.0            # the largest staleness of the central copy at a failure
        self.last: EdgeState | None = None
        self.backlog_peak = 0.0
        self.staleness_max = 0.0
        self.lo = array("d")
        self.hi = array("d")
        self.weight = array("d")
        self.catch_ups: list[float] = []
        self.incomplete = 0
        self.pending: float | None = None
        self.util_peak = 0.0
        self.util_integral = 0.0
        self.up_seconds = 0.0
        self.next_sample = 0
        self.samples: dict[str, array] = {name: array("d") for name in SAMPLED}
        self.links: list[str] = []


SAMPLED = ("backlog_bytes", "staleness_s", "replicated_bytes", "lost_retention_bytes",
           "lost_failure_bytes", "throughput_bytes_per_s")


def _at(ev: EdgeState, t: float) -> dict[str, float]:
    dt = t - ev.t
    return {"backlog_bytes": max(ev.backlog + ev.backlog_rate * dt, 0.0),
            "staleness_s": t - (ev.newest + ev.newest_rate * dt),
            "replicated_bytes": ev.replicated + ev.copy_rate * dt,
            "lost_retention_bytes": ev.lost_retention,
            "lost_failure_bytes": ev.lost_failure,
            "throughput_bytes_per_s": ev.throughput}


#: The section's CSV files: per class and bin end, and each site's template and class.
CLASSES_CSV = "edge-classes.csv"
SITES_CSV = "edge-sites.csv"
#: Region of the fleet's rows in the tidy time series.
SERIES_REGION = "edge"


def _losses(weighted: list[tuple[_ClassFold, int]], t_end: float) -> dict[str, RegionLoss]:
    """Acknowledged data the sites lost, by their producers' region: what retention
    deleted before the replication read it and what site failures destroyed (the
    sites' brokers acknowledged both), uncompressed as the run's loss counts bytes;
    RPO from the failures (retention deletes on its own schedule, not at a fault)."""
    records: dict[str, float] = {}
    rpo: dict[str, float] = {}
    raw: dict[str, float] = {}
    for c, m in weighted:
        if c.last is None:
            continue
        end = _at(c.last, t_end)
        lost = m * (end["lost_retention_bytes"] + end["lost_failure_bytes"]) \
            / c.record_bytes
        if lost <= 0:
            continue
        records[c.region] = records.get(c.region, 0.0) + lost
        raw[c.region] = raw.get(c.region, 0.0) + lost * c.message_bytes
        if end["lost_failure_bytes"] > 0:
            rpo[c.region] = max(rpo.get(c.region, 0.0), c.rpo)
    return {region: RegionLoss(round(records[region]), round(raw[region]),
                               rpo.get(region, 0.0)) for region in sorted(records)}


@dataclass
class EdgeReport:
    """The edge section of a run: the fleet, each site, series per class (a
    :class:`~geosim.metrics.sections.SectionReport`), and the acknowledged data its
    sites lost, by region (:meth:`losses`, added to the run's ``loss``)."""

    summary: dict[str, Any]
    classes: pd.DataFrame = field(default_factory=pd.DataFrame)
    sites: pd.DataFrame = field(default_factory=pd.DataFrame)
    lost: dict[str, RegionLoss] = field(default_factory=dict)

    def losses(self) -> dict[str, RegionLoss]:
        return self.lost

    def to_dict(self) -> dict[str, Any]:
        return self.summary

    def files(self) -> dict[str, pd.DataFrame]:
        return {CLASSES_CSV: self.classes, SITES_CSV: self.sites}

    def series(self, nbins: int) -> list[tuple[str, str, np.ndarray]]:
        """The fleet's series for the tidy time series (``region`` ``edge``), bin
        values at each bin's end (bytes replicated: over the bin)."""
        backlog = np.zeros(nbins)
        staleness = np.zeros(nbins)
        replicated = np.zeros(nbins)
        for _, group in self.classes.groupby("class", sort=True):
            m = int(group["sites"].iloc[0])
            if m == 0:
                continue
            n = min(len(group), nbins)
            backlog[:n] += m * group["backlog_bytes"].to_numpy()[:n]
            staleness[:n] = np.maximum(staleness[:n], group["staleness_s"].to_numpy()[:n])
            cum = group["replicated_bytes"].to_numpy()[:n]
            replicated[:n] += m * np.diff(cum, prepend=0.0)
        return [(SERIES_REGION, "edge_backlog_bytes", backlog),
                (SERIES_REGION, "edge_staleness_max_s", staleness),
                (SERIES_REGION, "edge_replicated_bytes", replicated)]


class EdgeFold:
    """Subscribes to the edge events of a run and builds an :class:`EdgeReport` (a
    :class:`~geosim.metrics.sections.SectionFold`)."""

    def __init__(self, context: SectionContext):
        self.warmup = float(context.warmup)
        self.production_end = float(context.production_end)
        self.bin_width = float(context.bin_width)
        self.classes: dict[int, _ClassFold] = {}
        self.ingest = 0.0          # fleet bytes/s now
        self.ingest_peak = 0.0
        self.ingest_peak_at = 0.0

    def subscribe(self, recorder: Recorder) -> None:
        recorder.subscribe(EdgeClassDeclared, self.on_declared)
        recorder.subscribe(EdgeState, self.on_state)

    @property
    def active(self) -> bool:
        return bool(self.classes)

    def on_declared(self, ev: EdgeClassDeclared) -> None:
        if ev.parent < 0:
            self.classes[ev.cls] = _ClassFold(ev)
            return
        parent = self.classes[ev.parent]
        # The sites leave the parent: they share its history until now.
        self._sample(parent, ev.t)
        child = copy.deepcopy(parent)
        child.index = ev.cls
        child.sites = list(ev.sites)
        parent.sites = [s for s in parent.sites if s not in ev.sites]
        self.classes[ev.cls] = child

    def _sample(self, c: _ClassFold, t: float) -> None:
        """Record the class's values at the bin ends up to ``t``."""
        last = c.last
        if last is None:
            return
        width = self.bin_width
        while (c.next_sample + 1) * width <= t:
            values = _at(last, (c.next_sample + 1) * width)
            for name in SAMPLED:
                c.samples[name].append(values[name])
            c.links.append(last.link)
            c.next_sample += 1

    def on_state(self, ev: EdgeState) -> None:
        c = self.classes[ev.cls]
        last = c.last
        if last is not None:
            self._sample(c, ev.t)
            self._integrate(c, last, ev.t)
            if ev.lost_failure > last.lost_failure:
                # a failure lost what the central copy lacked: the records produced
                # after its newest, so the oldest lost one is as old as its staleness
                c.rpo = max(c.rpo, _at(last, ev.t)["staleness_s"])
            self.ingest += len(c.sites) * (ev.throughput - last.throughput)
        else:
            self.ingest += len(c.sites) * ev.throughput
        if self.ingest > self.ingest_peak + 1e-9:
            self.ingest_peak = self.ingest
            self.ingest_peak_at = ev.t
        c.backlog_peak = max(c.backlog_peak, ev.backlog)
        # catch-up after a reconnection
        reconnected = ev.link == "up" and (last is None or last.link != "up")
        if c.pending is not None and ev.link != "up":
            c.incomplete += 1
            c.pending = None
        if reconnected:
            if ev.caught_up:
                c.catch_ups.append(0.0)
            else:
                c.pending = ev.t
        elif c.pending is not None and ev.caught_up:
            c.catch_ups.append(ev.t - c.pending)
            c.pending = None
        if ev.bandwidth and ev.link != "down":
            c.util_peak = max(c.util_peak, ev.throughput / ev.bandwidth)
        c.last = ev

    def _integrate(self, c: _ClassFold, last: EdgeState, t: float) -> None:
        t0 = max(last.t, self.warmup)
        t1 = min(t, self.production_end)
        if t1 > t0:
            s0 = _at(last, t0)["staleness_s"]
            s1 = _at(last, t1)["staleness_s"]
            c.lo.append(min(s0, s1))
            c.hi.append(max(s0, s1))
            c.weight.append(t1 - t0)
            c.staleness_max = max(c.staleness_max, s0, s1)
        c.backlog_peak = max(c.backlog_peak, _at(last, t)["backlog_bytes"])
        if last.bandwidth and last.link != "down":
            c.util_integral += (t - last.t) * last.throughput / last.bandwidth
            c.up_seconds += t - last.t

    # --- results ------------------------------------------------------------------
    def finalize(self, t_end: float) -> EdgeReport | None:
        if not self.classes:
            return None
        for c in self.classes.values():
            if c.last is not None and c.last.t < t_end:
                self._sample(c, t_end)
                self._integrate(c, c.last, t_end)
        nbins = math.ceil(t_end / self.bin_width - 1e-9)
        by_site: dict[str, Any] = {}
        rows = []
        for c in sorted(self.classes.values(), key=lambda c: c.index):
            site = self._site(c, t_end)
            for name in c.sites:
                by_site[name] = {**site, "class": c.index}
            rows.append(c)
        weighted = [(c, len(c.sites)) for c in rows if c.sites]
        lo = np.concatenate([np.frombuffer(c.lo) for c, _ in weighted]) \
            if weighted else np.zeros(0)
        hi = np.concatenate([np.frombuffer(c.hi) for c, _ in weighted]) \
            if weighted else np.zeros(0)
        w = np.concatenate([np.frombuffer(c.weight) * m for c, m in weighted]) \
            if weighted else np.zeros(0)
        sites = sum(m for _, m in weighted)

        def total(key: str) -> float:
            return sum(by_site[s][key] for s in by_site)

        catch = [x for c, m in weighted for x in c.catch_ups for _ in range(m)]
        up = sum(c.up_seconds * m for c, m in weighted)
        summary = {
            "sites": sites,
            "classes": len(weighted),
            "backlog_bytes_peak_sum": float(_fleet_series(weighted, "backlog_bytes",
                                                          nbins).max(initial=0.0)),
            "backlog_bytes_peak_site_max": max((by_site[s]["backlog_bytes_peak"]
                                                for s in by_site), default=0.0),
            "replicated_bytes": total("replicated_bytes"),
            "replicated_records": total("replicated_records"),
            "lost_retention_bytes": total("lost_retention_bytes"),
            "lost_retention_records": total("lost_retention_records"),
            "lost_failure_bytes": total("lost_failure_bytes"),
            "lost_failure_records": total("lost_failure_records"),
            "sites_losing_to_retention": sum(1 for s in by_site
                                             if by_site[s]["lost_retention_bytes"] > 0),
            "staleness_seconds": {**_quantiles(lo, hi, w),
                                  "max": float(hi.max()) if hi.size else None},
            "catch_up_seconds": {"count": len(catch),
                                 "mean": float(np.mean(catch)) if catch else None,
                                 "max": float(max(catch)) if catch else None,
                                 "incomplete": sum(c.incomplete * m for c, m in weighted)},
            "central_ingest_peak_bytes_per_s": self.ingest_peak,
            "central_ingest_peak_at": self.ingest_peak_at,
            "central_ingest_mean_bytes_per_s": total("replicated_bytes") / t_end
            if t_end > 0 else 0.0,
            "link_utilisation_peak": max((c.util_peak for c, _ in weighted), default=0.0),
            "link_utilisation_mean_while_up": sum(c.util_integral * m for c, m in weighted)
            / up if up > 0 else None,
        }
        return EdgeReport({"fleet": _counts(summary),
                           "by_site": {name: _counts(v) for name, v in by_site.items()}},
                          self._class_frame(rows, nbins), self._site_frame(rows),
                          _losses(weighted, t_end))

    def _site(self, c: _ClassFold, t_end: float) -> dict[str, Any]:
        last = c.last
        end = _at(last, t_end) if last is not None else {k: 0.0 for k in SAMPLED}
        per_record = c.record_bytes
        lo, hi, w = (np.frombuffer(c.lo), np.frombuffer(c.hi), np.frombuffer(c.weight))
        return {
            "template": c.template,
            "backlog_bytes_peak": c.backlog_peak,
            "backlog_records_peak": c.backlog_peak / per_record,
            "backlog_bytes_end": end["backlog_bytes"],
            "replicated_bytes": end["replicated_bytes"],
            "replicated_records": end["replicated_bytes"] / per_record,
            "lost_retention_bytes": end["lost_retention_bytes"],
            "lost_retention_records": end["lost_retention_bytes"] / per_record,
            "lost_failure_bytes": end["lost_failure_bytes"],
            "lost_failure_records": end["lost_failure_bytes"] / per_record,
            "staleness_seconds": {**_quantiles(lo, hi, w),
                                  "max": c.staleness_max if hi.size else None},
            "catch_up_seconds": {"count": len(c.catch_ups),
                                 "mean": float(np.mean(c.catch_ups)) if c.catch_ups
                                 else None,
                                 "max": max(c.catch_ups) if c.catch_ups else None,
                                 "incomplete": c.incomplete},
            "link_utilisation_peak": c.util_peak,
        }

    def _class_frame(self, rows: list[_ClassFold], nbins: int) -> pd.DataFrame:
        parts = []
        width = self.bin_width
        for c in rows:
            n = min(len(c.samples["backlog_bytes"]), nbins)
            if n == 0:
                continue
            frame = {"t": (np.arange(n) + 1) * width, "class": c.index,
                     "template": c.template, "sites": len(c.sites)}
            for name in SAMPLED:
                frame[name] = np.frombuffer(c.samples[name])[:n]
            frame["link"] = c.links[:n]
            parts.append(pd.DataFrame(frame))
        if not parts:
            return pd.DataFrame(columns=["t", "class", "template", "sites", *SAMPLED,
                                         "link"])
        return pd.concat(parts, ignore_index=True)

    @staticmethod
    def _site_frame(rows: list[_ClassFold]) -> pd.DataFrame:
        records = [(site, c.template, c.index) for c in rows for site in c.sites]
        return pd.DataFrame(sorted(records), columns=["site", "template", "class"])


#: Keys holding byte or record counts: integers in the summary (docs/summary.md).
_COUNT_SUFFIXES = ("_bytes", "_records", "_bytes_peak", "_records_peak", "_bytes_end",
                   "_bytes_peak_sum", "_bytes_peak_site_max")


def _counts(values: dict[str, Any]) -> dict[str, Any]:
    """Byte and record counts rounded to integers."""
    return {k: int(round(v)) if isinstance(v, float) and k.endswith(_COUNT_SUFFIXES)
            else v for k, v in values.items()}


def _fleet_series(weighted: list[tuple[_ClassFold, int]], name: str,
                  nbins: int) -> np.ndarray:
    out = np.zeros(nbins)
    for c, m in weighted:
        values = np.frombuffer(c.samples[name])[:nbins]
        out[:len(values)] += m * values
    return out


def _quantiles(lo: np.ndarray, hi: np.ndarray, w: np.ndarray) -> dict[str, float | None]:
    """Quantiles of a mixture of uniform distributions on [lo, hi] with weights w (a
    linear piece of a time series weighs its duration)."""
    if w.size == 0 or w.sum() <= 0:
        return {name: None for name, _ in QUANTILES}
    total = w.sum()
    width = hi - lo
    flat = width <= 0
    safe = np.where(flat, 1.0, width)

    def cdf(x: float) -> float:
        part = np.where(flat, (x >= lo).astype(float), np.clip((x - lo) / safe, 0.0, 1.0))
        return float((part * w).sum() / total)

    out: dict[str, float | None] = {}
    for name, q in QUANTILES:
        a, b = float(lo.min()), float(hi.max())
        for _ in range(60):
            mid = (a + b) / 2
            if cdf(mid) < q:
                a = mid
            else:
                b = mid
        out[name] = b
    return out


__all__ = ["EdgeFold", "EdgeReport"]
