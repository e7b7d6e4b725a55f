"""One window of a Kafka cluster's steady-state data path, computed as arrays.

:func:`run_window` takes a running cluster's wiring (:class:`Wiring`: leaders, ISRs,
fetch pairs, fleets' shares and rotations, the groups' owners and the replica each
consumer zone reads from) and computes what the event engine's data path would do over
``[t0, t1)``, by the same rules (docs/architecture.md, "The window engine"):

1. **Sends.** At each send tick each fleet cuts the records its share of the offered
   load accumulated for each leader zone since its cursor, whole records only (the
   fraction waits: a running floor of the cumulative count), into rows of at most one
   producer batch (n x ``batch.size``), each for the next partition of the fleet's
   rotation (a partition the fleet skips gives its turn to the next); a tick's rows are
   one produce request, or where a partition the fleet skips makes one repeat, one
   request from each repeat on (the request cap is checked per tick; a tick whose rows
   wrap the rotation is refused). A request arrives a one-way delay later, in order per
   connection.
2. **Appends.** The leaders append in arrival order; offsets follow per partition.
3. **Fetch cycles** (one Python step per cycle, per fetch pair): the request reaches the
   leader; if anything of the pair's partitions was appended beyond the follower's LEO
   the response leaves at once, else at the next append to one of them or after
   ``replica.fetch.wait.max.ms``; it carries everything appended up to then (past
   ``replica.fetch.response.max.bytes`` per connection, or that of one partition, item
   by item in the fetch session's order, :mod:`~geosim.kafka.window.cycles`),
   arrives half a round trip later plus the TCP windows' wait, and the next request
   leaves.
4. **High watermark.** A row is committed when every ISR follower's next request after
   the response that carried it reaches the leader (the request's fetch offset is the
   follower's LEO); a leader alone in its ISR commits at once. A follower catching up
   whose fetch reaches the HW rejoins the ISR (an AlterPartition commit,
   :func:`~geosim.kafka.window.catchup.isr_joins`), and the rows not committed by that
   request wait for it too.
5. **Acknowledgements.** Rows of one fleet and partition committed by one HW advance
   share one answer, half a round trip to the fleet's zone.
6. **Reads.** A consumer zone reads from its serving replica (fetch-from-follower: the
   replica in its rack, else the leader): the leader serves up to the HW, a follower up
   to the HW its last fetch response carried. Each change of a replica's readable
   offset reaches each zone it serves, where a group's owner reads, half a round trip
   later; a row is delivered when the first message covering it arrives. A follower's
   return to the ISR moves the reads of its rack to it at the commit.

Stages 1-2 are :mod:`~geosim.kafka.window.sends`, 3
:mod:`~geosim.kafka.window.cycles`, 6 :mod:`~geosim.kafka.window.reads`; this module
runs them and computes 4 and 5.

Latencies go to record-weighted histograms in bulk (each row's records spread over its
send window, as the event engine's collector does), bytes to (source, destination,
purpose) counters as ``Network.bytes`` counts them.

Stage 1 limits, each checked rather than assumed where the window could break it:
the window starts with empty pipes (every replica holds the log end, no request is in
flight: results are meant from about one fetch wait after ``t0`` on), links have no
bandwidth limit, loss or degradation, the producers' in-flight room and buffers never
bind (checked: :class:`WindowRefused`), and nothing changes the wiring inside the
window but the returns to the ISR it makes. The draws come from the kernel's own
random streams, so the window agrees with the event engine in distribution, not draw
for draw.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from geosim.kafka.window.catchup import Join, isr_joins
from geosim.kafka.window.cycles import Track, fetch_cycles
from geosim.kafka.window.order import groups, time_then_key_order
from geosim.kafka.window.reads import deliver
from geosim.kafka.window.sends import cut_sends
from geosim.kafka.window.wiring import Draws, WindowRefused, Wiring
from geosim.kafka.wire import ACK_BYTES
from geosim.metrics.histogram import LatencyHistogram


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
    # per fetch pair with followers out of the ISR: its Track and cycles
    tracked: dict[tuple[str, str], tuple[Track, tuple[np.ndarray, ...]]] = field(
        default_factory=dict)
    # the followers' returns to their ISRs the kernel made (catchup.isr_joins), and
    # when the first of the others would rejoin (its fetch reaching the HW): the window
    # must hand back before then (None: none does)
    joins: list[Join] = field(default_factory=list)
    rejoin_at: float | None = None


def run_window(wiring: Wiring, t0: float, t1: float, *, seed: int = 0,
               tail: float = 5.0, measure_from: float | None = None,
               histograms: bool = True) -> WindowResult:
    """The data path from ``t0`` (a send tick, pipes empty) for rows sent before
    ``t1``; fetch cycles run ``tail`` seconds past ``t1`` so that those rows complete.
    Latencies and counts are of the records sent from ``measure_from`` on (default:
    ``t0``; the pipes fill in about a fetch wait). ``histograms=False`` leaves
    ``publish`` and ``end_to_end`` empty (the run mode folds the per-row arrays)."""
    w = wiring
    draws = Draws(w.rtt, seed)
    out = WindowResult(t0, t1)
    count: dict[tuple[str, str, str], float] = {}

    def bill(src: str, dst: str, purpose: str, size: float) -> None:
        key = (src, dst, purpose)
        count[key] = count.get(key, 0.0) + size

    # ---- 1-2. sends and appends -------------------------------------------------------
    col = cut_sends(w, draws, t0, t1, bill)
    if col is None:
        return out
    n = len(col["partition"])
    out.rows = n
    out.records_sent = int(col["records"].sum())
    arrival = col["arrival"]
    partition = col["partition"]
    rec_bytes = col["bytes"]

    # ---- 3-4. fetch cycles, per pair, and commit times -------------------------------
    tracks: dict[tuple[str, str], Track] = {}
    pair_rows: dict[tuple[str, str], np.ndarray] = {}
    commit, cycles = replicate(w, draws, partition, arrival, rec_bytes, t0, t1 + tail, bill,
                               tracks, pair_rows)
    out.fetch_requests = sum(len(c[0]) for c in cycles.values())
    out.tracked = {key: (track, cycles[key]) for key, track in tracks.items()}
    out.joins, out.rejoin_at = isr_joins(w, draws, out.tracked, cycles, pair_rows,
                                         partition, rec_bytes, commit)
    if any(len(w.isr_zones[p]) + 1 < w.min_isr[p] for p in range(len(w.leader_zone))):
        raise WindowRefused("a partition's ISR is under min.insync.replicas")

    # ---- 5. acknowledgements --------------------------------------------------------
    acked = np.full(n, np.inf)
    fleet = col["fleet"]
    lzs = col["lz"]
    lz_names = w.leader_zones()
    acks_all = np.array([w.fleets[f].acks_all for f in sorted(w.fleets)])
    fleet_pos = np.searchsorted(np.array(sorted(w.fleets)), fleet)
    answer = np.where(acks_all[fleet_pos], commit, arrival)
    done = np.isfinite(answer)
    fleet_ids = sorted(w.fleets)
    done_at = np.flatnonzero(done)
    by_pair, bounds = groups(fleet_pos[done_at] * len(lz_names) + lzs[done_at],
                             len(fleet_ids) * len(lz_names))
    for code in np.flatnonzero(np.diff(bounds)).tolist():
        fid, li = fleet_ids[code // len(lz_names)], code % len(lz_names)
        sel = done_at[by_pair[bounds[code]:bounds[code + 1]]]
        # one answer per partition and HW advance (or append, for acks=0|1), in
        # (time, partition) order
        a_s, p_s = answer[sel], partition[sel]
        o = time_then_key_order(a_s, p_s)
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
    switches, join_carried = _switches(w, out.joins, pair_rows, cycles, partition)
    out.records_delivered, out.deliveries = deliver(
        w, draws, col, commit, cycles, measured, size_of, bill,
        out.end_to_end if histograms else None, switches, join_carried)
    out.bytes = count
    out.row_records = col["records"]
    out.row_fleet, out.row_bytes, out.row_sent = fleet, rec_bytes, col["sent"]
    out.row_target = col["target"]
    out.row_partition, out.row_first, out.row_last = partition, col["first"], col["last"]
    out.row_arrival, out.row_commit, out.row_acked = arrival, commit, acked
    return out


def _switches(w: Wiring, joins: list[Join], pair_rows: dict[tuple[str, str], np.ndarray],
              cycles: dict[tuple[str, str], tuple[np.ndarray, ...]], partition: np.ndarray,
              ) -> tuple[dict[tuple[int, str], tuple[float, str]], np.ndarray]:
    """The reads a follower's return to its ISR moves to it (fetch-from-follower:
    (partition, consumer zone) -> (when, its zone)), and per row the cycle of its
    pair that carried it to a joined follower (-1: none)."""
    switches: dict[tuple[int, str], tuple[float, str]] = {}
    carried_to = np.full(len(partition), -1, dtype=np.int64)
    joined: dict[tuple[str, str], list[int]] = {}
    for j in joins:
        for zone in w.joinable[(j.pid, j.follower)]:
            switches[(j.pid, zone)] = (j.at, j.key[1])
        joined.setdefault(j.key, []).append(j.pid)
    for key, pids in joined.items():
        idx = pair_rows[key]
        mine = np.isin(partition[idx], pids)
        carried_to[idx[mine]] = cycles[key][3][mine]
    return switches, carried_to


def replicate(w: Wiring, draws: Draws, partition: np.ndarray, arrival: np.ndarray,
              rec_bytes: np.ndarray, t0: float, t_end: float,
              bill: Callable[[str, str, str, float], None],
              tracks: dict[tuple[str, str], Track] | None = None,
              pair_rows: dict[tuple[str, str], np.ndarray] | None = None,
              ) -> tuple[np.ndarray, dict[tuple[str, str], tuple[np.ndarray, ...]]]:
    """Stages 3 and 4 for rows appended at ``arrival`` (sorted) to ``partition``: each
    fetch pair's cycles from ``t0`` to ``t_end`` (by pair: requests' arrivals at the
    leader, responses' departures and arrivals, and per row of the pair the cycle that
    carried it) and each row's commit time: when every ISR follower's next request
    after the response that carried it reaches the leader (its append, for a leader
    alone in its ISR; inf if the cycles end first). ``tracks``: where the pairs with
    followers out of the ISR leave their :class:`Track`; ``pair_rows``: where each
    pair's rows go (their indices, in append order: the rows its cycles' per-row
    arrays follow)."""
    cycles: dict[tuple[str, str], tuple[np.ndarray, ...]] = {}
    if pair_rows is None:
        pair_rows = {}
    n_parts = len(w.leader_zone)
    for key, (pids, connections) in w.pairs.items():
        lz, fz = key
        # A zone may hold several followers of a partition (observers beside sync
        # replicas, two replicas in one rack): each fetches its own copy in the pair's
        # responses, so a row weighs its bytes times their number there.
        copies = np.bincount(np.asarray(pids, dtype=np.int64), minlength=n_parts)
        member = copies > 0
        idx = np.flatnonzero(member[partition])  # the pair's rows, in append order
        pair_rows[key] = idx
        cycles[key] = fetch_cycles(w, draws, lz, fz, arrival[idx],
                                   rec_bytes[idx] * copies[partition[idx]], len(pids),
                                   connections, t0, t_end, bill,
                                   session=w.sessions.get(key), row_pid=partition[idx],
                                   tracks=tracks)
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
    return commit, cycles


def _check_room(w: Wiring, target: np.ndarray, sent: np.ndarray, answer: np.ndarray,
                row_bytes: np.ndarray) -> None:
    """Refuse a window in which a fleet's unanswered bytes to a leader zone would not
    leave room for a tick's rows (its cut would hold records back): at each tick with
    sends, what was sent before and is answered after it, plus the tick's rows, must fit
    the fleet's in-flight window. Producers free a row's bytes when the leader answers
    it (``ProducerFleet.acked`` runs at the commit)."""
    by_target, bounds = groups(target, len(w.targets))
    for ti, tg in enumerate(w.targets):
        sel = by_target[bounds[ti]:bounds[ti + 1]]
        if not len(sel) or not tg.window:
            continue
        s, a, b = sent[sel], answer[sel], row_bytes[sel].astype(float)
        order = np.argsort(s, kind="stable")
        s_o = s[order]
        ticks = s_o[np.r_[True, s_o[1:] != s_o[:-1]]]
        cum_sent = np.concatenate(([0.0], np.cumsum(b[order])))
        by_answer = np.argsort(a, kind="stable")
        cum_answered = np.concatenate(([0.0], np.cumsum(b[by_answer])))
        before = cum_sent[np.searchsorted(s_o, ticks, side="left")]
        done = cum_answered[np.searchsorted(a[by_answer], ticks, side="right")]
        this_tick = cum_sent[np.searchsorted(s_o, ticks, side="right")] - before
        if ((before - done + this_tick) > tg.window).any():
            raise WindowRefused(f"fleet {tg.fleet}'s in-flight window to {tg.leader_zone} "
                                "would hold records back")


__all__ = ["WindowResult", "replicate", "run_window"]
