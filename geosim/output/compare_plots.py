"""Plots across the variants of a comparison (``geosim compare``), for notebooks too.

Each function takes a mapping from variant name to a run: a
:class:`geosim.runner.Result`, a :class:`geosim.output.frames.SavedRun` or (for
:func:`comparison_chart`) a bare summary dict. Figures are built without ``pyplot``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from geosim.output.plots import PHASE_STYLES

GIB = 2**30


def _summary(run: Any) -> dict:
    return run if isinstance(run, Mapping) else run.summary


def comparison_chart(runs: Mapping[str, Any]) -> Figure:
    """Four panels, one bar per variant: latency, data at risk, time, network bytes.

    Latency: publish ("pub.") and end-to-end p50 and p99 in the steady state (``before``) and
    during the fault, in milliseconds. Data at risk: acknowledged records lost and
    unavailable. Time: RPO and the longest unavailability, in seconds. Network:
    cross-region and inter-zone bytes over the run, in GiB.
    """
    names = list(runs)
    summaries = [_summary(runs[name]) for name in names]
    fig = Figure(figsize=(12, 8), layout="constrained")
    (lat, risk), (time, net) = fig.subplots(2, 2)
    colors = [f"C{i}" for i in range(len(names))]

    def bars(ax, labels: list[str], values: list[list[float]], ylabel: str,
             value_format: str | None = None) -> None:
        """Grouped bars; with ``value_format``, each bar is labelled (zeros show too)."""
        x = np.arange(len(labels))
        width = 0.8 / max(len(names), 1)
        for i, name in enumerate(names):
            heights = [np.nan if v is None else v for v in values[i]]
            drawn = ax.bar(x + (i - (len(names) - 1) / 2) * width, heights, width,
                           label=name, color=colors[i])
            if value_format:
                ax.bar_label(drawn, labels=["n/a" if np.isnan(h) else format(h, value_format)
                                            for h in heights], fontsize=7, padding=2)
        ax.set_xticks(x, labels, fontsize=8)
        ax.set_ylabel(ylabel)
        ax.grid(True, axis="y", alpha=0.3)

    def latency(summary: dict, kind: str, phase: str, stat: str) -> float | None:
        value = summary.get("latency", {}).get(kind, {}).get("all", {}).get(phase, {}).get(stat)
        return None if value is None else value * 1e3

    lat_keys = [(k, p, s) for k in ("publish", "e2e") for p in ("before", "during")
                for s in ("p50", "p99")]
    bars(lat, [f"{'pub.' if k == 'publish' else k} {s}\n{p}" for k, p, s in lat_keys],
         [[latency(s, *key) for key in lat_keys] for s in summaries], "latency (ms, log scale)")
    lat.set_yscale("log")
    lat.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    lat.tick_params(axis="x", labelsize=7)
    lat.set_title("latency percentiles, all regions (before / during the fault)")
    bars(risk, ["acked records lost", "acked records\nunavailable"],
         [[s["loss"]["lost_records"], s["unavailable"]["records"]] for s in summaries],
         "records", ",.0f")
    risk.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    risk.set_title("acknowledged data lost / unavailable")
    bars(time, ["RPO", "longest unavailability"],
         [[s["loss"]["rpo_seconds"], s["unavailable"]["max_seconds"]] for s in summaries],
         "seconds", ".1f")
    time.set_title("RPO and unavailability (s)")
    bars(net, ["cross-region", "inter-zone"],
         [[s["bytes"]["cross_region"]["total"] / GIB, s["bytes"]["inter_zone"]["total"] / GIB]
          for s in summaries], "GiB over the run", ".3g")
    net.set_title("network bytes")
    lat.legend(title="variant", fontsize=8)
    first = summaries[0] if summaries else {}
    fig.suptitle(f"{first.get('scenario', '')}: comparison of "
                 f"{', '.join(names)} (seed {first.get('seed')})")
    return fig


def latency_cdf_comparison(runs: Mapping[str, Any], *, kind: str = "e2e",
                           phases: tuple[str, ...] = ("before", "during")) -> Figure:
    """CDFs of ``kind`` latency (all regions) per variant, one line style per phase.

    Runs must carry histograms (a Result) or CDF points (a SavedRun's ``latency_cdf``).
    """
    fig = Figure(figsize=(9, 5), layout="constrained")
    ax = fig.subplots()
    for i, (name, run) in enumerate(runs.items()):
        for phase in phases:
            points = _cdf_points(run, kind, phase)
            if points is None:
                continue
            values, fractions = points
            ax.plot(np.maximum(np.asarray(values, dtype=float) * 1e3, 1e-3), fractions,
                    PHASE_STYLES.get(phase, "-."), color=f"C{i}", drawstyle="steps-post",
                    label=f"{name} {phase}")
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    label = "end-to-end (send to delivery)" if kind == "e2e" else "publish (send to ack)"
    ax.set_xlabel(f"{label} latency (ms)")
    ax.set_ylabel("fraction of records")
    ax.set_ylim(0, 1.01)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.grid(True, which="both", alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="lower right", fontsize=8)
    ax.set_title(f"{kind} latency CDF by variant, all regions")
    return fig


def _cdf_points(run: Any, kind: str, phase: str):
    report = getattr(run, "report", None)
    if report is not None:
        hist = report.histograms.get((kind, "all", phase))
        return hist.cdf_points() if hist is not None and hist.count else None
    frame = getattr(run, "latency_cdf", None)
    if frame is None or frame.empty:
        return None
    rows = frame[(frame["kind"] == kind) & (frame["region"] == "all")
                 & (frame["phase"] == phase)]
    return (rows["latency"].to_numpy(), rows["fraction"].to_numpy()) if len(rows) else None
