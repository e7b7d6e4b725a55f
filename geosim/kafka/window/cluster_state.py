"""What the window run modes read and write of a Kafka cluster around a window: whether
its brokers and replicas are steady (:func:`replicas_not_quiet`), whether every fold
takes the bulk events (:func:`without_bulk_form`), whether the rows in flight at a
hand-over have completed (:func:`drained`; :func:`drain` waits for them), when a window
beside a catch-up must end (:func:`pass_due`), and the
replicas' state and consumer zones' views a hand-back writes (:func:`replicated`,
:func:`unseen`, :func:`show_window`).
Shared by :mod:`geosim.kafka.window.mode` and :mod:`geosim.kafka.window.flow_mode`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from simpy import Environment

    from geosim.core.events import Recorder, Row
    from geosim.kafka.cluster import KafkaCluster
    from geosim.kafka.window.wiring import Session


def replicas_not_quiet(c: KafkaCluster, *, dead: bool = False,
                       sent_to: frozenset[int] | None = None,
                       behind: bool = False) -> str | None:
    """Why ``c``'s brokers and replicas are not in a steady state, if so: a broker down
    or fenced, an ISR change waiting for the metadata quorum, a partition without a
    leader or with a sync replica out of its ISR.

    ``dead``: brokers that are down are part of a steady state once the cluster took
    them out of the data path (a zone or region outage): they lead nothing and are in
    no ISR. A live broker's replica out of its ISR is catching up, a dead one in an
    ISR holds back its high watermark, and a fenced broker is on its way out or back:
    none of these is steady.

    ``sent_to``: the partitions the producers send to now (None: every one); a log
    growing back over offsets a truncation took back is not steady while they do (the
    producers' next rows reissue acknowledged offsets, a contradiction the consistency
    check counts per row, which the rows standing for a window would merge).

    ``behind``: a live, unfenced sync replica out of its ISR (catching up) is part of a
    steady state too, its pair taken item by item
    (:mod:`geosim.kafka.window.catchup`)."""
    brokers = c.brokers
    for b in brokers:
        if b.destroyed:
            continue
        if b.fenced and b.alive or not (b.alive or dead):
            return f"a broker of {c.name} is down or fenced"
    if c.replication.altering and not c.metadata.available():
        # (a hand-over's drain waits for the AlterPartitions in flight)
        return f"an AlterPartition of {c.name} waits for the metadata quorum"
    now = c.env.now
    down = c.net.is_down
    for (lz, fz), pair in c.replication.pairs.items():
        # (a pair to or from a zone that is down fetches nothing in a window either)
        if pair.backoff_until > now and not (down(lz) or down(fz)) \
                and any(brokers[r].alive for _p, r in pair.items):
            return (f"the fetches of {c.name} from {lz} to {fz} wait out "
                    "replica.socket.timeout.ms after a lost request")
    for p in c.parts:
        if p.leader is None or not brokers[p.leader].alive:
            return f"a partition of {c.name} has no live leader: {p.id} first"
        if p.log_end < p.reissued_to and (sent_to is None or p.id in sent_to):
            return f"a partition of {c.name} reissues truncated offsets: {p.id} first"
        for r in p.replicas:
            if r in p.isr:
                if not brokers[r].alive:
                    return f"an ISR of {c.name} holds a replica that is down: {p.id} first"
            elif not (behind and brokers[r].alive) and (brokers[r].alive or not dead):
                return f"a partition of {c.name} is under-replicated: {p.id} first"
    return None


def without_bulk_form(recorder: Recorder, kinds: tuple[tuple[type, type], ...]) -> str | None:
    """Why a window cannot run if a subscriber of a per-row event of ``kinds`` (per-row
    event, its bulk form) does not also take the bulk form, naming it; else None."""
    for kind, bulk in kinds:
        owners = {id(getattr(cb, "__self__", cb)) for cb in recorder.subscribers(bulk)}
        for cb in recorder.subscribers(kind):
            if id(getattr(cb, "__self__", cb)) not in owners:
                name = getattr(cb, "__qualname__", repr(cb))
                return f"{name} reads every row and has no bulk form"
    return None


def live_fleets(c: KafkaCluster) -> list:
    """``c``'s producer fleets that are up (a window hands out their records; one down
    with its zone offers nothing until it restarts, which ends the window)."""
    return [f for f in c.producing if f.alive]


def drained(c: KafkaCluster) -> bool:
    """Whether every row sent to ``c`` is appended, replicated, committed, answered and
    seen by the zones that read it (a sync replica out of its ISR, catching up, holds
    what it holds: the kernel takes it from there), and no ISR change is in flight."""
    if c.replication.altering:
        return False
    for fleet in c.producing:
        # rows stranded in a zone that is down stay in flight past any window: they end
        # at the request timeout or when the zone is back, either of which ends it
        if fleet.outstanding and fleet.outstanding > c.produce.stranded(fleet.id):
            return False
    brokers = c.brokers
    visible = c.reads.visible
    zones = c.reads.consumer_zones
    for p in c.parts:
        end = p.log_end
        if p.pending or p.hw != end:
            return False
        for r in p.all_replicas:
            if r != p.leader and brokers[r].alive \
                    and (p.leo[r] != end or p.follower_hw[r] != end) \
                    and (r in p.isr or r not in p.replicas):
                return False
        for zone in zones:
            if visible[zone][p.id] != end and c.reads.readers(p.id, zone):
                return False
    return True


def pass_due(c: KafkaCluster, sessions: Mapping[tuple[str, str], Session]) -> float:
    """When the controller's pending preferred-leader pass runs, if the fetch pairs'
    ``sessions`` have followers catching up (a window must end before it: the pass
    reads the ISRs, which the kernel's returns to them change); else inf."""
    due = c.controller.balancer.due
    if due is None or not any(ses.behind.any() for ses in sessions.values()):
        return math.inf
    return due


#: How often a hand-over looks whether its rows in flight completed (s).
DRAIN_STEP = 0.01


def drain(env: Environment, limit: float, done: Callable[[], bool],
          held: Sequence[tuple[KafkaCluster, frozenset[str]]]):
    """A hand-over's wait, a generator: until every row sent before it completed
    (``done``, such as :func:`drained`; returns True) or ``limit`` seconds passed
    (False). Meanwhile the long polls of the follower fetches from the leader zones
    ``held`` names, per cluster (where the producers, or a mirror flow, append), end
    every ``DRAIN_STEP``: the appends the hand-over holds back would have ended them,
    and the followers' next responses bring them the HW of the rows in flight.
    Without this each drain waited out ``replica.fetch.wait.max.ms`` for the HW to
    reach the followers, and the rows in flight reached the zones that read from
    followers that much late."""
    began = env.now
    while not done():
        if env.now - began > limit:
            return False
        for c, zones in held:
            c.replication.end_polls(zones)
        yield env.timeout(DRAIN_STEP)
    return True


def replicated(c: KafkaCluster, now: float,
               tracked: frozenset[tuple[int, int]] = frozenset()) -> None:
    """Every live replica of ``c`` holds its log, the HW passes it, and the fetch loops
    run again (a hand-back: the window's rows are committed everywhere), but the
    (partition, replica) ``tracked``, which the kernel took item by item
    (:func:`~geosim.kafka.window.catchup.hand_back_tracked` sets them)."""
    brokers = c.brokers
    replication = c.replication
    replication.disturb()  # quiet fetch items' times written before the ones below
    for p in c.parts:
        end = p.log_end
        p.hw = end
        for r in p.all_replicas:
            if r != p.leader and brokers[r].alive and not brokers[r].destroyed \
                    and (p.id, r) not in tracked:
                p.leo[r] = end
                p.follower_hw[r] = end
                p.caught_up[r] = now
                p.last_fetch_time[r] = now
                p.last_fetch_leo[r] = end
                p.view[r] = end
    replication.unpark()


def unseen(reads: Mapping[tuple[int, str], object], partition: np.ndarray,
           deliveries: Mapping[str, tuple[np.ndarray, ...]], now: float) -> np.ndarray:
    """Per kernel row (of ``partition``), whether a zone that reads its partition
    (``reads``: the wiring's keys) sees it only after ``now``, or not within the
    kernel's tail (``deliveries``: the kernel's per-zone delivery times and rows)."""
    zones_reading = np.bincount(np.array([pid for pid, _zone in reads], dtype=np.int64),
                                minlength=int(partition.max(initial=-1)) + 1)
    seen = np.zeros(len(partition), dtype=np.int64)
    for arrays in deliveries.values():
        at, idx = arrays[0], arrays[5]
        seen[idx[at <= now]] += 1  # one entry per row and zone
    return seen < zones_reading[partition]


def show_window(c: KafkaCluster, reads: Mapping[tuple[int, str], object],
                deliveries: Mapping[str, tuple[np.ndarray, ...]], n_rows: int,
                singles: np.ndarray, rows: Sequence[Row], touched: Sequence[int],
                now: float) -> None:
    """The consumer zones' views of the partitions a hand-back ``touched``: a zone that
    reads a partition sees its log up to the first row it sees only after ``now`` by
    the kernel (``singles``: the indices among its ``n_rows`` of the rows kept one by one;
    ``rows``: the log's rows for them), and each such row at the kernel's time through
    the read path (:meth:`~geosim.kafka.reads.ReadPath.visible_after`), so a group's
    position, and a commit just after the hand-back, trail the log as in events. A row
    the kernel does not deliver there within its tail waits for the partition's next
    advance, which counts its bytes (the kernel counted the rest). Other zones see the
    whole log at once."""
    rp = c.reads
    parts = c.parts
    hold: dict[tuple[int, str], int] = {}
    unbilled: dict[tuple[int, str], int] = {}
    if len(singles):
        zones_of: dict[int, list[str]] = {}
        for pid, zone in reads:
            zones_of.setdefault(pid, []).append(zone)
        single = np.zeros(n_rows, dtype=bool)
        single[singles] = True
        at_in: dict[str, dict[int, float]] = {}
        for zone, arrays in deliveries.items():
            at, idx = arrays[0], arrays[5]
            sel = np.flatnonzero(single[idx])
            at_in[zone] = dict(zip(idx[sel].tolist(), at[sel].tolist(), strict=True))
        for i, row in zip(singles.tolist(), rows, strict=True):
            pid = row.partition
            for zone in zones_of.get(pid, ()):
                t = at_in.get(zone, {}).get(i, math.inf)
                if t <= now:
                    continue
                hold.setdefault((pid, zone), row.offset)
                if t < math.inf:
                    rp.visible_after(parts[pid], zone, row.offset + row.records, t - now)
                else:
                    unbilled.setdefault((pid, zone), row.offset)
    for zone in rp.consumer_zones:
        view, sent = rp.visible[zone], rp.sent[zone]
        for pid in touched:
            end = parts[pid].log_end
            view[pid] = hold.get((pid, zone), end)
            sent[pid] = unbilled.get((pid, zone), end)


__all__ = ["DRAIN_STEP", "drain", "drained", "live_fleets", "pass_due", "replicas_not_quiet",
           "replicated", "show_window", "unseen", "without_bulk_form"]
