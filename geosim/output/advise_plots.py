"""The plot of ``geosim advise``: the designs evaluated, cost against RPO and p99.

Takes the advice table (:attr:`geosim.advise.Advice.frame`, or ``advice.csv`` read back):
one row per candidate with ``strategy``, ``status``, ``feasible``, ``front``, ``winner``,
``cost``, ``rpo_seconds`` and ``latency`` columns. Two panels share the cost axis: RPO
(worst over failures and seeds) and the chosen p99; one marker shape per strategy,
filled when the design meets every objective, hollow when not; the Pareto front's
designs are circled, designs a property search broke are crossed, the winner is a star.
"""

from __future__ import annotations

import math

import pandas as pd
from matplotlib.figure import Figure

MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h")


def _finite(values: pd.Series) -> pd.Series:
    return values.astype(float).where(values.astype(float).map(math.isfinite))


def advise_front(table: pd.DataFrame, *, latency_label: str = "p99 latency (s)") -> Figure:
    """Cost vs RPO and cost vs p99 of the fully evaluated designs (see the module)."""
    rows = table[table["status"] == "evaluated"]
    fig = Figure(figsize=(11, 4.8), layout="constrained")
    axes = fig.subplots(1, 2, sharex=True)
    strategies = list(dict.fromkeys(table["strategy"]))
    for ax, column, label in ((axes[0], "rpo_seconds", "RPO, worst over failures (s)"),
                              (axes[1], "latency", latency_label)):
        for i, strategy in enumerate(strategies):
            group = rows[rows["strategy"] == strategy]
            if group.empty:
                continue
            marker, color = MARKERS[i % len(MARKERS)], f"C{i}"
            for feasible, face in ((True, color), (False, "none")):
                part = group[group["feasible"] == feasible]
                if part.empty:
                    continue
                ax.scatter(part["cost"], _finite(part[column]), marker=marker, s=45,
                           facecolors=face, edgecolors=color,
                           label=f"{strategy} ({'meets' if feasible else 'misses'})")
            front = group[group["front"]]
            ax.scatter(front["cost"], _finite(front[column]), marker="o", s=160,
                       facecolors="none", edgecolors="black", linewidths=0.8)
        demoted = rows[rows["demoted"]] if "demoted" in rows else rows.iloc[0:0]
        if not demoted.empty:
            ax.scatter(demoted["cost"], _finite(demoted[column]), marker="x", s=120,
                       color="red", zorder=4, label="demoted by the property search")
        winner = rows[rows["winner"]]
        if not winner.empty:
            ax.scatter(winner["cost"], _finite(winner[column]), marker="*", s=260,
                       color="gold", edgecolors="black", zorder=5, label="advised design")
        ax.set_xlabel("monthly cost (USD)")
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
    axes[0].legend(fontsize=7, loc="best")
    infinite = int((~rows["rpo_seconds"].astype(float).map(math.isfinite)).sum()
                   + (~rows["latency"].astype(float).map(math.isfinite)).sum())
    note = f"; {infinite} value(s) without a finite measure not drawn" if infinite else ""
    fig.suptitle(f"{len(rows)} designs evaluated (circled: Pareto front of cost, RPO and "
                 f"p99){note}", fontsize=10)
    return fig
