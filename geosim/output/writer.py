"""Writing one run's results to a directory, atomically.

A result directory holds:

==================  =============================================================
``summary.json``    the summary contract (docs/summary.md); byte-identical for a seed
``scenario.yaml``   the resolved, self-contained scenario that was run
``run-info.json``   wall-clock facts (duration, events, memory); not deterministic
``timeseries.csv``  the tidy time series: ``t, region, metric, value``
``latency.csv``     latency percentiles (seconds) per kind, region and phase
``latency-cdf.csv`` the latency CDF points per kind, region and phase
``*.csv``           the files of the strategy's report sections, if any
                    (:mod:`geosim.metrics.sections`; docs/summary.md)
``*.png``           the plots of :mod:`geosim.output.plots`, and of report sections
==================  =============================================================

Everything is built in a temporary sibling directory which is then renamed onto the
target, so an interrupted or failed write leaves no half-written directory behind.
"""

from __future__ import annotations

import csv
import json
import os
import secrets
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

#: Files every results directory has (a report section's files are others).
CORE_FILES = frozenset({"summary.json", "scenario.yaml", "run-info.json", "timeseries.csv",
                        "latency.csv", "latency-cdf.csv"})
#: Phases in the order they happen; used to order latency rows.
PHASES = ("warmup", "before", "during", "after", "drain")
#: Significant digits of numbers in the CSV files (as in summary.json).
SIGNIFICANT_DIGITS = 9
#: Quantiles written to ``latency.csv``, with their column names.
LATENCY_QUANTILES = (("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("p999", 0.999))


def write_results(result: Any, out_dir: str | os.PathLike[str], *,
                  plots: bool = True) -> Path:
    """Write ``result`` (a :class:`geosim.runner.Result`) to ``out_dir``; return its path.

    An existing ``out_dir`` is replaced as a whole. On any error the target is left as
    it was (absent, or the previous results) and the error propagates.
    """
    target = Path(out_dir).absolute()
    created = make_parents(target.parent)
    try:
        with atomic_directory(target) as tmp:
            _write_all(result, tmp, plots=plots)
    except BaseException:
        _remove_empty(created)
        raise
    return target


def _write_all(result: Any, out: Path, *, plots: bool) -> None:
    from geosim.scenario.loader import dump_scenario

    _write_text(out / "summary.json", summary_json(result.summary))
    _write_text(out / "scenario.yaml", dump_scenario(result.scenario))
    _write_text(out / "run-info.json",
                json.dumps(result.run_info, indent=2, sort_keys=True, default=str) + "\n")
    write_timeseries_csv(result.report.timeseries, out / "timeseries.csv")
    write_latency_csv(result.report.histograms, out / "latency.csv")
    write_latency_cdf_csv(result.report.histograms, out / "latency-cdf.csv")
    for file, frame in section_files(result.report).items():
        write_frame_csv(frame, out / file)
    if plots:
        from geosim.output import plots as plotting
        plotting.save_all(result, out)


def section_files(report: Any) -> dict[str, Any]:
    """The frames of the report's sections (:mod:`geosim.metrics.sections`) by file name,
    each name checked: a plain CSV file name, not one of :data:`CORE_FILES` nor another
    section's."""
    out: dict[str, Any] = {}
    for name, section in getattr(report, "sections", {}).items():
        for file, frame in section.files().items():
            if (file in CORE_FILES or file in out or Path(file).name != file
                    or not file.endswith(".csv")):
                raise ValueError(f"report section {name!r}: file {file!r} must be a CSV "
                                 f"file name of its own (not {', '.join(sorted(CORE_FILES))} "
                                 f"or another section's)")
            out[file] = frame
    return out


def summary_json(summary: dict) -> str:
    """The canonical text of ``summary.json``: sorted keys, two-space indent, newline."""
    return json.dumps(summary, indent=2, sort_keys=True) + "\n"


def format_float(value: float) -> str:
    """A number rounded to 9 significant digits, as summary.json rounds them.

    Rounding hides last-bit differences in float sums, so the CSV files are as
    reproducible as the summary; integers print without a decimal point.
    """
    return f"{float(value) + 0.0:.{SIGNIFICANT_DIGITS}g}"


def write_timeseries_csv(frame: Any, path: Path) -> None:
    """Write the tidy time series (columns ``t, region, metric, value``), sorted."""
    columns = ["t", "region", "metric", "value"]
    ordered = frame[columns].sort_values(["t", "region", "metric"], kind="stable")
    rows = ((format_float(t), region, metric, format_float(value))
            for t, region, metric, value in ordered.itertuples(index=False, name=None))
    _write_csv(path, columns, rows)


def write_frame_csv(frame: Any, path: Path) -> None:
    """A frame as CSV, in its order, floats rounded as :func:`format_float` rounds."""
    columns = list(frame.columns)
    rows = ((format_float(v) if isinstance(v, float) else v for v in row)
            for row in frame.itertuples(index=False, name=None))
    _write_csv(path, columns, rows)


def latency_rows(histograms: dict) -> list[tuple[str, str, str, Any]]:
    """``(kind, region, phase, histogram)`` sorted by kind, region (``all`` last), phase."""
    def key(item):
        (kind, region, phase), _ = item
        rank = PHASES.index(phase) if phase in PHASES else len(PHASES)
        return kind, region == "all", region, rank, phase
    return [(kind, region, phase, hist)
            for (kind, region, phase), hist in sorted(histograms.items(), key=key)]


def write_latency_csv(histograms: dict, path: Path) -> None:
    """Percentiles, max and mean (seconds) and record counts per kind, region and phase.

    ``histograms`` maps ``(kind, region, phase)`` to a
    :class:`~geosim.metrics.histogram.LatencyHistogram`; empty ones give NaN statistics.
    """
    columns = ["kind", "region", "phase", *(name for name, _ in LATENCY_QUANTILES),
               "max", "mean", "records"]

    def rows():
        for kind, region, phase, hist in latency_rows(histograms):
            stats = [*(hist.quantile(q) for _, q in LATENCY_QUANTILES), hist.max, hist.mean]
            yield (kind, region, phase, *(format_float(v) for v in stats),
                   format_float(hist.count))
    _write_csv(path, columns, rows())


def write_latency_cdf_csv(histograms: dict, path: Path) -> None:
    """CDF points per kind, region and phase: ``latency`` (s) and cumulative ``fraction``."""
    def rows():
        for kind, region, phase, hist in latency_rows(histograms):
            if not hist.count:
                continue
            values, fractions = hist.cdf_points()
            for value, fraction in zip(values, fractions, strict=True):
                yield kind, region, phase, format_float(value), format_float(fraction)
    _write_csv(path, ["kind", "region", "phase", "latency", "fraction"], rows())


def _write_csv(path: Path, header: list[str], rows: Iterable[Iterable[Any]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _write_text(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)


def make_parents(directory: Path) -> list[Path]:
    """Create ``directory`` and its missing ancestors; return those created, deepest first.

    The returned list lets a writer that fails remove what it created (see
    :func:`write_results`); an existing ``directory`` gives ``[]``.
    """
    missing = []
    for candidate in (directory, *directory.parents):
        if candidate.exists():
            break
        missing.append(candidate)
    directory.mkdir(parents=True, exist_ok=True)
    return missing


def _remove_empty(directories: list[Path]) -> None:
    for directory in directories:
        try:
            directory.rmdir()
        except OSError:
            return


def replace_directory(new: Path, target: Path) -> None:
    """Move the directory ``new`` onto ``target``, replacing an existing directory.

    The last step of an atomic write: build everything in a sibling of ``target``, then
    call this. POSIX cannot rename a directory over a non-empty one, so an existing
    target is swapped out, then removed; if the second rename fails the previous results
    are put back. A ``target`` that exists and is not a directory raises
    :class:`NotADirectoryError`.
    """
    if not target.exists() and not target.is_symlink():
        os.replace(new, target)
        return
    if not target.is_dir():
        raise NotADirectoryError(f"{target}: exists and is not a directory")
    backup = new.with_name(new.name + ".old")
    os.replace(target, backup)
    try:
        os.replace(new, target)
    except BaseException:
        os.replace(backup, target)
        raise
    shutil.rmtree(backup, ignore_errors=True)


@contextmanager
def atomic_directory(target: Path) -> Iterator[Path]:
    """A new, empty hidden sibling of ``target`` to fill in the ``with`` block; at its end
    the sibling replaces ``target`` (:func:`replace_directory`), and on any error it is
    removed and ``target`` is left as it was.

    The sibling (``.<name>.<pid>.<random>.tmp``) is created with mkdir, so it gets the
    usual umask permissions.
    """
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        tmp.mkdir()
        yield tmp
        replace_directory(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
