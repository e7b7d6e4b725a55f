"""Stage 6 of a window: the consumer zones' reads and deliveries.

A consumer zone reads each partition from its serving replica (fetch-from-follower: the
replica in its rack, else the leader). The leader serves up to the high watermark, a
follower up to the high watermark its last fetch response carried, in offset order.
Each change of a replica's readable offset reaches each zone it serves, where a group's
owner reads, a one-way delay later; a row is delivered when the first message covering
it arrives. Every (partition, zone) is read at once: one entry per row and zone, in key
then append order; a zone's messages are the distinct readable times of its key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from geosim.kafka.window.order import groups_by_key, stable_int_order
from geosim.kafka.window.wiring import Draws, Wiring
from geosim.metrics.histogram import LatencyHistogram


def deliver(w: Wiring, draws: Draws, col: dict[str, np.ndarray], commit: np.ndarray,
            cycles: Mapping[tuple[str, str], tuple[np.ndarray, ...]], measured: np.ndarray,
            size_of: np.ndarray, bill: Callable[[str, str, str, float], None],
            end_to_end: LatencyHistogram | None,
            switches: Mapping[tuple[int, str], tuple[float, str]] | None = None,
            carried_to: np.ndarray | None = None,
            ) -> tuple[int, dict[str, tuple[np.ndarray, ...]]]:
    """The deliveries of the rows ``col`` (committed at ``commit``; the fetch pairs'
    ``cycles`` as :func:`~geosim.kafka.window.cycles.fetch_cycles` returns them): the
    measured rows' records delivered, summed over the groups, and per consumer zone
    their delivery times, send windows, records and uncompressed bytes (each times the
    groups reading there) and row indices. Their latencies go to ``end_to_end`` if
    given, the consume bytes through ``bill``.

    ``switches``: the reads a follower's return to its ISR moves to it, (partition,
    zone) -> (when, the follower's zone), with per row the cycle of its pair that
    carried it to the follower (``carried_to``, -1: none). The replica read before
    sends the zone the changes of its readable offset made before then, the follower
    those made after (the first covering what it held then); a row is delivered by
    the first message covering it from either, and its bytes count on the link of the
    first that sent one."""
    deliveries: dict[str, tuple[np.ndarray, ...]] = {}
    keys = list(w.reads.items())
    if not keys:
        return 0, deliveries
    n_base = len(keys)
    twin: list[int] = []  # per key past n_base: the key whose reads it takes over
    switch_at: list[float] = []
    if switches:
        position = {k: i for i, (k, _v) in enumerate(keys)}
        for key, (t, fz) in sorted(switches.items()):
            i = position[key]
            keys.append((key, (fz, keys[i][1][1])))
            twin.append(i)
            switch_at.append(t)
    partition = col["partition"]
    rec_bytes = col["bytes"]
    n_parts = len(w.leader_zone)
    zone_names = sorted({zone for (_pid, zone), _v in keys})
    zone_id = {z: i for i, z in enumerate(zone_names)}
    key_pid = np.array([pid for (pid, _z), _v in keys], dtype=np.int64)
    key_zone = np.array([zone_id[z] for (_p, z), _v in keys], dtype=np.int64)
    key_owners = np.array([owners for _k, (_s, owners) in keys], dtype=np.int64)
    key_src = [w.leader_zone[pid] if serving is None else serving
               for (pid, _z), (serving, _o) in keys]
    pair_names = sorted({(w.leader_zone[pid], serving)
                         for (pid, _z), (serving, _o) in keys if serving is not None})
    pair_id = {pr: i for i, pr in enumerate(pair_names)}
    key_pair = np.array([-1 if serving is None else pair_id[(w.leader_zone[pid], serving)]
                         for (pid, _z), (serving, _o) in keys], dtype=np.int64)
    by_partition = stable_int_order(partition)
    bounds = np.searchsorted(partition[by_partition], np.arange(n_parts + 1))
    starts = bounds[key_pid]
    counts = bounds[key_pid + 1] - starts
    key_of = np.repeat(np.arange(len(keys)), counts)
    offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    rows_e = by_partition[np.repeat(starts, counts) + offsets]
    readable = commit[rows_e].copy()   # served by the leader: readable at the commit
    entry_pair = key_pair[key_of]
    for i, (lz, serving) in enumerate(pair_names):
        sel = np.flatnonzero(entry_pair == i)
        if not len(sel):
            continue
        _a, r_l, q_l, _c = cycles[(lz, serving)]
        k = np.searchsorted(r_l, readable[sel], side="left")
        if twin:
            # a joined follower serves a row once it holds it too (it may have got the
            # rows committed while its return was being committed later)
            late = key_of[sel] >= n_base
            assert carried_to is not None
            held = carried_to[rows_e[sel[late]]]
            k[late] = np.where(held < 0, len(q_l), np.maximum(k[late], held))
        got = np.full(len(sel), np.inf)
        fine = k < len(q_l)
        got[fine] = q_l[k[fine]]
        readable[sel] = got
    # a replica serves in offset order (the commit times already are)
    _segments(np.maximum, readable, counts)
    if twin:
        _switch(readable, counts, key_of, n_base, twin, switch_at)
    ef = np.flatnonzero(np.isfinite(readable))
    kf, rf = key_of[ef], readable[ef]
    new = np.r_[True, (kf[1:] != kf[:-1]) | (rf[1:] != rf[:-1])]
    msg = np.cumsum(new) - 1
    m_key, m_time = kf[new], rf[new]
    links = sorted({(key_src[k], zone_names[key_zone[k]]) for k in np.unique(m_key).tolist()})
    link_id = {lk: i for i, lk in enumerate(links)}
    key_link = np.array([link_id.get((key_src[k], zone_names[key_zone[k]]), -1)
                         for k in range(len(keys))], dtype=np.int64)
    arrive = m_time.copy()
    by_link, bounds = groups_by_key(m_key, key_link, len(links))
    for i, (src, dst) in enumerate(links):
        sel = by_link[bounds[i]:bounds[i + 1]]
        arrive[sel] += draws.one_way(src, dst, len(sel))
    # a row is seen when the first message covering it (its own or a later one) arrives
    seen = arrive[::-1].copy()
    _segments(np.minimum, seen, np.bincount(m_key, minlength=len(keys))[::-1])
    seen = seen[::-1]
    delivered_e = seen[msg]
    rows_f = rows_e[ef]
    k_bill, rows_bill = kf, rows_f
    if twin:
        # one entry per row and zone: delivered by the replica whose message came
        # first, billed to the one that sent it first (the replica read before, if
        # it did: the read path's sent offsets)
        first, billed = _twins(kf, rows_f, delivered_e, n_base, twin, len(keys))
        k_bill, rows_bill = kf[billed], rows_f[billed]
        kf, rows_f, delivered_e = kf[first], rows_f[first], delivered_e[first]
    owners_f = key_owners[kf]
    moved = rec_bytes[rows_bill] * key_owners[k_bill]
    by_link, bounds = groups_by_key(k_bill, key_link, len(links))
    for i, (src, dst) in enumerate(links):
        bill(src, dst, "consume", float(moved[by_link[bounds[i]:bounds[i + 1]]].sum()))
    keep = measured[rows_f]
    recs_f = col["records"][rows_f] * owners_f
    delivered = int(recs_f[keep].sum())
    by_zone, bounds = groups_by_key(kf, key_zone, len(zone_names))
    for z, zone in enumerate(zone_names):
        sel = by_zone[bounds[z]:bounds[z + 1]]
        sel = sel[keep[sel]]
        if len(sel):
            r_sel = rows_f[sel]
            deliveries[zone] = (delivered_e[sel], col["first"][r_sel],
                                    col["last"][r_sel], recs_f[sel],
                                    recs_f[sel] * size_of[r_sel], r_sel)
    if end_to_end is not None and keep.any():
        r_k = rows_f[keep]
        end_to_end.add_uniform_many(delivered_e[keep] - col["last"][r_k],
                                    delivered_e[keep] - col["first"][r_k], recs_f[keep])
    return delivered, deliveries


def _switch(readable: np.ndarray, counts: np.ndarray, key_of: np.ndarray, n_base: int,
            twin: list[int], switch_at: list[float]) -> None:
    """Readable times as the zones of switched reads hear of them (in place): the
    replica read before tells them of its changes before the switch only, the
    follower of its changes from then on; a row it held before is covered by its
    first message after."""
    old_at = np.full(len(counts), np.inf)
    old_at[twin] = switch_at
    readable[readable >= old_at[key_of]] = np.inf
    ends = np.cumsum(counts)
    for j, t in enumerate(switch_at):
        lo, hi = int(ends[n_base + j] - counts[n_base + j]), int(ends[n_base + j])
        seg = readable[lo:hi]  # non-decreasing
        m = int(np.searchsorted(seg, t, side="left"))
        if m:
            seg[:m] = seg[m] if m < len(seg) else np.inf


def _twins(kf: np.ndarray, rows_f: np.ndarray, delivered: np.ndarray, n_base: int,
           twin: list[int], n_keys: int) -> tuple[np.ndarray, np.ndarray]:
    """Where a switched read has two entries for a row: which to keep for its
    delivery (the earlier) and which for its bytes (the replica read before, whose
    entry exists only if it sent the row before the switch)."""
    base = np.arange(n_keys)
    base[n_base:] = twin
    switched = np.zeros(n_keys, dtype=bool)
    switched[twin] = True
    switched[n_base:] = True
    cand = np.flatnonzero(switched[kf])
    out = []
    for by in (delivered[cand], kf[cand]):
        order = cand[np.lexsort((by, rows_f[cand], base[kf[cand]]))]
        b, r = base[kf[order]], rows_f[order]
        again = np.r_[False, (b[1:] == b[:-1]) & (r[1:] == r[:-1])]
        keep = np.ones(len(kf), dtype=bool)
        keep[order[again]] = False
        out.append(keep)
    return out[0], out[1]


def _segments(ufunc: np.ufunc, values: np.ndarray, lengths: np.ndarray) -> None:
    """``ufunc``'s running accumulation (``np.maximum``: a running max) within each of
    the consecutive segments of ``values`` of the given ``lengths``, in place: one
    array operation per segment (a few thousand (partition, zone) keys a window)."""
    start = 0
    for n in lengths.tolist():
        if n > 1:
            ufunc.accumulate(values[start:start + n], out=values[start:start + n])
        start += n


__all__ = ["deliver"]
