"""Report sections a strategy contributes: the seam through which a strategy's own
figures reach the summary, the results directory, the tables and the plots.

The core folds (latency, loss, RTO, bytes...) measure what every strategy shares. A
strategy whose model emits events of its own, with figures no other strategy has,
declares a :class:`ReportSection` in its plug-in
(:attr:`geosim.scenario.plugins.StrategyPlugin.sections`, an import path). The section
is then, by its :attr:`~ReportSection.name`:

- a fold over the run's events (:meth:`ReportSection.fold`), built and subscribed by
  the :class:`~geosim.metrics.collector.MetricsCollector` next to the core folds; at the
  end it gives a :class:`SectionReport` (or None: nothing to report), kept in
  :attr:`MetricsReport.sections <geosim.metrics.report.MetricsReport.sections>`;
- a key of ``summary.json`` (:meth:`SectionReport.to_dict`), rows of the tidy time
  series (:meth:`SectionReport.series`) and CSV files of the results directory
  (:meth:`SectionReport.files`, read back by :func:`geosim.output.load_run` with the
  float columns :attr:`ReportSection.files` names);
- acknowledged data the strategy's own model lost, where no row events carry it (a
  fluid model's): a report with a ``losses()`` method (:class:`LossContributor`)
  adds its losses by writer region to the run's ``loss``;
- ``Result.to_dataframe(name)`` (:meth:`ReportSection.frame`, from the live files or
  the saved ones alike), the sweep-table columns ``<name>.*``
  (:meth:`ReportSection.row`), lines of the summary table (:meth:`ReportSection.lines`)
  and plots (:meth:`ReportSection.plots`), which may stand in for core plots that would
  be empty (:attr:`ReportSection.replaces_plots`).

Everything after the fold reads the summary dict or the section's frames, so it works on
a run loaded from disk as on a fresh one. The core names no section: it finds them
through the registry (:func:`sections_of`, :func:`known_sections`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from geosim.core.events import Recorder

if TYPE_CHECKING:
    from geosim.metrics.report import RegionLoss


@dataclass(frozen=True)
class SectionContext:
    """What a section's fold knows of the run: its phases and bins (seconds)."""

    warmup: float
    production_end: float
    bin_width: float
    fault_windows: tuple[tuple[float, float], ...] = ()


class SectionReport(Protocol):
    """One run's figures of a section."""

    def to_dict(self) -> dict[str, Any]:
        """The section's value in ``summary.json`` (JSON-ready once normalised)."""
        ...

    def series(self, nbins: int) -> list[tuple[str, str, np.ndarray]]:
        """Rows of the tidy time series: ``(region, metric, values per bin)``, ``nbins``
        values each, a bin's value at its end."""
        ...

    def files(self) -> dict[str, pd.DataFrame]:
        """Frames written to the results directory, by CSV file name."""
        ...


@runtime_checkable
class LossContributor(Protocol):
    """A section report that also counts acknowledged data lost: by writer region,
    added to the run's ``loss`` (records, uncompressed bytes, the largest RPO)."""

    def losses(self) -> Mapping[str, RegionLoss]: ...


class SectionFold(Protocol):
    """The fold of a section: subscribes to the events it needs, reports at the end."""

    def subscribe(self, recorder: Recorder) -> None: ...

    def finalize(self, t_end: float) -> SectionReport | None:
        """The run's section, or None when the run had nothing for it."""
        ...


class ReportSection:
    """A strategy's report section (subclass it; one instance per plug-in section).

    ``name`` is the ``summary.json`` key, the ``to_dataframe`` name and the prefix of
    the sweep-table columns; it must not be a key the core summary has. ``files`` maps
    each CSV file the section writes to the columns read back as floats (CSV writes whole
    numbers without a decimal point). ``replaces_plots`` names plots of
    :data:`geosim.output.plots.FILES` the section's plots stand in for.
    ``records_note``: a line the summary table prints under its record counts when the
    section's model produces no row events (its data is then counted in the section).
    """

    name: ClassVar[str]
    files: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    replaces_plots: ClassVar[tuple[str, ...]] = ()
    records_note: ClassVar[str | None] = None

    def fold(self, context: SectionContext) -> SectionFold:  # pragma: no cover
        raise NotImplementedError

    def row(self, section: Mapping[str, Any]) -> dict[str, Any]:
        """Sweep-table columns (``<name>.<path>``) from the section's summary value;
        default: every scalar leaf of it."""
        return scalar_leaves(section, self.name)

    def lines(self, section: Mapping[str, Any]) -> list[str]:
        """Lines of the summary table (:func:`geosim.output.format_summary`), from the
        section's summary value; default: none."""
        return []

    def frame(self, files: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
        """``to_dataframe(name)`` from the section's frames by file name (a file the run
        did not write is absent); empty without them. Default: the first file's frame."""
        for name in self.files:
            if name in files:
                return files[name]
        return pd.DataFrame()

    def plots(self, source: Any) -> dict[str, Any]:
        """Figures by PNG file name, written next to the results. ``source`` is a run or
        a saved run (it has ``summary`` and ``to_dataframe``). Default: none."""
        return {}


def scalar_leaves(value: Any, prefix: str = "") -> dict[str, Any]:
    """Scalar leaves of a nested mapping as dotted names under ``prefix`` (none: the
    top keys as they are), in key order; lists are left out."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key in sorted(value):
            out.update(scalar_leaves(value[key], f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list | tuple):
        return {}
    return {prefix: value}


def sections_of(strategy: str | None) -> list[ReportSection]:
    """The report sections of the strategy plug-in named ``strategy`` (none for a name
    no installed plug-in has: a summary of a strategy that is not installed)."""
    from geosim.scenario.plugins import plugins

    found = plugins().get(strategy) if strategy else None
    return [] if found is None else _load(found)


def known_sections() -> dict[str, ReportSection]:
    """Every installed plug-in's report sections by name; two plug-ins declaring
    different sections of one name are refused (the name is a ``summary.json`` key)."""
    from geosim.scenario.plugins import plugins

    out: dict[str, ReportSection] = {}
    owner: dict[str, str] = {}
    for name, found in plugins().items():
        for section in _load(found):
            if section.name in out and out[section.name] is not section:
                raise ValueError(f"strategy plug-ins {owner[section.name]} and {name} "
                                 f"both declare a report section {section.name!r}")
            out[section.name] = section
            owner[section.name] = name
    return out


def _load(found: Any) -> list[ReportSection]:
    """A plug-in's report sections, each checked to be a :class:`ReportSection`."""
    out = found.load_sections()
    for path, section in zip(found.sections, out, strict=True):
        if not isinstance(section, ReportSection):
            raise TypeError(f"strategy plug-in {found.name}: sections entry {path} is a "
                            f"{type(section).__name__}, expected a ReportSection")
    return out


__all__ = ["ReportSection", "SectionContext", "SectionFold", "SectionReport",
           "known_sections", "scalar_leaves", "sections_of"]
