"""A window of a replication flow between two Kafka clusters, computed as arrays.

The flow (MirrorMaker 2's task in the target region, a cluster link's destination
brokers: :class:`geosim.kafka.mirror_flow.MirrorFlow`) and the target cluster's data
path, over the rows a window of the source cluster appended and committed
(:func:`~geosim.kafka.window.kernel.run_window`), by the event engine's rules:

1. **Fetch cycles**, one Python step per cycle: the request's trip to each source
   leader zone, the slowest deciding; at the leaders, each partition's committed rows
   from the flow's position, within its share of ``fetch.max.bytes`` x the zone's
   connections (at least one row); if there are none anywhere, a wait for the next
   append in those zones or ``fetch.max.wait.ms``, and what is committed by then; the
   responses' trips (their bytes through the TCP windows), the slowest deciding. The
   next request leaves when the responses are in.
2. **Copies.** With the responses the copies leave for the target's leaders, one
   request per target leader zone, and are appended there (at the log end, or at the
   source's offsets for a mirror topic).
3. **The target's replication** over the copies
   (:func:`~geosim.kafka.window.kernel.replicate`). The target answers the flow's
   producer at a copy's commit (the event engine hands the answer to the flow at once),
   and the flow's acknowledged position moves in upstream order: a copy counts as
   copied once it and every copy before it in its partition is committed.

:meth:`FlowWiring.of` refuses (:class:`WindowRefused`) what this does not model: a
flow stopped, down or halted on a partition, a flow that filters what it copies
(Replicator's provenance filter), a target with producers or consumers of its own
(their rows and the copies would share the target's fetch cycles), and a target
partition under ``min.insync.replicas`` (the copies would be refused).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from geosim.kafka.mirror_flow import MirrorFlow
from geosim.kafka.window.kernel import WindowResult, replicate
from geosim.kafka.window.wiring import Draws, WindowRefused, Wiring
from geosim.kafka.wire import FETCH_PARTITION_BYTES, FETCH_REQUEST_BYTES
from geosim.world.network import window_delay

if TYPE_CHECKING:
    from geosim.core.distributions import Distribution


@dataclass
class FlowWiring:
    """What a window needs of a running flow and its target (read once, at its
    start)."""

    name: str
    zone: str                          # the fetcher's zone
    base: int                          # the copies' first partition in the target
    offset_preserving: bool
    wait_max: float                    # fetch.max.wait.ms
    fetch_max_bytes: int
    connections: dict[str, int]        # per source leader zone: tasks x live brokers
    mirrored: list[int]                # the source partitions the flow copies
    source_zone: list[str]             # per source partition: its leader's zone
    target: Wiring
    window: int | None                 # the TCP window (topology.tcp_window)
    rtt: dict[tuple[str, str], Distribution]
    median_rtt: dict[tuple[str, str], float]

    @classmethod
    def of(cls, flow: MirrorFlow, source: Wiring) -> FlowWiring:
        """The wiring of ``flow`` now; ``source``: its source cluster's."""
        if flow.stopped or not flow.alive:
            raise WindowRefused(f"flow {flow.name} is stopped or its worker is down")
        if flow.halted:
            raise WindowRefused(f"flow {flow.name} stopped mirroring a partition")
        kind = type(flow)
        if kind.copies is not MirrorFlow.copies or kind.running is not MirrorFlow.running:
            raise WindowRefused(f"flow {flow.name} filters what it copies "
                                f"({kind.__name__})")
        target = Wiring.of(flow.target, alone=False)
        # read before the hand-over's drain: a target response past its budget, or past
        # one connection's budget of a partition, refuses the window rather than start
        # from followers still behind by the rows in flight
        target.sessions = {}
        if target.targets or target.reads:
            raise WindowRefused(f"the target of flow {flow.name} has clients of its own")
        for i in flow.mirrored:
            t = flow.base + i
            if len(target.isr_zones[t]) + 1 < target.min_isr[t]:
                raise WindowRefused(f"partition {t} of the target of flow {flow.name} is "
                                    "under min.insync.replicas")
        zones = sorted({source.leader_zone[i] for i in flow.mirrored})
        cfg = flow.cfg
        return cls(flow.name, flow.zone, flow.base, cfg.offset_preserving,
                   cfg.fetch_max_wait, cfg.fetch_max_bytes,
                   {z: flow.connections(z) for z in zones}, list(flow.mirrored),
                   list(source.leader_zone), target, source.window, source.rtt,
                   source.median_rtt)


@dataclass
class MirrorResult:
    """What a flow did with a source window's rows (indexed as its ``row_*``
    arrays; inf: not within the window's tail, or not mirrored)."""

    cycles: int = 0
    target_fetch_requests: int = 0
    responses: np.ndarray | None = None  # per fetch cycle: when its responses are in
    fetched: np.ndarray | None = None    # the response that carried it arrived
    appended: np.ndarray | None = None   # its copy reached the target's leader
    committed: np.ndarray | None = None  # its copy's commit in the target
    copied: np.ndarray | None = None     # the flow's acknowledged position passed it
    bytes: dict[tuple[str, str, str], float] = field(default_factory=dict)


def run_mirror(fw: FlowWiring, source: WindowResult, t0: float, t_end: float, *,
               seed: int = 0) -> MirrorResult:
    """The flow and its target from ``t0`` (the flow's positions at the source's log
    end, nothing in flight) to ``t_end``, over ``source``'s rows."""
    assert source.row_partition is not None and source.row_commit is not None
    assert source.row_arrival is not None and source.row_bytes is not None
    draws = Draws(fw.rtt, seed)
    out = MirrorResult()
    count: dict[tuple[str, str, str], float] = {}

    def bill(src: str, dst: str, purpose: str, size: float) -> None:
        key = (src, dst, purpose)
        count[key] = count.get(key, 0.0) + size

    partition, commit = source.row_partition, source.row_commit
    arrival, row_bytes = source.row_arrival, source.row_bytes
    n = len(partition)
    fetched = np.full(n, np.inf)
    # per mirrored partition: its rows (append = offset order), their commit times
    # (the high watermark passes them in order), cumulative bytes, the position
    rows_of = {i: np.flatnonzero(partition == i) for i in fw.mirrored}
    commits = {i: np.maximum.accumulate(commit[r]).tolist() if len(r) else []
               for i, r in rows_of.items()}
    cum = {i: np.concatenate(([0.0], np.cumsum(row_bytes[r]))).tolist()
           for i, r in rows_of.items()}
    pos = dict.fromkeys(fw.mirrored, 0)
    zones = sorted(fw.connections)
    items = {z: [i for i in fw.mirrored if fw.source_zone[i] == z] for z in zones}
    share = {z: max(fw.fetch_max_bytes * fw.connections[z] // max(len(items[z]), 1), 1)
             for z in zones}
    zone_of_row = np.array(fw.source_zone)[partition] if n else np.array([], dtype=str)
    appends = {z: np.sort(arrival[zone_of_row == z]).tolist() for z in zones}
    median = {z: fw.median_rtt[(z, fw.zone)] for z in zones}
    target_zone = fw.target.leader_zone

    def collect(t: float) -> dict[int, int]:
        """Per partition with committed rows at ``t``: the index its fetch ends at."""
        got = {}
        for z in zones:
            budget = share[z]
            for i in items[z]:
                p = pos[i]
                ready = bisect_right(commits[i], t)
                if ready <= p:
                    continue
                c = cum[i]
                end = bisect_right(c, c[p] + budget) - 1
                got[i] = min(max(end, p + 1), ready)
        return got

    s = t0
    block = 64
    up = {z: draws.one_way(fw.zone, z, block).tolist() for z in zones}
    down = {z: draws.one_way(z, fw.zone, block).tolist() for z in zones}
    k = 0
    request = {z: FETCH_REQUEST_BYTES + FETCH_PARTITION_BYTES * len(items[z]) for z in zones}
    copies_at: list[tuple[float, list[int]]] = []   # (departure, source row indices)
    responses: list[float] = []
    while s < t_end and zones:
        if k >= len(up[zones[0]]):
            for z in zones:
                up[z].extend(draws.one_way(fw.zone, z, block).tolist())
                down[z].extend(draws.one_way(z, fw.zone, block).tolist())
        a = s + max(up[z][k] for z in zones)
        got = collect(a)
        r = a
        if not got:
            nxt = min((ap[j] for ap in appends.values()
                       if (j := bisect_right(ap, a)) < len(ap)), default=np.inf)
            r = min(nxt, a + fw.wait_max)
            got = collect(r)
        q = r
        for z in zones:
            size = sum(cum[i][got[i]] - cum[i][pos[i]] for i in items[z] if i in got)
            d = down[z][k]
            if fw.window and size > fw.window * fw.connections[z]:
                d += window_delay(size, fw.window * fw.connections[z], median[z], None)
            q = max(q, r + d)
            bill(fw.zone, z, "mirror", request[z])
            bill(z, fw.zone, "mirror", size + FETCH_REQUEST_BYTES)
        if got:
            taken: list[int] = []
            for i, end in got.items():
                taken.extend(rows_of[i][pos[i]:end].tolist())
                pos[i] = end
            copies_at.append((q, taken))
        responses.append(q)
        s = q
        k += 1
    out.cycles = k
    out.responses = np.array(responses)
    # ---- 2. copies to the target's leaders, one request per target leader zone -------
    t_rows: list[np.ndarray] = []
    t_arrival: list[np.ndarray] = []
    for q, taken in copies_at:
        idx = np.array(taken, dtype=np.int64)
        fetched[idx] = q
        tz = np.array([target_zone[fw.base + int(partition[j])] for j in taken])
        for z in sorted(set(tz.tolist())):
            sel = idx[tz == z]
            d = float(draws.one_way(fw.zone, z, 1)[0])
            bill(fw.zone, z, "mirror", float(row_bytes[sel].sum()))
            t_rows.append(sel)
            t_arrival.append(np.full(len(sel), q + d))
    out.fetched = fetched
    appended = np.full(n, np.inf)
    committed = np.full(n, np.inf)
    copied = np.full(n, np.inf)
    if t_rows:
        src = np.concatenate(t_rows)
        at = np.concatenate(t_arrival)
        appended[src] = at
        tp = fw.base + partition[src]
        order = np.lexsort((tp, at))        # the target appends in arrival order
        src, at, tp = src[order], at[order], tp[order]
        # ---- 3. the target's replication and commits -----------------------------------
        t_commit, t_cycles = replicate(fw.target, draws, tp, at, row_bytes[src].astype(float),
                                       t0, t_end, bill)
        out.target_fetch_requests = sum(len(c[0]) for c in t_cycles.values())
        committed[src] = t_commit
        # the flow's acknowledged position: in upstream order per partition
        for rows in rows_of.values():
            if len(rows):
                copied[rows] = np.maximum.accumulate(committed[rows])
    out.appended, out.committed, out.copied = appended, committed, copied
    out.bytes = count
    return out


__all__ = ["FlowWiring", "MirrorResult", "run_mirror"]
