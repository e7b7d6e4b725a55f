"""Followers out of the ISR in a window: when the first would rejoin it, and their
state at a hand-back.

A window may run while followers catch up after an outage (sync replicas out of their
ISRs, fetching a backlog through responses cut at ``replica.fetch.response.max.bytes``)
or while observers are behind: the kernel takes their pairs item by item
(:func:`~geosim.kafka.window.cycles.session_cycles`, which leaves a
:class:`~geosim.kafka.window.cycles.Track`). A follower whose fetch reaches the high
watermark rejoins its ISR (``Replication._on_fetch_request``), a change of the wiring
the kernel does not model: the window hands back before the first such fetch
(:func:`first_rejoin`). The hand-back then sets every follower of such a pair, in its
ISR or not, as the kernel left it by then (:func:`hand_back_tracked`): the rows the
responses that arrived carried (whole rows in its log end, the rest a part of a row),
the leader's view of it from its last request, its place in the fetch session, the
partition's HW from the leader's view of its ISR, and their bytes on the network.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from geosim.kafka.window.order import groups

if TYPE_CHECKING:
    from geosim.kafka.cluster import KafkaCluster
    from geosim.kafka.window.cycles import Track
    from geosim.kafka.window.kernel import WindowResult
    from geosim.kafka.window.wiring import Session, Wiring

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


def first_rejoin(w: Wiring, tracked: Tracked, partition: np.ndarray,
                 row_bytes: np.ndarray, commit: np.ndarray) -> float | None:
    """When the first follower out of an ISR that may join it (``Session.may_join``)
    sends a fetch whose offset reaches its partition's HW (the rows committed by then),
    as its request arrives; None if none does within the cycles. Bytes count from the
    window's log end (the HW there, the hand-over having drained the rows in flight)."""
    best = math.inf
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
            if len(reach):
                best = min(best, float(a[reach[0]]))
    return None if best == math.inf else best


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
                      hw_at: Callable[[int, float], int], since: float, now: float) -> None:
    """Each follower of a pair the kernel took item by item as it left it at ``now``
    (the rows of the window are in the log after its log end then, ``Session.end_bytes``;
    ``hw_at``: a partition's HW at a time of the window): the rows of the responses that
    arrived by then (a response in flight is the event engine's to fetch again), the
    last request's view at the leader, the HW its last response carried, the pair's
    session order; the partition's HW from the leader's view of its ISR so set; and the
    data bytes of those responses (to followers catching up, those that arrived after
    ``since``, the kernel's computation: until then their fetch loops moved and billed
    what the kernel moved again)."""
    replication = c.replication
    floor: dict[int, int] = {}  # per partition set: the HW at the window's start
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
        if same:
            pair.responses = ses.responses + k_done
    for pid in floor:
        # the HW as the leader's view of its ISR now has it (the followers of other
        # pairs hold the log: replicated), so that it moves on with their next fetches
        p = c.parts[pid]
        p.hw = max(floor[pid], min(p.log_end, p.hw_candidate(p.min_isr)))


__all__ = ["behind_as_of", "committed_by", "first_rejoin", "hand_back_tracked",
           "tracked_followers", "tracked_inside"]
