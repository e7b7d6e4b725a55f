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


def advice_map(answers: pd.DataFrame, x: str, y: str, design: str, cost: str) -> Figure:
    """The advised design of each (``x``, ``y``) pair of objectives, one colour per
    design (grey: infeasible), each cell annotated with its ``cost`` column.

    ``answers`` has one row per pair (e.g. RPO objective, budget) with the advised
    design's name in ``design`` ("infeasible" when none) and its cost (NaN when none).
    """
    xs = sorted(answers[x].unique())
    ys = sorted(answers[y].unique())
    names = [n for n in dict.fromkeys(answers[design]) if n != "infeasible"]
    fig = Figure(figsize=(8, 0.6 * len(ys) + 2.2), layout="constrained")
    ax = fig.subplots()
    for _, row in answers.iterrows():
        i, j = xs.index(row[x]), ys.index(row[y])
        name = row[design]
        color = "0.85" if name == "infeasible" else f"C{names.index(name)}"
        ax.add_patch(_rectangle((i - 0.5, j - 0.5), color))
        text = "infeasible" if name == "infeasible" else f"{row[cost]:,.3g}"
        ax.text(i, j, text, ha="center", va="center", fontsize=8)
    for k, name in enumerate(names):
        ax.scatter([], [], marker="s", s=80, color=f"C{k}", label=name)
    ax.set_xlim(-0.5, len(xs) - 0.5)
    ax.set_ylim(-0.5, len(ys) - 0.5)
    ax.set_xticks(range(len(xs)), [f"{v:g}" for v in xs])
    ax.set_yticks(range(len(ys)), [f"{v:g}" for v in ys])
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.set_title(f"advised design by objectives (cell: {cost})", fontsize=10)
    return fig


def _rectangle(corner: tuple[float, float], color: str):
    from matplotlib.patches import Rectangle
    return Rectangle(corner, 1, 1, facecolor=color, edgecolor="white")
