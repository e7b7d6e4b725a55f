"""One window of a Kafka cluster's steady-state data path, computed as arrays.

:func:`run_window` takes a running cluster's wiring (:class:`Wiring`: leaders, ISRs,
fetch pairs, fleets' shares and rotations, the groups' owners and the replica each
consumer zone reads from) and computes what the event engine's data path would do over
``[t0, t1)``, by the same rules (docs/architecture.md, "The window engine"):

1. **Sends.** At each send tick each fleet cuts the records its share of the offered
   load accumulated for each leader zone since its cursor, whole records only (the
   fraction waits: a running floor of the cumulative count), into rows of at most one
   producer batch (n x ``batch.size``), each for the next partition of the fleet's
   rotation; a tick's rows are one produce request (the request cap and one row per
   partition are checked; a window that needs more than one request per tick is
   refused). The request arrives half a round trip later, in order per connection.
2. **Appends.** The leaders append in arrival order; offsets follow per partition.
3. **Fetch cycles** (one Python step per cycle, per fetch pair): the request reaches the
   leader; if anything of the pair's partitions was appended beyond the follower's LEO
   the response leaves at once, else at the next append to one of them or after
   ``replica.fetch.wait.max.ms``; it carries everything appended up to then (item by
   item, skipping an item that would pass ``replica.fetch.response.max.bytes``),
   arrives half a round trip later plus the TCP windows' wait, and the next request
   leaves.
4. **High watermark.** A row is committed when every ISR follower's next request after
   the response that carried it reaches the leader (the request's fetch offset is the
   follower's LEO); a leader alone in its ISR commits at once.
5. **Acknowledgements.** Rows of one fleet and partition committed by one HW advance
   share one answer, half a round trip to the fleet's zone.
6. **Reads.** A consumer zone reads from its serving replica (fetch-from-follower: the
   replica in its rack, else the leader): the leader serves up to the HW, a follower up
   to the HW its last fetch response carried. Each change of a replica's readable
   offset reaches each zone it serves, where a group's owner reads, half a round trip
   later; a row is delivered when the first message covering it arrives.

Latencies go to record-weighted histograms in bulk (each row's records spread over its
send window, as the event engine's collector does), bytes to (source, destination,
purpose) counters as ``Network.bytes`` counts them.

Stage 1 limits, each checked rather than assumed where the window could break it:
the window starts with empty pipes (every replica holds the log end, no request is in
flight: results are meant from about one fetch wait after ``t0`` on), links have no
bandwidth limit, loss or degradation, the producers' in-flight room and buffers never
bind (checked: :class:`WindowRefused`), and nothing changes the wiring inside the
window. The draws come from the kernel's own
random streams, so the window agrees with the event engine in distribution, not draw
for draw.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from geosim.clients.send_buffer import WHOLE_RECORD_SLACK
from geosim.kafka.wire import (
    ACK_BYTES,
    FETCH_PARTITION_BYTES,
    FETCH_REQUEST_BYTES,
)
from geosim.metrics.histogram import LatencyHistogram
from geosim.world.network import window_delay

if TYPE_CHECKING:
    from geosim.core.distributions import Distribution
    from geosim.kafka.cluster import KafkaCluster


class WindowRefused(Exception):
    """The window breaks one of stage 1's conditions (the message says which)."""


# ============================================================================== wiring
@dataclass
class _Target:
    """One fleet's share of one leader zone."""

    fleet: int
    zone: str            # the fleet's zone
    leader_zone: str
    share: float
    partitions: list[int]
    next_row: int        # the rotation's next index
    cursor: float        # intended time up to which records were handed out
    cap: int             # request cap, bytes
    window: float        # in-flight window, bytes (the pipes start empty)


@dataclass
class _Fleet:
    id: int
    zone: str
    load_t: np.ndarray
    load_n: np.ndarray
    load_r: np.ndarray
    start: float
    stop: float
    batch_records: int
    accumulation: float
    message_size: int
    compression_ratio: float
    acks_all: bool       # acks=all: answered at the commit; acks=0|1 at the append

    def records(self, t: np.ndarray) -> np.ndarray:
        t = np.clip(t, self.start, self.stop)
        i = np.searchsorted(self.load_t, t, side="right") - 1
        return self.load_n[i] + self.load_r[i] * (t - self.load_t[i])

    def time_of(self, n: np.ndarray) -> np.ndarray:
        i = np.maximum(np.searchsorted(self.load_n, n, side="right") - 1, 0)
        rate = self.load_r[i]
        safe = np.where(rate > 0, rate, 1.0)
        t = np.where(rate > 0, self.load_t[i] + (n - self.load_n[i]) / safe, self.load_t[i])
        return np.minimum(t, self.stop)


@dataclass
class Wiring:
    """What a window needs of a running cluster (read once, at its start)."""

    name: str
    tick: float
    wait_max: float
    response_max_bytes: int
    window: int | None               # the TCP window (topology.tcp_window)
    leader_zone: list[str]           # per partition
    isr_zones: list[list[str]]       # per partition: its ISR followers' zones
    min_isr: list[int]
    pairs: dict[tuple[str, str], tuple[list[int], int]]  # (lz, fz): partitions, conns
    fleets: dict[int, _Fleet]
    targets: list[_Target]
    # per partition and consumer zone: (serving zone or None for the leader, owners)
    reads: dict[tuple[int, str], tuple[str | None, int]]
    rtt: dict[tuple[str, str], Distribution]  # the links' RTT distributions, by zone pair
    median_rtt: dict[tuple[str, str], float]

    @classmethod
    def of(cls, cluster: KafkaCluster) -> Wiring:
        """The wiring of ``cluster`` now (call between two events of a steady state)."""
        if getattr(cluster, "replication", None) is None:  # not one cluster's engine
            raise WindowRefused(f"{type(cluster).__name__} runs several clusters and "
                                "their flows (stage 1 takes one cluster)")
        c = cluster
        topo = c.world.topology
        net = c.net
        if net.impaired:  # a brownout or partition is under way
            raise WindowRefused("a link is degraded or cut")
        if c.scope is not None:
            raise WindowRefused(f"cluster {c.name} is one of several (cross-cluster "
                                "flows are not in stage 1)")
        if c.storage is not None:
            raise WindowRefused("shared storage moves LEOs with its WAL, not appends")
        if any(link.bandwidth or link.loss for link in
               (topo.link(a, b) for a in topo.zones() for b in topo.zones())):
            raise WindowRefused("a link has a bandwidth limit or loss")
        if net.interconnects:
            raise WindowRefused("an interconnect shares its capacity")
        parts = c.parts
        brokers = c.brokers
        leader_zone, isr_zones, min_isr = [], [], []
        for p in parts:
            if p.leader is None or not brokers[p.leader].alive:
                raise WindowRefused(f"partition {p.id} has no live leader")
            leader_zone.append(brokers[p.leader].zone)
            isr_zones.append([brokers[r].zone for r in sorted(p.isr) if r != p.leader])
            min_isr.append(p.min_isr)
        pairs: dict[tuple[str, str], tuple[list[int], int]] = {}
        for key, pair in c.replication.pairs.items():
            if pair.items:
                pairs[key] = ([p.id for p, r in pair.items if brokers[r].alive],
                              pair.connections)
        fleets: dict[int, _Fleet] = {}
        targets: list[_Target] = []
        index_zone = {i: z for z, i in c.zone_index.items()}
        for f in c.producing:
            if not f.alive:
                continue
            load = f.load
            lt, ln, lr = load.segments()
            fleets[f.id] = _Fleet(f.id, f.zone, np.array(lt), np.array(ln), np.array(lr),
                                  load.start, load.stop, f.batch_records, f.accumulation,
                                  f.message_size, f.compression_ratio,
                                  f.settings.acks == "all")
            for target in sorted(index_zone):
                share, plist, nxt, cursor, cap, room = f.target_state(target)
                if share <= 0 or not plist:
                    continue
                targets.append(_Target(f.id, f.zone, index_zone[target], share, plist, nxt,
                                       c.env.now if cursor is None else cursor, cap, room))
        reads: dict[tuple[int, str], tuple[str | None, int]] = {}
        rp = c.reads
        for p in parts:
            for zone in rp.consumer_zones:
                n = rp.readers(p.id, zone)
                if not n:
                    continue
                r = rp.serving_replica(p, zone)
                if r is None:
                    raise WindowRefused(f"partition {p.id} has no replica to read")
                reads[(p.id, zone)] = (None if r == p.leader else brokers[r].zone, n)
        zones = sorted({*topo.zones()})
        rtt = {(a, b): topo.link(a, b).rtt for a in zones for b in zones}
        median = {(a, b): topo.median_rtt(a, b) for a in zones for b in zones}
        return cls(c.name, c.send_tick, c.config.replica_fetch_wait_max,
                   c.config.replica_fetch_response_max_bytes, topo.spec.tcp_window,
                   leader_zone, isr_zones, min_isr, pairs, fleets, targets, reads, rtt,
                   median)


# ============================================================================= results
@dataclass
class WindowResult:
    """What one window did (rows sent in ``[t0, t1)``)."""

    t0: float
    t1: float
    rows: int = 0
    records_sent: int = 0
    records_acked: int = 0
    records_delivered: int = 0          # summed over the groups
    fetch_requests: int = 0
    publish: LatencyHistogram = field(default_factory=LatencyHistogram)
    end_to_end: LatencyHistogram = field(default_factory=LatencyHistogram)
    bytes: dict[tuple[str, str, str], float] = field(default_factory=dict)
    # per row, for tests: partition, send window, arrival, commit, ack time
    row_partition: np.ndarray | None = None
    row_records: np.ndarray | None = None
    row_first: np.ndarray | None = None
    row_last: np.ndarray | None = None
    row_arrival: np.ndarray | None = None
    row_commit: np.ndarray | None = None
    row_acked: np.ndarray | None = None
    row_fleet: np.ndarray | None = None
    row_sent: np.ndarray | None = None       # the send tick
    row_target: np.ndarray | None = None     # the index of its Wiring.targets entry
    row_bytes: np.ndarray | None = None      # compressed
    # per fleet: its answers (time, send window, records, uncompressed bytes, the
    # row's index in the row_* arrays)
    acks: dict[int, tuple[np.ndarray, ...]] = field(default_factory=dict)
    # per consumer zone: its deliveries (time, send window, records and uncompressed
    # bytes, each times the groups reading there, and the row's index)
    deliveries: dict[str, tuple[np.ndarray, ...]] = field(default_factory=dict)


class _Draws:
    """One-way delays from the kernel's own streams, per directed zone pair."""

    def __init__(self, wiring: Wiring, seed: int):
        self.wiring = wiring
        self.rng = np.random.default_rng(seed)

    def one_way(self, src: str, dst: str, n: int) -> np.ndarray:
        return 0.5 * self.wiring.rtt[(src, dst)].draw(self.rng, n)


# ============================================================================== kernel
def run_window(wiring: Wiring, t0: float, t1: float, *, seed: int = 0,
               tail: float = 5.0, measure_from: float | None = None,
               histograms: bool = True) -> WindowResult:
    """The data path from ``t0`` (a send tick, pipes empty) for rows sent before
    ``t1``; fetch cycles run ``tail`` seconds past ``t1`` so that those rows complete.
    Latencies and counts are of the records sent from ``measure_from`` on (default:
    ``t0``; the pipes fill in about a fetch wait). ``histograms=False`` leaves
    ``publish`` and ``end_to_end`` empty (the run mode folds the per-row arrays)."""
    w = wiring
    draws = _Draws(w, seed)
    out = WindowResult(t0, t1)
    count: dict[tuple[str, str, str], float] = {}

    def bill(src: str, dst: str, purpose: str, size: float) -> None:
        key = (src, dst, purpose)
        count[key] = count.get(key, 0.0) + size

    # ---- 1. sends ---------------------------------------------------------------------
    ticks = t0 + w.tick * np.arange(1, int(math.floor((t1 - t0) / w.tick + 1e-9)) + 1)
    cols: dict[str, list[np.ndarray]] = {k: [] for k in (
        "partition", "fleet", "records", "bytes", "first", "last", "arrival", "lz", "sent",
        "target")}
    lz_names = sorted(set(w.leader_zone))
    lz_index = {z: i for i, z in enumerate(lz_names)}
    for ti, tg in enumerate(w.targets):
        fl = w.fleets[tg.fleet]
        upto = np.minimum(ticks, fl.stop)
        c0 = tg.share * fl.records(np.array([tg.cursor]))[0]
        s = tg.share * fl.records(upto)
        cum = np.floor(s - c0 + WHOLE_RECORD_SLACK)
        recs = np.diff(np.concatenate(([0.0], cum))).astype(np.int64)
        ends = fl.time_of((c0 + cum) / tg.share)
        ends = np.minimum(ends, upto)
        starts = np.concatenate(([tg.cursor], ends[:-1]))
        # a tick without records leaves the cursor where it was
        keep = recs > 0
        if not keep.any():
            continue
        starts = np.maximum.accumulate(np.where(keep, starts, -np.inf))
        parts = np.where(keep, np.maximum(1, -(-recs // fl.batch_records)), 0)
        n_rows = int(parts.sum())
        tick_of_row = np.repeat(np.arange(len(ticks)), parts)
        first_row = np.concatenate(([0], np.cumsum(parts)[:-1]))
        j = np.arange(n_rows) - np.repeat(first_row, parts)  # row index within its tick
        pr = np.repeat(parts, parts)
        rr = np.repeat(recs, parts)
        row_records = rr * (j + 1) // pr - rr * j // pr
        size = row_records * fl.message_size
        compressed = (size / fl.compression_ratio).astype(np.int64)
        plist = np.array(tg.partitions)
        partition = plist[(tg.next_row + np.arange(n_rows)) % len(plist)]
        if (parts > len(plist)).any():
            raise WindowRefused("a tick's rows wrap the fleet's rotation (one request each)")
        tick_bytes = np.bincount(tick_of_row, weights=compressed, minlength=len(ticks))
        if tg.cap and (tick_bytes > tg.cap).any():
            raise WindowRefused("a tick's rows exceed the request cap (one request each)")
        # one request per tick with rows: its one-way delay, in order per connection
        sent = np.flatnonzero(keep)
        delay = draws.one_way(tg.zone, tg.leader_zone, len(sent))
        arrival = np.maximum.accumulate(ticks[sent] + delay)
        arrival_of_tick = np.zeros(len(ticks))
        arrival_of_tick[sent] = arrival
        bill(tg.zone, tg.leader_zone, "produce", float(tick_bytes.sum()))
        cols["partition"].append(partition)
        cols["fleet"].append(np.full(n_rows, tg.fleet))
        cols["records"].append(row_records)
        cols["bytes"].append(compressed)
        cols["first"].append(starts[tick_of_row] - fl.accumulation)
        cols["last"].append(ends[tick_of_row])
        cols["arrival"].append(arrival_of_tick[tick_of_row])
        cols["lz"].append(np.full(n_rows, lz_index[tg.leader_zone]))
        cols["sent"].append(ticks[tick_of_row])
        cols["target"].append(np.full(n_rows, ti))
    if not cols["partition"]:
        return out
    col = {k: np.concatenate(v) for k, v in cols.items()}
    order = np.lexsort((col["partition"], col["arrival"]))  # arrival order (appends)
    col = {k: v[order] for k, v in col.items()}
    n = len(order)
    out.rows = n
    out.records_sent = int(col["records"].sum())
    arrival = col["arrival"]
    partition = col["partition"]
    rec_bytes = col["bytes"]

    # ---- 3. fetch cycles, per pair -----------------------------------------------------
    t_end = t1 + tail
    # per partition: its rows in append order (indices into the sorted rows)
    cycles: dict[tuple[str, str], tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}
    pair_rows: dict[tuple[str, str], np.ndarray] = {}
    n_parts = len(w.leader_zone)
    for key, (pids, connections) in w.pairs.items():
        lz, fz = key
        member = np.zeros(n_parts, dtype=bool)
        member[pids] = True
        idx = np.flatnonzero(member[partition])  # the pair's rows, in append order
        pair_rows[key] = idx
        item_index = np.full(n_parts, -1, dtype=np.int64)
        item_index[pids] = np.arange(len(pids))
        a_l, r_l, q_l, carried = _cycles(w, draws, lz, fz, arrival[idx], rec_bytes[idx],
                                         item_index[partition[idx]], len(pids),
                                         connections, t0, t_end, bill)
        cycles[key] = (a_l, r_l, q_l, carried)
        out.fetch_requests += len(a_l)

    # ---- 4. commit times -------------------------------------------------------------
    commit = arrival.copy()
    isr_of_zone: dict[str, np.ndarray] = {}
    for p, zones in enumerate(w.isr_zones):
        for fz in zones:
            isr_of_zone.setdefault(fz, np.zeros(n_parts, dtype=bool))[p] = True
    for key, idx in pair_rows.items():
        a_l, _r, _q, carried = cycles[key]
        # rows of partitions whose ISR includes this pair's follower zone
        _lz, fz = key
        in_isr = isr_of_zone.get(fz, np.zeros(n_parts, dtype=bool))[partition[idx]]
        nxt = carried + 1                               # the next request tells the leader
        ok = (carried >= 0) & (nxt < len(a_l))
        t_learn = np.full(len(idx), np.inf)
        t_learn[ok] = a_l[nxt[ok]]
        sel = idx[in_isr]
        commit[sel] = np.maximum(commit[sel], t_learn[in_isr])
    if any(len(w.isr_zones[p]) + 1 < w.min_isr[p] for p in range(n_parts)):
        raise WindowRefused("a partition's ISR is under min.insync.replicas")

    # ---- 5. acknowledgements --------------------------------------------------------
    acked = np.full(n, np.inf)
    fleet = col["fleet"]
    lzs = col["lz"]
    acks_all = np.array([w.fleets[f].acks_all for f in sorted(w.fleets)])
    fleet_pos = np.searchsorted(np.array(sorted(w.fleets)), fleet)
    answer = np.where(acks_all[fleet_pos], commit, arrival)
    done = np.isfinite(answer)
    pairs_used = np.unique(fleet_pos[done] * len(lz_names) + lzs[done])
    fleet_ids = sorted(w.fleets)
    for code in pairs_used.tolist():
        fid, li = fleet_ids[code // len(lz_names)], code % len(lz_names)
        sel = np.flatnonzero(done & (fleet == fid) & (lzs == li))
        # one answer per partition and HW advance (or append, for acks=0|1), in
        # (time, partition) order
        a_s, p_s = answer[sel], partition[sel]
        o = np.lexsort((p_s, a_s))
        a_o, p_o = a_s[o], p_s[o]
        message = np.cumsum(np.r_[True, (a_o[1:] != a_o[:-1]) | (p_o[1:] != p_o[:-1])]) - 1
        zone = w.fleets[fid].zone
        n_messages = int(message[-1]) + 1
        delay = draws.one_way(lz_names[li], zone, n_messages)
        heard = np.empty(len(sel))
        heard[o] = a_o + delay[message]
        acked[sel] = heard
        bill(lz_names[li], zone, "produce", ACK_BYTES * n_messages)
    _check_room(w, col["target"], col["sent"], answer, rec_bytes)
    measured = col["last"] >= (t0 if measure_from is None else measure_from)
    ok = np.isfinite(acked) & measured
    size_of = np.array([w.fleets[f].message_size for f in fleet_ids])[fleet_pos]
    for fid in fleet_ids:
        sel = np.flatnonzero(ok & (fleet == fid))
        if len(sel):
            recs = col["records"][sel]
            out.acks[fid] = (acked[sel], col["first"][sel], col["last"][sel], recs,
                             recs * size_of[sel], sel)
    out.records_acked = int(col["records"][ok].sum())
    if histograms:
        out.publish.add_uniform_many(acked[ok] - col["last"][ok],
                                     acked[ok] - col["first"][ok], col["records"][ok])

    # ---- 6. reads ---------------------------------------------------------------------
    # Every (partition, consumer zone) read at once: one entry per row and zone, in key
    # then append order; a zone's messages are the distinct readable times of its key.
    keys = list(w.reads.items())
    if keys:
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
        by_partition = np.argsort(partition, kind="stable")
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
            got = np.full(len(sel), np.inf)
            fine = k < len(q_l)
            got[fine] = q_l[k[fine]]
            readable[sel] = got
        # a replica serves in offset order (the commit times already are)
        readable = pd.Series(readable).groupby(key_of).cummax().to_numpy()
        ef = np.flatnonzero(np.isfinite(readable))
        kf, rf = key_of[ef], readable[ef]
        new = np.r_[True, (kf[1:] != kf[:-1]) | (rf[1:] != rf[:-1])]
        msg = np.cumsum(new) - 1
        m_key, m_time = kf[new], rf[new]
        links = sorted({(key_src[k], zone_names[key_zone[k]]) for k in np.unique(m_key).tolist()})
        link_id = {lk: i for i, lk in enumerate(links)}
        key_link = np.array([link_id.get((key_src[k], zone_names[key_zone[k]]), -1)
                             for k in range(len(keys))], dtype=np.int64)
        m_link = key_link[m_key]
        arrive = m_time.copy()
        for i, (src, dst) in enumerate(links):
            sel = np.flatnonzero(m_link == i)
            arrive[sel] += draws.one_way(src, dst, len(sel))
        # a row is seen when the first message covering it (its own or a later one) arrives
        seen = pd.Series(arrive[::-1]).groupby(m_key[::-1]).cummin().to_numpy()[::-1]
        delivered_e = seen[msg]
        rows_f = rows_e[ef]
        owners_f = key_owners[kf]
        moved = rec_bytes[rows_f] * owners_f
        link_f = key_link[kf]
        for i, (src, dst) in enumerate(links):
            bill(src, dst, "consume", float(moved[link_f == i].sum()))
        keep = measured[rows_f]
        recs_f = col["records"][rows_f] * owners_f
        out.records_delivered += int(recs_f[keep].sum())
        zone_f = key_zone[kf]
        for z, zone in enumerate(zone_names):
            sel = np.flatnonzero(keep & (zone_f == z))
            if len(sel):
                r_sel = rows_f[sel]
                out.deliveries[zone] = (delivered_e[sel], col["first"][r_sel],
                                        col["last"][r_sel], recs_f[sel],
                                        recs_f[sel] * size_of[r_sel], r_sel)
        if histograms and keep.any():
            r_k = rows_f[keep]
            out.end_to_end.add_uniform_many(delivered_e[keep] - col["last"][r_k],
                                            delivered_e[keep] - col["first"][r_k],
                                            recs_f[keep])
    out.bytes = count
    out.row_records = col["records"]
    out.row_fleet, out.row_bytes, out.row_sent = fleet, rec_bytes, col["sent"]
    out.row_target = col["target"]
    out.row_partition, out.row_first, out.row_last = partition, col["first"], col["last"]
    out.row_arrival, out.row_commit, out.row_acked = arrival, commit, acked
    return out


def _check_room(w: Wiring, target: np.ndarray, sent: np.ndarray, answer: np.ndarray,
                row_bytes: np.ndarray) -> None:
    """Refuse a window in which a fleet's unanswered bytes to a leader zone would not
    leave room for a tick's rows (its cut would hold records back): at each tick with
    sends, what was sent before and is answered after it, plus the tick's rows, must fit
    the fleet's in-flight window. Producers free a row's bytes when the leader answers
    it (``ProducerFleet.acked`` runs at the commit)."""
    for ti, tg in enumerate(w.targets):
        sel = np.flatnonzero(target == ti)
        if not len(sel) or not tg.window:
            continue
        s, a, b = sent[sel], answer[sel], row_bytes[sel].astype(float)
        ticks = np.unique(s)
        order = np.argsort(s, kind="stable")
        cum_sent = np.concatenate(([0.0], np.cumsum(b[order])))
        by_answer = np.argsort(a, kind="stable")
        cum_answered = np.concatenate(([0.0], np.cumsum(b[by_answer])))
        before = cum_sent[np.searchsorted(s[order], ticks, side="left")]
        done = cum_answered[np.searchsorted(a[by_answer], ticks, side="right")]
        this_tick = cum_sent[np.searchsorted(s[order], ticks, side="right")] - before
        if ((before - done + this_tick) > tg.window).any():
            raise WindowRefused(f"fleet {tg.fleet}'s in-flight window to {tg.leader_zone} "
                                "would hold records back")


def _cycles(w: Wiring, draws: _Draws, lz: str, fz: str, times: np.ndarray,
            row_bytes: np.ndarray, item_of_row: np.ndarray, items: int, connections: int,
            t0: float, t_end: float, bill) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                     np.ndarray]:
    """One fetch pair's cycles from ``t0`` to ``t_end``: per cycle the request's
    arrival at the leader, the response's departure and its arrival; and per row of the
    pair's partitions (``times``: their appends, sorted; ``item_of_row``: each row's
    item, in the pair's item order) the cycle whose response carried it (-1: none).

    A response carries, item by item in order, everything appended to the item's
    partition up to its departure, skipping an item whose data would take the response
    past ``replica.fetch.response.max.bytes`` x connections unless it is the first
    (the event engine's rule). While no response is cut short the follower holds a
    prefix of the pair's appends (one index); after one is, each item keeps its own
    until they all catch up again."""
    wait_max = w.wait_max
    budget = w.response_max_bytes * connections
    window = w.window
    rtt = w.median_rtt[(lz, fz)]
    req_size = FETCH_REQUEST_BYTES + FETCH_PARTITION_BYTES * items
    block = 256  # draws in blocks: a cycle takes at least a round trip
    up = draws.one_way(fz, lz, block).tolist()
    down = draws.one_way(lz, fz, block).tolist()
    a_out: list[float] = []
    r_out: list[float] = []
    q_out: list[float] = []
    m = len(times)
    carried = np.full(m, -1, dtype=np.int64)
    t_list = times.tolist()
    cb = np.concatenate(([0.0], np.cumsum(row_bytes))).tolist()
    covered = 0            # while no response was cut short: rows [0, covered) are there
    per_item: list[list] | None = None  # after one: per item [its rows, cum bytes, held]
    earliest = m           # with per_item: the first row not at the follower
    s = t0
    req_bytes = 0
    resp_bytes = 0.0
    k = 0
    while s < t_end:
        if k >= len(up):
            up.extend(draws.one_way(fz, lz, block).tolist())
            down.extend(draws.one_way(lz, fz, block).tolist())
        a = s + up[k]
        first_missing = covered if per_item is None else earliest
        if first_missing < m and t_list[first_missing] <= a:
            r = a  # the leader has data for the follower: it answers at once
        else:
            nxt = bisect_right(t_list, a)
            r = t_list[nxt] if nxt < m and t_list[nxt] <= a + wait_max else a + wait_max
        at_r = bisect_right(t_list, r)
        size = 0.0
        if per_item is None:
            size = cb[at_r] - cb[covered]
            if size <= budget:
                carried[covered:at_r] = k
                covered = at_r
            else:
                per_item = []
                for i in range(items):
                    rows_i = np.flatnonzero(item_of_row == i)
                    rows_i = rows_i[rows_i >= covered]
                    per_item.append([rows_i.tolist(),
                                     np.concatenate(([0.0], np.cumsum(row_bytes[rows_i]))
                                                    ).tolist(), 0])
                size = 0.0
        if per_item is not None:
            caught_up = True
            earliest = m
            for entry in per_item:
                rows_i, cum_i, held = entry
                avail = bisect_right(rows_i, at_r - 1)  # its rows appended by r
                if avail > held:
                    more = cum_i[avail] - cum_i[held]
                    if size and size + more > budget:
                        caught_up = False
                    else:
                        size += more
                        carried[rows_i[held:avail]] = k
                        entry[2] = held = avail
                if held < len(rows_i) and rows_i[held] < earliest:
                    earliest = rows_i[held]
            if caught_up:
                per_item = None
                covered = at_r
        q = r + down[k]
        if window and size > window * connections:
            q += window_delay(size, window * connections, rtt, None)
        req_bytes += req_size
        resp_bytes += size + FETCH_REQUEST_BYTES
        a_out.append(a)
        r_out.append(r)
        q_out.append(q)
        s = q
        k += 1
    bill(fz, lz, "replicate", req_bytes)
    bill(lz, fz, "replicate", resp_bytes)
    return np.array(a_out), np.array(r_out), np.array(q_out), carried


__all__ = ["WindowRefused", "WindowResult", "Wiring", "run_window"]
