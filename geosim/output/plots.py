"""Plots of one run, usable from notebooks and written next to the results.

Each function takes a :class:`geosim.runner.Result`, or a
:class:`~geosim.metrics.MetricsReport` together with its summary dict (as
``plot(report, summary)`` or ``plot((report, summary))``), and returns a
:class:`matplotlib.figure.Figure`. Figures are built without ``pyplot``, so no global
figure state is touched and nothing is ever shown; :func:`save_all` renders them
with the Agg backend.

>>> fig = timeline(result)                      # doctest: +SKIP
>>> fig.savefig("timeline.png")                 # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogFormatter, PercentFormatter

from geosim.core.units import format_bytes
from geosim.metrics.sections import sections_of

GIB = 2**30
#: Phases drawn by :func:`latency_cdf`, with their line styles.
PHASE_STYLES = {"before": "-", "during": "--", "after": ":"}
#: Per-bin state metrics of replicated partitions (Kafka strategies; see
#: geosim.metrics.partitions) and of replication flows (cross-cluster strategies, one
#: line per flow; geosim.metrics.mirror), with axis labels; :func:`timeline` adds a panel for each
#: one present in the time series.
STATE_METRICS = {"leaders": "partition leaders\nby region (stacked)",
                 "under_min_isr_partitions": "partitions with\nISR < min.insync.replicas",
                 "offline_partitions": "offline partitions\n(no leader)",
                 "replication_lag": "replication lag (s)"}
#: File names used by :func:`save_all`.
FILES = {"timeline": "timeline.png", "latency_cdf": "latency.png",
         "bytes_by_purpose": "bytes.png", "bytes_by_pair": "bytes-pairs.png"}


def _unpack(source: Any, summary: dict | None) -> tuple[Any, dict]:
    """(report, summary) from a Result (or a saved run), a (report, summary) pair, a
    report + summary, or a summary dict alone."""
    if isinstance(source, tuple) and len(source) == 2:
        source, summary = source
    if isinstance(source, dict) and summary is None:  # a bare summary (bytes plots)
        return None, source
    if hasattr(source, "report") and hasattr(source, "summary"):
        return source.report, source.summary if summary is None else summary
    return source, summary if summary is not None else {}


def _title(summary: dict, what: str) -> str:
    """``<scenario> [<strategy>]: <what> (seed n)``: the strategy tells apart the
    variants of one scenario in a comparison."""
    name = summary.get("scenario")
    seed = summary.get("seed")
    strategy = summary.get("strategy")
    suffix = f" (seed {seed})" if seed is not None else ""
    if name and strategy:
        name = f"{name} [{strategy}]"
    return f"{name}: {what}{suffix}" if name else what


def _regions(frame: Any) -> list[str]:
    """Regions in the frame, sorted, with the aggregate ``all`` (if any) last."""
    regions = sorted(set(frame["region"]))
    if "all" in regions:
        regions.remove("all")
        regions.append("all")
    return regions


def _shade_faults(axes: list[Any], summary: dict) -> None:
    """Shade each fault's interval on every axis and label it on the first."""
    for index, fault in enumerate(summary.get("faults", [])):
        start = float(fault["start"])
        end = fault.get("end")
        label = f"{fault.get('kind', 'fault')} {fault.get('target', '')}".strip()
        for ax in axes:
            if end is None or float(end) <= start:
                ax.axvline(start, color="tab:red", alpha=0.6, linewidth=1.5)
            else:
                ax.axvspan(start, float(end), color="tab:red", alpha=0.12, linewidth=0)
        axes[0].annotate(label, xy=(start, 1.0), xycoords=("data", "axes fraction"),
                         xytext=(3, -12 - 11 * (index % 3)), textcoords="offset points",
                         fontsize=8, color="tab:red", va="top")


def _binary_unit(peak: float) -> tuple[str, float]:
    """The binary unit that keeps plotted sizes or rates readable: (name, bytes)."""
    for name, size in (("GiB", GIB), ("MiB", 2**20)):
        if peak >= size:
            return name, size
    return "KiB", 2**10


def timeline(source: Any, summary: dict | None = None) -> Figure:
    """Throughput (acked and delivered bytes/s) and availability by region over time.

    Throughput is in GiB/s, or MiB/s (KiB/s) for smaller loads. Bins without a value
    (availability where nothing was offered) are gaps; availability is drawn as a
    centred 5-bin mean (flushes land in bins unevenly), up to 105 %. Regions without
    traffic are left out. Faults from ``summary["faults"]`` are shaded and labelled with
    kind and target. Where the strategy records them, the time series metrics of
    ``STATE_METRICS`` (partition leaders by region, partitions under
    min.insync.replicas, offline partitions, replication lag) get a panel each when not
    all zero, drawn per bin as recorded.
    """
    report, summary = _unpack(source, summary)
    frame = report.timeseries
    width = report.bin_width  # series values are sums per bin
    starts = np.arange(max(int(np.ceil(report.t_end / width - 1e-9)), 1)) * width
    x = np.append(starts, starts[-1] + width)  # closes the last step

    def series(region: str, metric: str) -> np.ndarray | None:
        rows = frame[(frame["region"] == region) & (frame["metric"] == metric)]
        if rows.empty:
            return None
        values = rows.groupby("t")["value"].sum(min_count=1).reindex(starts).to_numpy(
            dtype=float)
        return np.append(values, values[-1])

    throughput = {}
    for region in _regions(frame):
        for metric in ("acked_bytes", "delivered_bytes"):
            values = series(region, metric)
            if values is not None and np.nansum(values) > 0:
                throughput[region, metric] = values / width
    peak = max((float(np.nanmax(v)) for v in throughput.values()), default=0.0)
    unit, scale = _binary_unit(peak)

    # A state panel only where the series says something (a panel of zeros is noise).
    state = [metric for metric in STATE_METRICS
             if frame.loc[frame["metric"] == metric, "value"].fillna(0).any()]
    fig = Figure(figsize=(11, 7 + 2.5 * len(state)), layout="constrained")
    top, bottom, *state_axes = fig.subplots(2 + len(state), 1, sharex=True,
                                            height_ratios=[3, 2, *[2] * len(state)])
    colors = {region: f"C{i}" for i, region in
              enumerate(dict.fromkeys(region for region, _ in throughput))}
    for (region, metric), values in throughput.items():
        top.plot(x, values / scale, "-" if metric == "acked_bytes" else "--",
                 color=colors[region], drawstyle="steps-post",
                 label=f"{region} {metric.removesuffix('_bytes')}")
    for region in colors:
        values = series(region, "availability")
        if values is not None:
            # Flushes land in bins unevenly; a 5-bin mean shows the service, not that.
            smooth = pd.Series(values).rolling(5, center=True, min_periods=1).mean().to_numpy()
            values = np.where(np.isnan(values), np.nan, smooth)  # gaps stay gaps
            bottom.plot(x, values, color=colors[region], drawstyle="steps-post", label=region)
    top.set_ylabel(f"throughput ({unit}/s)")
    top.set_title(_title(summary, "throughput and availability"))
    top.set_ylim(bottom=0)
    bottom.set_ylabel("availability, 5-bin mean\n(acked / nominal offered bytes)")
    bottom.set_xlabel("simulated time (s)")
    # Acks of data offered in the previous bin push single bins above 100 %: clipped.
    bottom.set_ylim(-0.03, 1.05)
    bottom.yaxis.set_major_formatter(PercentFormatter(1.0))
    bottom.set_xlim(0, x[-1])
    for ax, metric in zip(state_axes, state, strict=True):
        lines = [(region, values) for region in _regions(frame[frame["metric"] == metric])
                 if (values := series(region, metric)) is not None]
        ax.set_ylabel(STATE_METRICS[metric])
        ax.set_ylim(bottom=0)
        if metric == "leaders" and lines:
            # stacked: equal counts in two regions would hide one line behind the other
            ax.stackplot(x, *[np.nan_to_num(v) for _, v in lines],
                         labels=[r for r, _ in lines], step="post", alpha=0.8,
                         colors=[colors.get(r, f"C{i + len(colors)}")
                                 for i, (r, _) in enumerate(lines)])
            continue
        for i, (region, values) in enumerate(lines):
            ax.plot(x, values, color=colors.get(region, f"C{i + len(colors)}"),
                    drawstyle="steps-post", label=region)
    if state_axes:
        bottom.set_xlabel("")
        state_axes[-1].set_xlabel("simulated time (s)")
    axes = [top, bottom, *state_axes]
    for ax in axes:
        ax.grid(True, alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    _shade_faults(axes, summary)
    return fig


def latency_cdf(source: Any, summary: dict | None = None, *,
                phases: tuple[str, ...] = ("before", "during", "after")) -> Figure:
    """Publish and end-to-end latency CDFs per region, log-scaled in milliseconds.

    One colour per region, one line style per phase (``PHASE_STYLES``); empty phases
    are skipped.
    """
    report, summary = _unpack(source, summary)
    fig = Figure(figsize=(11, 5), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    histograms = report.histograms
    regions = sorted({region for _, region, _ in histograms})
    if "all" in regions and len(regions) > 1:
        regions.remove("all")
    palette = {region: f"C{i}" for i, region in enumerate(regions)}
    for ax, kind, label in zip(axes, ("publish", "e2e"),
                               ("publish (send to ack)", "end-to-end (send to delivery)"),
                               strict=True):
        for region in regions:
            for phase in phases:
                hist = histograms.get((kind, region, phase))
                if hist is None or not hist.count:
                    continue
                values, fractions = hist.cdf_points()
                ms = [max(float(v) * 1e3, 1e-3) for v in values]
                ax.plot(ms, fractions, PHASE_STYLES.get(phase, "-."), color=palette[region],
                        drawstyle="steps-post", label=f"{region} {phase}")
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(LogFormatter(labelOnlyBase=False,
                                                  minor_thresholds=(1.5, 0.5)))
        ax.set_xlabel(f"{label} latency (ms)")
        ax.set_title(kind)
        ax.grid(True, which="both", alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="lower right", fontsize=8)
    axes[0].set_ylabel("fraction of records")
    axes[0].set_ylim(0, 1.01)
    axes[0].yaxis.set_major_formatter(PercentFormatter(1.0))
    fig.suptitle(_title(summary, "latency CDF"))
    return fig


def _byte_bars(ax: Any, names: list[str], sizes: list[float], color: str) -> None:
    """Horizontal bars of byte counts, first at the top, each labelled with its size, on
    a binary-unit axis; "none" written across an empty panel."""
    unit, scale = _binary_unit(max(sizes, default=0))
    bars = ax.barh(names, [size / scale for size in sizes], color=color)
    ax.bar_label(bars, labels=[format_bytes(size) for size in sizes], fontsize=8, padding=3)
    ax.invert_yaxis()
    ax.margins(x=0.2)
    ax.set_xlabel(f"bytes transferred ({unit})")
    ax.grid(True, axis="x", alpha=0.3)
    if not sizes:
        ax.text(0.5, 0.5, "none", transform=ax.transAxes, ha="center", va="center")


def bytes_by_purpose(source: Any, summary: dict | None = None) -> Figure:
    """Bars of cross-region and inter-zone bytes by purpose, with totals and rates."""
    _, summary = _unpack(source, summary)
    traffic = summary.get("bytes", {})
    scopes = {"cross_region": ("cross-region", "tab:blue"),
              "inter_zone": ("inter-zone", "tab:orange")}
    fig = Figure(figsize=(11, 4.5), layout="constrained")
    # each panel on its own scale: inter-zone and cross-region volumes can differ by
    # orders of magnitude, and a shared axis would hide the smaller one
    axes = fig.subplots(1, len(scopes))
    for ax, (scope, (label, color)) in zip(axes, scopes.items(), strict=True):
        data = traffic.get(scope, {})
        items = sorted(data.get("by_purpose", {}).items(), key=lambda kv: (-kv[1], kv[0]))
        _byte_bars(ax, [name for name, _ in items], [size for _, size in items], color)
        ax.set_title(f"{label}: {format_bytes(data.get('total') or 0)} total, "
                     f"{format_bytes(data.get('rate') or 0)}/s average", fontsize=10)
    fig.suptitle(_title(summary, "network bytes by purpose"))
    return fig


def bytes_by_pair(source: Any, summary: dict | None = None, *, top: int = 12) -> Figure:
    """Bars of cross-region bytes by ``src->dst`` region pair and of inter-zone bytes by
    zone pair (the ``top`` largest of each), with totals.

    Purposes are in :func:`bytes_by_purpose`; pairs and purposes are separate counters
    in the summary (docs/summary.md), so they are separate charts.
    """
    _, summary = _unpack(source, summary)
    traffic = summary.get("bytes", {})
    scopes = {"cross_region": ("cross-region, by region pair", "tab:blue"),
              "inter_zone": ("inter-zone, by zone pair", "tab:orange")}
    fig = Figure(figsize=(11, 4.5), layout="constrained")
    axes = fig.subplots(1, len(scopes))
    for ax, (scope, (label, color)) in zip(axes, scopes.items(), strict=True):
        data = traffic.get(scope, {})
        items = sorted(data.get("by_pair", {}).items(), key=lambda kv: (-kv[1], kv[0]))[:top]
        _byte_bars(ax, [name.replace("->", " → ") for name, _ in items],
                   [size for _, size in items], color)
        ax.tick_params(axis="y", labelsize=8)
        ax.set_title(f"{label}: {format_bytes(data.get('total') or 0)} total", fontsize=10)
    fig.suptitle(_title(summary, "network bytes by source → destination"))
    return fig


def save(fig: Figure, path: str | Path, *, dpi: int = 110) -> Path:
    """Render ``fig`` to a PNG file with the Agg backend."""
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=dpi)
    return Path(path)


def save_all(source: Any, out_dir: str | Path, summary: dict | None = None) -> list[Path]:
    """Write ``timeline.png``, ``latency.png``, ``bytes.png`` and ``bytes-pairs.png``
    into ``out_dir``, then the plots of the strategy's report sections the run has
    (:meth:`geosim.metrics.sections.ReportSection.plots`, for a run or a saved run),
    leaving out the plots a section stands in for (``replaces_plots``: an edge fleet's
    producers and consumers are its sites', not the regions', so its timeline and
    latency CDF would be empty)."""
    makers = {"timeline": timeline, "latency_cdf": latency_cdf,
              "bytes_by_purpose": bytes_by_purpose, "bytes_by_pair": bytes_by_pair}
    full = _unpack(source, summary)[1]
    sections = [section for section in sections_of(full.get("strategy"))
                if full.get(section.name) and hasattr(source, "to_dataframe")]
    for section in sections:
        for name in section.replaces_plots:
            makers.pop(name, None)
    out = [save(make(source, summary), Path(out_dir) / FILES[name])
           for name, make in makers.items()]
    for section in sections:
        for file, fig in section.plots(source).items():
            out.append(save(fig, Path(out_dir) / file))
    return out
