"""The forms an object takes in the availability fold (:mod:`geosim.metrics.availability`).

Each form is as small as its role allows (the fold's module docstring gives the
rules): :class:`TrackedObject` while acks must find it by id, or while its copies are
blocked or it is unreadable; :class:`Cohort` rows once acks are done and copies are
still pending (one float array per writer, existing copies and pending
destinations); :class:`CopyGroup` aggregates once no copy is pending.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# Shared empty list for the common "nothing blocked" case (saves a list per object);
# never mutated: code replaces it with a fresh list before appending.
NONE: list[str] = []
# Columns of a cohort row (records and bytes already counted as unavailable are kept
# per object, so that no record is counted twice); due times of its pending
# destinations follow.
RECORDS, BYTES, FIRST_ACK, COUNTED_RECORDS, COUNTED_BYTES, DUE = range(6)
FIXED = [RECORDS, BYTES, FIRST_ACK, COUNTED_RECORDS, COUNTED_BYTES]
#: How much a full row array grows (amortised O(1) appends).
GROWTH = 2  # mutate: equivalent: the capacity of a full array, never read as data
#: The rows a cohort's array starts with, and the fewest it shrinks to.
MIN_ROWS = 16  # mutate: equivalent: a capacity, never read as data


class TrackedObject:
    """An object tracked individually (form 1 of the module docstring)."""

    __slots__ = ("oid", "writer", "t_store", "existing", "pending", "blocked", "had_copy",
                 "records", "bytes", "first_ack", "rows_expected", "rows_acked", "since",
                 "counted_records", "counted_bytes", "lost", "released", "due")

    def __init__(self, oid: int, writer: str, t_store: float):
        self.oid = oid
        self.writer = writer
        self.t_store = t_store
        self.existing: list[str] = []                 # regions holding a copy now
        self.pending: list[tuple[float, str]] = []    # (due time, region), ascending
        self.blocked: list[str] = NONE               # due copies waiting for regions
        # equivalent: both of the fold's creators set it before anything reads it
        self.had_copy = False  # mutate: equivalent
        self.records = 0
        self.bytes = 0
        self.first_ack = math.inf
        # equivalent: unknown until ObjectCommitted; read only as 0 <= rows_expected
        self.rows_expected = -1  # mutate: equivalent
        self.rows_acked = 0
        self.since: float | None = None               # unreadable since
        self.counted_records = 0                      # already counted as unavailable
        self.counted_bytes = 0
        self.lost = False
        self.released = False                         # no more acks expected
        self.due: float | None = None                 # live heap entry, if any


@dataclass(slots=True)
class CopyGroup:
    """Settled objects sharing a writer region and a set of copy regions (form 3)."""

    writer: str
    regions: frozenset[str]
    records: int = 0
    bytes: int = 0
    first_ack: float = math.inf
    since: float | None = None
    counted_records: int = 0
    counted_bytes: int = 0


class Cohort:
    """Acknowledged objects awaiting copies to ``dests`` (form 2).

    One row per object: records, bytes, first ack time, records and bytes already
    counted as unavailable, then one due time per destination. Counts are exact in
    float64 below 2**53. All objects of a cohort have the same copies, so they are
    readable or unreadable together: ``since`` is shared.
    """

    __slots__ = ("writer", "existing", "dests", "data", "n", "since", "_appended")

    def __init__(self, writer: str, existing: frozenset[str], dests: tuple[str, ...]):
        self.writer = writer
        self.existing = existing
        self.dests = dests
        self.data = np.empty((MIN_ROWS, DUE + len(dests)))
        self.n = 0
        self.since: float | None = None
        # Rows appended one at a time wait here (a list append is much cheaper than a
        # numpy row write) until the next vectorised read.
        self._appended: list[list[float]] = []

    def _reserve(self, extra: int) -> None:
        need = self.n + extra
        if need > len(self.data):  # mutate: equivalent: growing one row early: capacity only
            # equivalent: the capacity grown to, never read as data
            capacity = GROWTH * len(self.data)  # mutate: equivalent
            grown = np.empty((max(need, capacity), self.data.shape[1]))
            grown[:self.n] = self.data[:self.n]
            self.data = grown

    def append(self, values: list[float]) -> None:
        self._appended.append(values)

    def extend(self, rows: np.ndarray) -> None:
        self._flush()
        self._reserve(len(rows))
        self.data[self.n:self.n + len(rows)] = rows
        self.n += len(rows)

    def _flush(self) -> None:
        if self._appended:
            rows = np.array(self._appended, dtype=np.float64)
            self._appended = []
            self.extend(rows)

    @property
    def size(self) -> int:
        return self.n + len(self._appended)

    def rows(self) -> np.ndarray:
        self._flush()
        return self.data[:self.n]

    def keep(self, mask: np.ndarray) -> None:
        self._flush()
        kept = self.data[:self.n][mask]
        self.n = len(kept)
        # equivalent: when a mostly empty array is reallocated smaller: capacity only
        if len(self.data) > 64 and self.n < len(self.data) // 4:  # mutate: equivalent
            self.data = np.empty((max(GROWTH * self.n, MIN_ROWS), self.data.shape[1]))
        self.data[:self.n] = kept


def totals(rows: np.ndarray) -> tuple[int, int, float, int, int]:
    """Records, bytes, earliest first ack, counted records and counted bytes of rows."""
    if not len(rows):
        return 0, 0, math.inf, 0, 0
    sums = rows[:, [RECORDS, BYTES, COUNTED_RECORDS, COUNTED_BYTES]].sum(axis=0).tolist()
    return (int(round(sums[0])), int(round(sums[1])), float(rows[:, FIRST_ACK].min()),
            int(round(sums[2])), int(round(sums[3])))


def counted(holder: CopyGroup | Cohort) -> bool:
    """Whether any of a holder's records were counted as unavailable."""
    if isinstance(holder, CopyGroup):
        return bool(holder.counted_records or holder.counted_bytes)
    return bool(holder.rows()[:, COUNTED_RECORDS].any())


__all__ = ["BYTES", "COUNTED_BYTES", "COUNTED_RECORDS", "DUE", "FIRST_ACK", "FIXED", "NONE",
           "RECORDS", "Cohort", "CopyGroup", "TrackedObject", "counted", "totals"]
