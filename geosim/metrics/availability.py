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

Memory. An object is held in one of three forms, each as small as its role allows:

1. ``TrackedObject``, keyed by object id, from ``ObjectStored`` until its rows are
   acknowledged (every row of its ``ObjectCommitted``, or ``ack_grace`` seconds
   after it was stored): acks must find it by id. Also for the rare objects
   whose copies are blocked by an outage, or that are unreadable.
2. ``Cohort`` rows, once acks are done while copies are still pending: objects
   with the same writer, the same existing copies and the same pending
   destinations differ only in their due times, records, bytes and first ack
   time, so a cohort keeps those in one float array (8 bytes a field) and decides
   their due copies with vectorised sweeps (every ``sweep_interval`` seconds, and
   at each region event).
3. ``CopyGroup`` aggregates, once no copy is pending: from then on an object's fate
   depends only on (writer region, set of regions holding copies), so its records
   are summed into that group.

So memory is bounded by the objects stored within the replication window, at a
few dozen bytes each, not by the number of events.
"""

from __future__ import annotations

import heapq
import math
from array import array
from collections.abc import Iterable

import numpy as np

from geosim.core.events import ObjectCommitted, ObjectStored, RegionState, Row
from geosim.metrics.holders import (
    BYTES,
    COUNTED_BYTES,
    COUNTED_RECORDS,
    DUE,
    FIRST_ACK,
    FIXED,
    NONE,
    RECORDS,
    Cohort,
    CopyGroup,
    TrackedObject,
    counted,
    totals,
)
from geosim.metrics.report import (
    LossReport,
    UnavailabilityReport,
)
from geosim.metrics.tally import Tally

UP = 0
DOWN = 1
DESTROYED = 2  # mutate: equivalent: any code apart from UP and DOWN names the same state
#: Seconds between sweeps of the cohorts' due copies. A sweep decides due copies under the
#: states a later region event would decide them under (it decides them first), so the
#: interval trades memory for CPU and moves no result.
SWEEP_INTERVAL = 5.0  # mutate: equivalent: how often due copies are decided, not how
class ObjectAvailability:
    """Fold of ObjectStored / ObjectCommitted / acks / RegionState into loss and
    unavailability (see the module docstring for the definitions)."""

    def __init__(self, regions: Iterable[str], *, fault_starts: Iterable[float] = (),
                 ack_grace: float, sweep_interval: float = SWEEP_INTERVAL):
        self._state: dict[str, int] = {r: UP for r in regions}
        self._down_since: dict[str, float] = {}
        self.ack_grace = float(ack_grace)
        self.sweep_interval = float(sweep_interval)
        self._open: dict[int, TrackedObject] = {}
        self._heap: list[tuple[float, int]] = []
        # Ack deadlines in store order (so already sorted): a compact FIFO.
        self._expiry_t = array("d")
        self._expiry_oid = array("q")
        self._expiry_head = 0
        self._next_sweep = -math.inf
        self._next_due = -math.inf    # earliest time advance() has work to do
        # Ids for objects split out of cohorts (-1 = no object), counting down.
        # equivalent: any start below -1 keeps them apart from -1 and stored ids, in order
        self._synthetic_oid = -2  # mutate: equivalent
        self._cohorts: dict[tuple[str, frozenset[str], tuple[str, ...]], Cohort] = {}
        self._frozen: dict[tuple[str, ...], frozenset[str]] = {}  # interned copy sets
        self._groups: dict[tuple[str, frozenset[str]], CopyGroup] = {}
        self.tally = Tally(fault_starts)

    # --- inspection (tests, debugging) --------------------------------------------

    @property
    def open_objects(self) -> int:
        """Objects tracked individually (awaiting acks, blocked or unreadable)."""
        return len(self._open)

    @property
    def cohort_objects(self) -> int:
        """Acknowledged objects awaiting an asynchronous copy, held compactly."""
        return sum(c.size for c in self._cohorts.values())

    @property
    def cohorts(self) -> int:
        """Cohorts held (an emptied cohort is forgotten)."""
        return len(self._cohorts)

    @property
    def groups(self) -> int:
        return len(self._groups)

    # --- event handlers --------------------------------------------------------------

    def on_stored(self, ev: ObjectStored) -> None:
        t = ev.t
        self.advance(t)
        obj = TrackedObject(ev.object_id, ev.writer_region, t)
        state = self._state
        for region, when in ev.copies:
            s = state.get(region)
            if s is None:
                s = state[region] = UP
            if not when < math.inf or s == DESTROYED:
                continue  # never made
            # equivalent: a copy due at the store is decided under the same states
            if when > t:  # mutate: equivalent
                obj.pending.append((when, region))
            elif s == UP or when < self._down_since.get(region, math.inf):
                obj.existing.append(region)
            else:
                obj.blocked = [*obj.blocked, region]  # claimed while its region was down
        obj.pending.sort()
        obj.had_copy = bool(obj.existing)
        self._open[obj.oid] = obj
        if not obj.existing and not obj.pending and not obj.blocked:
            self._lose_object(obj, t)  # no copy will ever exist
        deadline = t + self.ack_grace
        self._expiry_t.append(deadline)
        self._expiry_oid.append(obj.oid)
        if deadline < self._next_due:  # mutate: equivalent: at equality the same value
            self._next_due = deadline

    def on_committed(self, ev: ObjectCommitted) -> None:
        obj = self._open.get(ev.object_id)
        if obj is not None:
            obj.rows_expected = len(ev.rows)
            if not obj.released and obj.rows_acked >= obj.rows_expected:
                self._release(obj, ev.t)

    def on_ack(self, t: float, row: Row) -> None:
        """One acknowledged row (hot path: called for every row of every ack)."""
        obj = self._open.get(row.object_id)
        if obj is None:
            self.tally.untracked_records += row.records
            return
        n = row.records
        b = row.bytes_uncompressed
        obj.records += n
        obj.bytes += b
        obj.rows_acked += 1
        if t < obj.first_ack:  # mutate: equivalent: at equality the same value
            obj.first_ack = t
        if obj.lost:
            self.tally.count_lost(obj.writer, n, b, t, t)
        elif obj.since is not None:
            self.tally.count_unavailable(obj.writer, n, b)
            obj.counted_records += n
            obj.counted_bytes += b
        if not obj.released and 0 <= obj.rows_expected <= obj.rows_acked:
            self._release(obj, t)

    def on_region_state(self, ev: RegionState) -> None:
        t = ev.t
        region = ev.region
        self.advance(t)
        # Copies due up to now were made, or blocked, under the state before this event.
        for obj in list(self._open.values()):
            if obj.pending and obj.pending[0][0] <= t:
                self._materialize(obj, t)
        for cohort in list(self._cohorts.values()):
            self._materialize_cohort(cohort, t)
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
        """Release objects whose ack deadline passed, settle due objects, sweep cohorts."""
        # equivalent: work due exactly now then runs at the next call, before any change
        if t < self._next_due:  # mutate: equivalent
            return  # the hot path: nothing is due yet
        times = self._expiry_t
        oids = self._expiry_oid
        head = self._expiry_head
        while head < len(times):
            # equivalent: a release due exactly now then runs at the next call, as above
            if times[head] > t:  # mutate: equivalent
                break
            obj = self._open.get(oids[head])
            head += 1
            if obj is not None and not obj.released:
                self._release(obj, t)
        # equivalent: when the consumed head is dropped, not what is held from head on
        if head > 4096 and 2 * head > len(times):  # mutate: equivalent
            del times[:head]
            del oids[:head]
            head = 0
        self._expiry_head = head
        heap = self._heap
        while heap:
            first = heap[0][0]
            # equivalent: a settle due exactly now then runs at the next call, as above
            if first > t:  # mutate: equivalent
                break
            due, oid = heapq.heappop(heap)
            obj = self._open.get(oid)
            if obj is None or obj.due != due:
                continue  # stale entry
            obj.due = None
            self._settle(obj, t)
        # equivalent: a sweep decides due copies as the next region event would
        if t >= self._next_sweep:  # mutate: equivalent
            # equivalent: a sweep decides due copies as the next region event would
            self._next_sweep = t + self.sweep_interval  # mutate: equivalent
            for cohort in list(self._cohorts.values()):
                self._materialize_cohort(cohort, t)
        self._next_due = min(
            self._next_sweep,
            self._heap[0][0] if self._heap else math.inf,
            self._expiry_t[self._expiry_head] if self._expiry_head < len(self._expiry_t)
            else math.inf)

    def _schedule(self, obj: TrackedObject, when: float) -> None:
        obj.due = when
        heapq.heappush(self._heap, (when, obj.oid))
        if when < self._next_due:  # mutate: equivalent: at equality the same value
            self._next_due = when

    def _release(self, obj: TrackedObject, now: float) -> None:
        """No more acks expected: move the object to its most compact form."""
        obj.released = True
        if obj.lost or obj.records == 0:
            del self._open[obj.oid]  # nothing acknowledged: its fate does not matter
            return
        if obj.pending and obj.pending[0][0] <= now:
            self._materialize(obj, now)
        pending = obj.pending
        existing_list = obj.existing
        if (pending and not obj.blocked and obj.had_copy and obj.since is None
                and (self._state[existing_list[0]] == UP if len(existing_list) == 1
                     else self._readable(existing_list))):
            if len(pending) == 1:  # the common case, kept cheap: one asynchronous copy
                dests: tuple[str, ...] = (pending[0][1],)
                dues = [pending[0][0]]
            else:
                by_region = sorted((region, when) for when, region in pending)
                dests = tuple(region for region, _ in by_region)
                dues = [when for _, when in by_region]
            existing = tuple(sorted(existing_list))
            frozen = self._frozen.get(existing)
            if frozen is None:
                frozen = self._frozen[existing] = frozenset(existing)
            key = (obj.writer, frozen, dests)
            cohort = self._cohorts.get(key)
            if cohort is None:
                cohort = self._cohorts[key] = Cohort(*key)
            if cohort.since is None:
                cohort.append([obj.records, obj.bytes, obj.first_ack, obj.counted_records,
                               obj.counted_bytes, *dues])
                del self._open[obj.oid]
                return
        self._settle(obj, now)

    def _settle(self, obj: TrackedObject, now: float) -> None:
        """A released object kept individually: fold it once no copy is pending."""
        if obj.pending:
            self._materialize(obj, now)
        if obj.pending:
            self._schedule(obj, obj.pending[-1][0])
        elif not obj.blocked:
            if obj.lost:
                del self._open[obj.oid]
            else:
                self._fold(obj, now)
        # blocked: rescheduled when a recovery unblocks it

    def _fold(self, obj: TrackedObject, now: float) -> None:
        del self._open[obj.oid]
        obj.due = None
        if obj.records == 0:
            return  # nothing acknowledged: its fate does not matter
        self._add_to_group(obj.writer, frozenset(obj.existing), obj.records, obj.bytes,
                           obj.first_ack, obj.since, obj.counted_records, obj.counted_bytes, now)

    def _add_to_group(self, writer: str, regions: frozenset[str], records: int, nbytes: int,
                      first_ack: float, since: float | None, counted_records: int,
                      counted_bytes: int, now: float) -> None:
        key = (writer, regions)
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = CopyGroup(writer, regions)
            if not self._readable(regions):
                group.since = since if since is not None else now
        group.records += records
        group.bytes += nbytes
        group.first_ack = min(group.first_ack, first_ack)
        group.counted_records += counted_records
        group.counted_bytes += counted_bytes
        if since is not None:
            group.since = since if group.since is None else min(group.since, since)
        if group.since is not None:
            self.tally.count_holder_unavailable(group)

    # --- copies ---------------------------------------------------------------------------

    def _readable(self, regions: Iterable[str]) -> bool:
        state = self._state
        return any(state[r] == UP for r in regions)

    def _materialize(self, obj: TrackedObject, now: float) -> None:
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

    def _materialize_cohort(self, cohort: Cohort, now: float) -> None:
        """:meth:`_materialize` for every object of a cohort, vectorised."""
        rows = cohort.rows()
        if not len(rows):
            self._drop_cohort_if_empty(cohort)
            return
        due = rows[:, DUE:] <= now
        any_due = np.any(due, axis=1)
        if not any_due.any():
            return
        state = self._state
        readable = self._readable(cohort.existing)
        # Every object sees the same states, so each destination has one outcome.
        made = [state[d] == UP and readable for d in cohort.dests]
        blocked = [state[d] == DOWN or (state[d] == UP and not readable) for d in cohort.dests]
        moving = rows[any_due]
        patterns = due[any_due] @ (1 << np.arange(len(cohort.dests)))
        cohort.keep(~any_due)
        for code in np.unique(patterns).tolist():
            sel = moving[patterns == code]
            now_due = [k for k in range(len(cohort.dests)) if code >> k & 1]
            later = [k for k in range(len(cohort.dests)) if not code >> k & 1]
            existing = cohort.existing | {cohort.dests[k] for k in now_due if made[k]}
            if any(blocked[k] for k in now_due):
                for values in sel.tolist():
                    self._unpack(cohort, values, existing,
                                 [cohort.dests[k] for k in now_due if blocked[k]], later)
                continue
            if later:
                self._move_to_cohort(cohort.writer, existing,
                                     tuple(cohort.dests[k] for k in later),
                                     sel[:, [*FIXED, *(DUE + k for k in later)]], cohort.since)
            else:
                records, nbytes, first_ack, counted_records, counted_bytes = totals(sel)
                self._add_to_group(cohort.writer, existing, records, nbytes, first_ack,
                                   cohort.since, counted_records, counted_bytes, now)
        self._drop_cohort_if_empty(cohort)

    def _move_to_cohort(self, writer: str, existing: frozenset[str], dests: tuple[str, ...],
                        rows: np.ndarray, since: float | None) -> None:
        key = (writer, existing, dests)
        target = self._cohorts.get(key)
        if target is None:
            target = self._cohorts[key] = Cohort(*key)
        target.extend(rows)
        if since is not None:
            target.since = since if target.since is None else min(target.since, since)
        if target.since is not None:
            self.tally.count_holder_unavailable(target)

    def _unpack(self, cohort: Cohort, values: list[float], existing: frozenset[str],
                blocked: list[str], later: list[int]) -> None:
        """Turn a cohort row back into an individual object (its copies are blocked)."""
        oid = self._synthetic_oid
        self._synthetic_oid -= 1
        obj = TrackedObject(oid, cohort.writer, values[FIRST_ACK])
        obj.existing = sorted(existing)
        obj.blocked = list(blocked)
        obj.pending = sorted((values[DUE + k], cohort.dests[k]) for k in later)
        obj.had_copy = True
        obj.records = int(round(values[RECORDS]))
        obj.bytes = int(round(values[BYTES]))
        obj.first_ack = values[FIRST_ACK]
        obj.released = True
        obj.since = cohort.since
        obj.counted_records = int(round(values[COUNTED_RECORDS]))
        obj.counted_bytes = int(round(values[COUNTED_BYTES]))
        self._open[oid] = obj

    def _drop_cohort_if_empty(self, cohort: Cohort) -> None:
        if cohort.size == 0:
            key = (cohort.writer, cohort.existing, cohort.dests)
            if self._cohorts.get(key) is cohort:
                del self._cohorts[key]

    def _unblock(self, obj: TrackedObject, now: float) -> None:
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
            obj.blocked = waiting or NONE
        if obj.released and not obj.blocked and not obj.pending and obj.due is None:
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
                obj.blocked = [r for r in obj.blocked if r != region] or NONE
            if obj.had_copy and not obj.existing:
                self._lose_object(obj, t)
            elif not obj.had_copy and not obj.pending and not obj.blocked:
                self._lose_object(obj, t)
        cohorts = list(self._cohorts.values())
        self._cohorts = {}
        for cohort in cohorts:
            existing = cohort.existing - {region}
            rows = cohort.rows()
            records, nbytes, first_ack, counted_records, counted_bytes = totals(rows)
            if not existing:
                self.tally.lose(cohort.writer, records, nbytes, first_ack, cohort.since,
                           counted_records, counted_bytes, t)
                continue
            keep = [k for k, d in enumerate(cohort.dests) if d != region]
            dests = tuple(cohort.dests[k] for k in keep)
            if dests:
                self._move_to_cohort(cohort.writer, existing, dests,
                                     rows[:, [*FIXED, *(DUE + k for k in keep)]], cohort.since)
            else:
                self._add_to_group(cohort.writer, existing, records, nbytes, first_ack,
                                   cohort.since, counted_records, counted_bytes, t)
        regrouped: dict[tuple[str, frozenset[str]], CopyGroup] = {}
        for group in self._groups.values():
            if region in group.regions:
                group.regions = group.regions - {region}
                if not group.regions:
                    self.tally.lose(group.writer, group.records, group.bytes, group.first_ack,
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
            if into.since is not None:
                # Records that were readable through the lost copy are unreadable now.
                self.tally.count_holder_unavailable(into)
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
                    self.tally.count_unavailable(obj.writer, n, b)
                    obj.counted_records, obj.counted_bytes = obj.records, obj.bytes
            elif readable and obj.since is not None:
                if obj.counted_records or obj.counted_bytes:
                    self.tally.close(obj.writer, obj.since, t)
                obj.since = None
        holders: list[CopyGroup | Cohort] = [*self._groups.values(), *self._cohorts.values()]
        for holder in holders:
            regions = holder.regions if isinstance(holder, CopyGroup) else holder.existing
            readable = self._readable(regions)
            if not readable and holder.since is None:
                holder.since = t
                self.tally.count_holder_unavailable(holder)
            elif readable and holder.since is not None:
                if counted(holder):
                    self.tally.close(holder.writer, holder.since, t)
                holder.since = None

    # --- accounting -------------------------------------------------------------------------

    def _lose_object(self, obj: TrackedObject, t: float) -> None:
        self.tally.lose(obj.writer, obj.records, obj.bytes, obj.first_ack, obj.since,
                   obj.counted_records, obj.counted_bytes, t)
        obj.lost = True
        obj.since = None
        obj.pending = []
        obj.blocked = NONE
        if obj.released:
            del self._open[obj.oid]  # kept before release only to attribute late acks

    # --- results ------------------------------------------------------------------------------

    def finalize(self, t_end: float) -> tuple[LossReport, UnavailabilityReport]:
        """Loss and unavailability as of ``t_end``; still-open intervals end there."""
        # Every record of an unreadable holder is unreadable now (and was counted).
        holders: list[tuple[str, float | None, int]] = [
            (o.writer, o.since, o.records) for o in self._open.values() if not o.lost]
        holders += [(g.writer, g.since, g.records) for g in self._groups.values()]
        holders += [(c.writer, c.since, totals(c.rows())[0]) for c in self._cohorts.values()]
        return self.tally.report(t_end, holders)
