"""A sweep's directory: one atomically written directory per run, and the tables.

::

    <out>/sweep.json              the plan: scenario file, --set, factors, seeds
    <out>/runs/<run id>/          one per run, written whole or not at all:
        row.json                  status, error, factors, seed, scenario hash, version
        summary.json              the run's summary (docs/summary.md), if it succeeded
        scenario.yaml             the resolved scenario that ran
    <out>/results.parquet         the results table, one row per planned run
    <out>/results.csv             the same table as CSV
    <out>/timings.csv             wall-clock facts, one line per run executed, appended
                                  as each run finishes (not deterministic, so kept out
                                  of the results table)

A run directory is built under a hidden temporary name and renamed into place, so an
interrupted sweep leaves finished runs and nothing half-written; leftovers of a killed
process (hidden ``.*.tmp`` entries) are removed when the store is opened again, and so
are ``timings.csv`` lines of runs that never got their directory (a line is appended
just before its run's directory is renamed into place), so a resumed sweep, which runs
them again, leaves one line per stored attempt. The
tables are written (also atomically) from the run directories of the plan, in plan
order, so they are the same whatever executed the runs and in which order.
"""

from __future__ import annotations

import csv
import io
import json
import os
import secrets
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from geosim.output.frames import summary_row
from geosim.output.writer import atomic_directory, summary_json
from geosim.sweep.grid import RunSpec
from geosim.version import RESULTS_REVISION

#: Columns of ``timings.csv``, one line per executed run.
TIMING_COLUMNS = ("run_id", "status", "wall_seconds", "worker", "executor")

#: Identification columns of the results table, after the factor columns.
ID_COLUMNS = ("seed", "run_id", "scenario", "strategy", "scenario_hash", "geosim_version",
              "status", "error")


def _atomic_file(path: Path, write) -> None:
    """Call ``write(tmp_path)`` and rename the result onto ``path``."""
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
                         f"{path.suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True) + "\n"


def _factor_value(text: str, numeric: bool) -> Any:
    return yaml.safe_load(text) if numeric else text


def _is_number(text: str) -> bool:
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return False
    return isinstance(value, int | float) and not isinstance(value, bool)


class SweepStore:
    """The directory of one sweep (see the module docstring)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.runs = self.root / "runs"

    def open(self) -> None:
        """Create the directories; remove temporary leftovers of a killed sweep."""
        self.runs.mkdir(parents=True, exist_ok=True)
        for folder in (self.root, self.runs):
            for entry in folder.glob(".*.tmp*"):
                if entry.is_dir():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)
        self._drop_unfinished_timings()

    @property
    def timings_path(self) -> Path:
        return self.root / "timings.csv"

    def _drop_unfinished_timings(self) -> None:
        """Remove ``timings.csv`` lines of runs without a directory (a killed sweep
        appended them and died before renaming the run into place; the resumed sweep
        runs them again) and a last line cut short."""
        path = self.timings_path
        if not path.is_file():
            return
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines(keepends=True)
        if lines and not lines[-1].endswith("\n"):
            lines.pop()
        kept = lines[:1] + [line for line in lines[1:]
                            if (fields := next(csv.reader([line]), None))
                            and (self.runs / fields[0]).is_dir()]
        if len(kept) != len(lines) or "".join(kept) != text:
            data = "".join(kept)
            _atomic_file(path, lambda tmp: tmp.write_text(data, encoding="utf-8",
                                                          newline=""))

    def append_timing(self, run_id: str, timing: dict[str, Any]) -> None:
        """Append one run's wall-clock facts to ``timings.csv`` as one ``write`` of a
        whole line (with the header if the file is new), so a killed sweep leaves whole
        lines. Call it before :meth:`write_run` (see :meth:`open`)."""
        row = {"run_id": run_id, **timing}
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        path = self.timings_path
        if not path.is_file() or path.stat().st_size == 0:
            writer.writerow(TIMING_COLUMNS)
        writer.writerow(["" if row.get(c) is None else row[c] for c in TIMING_COLUMNS])
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, buffer.getvalue().encode("utf-8"))
        finally:
            os.close(fd)

    def write_plan(self, plan: dict[str, Any]) -> None:
        plan_text = _json(plan)
        _atomic_file(self.root / "sweep.json",
                     lambda tmp: tmp.write_text(plan_text, encoding="utf-8", newline="\n"))

    def row(self, run_id: str) -> dict[str, Any] | None:
        """The stored ``row.json`` of a run, or None if the run has no directory."""
        path = self.runs / run_id / "row.json"
        if not path.is_file():
            return None
        return json.loads(path.read_text(encoding="utf-8"))

    def finished(self, specs: Iterable[RunSpec], version: str) -> set[str]:
        """Run ids that succeeded with this geosim version and results revision
        (``geosim.version.RESULTS_REVISION``; a rerun skips them).

        Failed runs are not finished: a rerun tries them again.
        """
        done = set()
        for spec in specs:
            row = self.row(spec.run_id)
            if row and row.get("status") == "ok" and row.get("geosim_version") == version \
                    and row.get("results_revision") == RESULTS_REVISION:
                done.add(spec.run_id)
        return done

    def write_run(self, spec: RunSpec, outcome: dict[str, Any], version: str) -> Path:
        """Write one run's directory atomically (replacing a previous attempt)."""
        target = self.runs / spec.run_id
        row = {"run_id": spec.run_id, "seed": spec.seed, "scenario_hash": spec.scenario_hash,
               "factors": dict(spec.factors), "overrides": list(spec.overrides),
               "geosim_version": version, "results_revision": RESULTS_REVISION,
               "status": outcome["status"],
               "error": outcome.get("error"), "traceback": outcome.get("traceback")}
        with atomic_directory(target) as tmp:
            (tmp / "row.json").write_text(_json(row), encoding="utf-8")
            (tmp / "scenario.yaml").write_text(spec.scenario_yaml, encoding="utf-8")
            if outcome.get("summary") is not None:
                (tmp / "summary.json").write_text(summary_json(outcome["summary"]),
                                                  encoding="utf-8")
        return target

    def table(self, specs: Sequence[RunSpec]) -> pd.DataFrame:
        """The results table of the plan ``specs``: one row per run, in plan order.

        Runs without a directory yet are left out. Factor columns come first, named by
        their keys, numeric when every value of the factor is a number.
        """
        keys = list(dict.fromkeys(key for spec in specs for key, _ in spec.factors))
        numeric = {key: all(_is_number(value) for spec in specs
                            for k, value in spec.factors if k == key) for key in keys}
        rows = []
        for spec in specs:
            stored = self.row(spec.run_id)
            if stored is None:
                continue
            row: dict[str, Any] = {key: _factor_value(value, numeric[key])
                                   for key, value in spec.factors}
            summary = {}
            summary_file = self.runs / spec.run_id / "summary.json"
            if stored["status"] == "ok" and summary_file.is_file():
                summary = json.loads(summary_file.read_text(encoding="utf-8"))
            metrics = summary_row(summary) if summary else {}
            row.update({"seed": spec.seed, "run_id": spec.run_id,
                        "scenario": spec.scenario_name, "strategy": spec.strategy,
                        "scenario_hash": spec.scenario_hash,
                        "geosim_version": stored["geosim_version"],
                        "status": stored["status"], "error": stored.get("error")})
            row.update({k: v for k, v in metrics.items()
                        if k not in ("scenario", "strategy", "seed", "geosim_version")})
            rows.append(row)
        columns = list(dict.fromkeys([*keys, *ID_COLUMNS,
                                      *(c for row in rows for c in row)]))
        frame = pd.DataFrame(rows, columns=columns)
        for column in frame.columns:  # None in a numeric column is a missing value
            if frame[column].dtype == object and all(
                    v is None or (isinstance(v, int | float) and not isinstance(v, bool))
                    for v in frame[column]):
                frame[column] = pd.to_numeric(frame[column], errors="coerce")
        return frame.reset_index(drop=True)

    def write_tables(self, specs: Sequence[RunSpec]) -> pd.DataFrame:
        """Write ``results.parquet`` and ``results.csv`` atomically; return the table."""
        frame = self.table(specs)
        _atomic_file(self.root / "results.parquet",
                     lambda path: frame.to_parquet(path, index=False))
        _atomic_file(self.root / "results.csv",
                     lambda path: frame.to_csv(path, index=False, lineterminator="\n"))
        return frame
