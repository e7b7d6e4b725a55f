"""Sweep plots: a metric against a factor, with its spread across seeds.

Takes a sweep's results table (:func:`geosim.output.frames.load_sweep`, or what
:func:`geosim.sweep.sweep` returns): one row per run, factor columns named by their
``--set`` keys, metric columns by :func:`geosim.output.frames.summary_row`.

>>> fig = metric_vs_factor(table, "strategy.flush_interval",           # doctest: +SKIP
...                        "latency.publish.before.p50")
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

#: Axis labels (with units) of common metric columns; others use the column name.
METRIC_LABELS = {
    "loss.rpo_seconds": "RPO (s)",
    "loss.lost_records": "acknowledged records lost",
    "loss.lost_bytes": "acknowledged bytes lost",
    "unavailable.records": "acknowledged records unavailable",
    "unavailable.bytes": "acknowledged bytes unavailable",
    "unavailable.max_seconds": "longest unavailability (s)",
    "bytes.cross_region.total": "cross-region bytes",
    "bytes.cross_region.rate": "cross-region bytes/s",
}
#: Metric columns in seconds that read better in milliseconds.
_MS_PREFIX = "latency."


def _label(metric: str) -> str:
    if metric in METRIC_LABELS:
        return METRIC_LABELS[metric]
    if metric.startswith(_MS_PREFIX):
        _, kind, phase, stat = (metric.split(".") + ["", "", ""])[:4]
        name = {"publish": "publish", "e2e": "end-to-end"}.get(kind, kind)
        return f"{name} latency {stat.replace('p999', 'p99.9')}, {phase} (ms)"
    return metric


def metric_vs_factor(table: pd.DataFrame, factor: str, metric: str, *,
                     hue: str | None = None, ax: Any = None) -> Figure:
    """``metric`` against ``factor``: the median over seeds as a line, the min-max range
    across seeds as a band, and each seed's run as a dot.

    A numeric factor is drawn on a numeric axis; any other factor as categories in the
    table's order. ``hue`` (another factor column) draws one line per value. Failed runs
    (``status`` not ``ok``) are left out. Latency columns are drawn in milliseconds.
    """
    for column in (factor, metric, *([hue] if hue else [])):
        if column not in table.columns:
            raise KeyError(f"no column {column!r} in the table; columns: "
                           f"{', '.join(map(str, table.columns))}")
    rows = table[table["status"] == "ok"] if "status" in table.columns else table
    scale = 1e3 if metric.startswith(_MS_PREFIX) else 1.0
    if ax is None:
        fig = Figure(figsize=(8, 5), layout="constrained")
        ax = fig.subplots()
    else:
        fig = ax.figure
    numeric = pd.api.types.is_numeric_dtype(rows[factor])
    levels = list(dict.fromkeys(rows[factor]))
    position = (lambda v: v) if numeric else (lambda v: levels.index(v))
    groups = list(rows.groupby(hue, sort=False)) if hue else [(None, rows)]
    for i, (name, group) in enumerate(groups):
        color = f"C{i}"
        stats = group.groupby(factor, sort=False)[metric].agg(["median", "min", "max"])
        stats = stats.loc[[v for v in levels if v in stats.index]]
        x = np.array([position(v) for v in stats.index], dtype=float)
        order = np.argsort(x)
        x = x[order]
        ax.plot(x, stats["median"].to_numpy()[order] * scale, "-o", color=color,
                label=f"{hue}={name}" if hue else "median over seeds")
        ax.fill_between(x, stats["min"].to_numpy()[order] * scale,
                        stats["max"].to_numpy()[order] * scale, color=color, alpha=0.15,
                        linewidth=0, label=None if hue else "min-max across seeds")
        jitter = 0.0 if numeric else 0.04 * (i - (len(groups) - 1) / 2)
        ax.plot([position(v) + jitter for v in group[factor]], group[metric] * scale, ".",
                color=color, alpha=0.5, markersize=5,
                label=None if hue else "each seed's run"
                if "seed" in group else "each run")
    if not numeric:
        ax.set_xticks(range(len(levels)), [str(v) for v in levels])
    ax.set_xlabel(factor)
    ax.set_ylabel(_label(metric))
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    if scale == 1.0 and np.nanmax(np.abs(rows[metric].to_numpy(dtype=float)), initial=0) >= 1e4:
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    seeds = rows["seed"].nunique() if "seed" in rows else 1
    per_point = f"{seeds} seed{'s' if seeds != 1 else ''} per point"
    ax.set_title(f"{_label(metric)} vs {factor} ({per_point})", fontsize=10)
    return fig
