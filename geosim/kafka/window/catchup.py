"""Followers out of the ISR in a window: their returns to it, and their state at a
hand-back.

A window may run while followers catch up after an outage (sync replicas out of their
ISRs, fetching a backlog through responses cut at ``replica.fetch.response.max.bytes``)
or while observers are behind: the kernel takes their pairs item by item
(:func:`~geosim.kafka.window.cycles.session_cycles`, which leaves a
:class:`~geosim.kafka.window.cycles.Track`). A follower whose fetch reaches the high
watermark rejoins its ISR (``Replication._on_fetch_request``): the leader sends an
AlterPartition, the HW waits for the follower from then on (Kafka's maximal ISR), and
once the controller's commit completes it is in the ISR, where readers of its rack
read from it under fetch-from-follower. The kernel makes those returns where
:attr:`~geosim.kafka.window.wiring.Wiring.joinable` allows (:func:`isr_joins`: a sync
replica, the only one of its partition out of the ISR, alone of it in its pair, on a
partition without observers); before any other the window hands back. The hand-back
then sets every follower of such a pair, in its ISR or not, as the kernel left it by
then (:func:`hand_back_tracked`): the rows the responses that arrived carried (whole
rows in its log end, the rest a part of a row), the leader's view of it from its last
request, its place in the fetch session, its return to the ISR, the partition's HW
from the leader's view of its ISR, and their bytes on the network.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from geosim.core.context import call_later
from geosim.kafka.window.order import groups
from geosim.kafka.window.wiring import WindowRefused
from geosim.kafka.wire import CONTROLLER_RECORD_BYTES

if TYPE_CHECKING:
    from geosim.kafka.cluster import KafkaCluster
    from geosim.kafka.window.cycles import Track
    from geosim.kafka.window.kernel import WindowResult
    from geosim.kafka.window.wiring import Draws, Session, Wiring

    Tracked = Mapping[tuple[str, str], tuple[Track, tuple[np.ndarray, ...]]]


def behind_as_of(after: Mapping[tuple[str, str], Session],
                 before: Mapping[tuple[str, str], Session],
                 ) -> dict[tuple[str, str], Session]:
    """The sessions read after a hand-over's drain (``after``), the followers catching
    up in them as they were at its start (``before``), and each pair's session order
    then: the kernel's cycles start there, and what their fetch loops moved while the
    rows in flight completed is the kernel's to move again (the hand-back sets their
    state from it)."""
    out = dict(after)
    for key, ses in after.items():
        old = before.get(key)
        if old is None or not ses.behind.any():
            continue
        was = {(pid, r): i for i, (pid, r) in enumerate(zip(
            old.pids.tolist(), old.follower.tolist(), strict=True))}
        held, caught = ses.held.copy(), ses.caught_up.copy()
        stamps = ses.stamps.copy()
        replayed = np.zeros(len(ses.pids), dtype=bool)
        found = 0
        for i in range(len(ses.pids)):
            j = was.get((int(ses.pids[i]), int(ses.follower[i])))
            if j is None:
                continue
            found += 1
            stamps[i] = old.stamps[j]  # the session's order then
            if ses.behind[i] and old.behind[j] and old.epoch[j] == ses.epoch[i]:
                # what it held then, from the log end now (the rows in flight at the
                # start were appended meanwhile)
                held[i] = old.held[j] - (ses.end_bytes[i] - old.end_bytes[j])
                caught[i] = old.caught_up[j]
                replayed[i] = True
        if found == len(ses.pids):
            out[key] = replace(ses, held=held, caught_up=caught, stamps=stamps,
                               responses=old.responses, replayed=replayed)
        else:
            out[key] = replace(ses, held=held, caught_up=caught, replayed=replayed)
    return out


@dataclass(frozen=True)
class Join:
    """A follower's return to its ISR in a window: its fetch reaching the HW arrives
    at ``asked`` (request ``k`` of fetch pair ``key``, the pair's item ``item``); the
    leader's AlterPartition commit then completes, and the follower is in the ISR, at
    ``at``."""

    pid: int
    follower: int
    key: tuple[str, str]
    item: int
    k: int
    asked: float
    at: float


def isr_joins(w: Wiring, draws: Draws, tracked: Tracked,
              cycles: Mapping[tuple[str, str], tuple[np.ndarray, ...]],
              pair_rows: Mapping[tuple[str, str], np.ndarray], partition: np.ndarray,
              row_bytes: np.ndarray, commit: np.ndarray,
              ) -> tuple[list[Join], float | None]:
    """The returns to their ISRs of the followers out of them that may join
    (``Session.may_join``), as ``Replication._on_fetch_request`` makes them: a fetch
    whose offset reaches its partition's HW (the rows committed by then; bytes count
    from the window's log end, the HW there) has the leader send an AlterPartition
    commit, one per request (``Replication._alter_isr``: a round trip to the quorum's
    leader, its round trip to the nearest majority, the commit wait), and the follower
    is in the ISR once it completes. Those :attr:`Wiring.joinable` names (empty
    without a quorum) are modelled: from its request on its partition's rows not yet
    committed wait for it too (the HW is taken over Kafka's maximal ISR, which holds a
    follower an AlterPartition in flight adds; ``commit`` is updated in place; the
    per-pair ``cycles`` and ``pair_rows`` as ``kernel.replicate`` leaves them; the
    hand-back bills the commits it makes,
    :func:`hand_back_tracked`). Returns the joins, in the order of their requests, and
    when the first of the others would rejoin (the window must hand back before it;
    None if none does)."""
    best = math.inf
    reached: list[tuple[float, tuple[str, str], int, int, int, int]] = []
    n_parts = len(w.leader_zone)
    by_part, bounds = groups(partition, n_parts)
    for key, (track, (a, _r, _q, _c)) in tracked.items():
        ses = w.sessions[key]
        for i in np.flatnonzero(ses.may_join).tolist():
            pid = int(ses.pids[i])
            rows = by_part[bounds[pid]:bounds[pid + 1]]
            done = np.maximum.accumulate(commit[rows]) if len(rows) else np.zeros(0)
            hw = np.concatenate(([0.0], np.cumsum(row_bytes[rows])))
            hw_at = hw[np.searchsorted(done, a, side="right")]
            k = np.arange(len(a))
            held = track.held_after(i, float(ses.held[i]), k - 1)  # as each request left
            reach = np.flatnonzero(held >= hw_at - 0.5)
            if not len(reach):
                continue
            k0 = int(reach[0])
            r = int(ses.follower[i])
            if (pid, r) in w.joinable:
                reached.append((float(a[k0]), key, k0, i, pid, r))
            else:
                best = min(best, float(a[k0]))
    joins: list[Join] = []
    q = w.quorum
    if reached and q is not None:
        reached.sort()
        batches: dict[tuple[tuple[str, str], int], list[tuple]] = {}
        for entry in reached:
            batches.setdefault((entry[1], entry[2]), []).append(entry)
        for (key, k0), batch in batches.items():
            lz = key[0]
            asked = batch[0][0]
            acks = sorted(draws.round_trip(q.leader, f, 1)[0] for f in q.followers)
            at = (asked + float(draws.round_trip(lz, q.leader, 1)[0])
                  + (acks[q.needed - 1] if q.needed > 0 else 0.0) + q.commit_wait)
            joins += [Join(pid, r, key, i, k0, asked, at) for _t, _k, _k0, i, pid, r in batch]
        _wait_for_joined(w, tracked, cycles, pair_rows, partition, commit, joins)
    return joins, None if best == math.inf else best


def _wait_for_joined(w: Wiring, tracked: Tracked,
                     cycles: Mapping[tuple[str, str], tuple[np.ndarray, ...]],
                     pair_rows: Mapping[tuple[str, str], np.ndarray],
                     partition: np.ndarray, commit: np.ndarray, joins: list[Join]) -> None:
    """A joining follower's partition commits a row not committed by its request
    once its next request after the response that carried the row reaches the leader
    too (``commit`` in place); a joined follower that Kafka's caught-up rule would then
    leave behind for ``replica.lag.time.max.ms`` / 2 refuses the window."""
    at_of = np.full(len(w.leader_zone), np.inf)
    keys: dict[tuple[str, str], None] = {}
    for j in joins:
        at_of[j.pid] = j.asked  # the HW waits for it from its request (maximal ISR)
        keys[j.key] = None
        track, (a, _r, _q, _c) = tracked[j.key]
        after = np.flatnonzero(a >= j.at)
        if len(after):
            since = np.maximum(track.caught[after, j.item], j.at)
            if (a[after] - since >= w.lag_max / 2).any():
                raise WindowRefused(
                    f"a follower of partition {j.pid} back in its ISR would not be caught "
                    "up for replica.lag.time.max.ms / 2 (the ISR check could drop it)")
    for key in keys:
        idx = pair_rows[key]
        a_l, _r, _q, carried = cycles[key]
        nxt = carried + 1
        ok = (carried >= 0) & (nxt < len(a_l))
        t_learn = np.full(len(idx), np.inf)
        t_learn[ok] = a_l[nxt[ok]]
        sel = np.flatnonzero(commit[idx] >= at_of[partition[idx]])
        commit[idx[sel]] = np.maximum(commit[idx[sel]], t_learn[sel])


def committed_by(w: Wiring, result: WindowResult, keep: np.ndarray,
                 ) -> Callable[[int, float], int]:
    """A tracked partition's HW at a time of the window: its log end at the window's
    start (the HW there) and the records of its kept rows committed by then."""
    rows = np.flatnonzero(keep)
    assert result.row_partition is not None and result.row_commit is not None
    assert result.row_records is not None
    commit, records = result.row_commit, result.row_records
    by_part, bounds = groups(result.row_partition[rows], len(w.leader_zone))
    base = {int(pid): int(end) for ses in w.sessions.values()
            for pid, end in zip(ses.pids.tolist(), ses.end.tolist(), strict=True)}
    cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def hw_at(pid: int, t: float) -> int:
        if pid not in cache:
            sel = rows[by_part[bounds[pid]:bounds[pid + 1]]]  # in append order
            cache[pid] = (np.maximum.accumulate(commit[sel]) if len(sel) else np.zeros(0),
                          np.concatenate((np.zeros(1), np.cumsum(records[sel]))))
        done, cum = cache[pid]
        return base[pid] + int(cum[np.searchsorted(done, t, side="right")])
    return hw_at


def tracked_inside(w: Wiring, tracked: Tracked, now: float) -> set[int]:
    """The partitions of which a tracked follower holds some of the window's rows by
    ``now`` (the hand-back keeps those rows one by one, so that its log end and part of
    a row fall on the log's rows)."""
    out: set[int] = set()
    for key, (track, (_a, _r, q, _c)) in tracked.items():
        ses = w.sessions[key]
        k_done = int(np.searchsorted(q, now, side="right"))
        for i in range(len(ses.pids)):
            if track.held_after(i, float(ses.held[i]), np.array([k_done - 1]))[0] > 0:
                out.add(int(ses.pids[i]))
    return out


def tracked_followers(w: Wiring, tracked: Tracked) -> frozenset[tuple[int, int]]:
    """The (partition, follower) of the pairs the kernel took item by item."""
    return frozenset((int(pid), int(r)) for key in tracked
                     for pid, r in zip(w.sessions[key].pids.tolist(),
                                       w.sessions[key].follower.tolist(), strict=True))


def hand_back_tracked(c: KafkaCluster, w: Wiring, tracked: Tracked,
                      hw_at: Callable[[int, float], int], since: float, now: float,
                      joins: Sequence[Join] = ()) -> int:
    """Each follower of a pair the kernel took item by item as it left it at ``now``
    (the rows of the window are in the log after its log end then, ``Session.end_bytes``;
    ``hw_at``: a partition's HW at a time of the window): the rows of the responses that
    arrived by then (a response in flight is the event engine's to fetch again), the
    last request's view at the leader, the HW its last response carried, the pair's
    session order; the partition's HW from the leader's view of its ISR so set; and the
    data bytes of those responses (to followers catching up, those that arrived after
    ``since``, the kernel's computation: until then their fetch loops moved and billed
    what the kernel moved again).

    ``joins``: the kernel's returns to the ISRs. One whose request reached the leader
    by ``now``, of a follower the event engine left as the kernel had it (its
    partition's epoch, its broker, out of the ISR, no AlterPartition of the engine's
    in flight), is made: in the ISR from its commit's completion if that came by then
    (caught up then, or as Kafka's rule had it at its last request), else pending
    (the maximal ISR's) and completing later through the event engine
    (``Replication.isr_committed``); its commit and the commit's bytes count.
    Returns how many joined by ``now``."""
    replication = c.replication
    floor: dict[int, int] = {}  # per partition set: the HW at the window's start
    mine = {(jn.pid, jn.follower): jn for jn in joins if jn.asked < now}
    made = 0
    commits: dict[tuple[tuple[str, str], int], list] = {}
    for key, (track, (a, r_out, q, _c)) in tracked.items():
        ses = w.sessions[key]
        pair = replication.pairs.get(key)
        k_done = int(np.searchsorted(q, now, side="right"))
        k_asked = int(np.searchsorted(a, now, side="right"))
        k_since = int(np.searchsorted(q, since, side="right"))
        moved = float(track.replayed_bytes[k_since:k_done].sum()
                      + track.other_bytes[:k_done].sum())
        if moved:
            c.net.count(key[0], key[1], "replicate", int(round(moved)))
        if pair is None:
            continue
        same = all(j < len(pair.items) and pair.items[j][0].id == pid
                   and pair.items[j][1] == r for j, pid, r in
                   zip(ses.index.tolist(), ses.pids.tolist(), ses.follower.tolist(),
                       strict=True))
        for i in range(len(ses.pids)):
            j = int(ses.index[i])
            if same:
                pair.served[j] = track.stamp_after(i, float(ses.stamps[i]), k_done - 1)
            p = c.parts[int(ses.pids[i])]
            r = int(ses.follower[i])
            in_isr = r in p.isr
            if p.epoch != int(ses.epoch[i]) or not c.brokers[r].alive \
                    or in_isr != bool(ses.in_isr[i]):
                # a leader change, a stop or an ISR change since (a fetch sent before
                # the window parked its loop): the event engine's state
                continue
            base = float(ses.end_bytes[i])
            held = track.held_after(i, float(ses.held[i]), np.array([k_done - 1, k_asked - 2]))
            leo = p.offset_within(int(round(base + held[0])))
            part = int(round(base + held[0])) - p.bytes_at(leo)
            if in_isr and leo < p.leo[r]:
                continue  # (never so: an ISR follower held the log end at the start)
            p.leo[r] = leo
            if part > 0:
                if p.partial is None:
                    p.partial = {}
                p.partial[r] = (leo, p.epoch, part)
            elif p.partial:
                p.partial.pop(r, None)
            floor.setdefault(p.id, int(ses.end[i]))
            if k_done:  # the HW the last response that arrived carried, within its LEO
                p.follower_hw[r] = min(leo, max(p.follower_hw[r],
                                                hw_at(p.id, float(r_out[k_done - 1]))))
            elif p.follower_hw[r] > leo:
                p.follower_hw[r] = leo
            if k_asked:
                t = float(a[k_asked - 1])
                p.view[r] = p.offset_within(int(round(base + held[1])))
                p.last_fetch_time[r] = t
                p.last_fetch_leo[r] = max(int(ses.end[i]), p.offset_flushed_before(t))
            if in_isr:  # as Kafka's rule had it at its last request
                p.caught_up[r] = float(track.caught[k_asked - 1, i]) if k_asked else now
            back = mine.get((p.id, r))
            if back is None or in_isr or p.altering == p.epoch:
                continue
            made_by = commits.setdefault((back.key, back.k), [back.at, 0, []])
            made_by[1] += 1
            if back.at <= now:
                p.join_isr(r, max(back.at, float(track.caught[k_asked - 1, i])
                                  if k_asked else back.at))
                c.counters_["isr_expansions"] += 1
                c.emit_state(p, "isr expand", at=back.at)
                made += 1
            else:
                made_by[2].append((p, r, p.epoch))
        if same:
            pair.responses = ses.responses + k_done
    _committed(c, w, commits, now)
    for pid in floor:
        # the HW as the leader's view of its ISR now has it (the followers of other
        # pairs hold the log: replicated), so that it moves on with their next fetches
        p = c.parts[pid]
        p.hw = max(floor[pid], min(p.log_end, p.hw_candidate(p.min_isr)))
    return made


def _committed(c: KafkaCluster, w: Wiring,
               commits: Mapping[tuple[tuple[str, str], int], list], now: float) -> None:
    """The kernel's AlterPartition commits a hand-back makes (per fetch request: when
    it completes, how many partitions it carries, and those still pending then as
    (partition, follower, epoch)): counted and their bytes billed as
    ``MetadataStore.commit`` does (the leader's round trip to the quorum's leader, its
    round trips to the voters it reaches); those pending complete through the event
    engine."""
    q = w.quorum
    replication = c.replication
    count = c.net.count
    for ((lz, _fz), _k), (at, n, batch) in commits.items():
        assert q is not None  # (joins are made only with a quorum)
        c.metadata.counters["metadata_commits"] += 1
        size = CONTROLLER_RECORD_BYTES * n
        count(lz, q.leader, "metadata", size)
        count(q.leader, lz, "metadata", q.envelope)
        for f in q.followers:
            count(q.leader, f, "metadata", size)
            count(f, q.leader, "metadata", q.envelope)
        if batch:
            replication.altering += 1
            for p, r, epoch in batch:
                p.altering, p.joining = epoch, r
            call_later(c.env, at - now, replication.isr_committed, batch, True, True)


__all__ = ["Join", "behind_as_of", "committed_by", "hand_back_tracked", "isr_joins",
           "tracked_followers", "tracked_inside"]
