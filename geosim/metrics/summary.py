"""The ``summary.json`` contract: a stable, documented, JSON-ready view of a report.

Every key, unit and definition is documented in ``docs/summary.md``; changing the
shape or meaning of a key requires bumping :data:`SCHEMA_VERSION`. Values are
plain ``int``/``float``/``str``/``bool``/``None`` (NaN and infinities become
``None``), dict keys are sorted, and floats are rounded to 9 significant digits,
so that the serialised summary of a run is byte-identical across runs, processes
and ``PYTHONHASHSEED`` values.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from geosim.core.units import format_duration
from geosim.metrics.collector import KINDS
from geosim.metrics.histogram import LatencyHistogram
from geosim.metrics.phases import PHASES
from geosim.metrics.report import MetricsReport, Recovery, TrafficClass

SCHEMA_VERSION = 1
#: Keys of the core summary present only for some runs (a report section may not use
#: them either).
OPTIONAL_KEYS = frozenset({"interconnects", "topics", "max_rate", "resolution"})
QUANTILES: tuple[tuple[str, float], ...] = (
    ("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("p999", 0.999))


def build_summary(report: MetricsReport, *, meta: Mapping[str, Any]) -> dict:
    """The ``summary.json`` dict of a run (see ``docs/summary.md``).

    ``meta`` supplies ``scenario``, ``strategy``, ``seed``, ``geosim_version``
    (default: the installed version), ``faults`` (dicts or objects with ``kind``,
    ``target``, ``start``, ``end``), ``counters`` (merged over the report's) and
    ``cost`` (the bill's dict, :meth:`geosim.cost.Bill.to_dict`, or None) and
    ``resolution`` (:meth:`geosim.strategies.base.Strategy.resolution`, if any).
    """
    totals = report.totals["all"]  # the collector sums every column into "all"
    summary = {
        "schema_version": SCHEMA_VERSION,
        "scenario": meta.get("scenario"),
        "strategy": meta.get("strategy"),
        "seed": meta.get("seed"),
        "geosim_version": meta.get("geosim_version", _installed_version()),
        "simulated_seconds": report.t_end,
        "faults": [_fault(f) for f in meta.get("faults", ())],
        "records": {
            "offered": totals["offered_records"],
            "accepted": totals["accepted_records"],
            "blocked": totals["blocked_records"],
            "backlog": totals["backlog_records"],
            "acked": totals["acked_records"],
            "failed": totals["failed_records"],
            "info": totals["info_records"],
            "delivered": totals["delivered_records"],
        },
        "loss": {
            "lost_records": report.loss.records,
            "lost_bytes": report.loss.bytes,
            "rpo_seconds": report.loss.rpo_seconds,
            "untracked_records": report.loss.untracked_records,
            "by_region": {
                region: {"lost_records": v.records, "lost_bytes": v.bytes,
                         "rpo_seconds": v.rpo_seconds}
                for region, v in report.loss.by_region.items()},
        },
        "unavailable": {
            "records": report.unavailable.records,
            "bytes": report.unavailable.bytes,
            "intervals": [[start, end] for start, end in report.unavailable.intervals],
            "max_seconds": report.unavailable.max_seconds,
            "open_records": report.unavailable.open_records,
            "by_region": {
                region: {"records": v.records, "bytes": v.bytes, "max_seconds": v.max_seconds}
                for region, v in report.unavailable.by_region.items()},
        },
        "rto": {region: {side: _recovery(r) for side, r in sides.items()}
                for region, sides in report.rto.items()},
        "latency": {
            kind: {region: {phase: _latency(report.latency(kind, region, phase))
                            for phase in PHASES}
                   for region in ["all", *report.regions]}
            for kind in KINDS},
        "bytes": {
            "cross_region": _traffic(report.traffic.cross_region),
            "inter_zone": _traffic(report.traffic.inter_zone),
        },
        "checks": {
            "duplicates": report.checks.duplicates,
            "skips": report.checks.skips,
            "reorders": report.checks.reorders,
            "duplicate_writes": report.checks.duplicate_writes,
            "redelivered_after_rebalance": report.checks.redelivered_after_rebalance,
        },
        "partitions": _partitions(report.partitions),
        # Replication flows between clusters (mirrormaker2, cluster-linking); else None.
        "mirror": report.mirror.to_dict() if report.mirror is not None else None,
        "counters": {**report.counters, **dict(meta.get("counters", {}))},
        # The monthly bill (geosim.cost), computed by the runner; None without prices.
        "cost": meta.get("cost"),
    }
    if report.interconnects:
        # Shared capacities (topology.interconnects), only when the scenario has some.
        summary["interconnects"] = report.interconnects
    if report.topics:
        # Declared topics (workload.topics) only.
        summary["topics"] = {name: _topic(t) for name, t in report.topics.items()}
    if report.max_rate:
        # A max-rate run (workload.max_rate or producerRate 0) only.
        summary["max_rate"] = report.max_rate
    if meta.get("resolution"):
        # A model run coarser than its reference resolution (Strategy.resolution) only.
        summary["resolution"] = dict(meta["resolution"])
    for name, section in report.sections.items():
        # The strategy's report sections (geosim.metrics.sections), when they have
        # something to report.
        if name in summary or name in OPTIONAL_KEYS:
            raise ValueError(f"report section {name!r}: a summary.json key of the core")
        summary[name] = section.to_dict()
    return normalize(summary)


def resolution_note(runs: Mapping[str, Mapping[str, float]]) -> str | None:
    """One sentence on the runs whose model ran coarser than its reference resolution
    (``summary.json``'s ``resolution``, settings in seconds), by name (``""`` for a
    single run), and what their results keep; None when none did. The summary table,
    the comparison report and the advice report all say it in these words."""
    coarse = {name: settings for name, settings in runs.items() if settings}
    if not coarse:
        return None

    def settings_text(settings: Mapping[str, float]) -> str:
        return ", ".join(f"{key.replace('_', ' ')} {format_duration(value)}"
                         for key, value in sorted(settings.items()))

    ran = "; ".join(f"{name} at {settings_text(settings)}" if name
                    else settings_text(settings) for name, settings in coarse.items())
    return (f"Coarser than the reference resolution: {ran}. Loss, RPO, unavailability "
            "and detection hold within twice the tick's growth on the tested cases; "
            "latency medians before a fault rise by up to that, and latency tails and "
            "fault-phase latencies are not kept (docs/architecture.md, \"Resolution and "
            "fidelity\").")


def _topic(t: Mapping[str, Any]) -> dict:
    """One declared topic's figures (``summary.json``'s ``topics``)."""
    histograms = t["histograms"]
    return {
        "records": {key: t[f"{key}_records"]
                    for key in ("acked", "failed", "info", "delivered")},
        "loss": {"lost_records": t["lost_records"], "lost_bytes": t["lost_bytes"]},
        "bytes": {"acked": t["acked_bytes"], "delivered": t["delivered_bytes"],
                  "replication_cross_region": t["replication_cross_region_bytes"]},
        "latency": {kind: {phase: _latency(histograms[(kind, phase)]) for phase in PHASES}
                    for kind in KINDS},
    }


def _partitions(report: Any) -> dict | None:
    """Leadership of replicated partitions (Kafka strategies); None for the others."""
    if report is None:
        return None
    f = report.failover
    return {
        "partitions": report.partitions,
        "leader_changes": report.leader_changes,
        "offline_windows": [[p, start, end] for p, start, end in report.offline_windows],
        "failover": {"detection_seconds": f.detection_seconds,
                     "election_seconds": f.election_seconds,
                     "client_seconds": f.client_seconds},
    }


def normalize(value: Any) -> Any:
    """A JSON-ready, deterministic copy of ``value`` (see the module docstring)."""
    if isinstance(value, Mapping):
        items = [(str(k), normalize(v)) for k, v in value.items()]
        return dict(sorted(items, key=lambda kv: kv[0]))
    if isinstance(value, list | tuple | np.ndarray):
        return [normalize(v) for v in value]
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        x = float(value)
        if not math.isfinite(x):
            return None
        x = float(f"{x:.9g}")
        return 0.0 if x == 0 else x  # no "-0.0"
    return str(value)


def _latency(histogram: LatencyHistogram) -> dict[str, Any]:
    stats: dict[str, Any] = {name: histogram.quantile(q) for name, q in QUANTILES}
    stats["max"] = histogram.max
    stats["mean"] = histogram.mean
    stats["records"] = int(round(histogram.count))
    return stats


def _recovery(recovery: Recovery) -> dict[str, Any]:
    return {"first_success": recovery.first_success,
            "rate_recovered": recovery.rate_recovered,
            "baseline_bytes_per_s": recovery.baseline_bytes_per_s,
            "longest_gap": recovery.longest_gap}


def _traffic(cls: TrafficClass) -> dict[str, Any]:
    return {"total": cls.total, "by_purpose": cls.by_purpose, "by_pair": cls.by_pair,
            "rate": cls.rate}


def _fault(fault: Any) -> dict[str, Any]:
    get = fault.get if isinstance(fault, Mapping) else (lambda k: getattr(fault, k, None))
    return {"kind": get("kind"), "target": get("target"), "start": get("start"),
            "end": get("end")}


def _installed_version() -> str:
    from geosim.version import __version__
    return __version__
