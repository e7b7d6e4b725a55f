"""The ``single-log`` strategy's report section ``log`` (the seam of
:mod:`geosim.metrics.sections`, used from outside geosim): what the one broker's log
acknowledged, per bin and in all.

``summary.json`` gets ``log`` (acknowledged records and bytes, the busiest bin's rate),
the tidy time series the region ``log`` with ``log_acked_records``, the results directory
``log-acks.csv`` (per bin: ``t``, ``acked_records``, ``acked_bytes``) and the plot
``log-acks.png``, which stands in for ``bytes-pairs.png`` (a single broker has no
interesting pairs); ``to_dataframe("log")`` is the CSV's frame, and the sweep table has
``log.acked_records`` and the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from geosim.core.events import ProduceAcked, Recorder
from geosim.core.text import count_text
from geosim.metrics.sections import ReportSection, SectionContext, SectionFold

FILE = "log-acks.csv"


class LogReport:
    def __init__(self, frame: pd.DataFrame, bin_width: float):
        self.frame = frame
        self.bin_width = bin_width

    def to_dict(self) -> dict[str, Any]:
        records = self.frame["acked_records"]
        return {"acked_records": int(records.sum()),
                "acked_bytes": int(self.frame["acked_bytes"].sum()),
                "peak_records_per_s": float(records.max()) / self.bin_width}

    def series(self, nbins: int) -> list[tuple[str, str, np.ndarray]]:
        values = np.zeros(nbins)
        column = self.frame["acked_records"].to_numpy()[:nbins]
        values[:len(column)] = column
        return [("log", "log_acked_records", values)]

    def files(self) -> dict[str, pd.DataFrame]:
        return {FILE: self.frame}


class LogFold:
    def __init__(self, context: SectionContext):
        self.bin_width = context.bin_width
        self.records: dict[int, float] = {}
        self.bytes: dict[int, float] = {}

    def subscribe(self, recorder: Recorder) -> None:
        recorder.subscribe(ProduceAcked, self.on_acked)

    def on_acked(self, ev: ProduceAcked) -> None:
        index = int(ev.t / self.bin_width)
        self.records[index] = self.records.get(index, 0.0) + sum(r.records for r in ev.rows)
        self.bytes[index] = self.bytes.get(index, 0.0) + sum(
            r.bytes_uncompressed for r in ev.rows)

    def finalize(self, t_end: float) -> LogReport | None:
        if not self.records:
            return None
        nbins = max(self.records) + 1
        frame = pd.DataFrame({
            "t": (np.arange(nbins) + 1) * self.bin_width,
            "acked_records": [self.records.get(i, 0.0) for i in range(nbins)],
            "acked_bytes": [self.bytes.get(i, 0.0) for i in range(nbins)]})
        return LogReport(frame, self.bin_width)


class LogSection(ReportSection):
    name = "log"
    files = {FILE: ("t", "acked_records", "acked_bytes")}
    replaces_plots = ("bytes_by_pair",)

    def fold(self, context: SectionContext) -> SectionFold:
        return LogFold(context)

    def lines(self, section: Mapping[str, Any]) -> list[str]:
        return [f"Single log  {count_text(section['acked_records'])} records acknowledged"]

    def plots(self, source: Any) -> dict[str, Any]:
        from matplotlib.figure import Figure

        frame = source.to_dataframe("log")
        fig = Figure(figsize=(8, 3))
        ax = fig.add_subplot()
        ax.step(frame["t"], frame["acked_records"], where="pre")
        ax.set_xlabel("simulated time (s)")
        ax.set_ylabel("records acknowledged per bin")
        return {"log-acks.png": fig}


SECTION = LogSection()
