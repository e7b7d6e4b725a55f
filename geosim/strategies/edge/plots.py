"""Plots of edge sites (the edge strategy): backlog and staleness per site over time.

A class of identical sites is one line, labelled by its sites (``ship-1 +5``: ship-1
and five others), so a fleet of hundreds of sites stays readable. Takes a
:class:`geosim.runner.Result`, a saved run (:func:`geosim.output.load_run`) or the
per-site frame (``result.to_dataframe("edge")``). The report section
(:mod:`geosim.strategies.edge.section`) writes ``edge-backlog.png`` and
``edge-staleness.png`` with it; a notebook imports it from here.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from geosim.core.units import format_bytes, format_duration

#: What :func:`edge_sites` can draw: frame column -> axis label.
METRICS = {"backlog_bytes": "backlog at the site (not yet in the central copy)",
           "staleness_s": "staleness of the central copy",
           "replicated_bytes": "bytes replicated (cumulative)",
           "lost_retention_bytes": "bytes lost to retention (cumulative)",
           "throughput_bytes_per_s": "replication throughput"}
#: Most lines drawn; beyond, the classes with the largest peak are kept.
MAX_LINES = 12


def _frame(source: Any) -> tuple[pd.DataFrame, dict]:
    if isinstance(source, pd.DataFrame):
        return source, {}
    return source.to_dataframe("edge"), getattr(source, "summary", {}) or {}


def edge_sites(source: Any, metric: str = "backlog_bytes", *,
               sites: list[str] | None = None, lines: int = MAX_LINES) -> Figure:
    """One line per class of identical sites (or per listed site) of ``metric`` over
    time (days); at most ``lines`` lines, those with the largest peak."""
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")
    frame, summary = _frame(source)
    if frame.empty:
        raise ValueError("no edge sites in this run (strategy edge)")
    if sites is not None:
        frame = frame[frame["site"].isin(sites)]
        groups = {name: rows for name, rows in frame.groupby("site", sort=True)}
    else:
        groups = {}
        for _, rows in frame.groupby("class", sort=True):
            names = sorted(set(rows["site"]), key=_natural)
            first = rows[rows["site"] == names[0]]
            label = names[0] + (f" +{len(names) - 1}" if len(names) > 1 else "")
            groups[label] = first
    peaks = sorted(groups, key=lambda k: (-float(groups[k][metric].max()), k))[:lines]
    fig = Figure(figsize=(10, 4.5), layout="constrained")
    ax = fig.add_subplot()
    for label in sorted(peaks, key=_natural):
        rows = groups[label]
        ax.plot(rows["t"] / 86400, rows[metric], label=label, linewidth=1.2)
    ax.set_xlabel("simulated time (days)")
    ax.set_ylabel(METRICS[metric])
    if metric.endswith("bytes") or metric.endswith("per_s"):
        unit = "/s" if metric.endswith("per_s") else ""
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: format_bytes(v) + unit))
    elif metric.endswith("_s"):
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: format_duration(v)))
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", ncol=2, title="sites (classes)" if sites is None else None)
    name = summary.get("scenario")
    ax.set_title(f"{name}: {METRICS[metric]}" if name else METRICS[metric])
    return fig


def _natural(name: str) -> tuple:
    """``ship-2`` before ``ship-10``."""
    head, _, tail = name.partition(" ")[0].rpartition("-")
    return (head, int(tail)) if tail.isdigit() else (name, 0)


__all__ = ["METRICS", "edge_sites"]
