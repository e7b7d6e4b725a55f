"""Results as pandas: one flat row per run, and saved runs and sweeps loaded back.

:func:`summary_row` turns a ``summary.json`` dict (docs/summary.md) into one flat row of
headline metrics with dotted column names (``loss.rpo_seconds``,
``latency.e2e.during.p99``); sweep tables and comparison reports are made of these rows.
:func:`load_run` reads a directory written by ``geosim run`` (or a sweep's run
directory) and :func:`load_sweep` the table of a ``geosim sweep``.

Units are the summary's: seconds, bytes, records, bytes per second.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from geosim.metrics.sections import known_sections, scalar_leaves, sections_of

#: Latency kinds, phases and statistics copied into a row (of the ``all`` region).
ROW_LATENCY_KINDS = ("publish", "e2e")
ROW_LATENCY_PHASES = ("before", "during", "after")
ROW_LATENCY_STATS = ("p50", "p99", "p999", "max")


def summary_row(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The headline metrics of one run's summary, as a flat dict (column -> value).

    Columns, in this order: identification (``scenario``, ``strategy``, ``seed``,
    ``geosim_version``); ``records.*``; ``loss.lost_records``, ``loss.lost_bytes``,
    ``loss.rpo_seconds``; ``unavailable.records``, ``.bytes``, ``.max_seconds``,
    ``.open_records``; per region ``rto.<region>.<producers|consumers>.first_success``
    and ``.rate_recovered``; ``latency.<publish|e2e>.<phase>.<stat>`` for the ``all``
    region; ``bytes.<cross_region|inter_zone>.total`` and ``.rate`` and
    ``bytes.cross_region.<purpose>``; ``checks.*``; for Kafka strategies
    ``partitions.leader_changes``, ``partitions.offline_windows`` (a count) and
    ``partitions.failover.*``; for each report section of the strategy the summary has,
    the section's columns ``<name>.<path>`` (:meth:`ReportSection.row
    <geosim.metrics.sections.ReportSection.row>`); and, when the summary has a ``cost``
    section (the cost model, issue 5), every scalar leaf of it as ``cost.<path>``. A
    value the summary does not have is ``None``.
    """
    row: dict[str, Any] = {key: summary.get(key) for key in
                           ("scenario", "strategy", "seed", "geosim_version")}
    records = summary.get("records", {})
    for key in ("offered", "acked", "failed", "info", "delivered"):
        row[f"records.{key}"] = records.get(key)
    loss = summary.get("loss", {})
    for key in ("lost_records", "lost_bytes", "rpo_seconds"):
        row[f"loss.{key}"] = loss.get(key)
    unavailable = summary.get("unavailable", {})
    for key in ("records", "bytes", "max_seconds", "open_records"):
        row[f"unavailable.{key}"] = unavailable.get(key)
    for region, sides in sorted(summary.get("rto", {}).items()):
        for side in ("producers", "consumers"):
            for key in ("first_success", "rate_recovered"):
                row[f"rto.{region}.{side}.{key}"] = sides.get(side, {}).get(key)
    latency = summary.get("latency", {})
    for kind in ROW_LATENCY_KINDS:
        for phase in ROW_LATENCY_PHASES:
            stats = latency.get(kind, {}).get("all", {}).get(phase, {})
            for stat in ROW_LATENCY_STATS:
                row[f"latency.{kind}.{phase}.{stat}"] = stats.get(stat)
    traffic = summary.get("bytes", {})
    for scope in ("cross_region", "inter_zone"):
        for key in ("total", "rate"):
            row[f"bytes.{scope}.{key}"] = traffic.get(scope, {}).get(key)
    for purpose, size in sorted(traffic.get("cross_region", {}).get("by_purpose", {}).items()):
        row[f"bytes.cross_region.{purpose}"] = size
    for key, count in sorted(summary.get("checks", {}).items()):
        row[f"checks.{key}"] = count
    partitions = summary.get("partitions")
    if partitions:  # Kafka strategies: leadership and the parts of a failover
        row["partitions.leader_changes"] = partitions.get("leader_changes")
        row["partitions.offline_windows"] = len(partitions.get("offline_windows") or [])
        for key, value in sorted((partitions.get("failover") or {}).items()):
            row[f"partitions.failover.{key}"] = value
    for section in sections_of(summary.get("strategy")):  # the strategy's own figures
        if summary.get(section.name):
            row.update(section.row(summary[section.name]))
    if summary.get("cost"):  # the bill of geosim.cost (None without a price book)
        row.update(scalar_leaves(summary["cost"], "cost"))
    return row


def latency_frame(histograms: Mapping[tuple[str, str, str], Any]) -> pd.DataFrame:
    """Percentiles (seconds) per kind, region and phase, as ``latency.csv`` has them."""
    from geosim.output.writer import LATENCY_QUANTILES, latency_rows

    rows = []
    for kind, region, phase, hist in latency_rows(dict(histograms)):
        stats = {name: hist.quantile(q) for name, q in LATENCY_QUANTILES}
        rows.append({"kind": kind, "region": region, "phase": phase, **stats,
                     "max": hist.max, "mean": hist.mean, "records": hist.count})
    return pd.DataFrame(rows, columns=["kind", "region", "phase",
                                       *(name for name, _ in LATENCY_QUANTILES),
                                       "max", "mean", "records"])


def _unknown(what: str) -> ValueError:
    names = ", ".join(repr(name) for name in known_sections())
    sections = f" or a report section ({names})" if names else ""
    return ValueError(f"what must be 'timeseries', 'latency', 'row'{sections}, got {what!r}")


def result_frame(result: Any, what: str = "timeseries") -> pd.DataFrame:
    """A run as a DataFrame: ``timeseries`` (t, region, metric, value), ``latency``
    (percentiles per kind, region and phase), ``row`` (one row: :func:`summary_row`) or
    the name of a report section (:mod:`geosim.metrics.sections`): its frame, empty if
    the run has no such section.
    """
    if what == "timeseries":
        return result.report.timeseries
    if what == "latency":
        return latency_frame(result.report.histograms)
    if what == "row":
        return pd.DataFrame([summary_row(result.summary)])
    section = known_sections().get(what)
    if section is None:
        raise _unknown(what)
    found = getattr(result.report, "sections", {}).get(what)
    return section.frame(found.files() if found is not None else {})


@dataclass
class SavedCdf:
    """A latency distribution read back from ``latency-cdf.csv`` (seconds, fractions)."""

    values: Any
    fractions: Any
    count: float

    def cdf_points(self) -> tuple[Any, Any]:
        return self.values, self.fractions


@dataclass
class SavedReport:
    """The parts of a :class:`~geosim.metrics.MetricsReport` a saved run keeps."""

    timeseries: pd.DataFrame
    bin_width: float
    t_end: float
    histograms: dict[tuple[str, str, str], SavedCdf]


@dataclass
class SavedRun:
    """A run read back from its results directory (see :mod:`geosim.output.writer`).

    ``timeseries`` has columns ``t, region, metric, value``; ``latency`` one row per
    kind, region and phase with percentiles in seconds; ``latency_cdf`` the CDF points;
    ``sections`` the files of the strategy's report sections, by section and file name
    (:mod:`geosim.metrics.sections`). Frames of files the directory does not have are
    empty (or absent, for a section).
    """

    path: Path
    summary: dict
    scenario_yaml: str = ""
    timeseries: pd.DataFrame = field(default_factory=pd.DataFrame)
    latency: pd.DataFrame = field(default_factory=pd.DataFrame)
    latency_cdf: pd.DataFrame = field(default_factory=pd.DataFrame)
    sections: dict[str, dict[str, pd.DataFrame]] = field(default_factory=dict)

    @property
    def report(self) -> SavedReport:
        """What the plots of :mod:`geosim.output.plots` read, rebuilt from the files."""
        import yaml

        scenario = yaml.safe_load(self.scenario_yaml) if self.scenario_yaml else {}
        bin_width = float(((scenario or {}).get("simulation") or {}).get("bin", 1.0))
        histograms = {}
        if not self.latency_cdf.empty:
            counts = ({} if self.latency.empty else
                      {(k, r, p): n for k, r, p, n in self.latency[
                          ["kind", "region", "phase", "records"]].itertuples(index=False)})
            for key, rows in self.latency_cdf.groupby(["kind", "region", "phase"], sort=False):
                histograms[key] = SavedCdf(rows["latency"].to_numpy(),
                                           rows["fraction"].to_numpy(),
                                           float(counts.get(key, len(rows))))
        return SavedReport(timeseries=self.timeseries, bin_width=bin_width,
                           t_end=float(self.summary.get("simulated_seconds") or 0.0),
                           histograms=histograms)

    def to_row(self) -> dict[str, Any]:
        """The run's headline metrics (:func:`summary_row`)."""
        return summary_row(self.summary)

    def to_dataframe(self, what: str = "timeseries") -> pd.DataFrame:
        """As :meth:`geosim.runner.Result.to_dataframe`: ``timeseries``, ``latency``
        (read from latency.csv), ``row`` or a report section's name (from its files)."""
        if what == "timeseries":
            return self.timeseries
        if what == "latency":
            return self.latency
        if what == "row":
            return pd.DataFrame([self.to_row()])
        section = known_sections().get(what)
        if section is None:
            raise _unknown(what)
        return section.frame(self.sections.get(what, {}))


def _csv(path: Path, floats: tuple[str, ...] = ()) -> pd.DataFrame:
    """A CSV file as a frame (empty if absent); ``floats`` columns as float64, as the
    in-memory frames have them (CSV writes whole numbers without a decimal point)."""
    if not path.is_file():
        return pd.DataFrame()
    return pd.read_csv(path, dtype={column: "float64" for column in floats})


def load_run(path: str | Path) -> SavedRun:
    """Read a results directory written by ``geosim run`` or kept by a sweep."""
    root = Path(path)
    summary_file = root / "summary.json"
    if not summary_file.is_file():
        raise FileNotFoundError(f"{root}: no summary.json (not a geosim results directory)")
    scenario = root / "scenario.yaml"
    summary = json.loads(summary_file.read_text(encoding="utf-8"))
    return SavedRun(
        path=root,
        summary=summary,
        scenario_yaml=scenario.read_text(encoding="utf-8") if scenario.is_file() else "",
        timeseries=_csv(root / "timeseries.csv", floats=("t", "value")),
        latency=_csv(root / "latency.csv"),
        latency_cdf=_csv(root / "latency-cdf.csv"),
        sections=_section_files(root, summary))


def _section_files(root: Path,
                   summary: Mapping[str, Any]) -> dict[str, dict[str, pd.DataFrame]]:
    """The files of the report sections of the run's strategy that the directory has, by
    section and file name (the sections come from the installed plug-in)."""
    out: dict[str, dict[str, pd.DataFrame]] = {}
    for section in sections_of(summary.get("strategy")):
        files = {name: _csv(root / name, floats=floats)
                 for name, floats in section.files.items() if (root / name).is_file()}
        if files:
            out[section.name] = files
    return out


def load_sweep(path: str | Path) -> pd.DataFrame:
    """The results table of a sweep directory (``results.parquet``, else ``results.csv``).

    One row per run; see docs/sweep.md for the columns.
    """
    root = Path(path)
    if root.is_file():
        return pd.read_parquet(root) if root.suffix == ".parquet" else pd.read_csv(root)
    parquet, csv = root / "results.parquet", root / "results.csv"
    if parquet.is_file():
        return pd.read_parquet(parquet)
    if csv.is_file():
        return pd.read_csv(csv)
    raise FileNotFoundError(f"{root}: no results.parquet or results.csv (not a sweep "
                            f"directory, or the sweep has not finished)")
