"""Counts of a loss-and-unavailability fold: what became unavailable or lost, per
writer region, the unreadability intervals, and the RPO of each loss (from the start of
the fault that caused it). :class:`~geosim.metrics.availability.ObjectAvailability`
decides *when* records become unavailable or lost; a :class:`Tally` keeps the counts and
writes the reports."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable

from geosim.metrics.holders import BYTES, COUNTED_BYTES, COUNTED_RECORDS, RECORDS, Cohort, CopyGroup
from geosim.metrics.intervals import union_keyed
from geosim.metrics.report import (
    LossReport,
    RegionLoss,
    RegionUnavailability,
    UnavailabilityReport,
    loss_report,
)


class Tally:
    """Unavailable and lost records and bytes by writer region, and intervals."""

    def __init__(self, fault_starts: Iterable[float] = ()):
        self.fault_starts = sorted(float(s) for s in fault_starts)
        self.lost: dict[str, RegionLoss] = {}
        self.unavailable: dict[str, RegionUnavailability] = {}
        self.intervals: dict[tuple[str, float], float] = {}
        self.untracked_records = 0

    def fault_start(self, t: float) -> float:
        """Start of the latest fault begun at or before ``t`` (``t`` if none)."""
        i = bisect_right(self.fault_starts, t)
        return self.fault_starts[i - 1] if i else t

    def count_unavailable(self, writer: str, records: int, nbytes: int) -> None:
        entry = self.unavailable.get(writer)
        if entry is None:
            entry = self.unavailable[writer] = RegionUnavailability()
        entry.records += records
        entry.bytes += nbytes

    def count_holder_unavailable(self, holder: CopyGroup | Cohort) -> None:
        """Count a group's or cohort's records not yet counted as unavailable."""
        if isinstance(holder, CopyGroup):
            n = holder.records - holder.counted_records
            b = holder.bytes - holder.counted_bytes
            holder.counted_records, holder.counted_bytes = holder.records, holder.bytes
        else:
            rows = holder.rows()
            n = int(round(float((rows[:, RECORDS] - rows[:, COUNTED_RECORDS]).sum())))
            b = int(round(float((rows[:, BYTES] - rows[:, COUNTED_BYTES]).sum())))
            rows[:, COUNTED_RECORDS] = rows[:, RECORDS]
            rows[:, COUNTED_BYTES] = rows[:, BYTES]
        if n or b:
            self.count_unavailable(holder.writer, n, b)

    def count_lost(self, writer: str, records: int, nbytes: int, first_ack: float,
                    t_loss: float) -> None:
        entry = self.lost.get(writer)
        if entry is None:
            entry = self.lost[writer] = RegionLoss()
        entry.records += records
        entry.bytes += nbytes
        if records:  # never acknowledged (first_ack inf): max() keeps the RPO at 0
            rpo = max(0.0, self.fault_start(t_loss) - first_ack)
            entry.rpo_seconds = max(entry.rpo_seconds, rpo)

    def close(self, writer: str, start: float, end: float) -> None:
        key = (writer, start)
        self.intervals[key] = max(self.intervals.get(key, end), end)

    def lose(self, writer: str, records: int, nbytes: int, first_ack: float,
              since: float | None, counted_records: int, counted_bytes: int, t: float) -> None:
        # Lost data is reported as lost only: its unavailable records (and its
        # current interval, by not closing it) are withdrawn, so the counts never
        # overlap. An interval that ended before the loss stays in the union.
        if counted_records or counted_bytes:
            self.count_unavailable(writer, -counted_records, -counted_bytes)
        self.count_lost(writer, records, nbytes, first_ack, t)

    def report(self, t_end: float, holders: Iterable[tuple[str, float | None, int]]
               ) -> tuple[LossReport, UnavailabilityReport]:
        """Loss and unavailability as of ``t_end``: ``holders`` are (writer, unreadable
        since, records) of what is held now; their open intervals end at ``t_end``."""
        intervals = dict(self.intervals)
        open_records = 0
        for writer, since, records in holders:
            if since is None or not records:
                continue
            key = (writer, since)
            intervals[key] = max(intervals.get(key, t_end), t_end)
            open_records += records

        by_region_unavailable = {w: RegionUnavailability(u.records, u.bytes)
                                 for w, u in sorted(self.unavailable.items())}
        for (writer, start), end in intervals.items():
            entry = by_region_unavailable.setdefault(writer, RegionUnavailability())
            entry.max_seconds = max(entry.max_seconds, end - start)
        unavailable = UnavailabilityReport(
            records=sum(u.records for u in by_region_unavailable.values()),
            bytes=sum(u.bytes for u in by_region_unavailable.values()),
            intervals=union_keyed(intervals.items()),
            max_seconds=max((u.max_seconds for u in by_region_unavailable.values()),
                            default=0.0),
            open_records=open_records,
            by_region=by_region_unavailable,
        )
        return loss_report(self.lost, self.untracked_records), unavailable


__all__ = ["Tally"]
