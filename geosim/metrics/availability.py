"""Loss and unavailability of acknowledged data, from object copies and region states.

Definitions (domain.md §7; all times in seconds):

- A *copy* of an object exists in a region from its copy time on. An object is
  **readable** at ``t`` when some region holding an existing copy is up.
- A copy due at time ``c`` (asynchronous replication) is made at ``c`` if its
  destination region is up and some region already holding a copy (its source)
  is up; otherwise it waits and is made at the first region recovery after which
  both hold, and never if the destination is destroyed or no source survives.
  The object's first copy (its home write) needs no source.
- An object with acknowledged rows becomes **unavailable** at a region event that
  makes it unreadable, until an event makes it readable again. Its records count
  once, however many times this happens, including rows acked while it was
  unreadable.
- An object is **lost** at a destruction that leaves it without an existing copy
  in any surviving region (copies still pending are then never made). Its acked
  records and bytes are lost; an object lost after being unavailable moves from
  the unavailable counts to the lost ones (with its unreadability interval).
- **RPO** of a destruction: the start of the fault that caused it minus the
  earliest ack time among the rows it lost, never negative.

Records and bytes are attributed to the object's writer region; bytes are
uncompressed, as acknowledged.

Memory: per-object state is kept only while the object can still change class
(a copy pending or blocked, or acks still expected: until every row of its
``ObjectCommitted`` is acked, or ``ack_grace`` seconds after it was stored). Then
it is folded into an aggregate keyed by (writer region, set of regions holding
copies), since from then on its fate depends on that set alone. A heap keyed by
the time an object may next be folded drives the pruning.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass

from geosim.core.events import ObjectCommitted, ObjectStored, RegionState, Row
from geosim.metrics.report import (
    LossReport,
    RegionLoss,
    RegionUnavailability,
    UnavailabilityReport,
)

UP, DOWN, DESTROYED = 0, 1, 2
# Shared empty list for the common "nothing blocked" case (saves a list per object);
# never mutated: code replaces it with a fresh list before appending.
_NONE: list[str] = []


class _Object:
    """An object that can still change class."""

    __slots__ = ("oid", "writer", "t_store", "existing", "pending", "blocked", "had_copy",
                 "records", "bytes", "first_ack", "rows_expected", "rows_acked", "since",
                 "counted_records", "counted_bytes", "lost", "due")

    def __init__(self, oid: int, writer: str, t_store: float):
        self.oid = oid
        self.writer = writer
        self.t_store = t_store
        self.existing: list[str] = []                 # regions holding a copy now
        self.pending: list[tuple[float, str]] = []    # (due time, region), ascending
        self.blocked: list[str] = _NONE               # due copies waiting for regions
        self.had_copy = False
        self.records = 0
        self.bytes = 0
        self.first_ack = math.inf
        self.rows_expected = -1                       # unknown until ObjectCommitted
        self.rows_acked = 0
        self.since: float | None = None               # unreadable since
        self.counted_records = 0                      # already counted as unavailable
        self.counted_bytes = 0
        self.lost = False
        self.due: float | None = None                 # live heap entry, if any


@dataclass(slots=True)
class _Group:
    """Settled objects sharing a writer region and a set of copy regions."""

    writer: str
    regions: frozenset[str]
    records: int = 0
    bytes: int = 0
    first_ack: float = math.inf
    since: float | None = None
    counted_records: int = 0
    counted_bytes: int = 0


class ObjectAvailability:
    """Fold of ObjectStored / ObjectCommitted / acks / RegionState into loss and
    unavailability (see the module docstring for the definitions)."""

    def __init__(self, regions: Iterable[str], *, fault_starts: Iterable[float] = (),
                 ack_grace: float = 300.0):
        self._state: dict[str, int] = {r: UP for r in regions}
        self._down_since: dict[str, float] = {}
        self._fault_starts = sorted(float(s) for s in fault_starts)
        self.ack_grace = float(ack_grace)
        self._open: dict[int, _Object] = {}
        self._heap: list[tuple[float, int]] = []
        self._groups: dict[tuple[str, frozenset[str]], _Group] = {}
        self._lost: dict[str, RegionLoss] = {}
        self._unavailable: dict[str, RegionUnavailability] = {}
        self._intervals: dict[tuple[str, float], float] = {}
        self.untracked_records = 0

    # --- inspection (tests, debugging) --------------------------------------------

    @property
    def open_objects(self) -> int:
        """Objects still tracked individually (bounded by the replication window)."""
        return len(self._open)

    @property
    def groups(self) -> int:
        return len(self._groups)

    # --- event handlers --------------------------------------------------------------

    def on_stored(self, ev: ObjectStored) -> None:
        t = ev.t
        self.advance(t)
        obj = _Object(ev.object_id, ev.writer_region, t)
        state = self._state
        for region, when in sorted(ev.copies, key=lambda c: (c[1], c[0])):
            s = state.setdefault(region, UP)
            if not when < math.inf or s == DESTROYED:
                continue  # never made
            if when > t:
                obj.pending.append((when, region))
            elif s == UP or when < self._down_since.get(region, math.inf):
                obj.existing.append(region)
            else:
                obj.blocked = [*obj.blocked, region]  # claimed while its region was down
        obj.had_copy = bool(obj.existing)
        self._open[obj.oid] = obj
        if not obj.existing and not obj.pending and not obj.blocked:
            self._lose_object(obj, t)  # no copy will ever exist
        self._schedule(obj, obj.pending[-1][0] if obj.pending else t)

    def on_committed(self, ev: ObjectCommitted) -> None:
        obj = self._open.get(ev.object_id)
        if obj is not None:
            obj.rows_expected = len(ev.rows)

    def on_ack(self, t: float, row: Row) -> None:
        """One acknowledged row (hot path: called for every row of every ack)."""
        obj = self._open.get(row.object_id)
        if obj is None:
            self.untracked_records += row.records
            return
        n = row.records
        b = row.bytes_uncompressed
        obj.records += n
        obj.bytes += b
        obj.rows_acked += 1
        if t < obj.first_ack:
            obj.first_ack = t
        if obj.lost:
            self._count_lost(obj.writer, n, b, t, t)
        elif obj.since is not None:
            self._count_unavailable(obj.writer, n, b)
            obj.counted_records += n
            obj.counted_bytes += b
        elif (0 <= obj.rows_expected <= obj.rows_acked
              and not obj.pending and not obj.blocked):
            self._fold(obj, t)

    def on_region_state(self, ev: RegionState) -> None:
        t = ev.t
        region = ev.region
        self.advance(t)
        # Copies due up to now were made, or blocked, under the state before this event.
        for obj in self._open.values():
            if obj.pending and obj.pending[0][0] <= t:
                self._materialize(obj, t)
        state = self._state
        previous = state.setdefault(region, UP)
        if previous == DESTROYED:
            return
        if ev.destroyed:
            state[region] = DESTROYED
            self._down_since.setdefault(region, t)
            self._apply_destruction(region, t)
        elif ev.up:
            state[region] = UP
            self._down_since.pop(region, None)
            for obj in list(self._open.values()):
                if obj.blocked:
                    self._unblock(obj, t)
        else:
            state[region] = DOWN
            self._down_since[region] = t
        self._reevaluate(t)

    # --- pruning ------------------------------------------------------------------------

    def advance(self, t: float) -> None:
        """Settle every object whose heap entry is due at or before ``t``."""
        heap = self._heap
        while heap and heap[0][0] <= t:
            due, oid = heapq.heappop(heap)
            obj = self._open.get(oid)
            if obj is None or obj.due != due:
                continue  # stale entry
            obj.due = None
            self._settle(obj, t)

    def _schedule(self, obj: _Object, when: float) -> None:
        obj.due = when
        heapq.heappush(self._heap, (when, obj.oid))

    def _settle(self, obj: _Object, now: float) -> None:
        if obj.pending:
            self._materialize(obj, now)
        if obj.pending:
            self._schedule(obj, obj.pending[-1][0])
            return
        if obj.blocked:
            return  # rescheduled when a recovery unblocks it
        acks_done = 0 <= obj.rows_expected <= obj.rows_acked
        if acks_done or now >= obj.t_store + self.ack_grace:
            if obj.lost:
                del self._open[obj.oid]
            else:
                self._fold(obj, now)
        else:
            self._schedule(obj, obj.t_store + self.ack_grace)

    def _fold(self, obj: _Object, now: float) -> None:
        del self._open[obj.oid]
        obj.due = None
        if obj.records == 0:
            return  # nothing acknowledged: its fate does not matter
        key = (obj.writer, frozenset(obj.existing))
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = _Group(obj.writer, key[1])
            if not self._readable(key[1]):
                group.since = obj.since if obj.since is not None else now
        group.records += obj.records
        group.bytes += obj.bytes
        group.first_ack = min(group.first_ack, obj.first_ack)
        group.counted_records += obj.counted_records
        group.counted_bytes += obj.counted_bytes
        if obj.since is not None:
            group.since = obj.since if group.since is None else min(group.since, obj.since)
        if group.since is not None:
            self._count_group_unavailable(group)

    # --- copies ---------------------------------------------------------------------------

    def _readable(self, regions: Iterable[str]) -> bool:
        state = self._state
        return any(state[r] == UP for r in regions)

    def _materialize(self, obj: _Object, now: float) -> None:
        """Decide the copies due at or before ``now`` under the current region states."""
        state = self._state
        pending = obj.pending
        while pending and pending[0][0] <= now:
            _, dest = pending.pop(0)
            s = state.setdefault(dest, UP)
            if s == DESTROYED:
                continue
            if obj.had_copy and not obj.existing:
                continue  # every source destroyed: never made
            if s == UP and (not obj.had_copy or self._readable(obj.existing)):
                obj.existing.append(dest)
                obj.had_copy = True
            else:
                obj.blocked = [*obj.blocked, dest]

    def _unblock(self, obj: _Object, now: float) -> None:
        state = self._state
        changed = True
        while changed and obj.blocked:
            changed = False
            source_up = not obj.had_copy or self._readable(obj.existing)
            waiting = []
            for dest in obj.blocked:
                s = state[dest]
                if s == DESTROYED:
                    changed = True
                elif s == UP and source_up:
                    obj.existing.append(dest)
                    obj.had_copy = True
                    source_up = changed = True
                else:
                    waiting.append(dest)
            obj.blocked = waiting
        if not obj.blocked and not obj.pending and obj.due is None:
            self._schedule(obj, now)

    def _apply_destruction(self, region: str, t: float) -> None:
        for obj in list(self._open.values()):
            if obj.lost:
                continue
            if region in obj.existing:
                obj.existing.remove(region)
            if obj.pending:
                obj.pending = [(c, r) for c, r in obj.pending if r != region]
            if obj.blocked:
                obj.blocked = [r for r in obj.blocked if r != region]
            if obj.had_copy and not obj.existing:
                self._lose_object(obj, t)
            elif not obj.had_copy and not obj.pending and not obj.blocked:
                self._lose_object(obj, t)
        regrouped: dict[tuple[str, frozenset[str]], _Group] = {}
        for group in self._groups.values():
            if region in group.regions:
                group.regions = group.regions - {region}
                if not group.regions:
                    self._lose(group.writer, group.records, group.bytes, group.first_ack,
                               group.since, group.counted_records, group.counted_bytes, t)
                    continue
            key = (group.writer, group.regions)
            into = regrouped.get(key)
            if into is None:
                regrouped[key] = group
                continue
            into.records += group.records
            into.bytes += group.bytes
            into.first_ack = min(into.first_ack, group.first_ack)
            into.counted_records += group.counted_records
            into.counted_bytes += group.counted_bytes
            if group.since is not None:
                into.since = group.since if into.since is None else min(into.since, group.since)
        self._groups = regrouped

    def _reevaluate(self, t: float) -> None:
        """Open or close unreadability intervals after a region state change."""
        for obj in self._open.values():
            if obj.lost or not obj.had_copy:
                continue
            readable = self._readable(obj.existing)
            if not readable and obj.since is None:
                obj.since = t
                n = obj.records - obj.counted_records
                b = obj.bytes - obj.counted_bytes
                if n or b:
                    self._count_unavailable(obj.writer, n, b)
                    obj.counted_records, obj.counted_bytes = obj.records, obj.bytes
            elif readable and obj.since is not None:
                if obj.counted_records or obj.counted_bytes:
                    self._close(obj.writer, obj.since, t)
                obj.since = None
        for group in self._groups.values():
            readable = self._readable(group.regions)
            if not readable and group.since is None:
                group.since = t
                self._count_group_unavailable(group)
            elif readable and group.since is not None:
                if group.counted_records or group.counted_bytes:
                    self._close(group.writer, group.since, t)
                group.since = None

    # --- accounting -------------------------------------------------------------------------

    def _fault_start(self, t: float) -> float:
        """Start of the latest fault begun at or before ``t`` (``t`` if none)."""
        i = bisect_right(self._fault_starts, t)
        return self._fault_starts[i - 1] if i else t

    def _count_unavailable(self, writer: str, records: int, nbytes: int) -> None:
        entry = self._unavailable.get(writer)
        if entry is None:
            entry = self._unavailable[writer] = RegionUnavailability()
        entry.records += records
        entry.bytes += nbytes

    def _count_group_unavailable(self, group: _Group) -> None:
        n = group.records - group.counted_records
        b = group.bytes - group.counted_bytes
        if n or b:
            self._count_unavailable(group.writer, n, b)
            group.counted_records, group.counted_bytes = group.records, group.bytes

    def _count_lost(self, writer: str, records: int, nbytes: int, first_ack: float,
                    t_loss: float) -> None:
        entry = self._lost.get(writer)
        if entry is None:
            entry = self._lost[writer] = RegionLoss()
        entry.records += records
        entry.bytes += nbytes
        if records and first_ack < math.inf:
            rpo = max(0.0, self._fault_start(t_loss) - first_ack)
            entry.rpo_seconds = max(entry.rpo_seconds, rpo)

    def _close(self, writer: str, start: float, end: float) -> None:
        key = (writer, start)
        self._intervals[key] = max(self._intervals.get(key, end), end)

    def _lose(self, writer: str, records: int, nbytes: int, first_ack: float,
              since: float | None, counted_records: int, counted_bytes: int, t: float) -> None:
        # Lost data is reported as lost only: its unavailability (records and
        # interval) is withdrawn, so the two reports never overlap.
        if since is not None and (counted_records or counted_bytes):
            self._count_unavailable(writer, -counted_records, -counted_bytes)
        self._count_lost(writer, records, nbytes, first_ack, t)

    def _lose_object(self, obj: _Object, t: float) -> None:
        self._lose(obj.writer, obj.records, obj.bytes, obj.first_ack, obj.since,
                   obj.counted_records, obj.counted_bytes, t)
        obj.lost = True
        obj.since = None
        obj.pending = []
        obj.blocked = _NONE
        if obj.due is None:
            self._schedule(obj, t)  # keep it only to attribute late acks

    # --- results ------------------------------------------------------------------------------

    def finalize(self, t_end: float) -> tuple[LossReport, UnavailabilityReport]:
        """Loss and unavailability as of ``t_end``; still-open intervals end there."""
        intervals = dict(self._intervals)
        open_records = 0
        holders: list[tuple[str, float | None, int]] = [
            (o.writer, o.since, o.counted_records) for o in self._open.values()]
        holders += [(g.writer, g.since, g.counted_records) for g in self._groups.values()]
        for writer, since, counted in holders:
            if since is None or not counted:
                continue
            key = (writer, since)
            intervals[key] = max(intervals.get(key, t_end), t_end)
            open_records += counted

        by_region_unavailable = {w: RegionUnavailability(u.records, u.bytes)
                                 for w, u in sorted(self._unavailable.items())}
        for (writer, start), end in intervals.items():
            entry = by_region_unavailable.setdefault(writer, RegionUnavailability())
            entry.max_seconds = max(entry.max_seconds, end - start)
        unavailable = UnavailabilityReport(
            records=sum(u.records for u in by_region_unavailable.values()),
            bytes=sum(u.bytes for u in by_region_unavailable.values()),
            intervals=_union(intervals.items()),
            max_seconds=max((u.max_seconds for u in by_region_unavailable.values()),
                            default=0.0),
            open_records=open_records,
            by_region=by_region_unavailable,
        )
        by_region_lost = {w: RegionLoss(v.records, v.bytes, v.rpo_seconds)
                          for w, v in sorted(self._lost.items())}
        loss = LossReport(
            records=sum(v.records for v in by_region_lost.values()),
            bytes=sum(v.bytes for v in by_region_lost.values()),
            rpo_seconds=max((v.rpo_seconds for v in by_region_lost.values()), default=0.0),
            by_region=by_region_lost,
            untracked_records=self.untracked_records,
        )
        return loss, unavailable


def _union(items: Iterable[tuple[tuple[str, float], float]]) -> list[tuple[float, float]]:
    """Union of ``(start, end)`` intervals, sorted and merged where they touch."""
    spans = sorted((start, end) for (_, start), end in items)
    out: list[tuple[float, float]] = []
    for start, end in spans:
        if out and start <= out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out
