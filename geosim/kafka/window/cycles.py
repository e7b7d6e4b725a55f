"""Stage 3 of a window: one fetch pair's cycles, one Python step per cycle.

A fetch pair (one follower zone fetching from one leader zone) runs back-to-back
cycles: the request reaches the leader; if anything of the pair's partitions was
appended beyond the follower's log end the response leaves at once, else at the next
append to one of them or after ``replica.fetch.wait.max.ms``; it carries what was
appended up to then, within ``replica.fetch.response.max.bytes`` per broker
connection and at most that of one partition (it is fetched over one connection), and
arrives a one-way delay later plus the TCP windows' wait; the next
request leaves then. The event engine's loop is
:meth:`geosim.kafka.replication.Replication._fetch_loop`.

Two models of the response, the first the second's fast path: while no response
would pass the budget or carry more than one connection's budget of one item, each
carries everything appended, and the follower holds a prefix of the pair's appends
(:func:`fetch_cycles`); once one would, the pair's cycles are made again item by item
(:func:`session_cycles`): the items in the fetch session's order, each taking what it
has, at most one connection's budget, while the budget lasts, one that meets either
bound a part (its follower's log end moves past whole rows only), as
``Replication._cut`` fills a response. The two agree cycle for cycle while no
response is cut (the same draws: :class:`Delays`).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from geosim.kafka.window.wiring import Draws, Session, WindowRefused, Wiring
from geosim.kafka.wire import FETCH_PARTITION_BYTES, FETCH_REQUEST_BYTES
from geosim.world.network import window_delay


class Delays:
    """A pair's one-way delays, request k's way up and its response's way down, drawn
    in blocks from the kernel's streams as the cycles need them (a cycle takes at least
    a round trip); the per-item model reuses those the fast path drew."""

    BLOCK = 256

    def __init__(self, draws: Draws, lz: str, fz: str):
        self.draws, self.lz, self.fz = draws, lz, fz
        self.up: list[float] = []
        self.down: list[float] = []

    def need(self, k: int) -> None:
        while k >= len(self.up):
            self.up.extend(self.draws.one_way(self.fz, self.lz, self.BLOCK).tolist())
            self.down.extend(self.draws.one_way(self.lz, self.fz, self.BLOCK).tolist())


Cycles = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
#: An item without entries.
_NO_ENTRIES = np.zeros(0, dtype=np.int64)


@dataclass
class Track:
    """What the item-by-item model leaves of a pair with followers out of the ISR
    (catching up, or observers), whose every follower a hand-back sets from it: per
    item that got data in a cycle, the cycle, what its follower then held and its new
    stamp in the session; per cycle the data bytes it moved (billed at the hand-back,
    as far as the responses that arrived by then)."""

    k: np.ndarray
    item: np.ndarray
    held: np.ndarray
    stamp: np.ndarray
    replayed_bytes: np.ndarray  # per cycle: data bytes to followers set back (replayed)
    other_bytes: np.ndarray     # per cycle: data bytes to the pair's other followers
    caught: np.ndarray          # per cycle and item: when last caught up, as of its request

    #: per item, the indices of its entries, in cycle order (made on first use)
    _of: dict[int, np.ndarray] | None = field(default=None, init=False, repr=False)

    def _entries(self, i: int) -> np.ndarray:
        if self._of is None:
            order = np.argsort(self.item, kind="stable")  # each item's in cycle order
            items, starts = np.unique(self.item[order], return_index=True)
            self._of = dict(zip(items.tolist(),
                                np.split(order, starts[1:]), strict=True))
        return self._of.get(i, _NO_ENTRIES)

    def held_after(self, i: int, held0: float, k: np.ndarray) -> np.ndarray:
        """What item ``i``'s follower holds after each cycle of ``k`` (-1: before the
        first; ``held0``: at the start)."""
        sel = self._entries(i)
        ks, hs = self.k[sel], self.held[sel]
        j = np.searchsorted(ks, k, side="right") - 1
        return np.where(j >= 0, hs[np.maximum(j, 0)] if len(hs) else held0, held0)

    def stamp_after(self, i: int, stamp0: float, k: int) -> float:
        """Item ``i``'s stamp in the session after cycle ``k``."""
        sel = self._entries(i)
        j = int(np.searchsorted(self.k[sel], k, side="right"))
        return float(self.stamp[sel[j - 1]]) if j else stamp0


def fetch_cycles(w: Wiring, draws: Draws, lz: str, fz: str, times: np.ndarray,
                 row_bytes: np.ndarray, items: int, connections: int, t0: float,
                 t_end: float, bill: Callable[[str, str, str, float], None],
                 session: Session | None = None, row_pid: np.ndarray | None = None,
                 tracks: dict[tuple[str, str], Track] | None = None) -> Cycles:
    """One fetch pair's cycles from ``t0`` to ``t_end``: per cycle the request's
    arrival at the leader, the response's departure and its arrival; and per row of the
    pair's partitions (``times``: their appends, sorted; ``row_bytes``: what each weighs
    in the pair's responses, times its copies there; ``items``: how many partitions a
    request lists) the cycle whose response carried it (-1: none).

    A response carries everything appended to the pair's partitions up to its
    departure, so the follower holds a prefix of the pair's appends (one index). A
    response whose data would pass ``replica.fetch.response.max.bytes`` x connections,
    or carry more than ``replica.fetch.response.max.bytes`` of one item
    (:func:`_item_over`), is filled in the fetch session's order: with the pair's
    ``session`` and each row's partition (``row_pid``) the cycles are made again item
    by item (:func:`session_cycles`); without them the window is refused
    (:class:`WindowRefused`). A pair with a follower catching up (out of the ISR, a
    sync replica) takes the item-by-item model from the start, leaving its
    :class:`Track` in ``tracks``."""
    if session is not None and row_pid is not None and session.behind.any():
        return session_cycles(w, Delays(draws, lz, fz), lz, fz, times, row_pid, row_bytes,
                              session, connections, t0, t_end, bill, tracks)
    wait_max = w.wait_max
    budget = w.response_max_bytes * connections
    window = w.window
    rtt = w.median_rtt[(lz, fz)]
    req_size = FETCH_REQUEST_BYTES + FETCH_PARTITION_BYTES * items
    delays = Delays(draws, lz, fz)
    up, down = delays.up, delays.down
    a_out: list[float] = []
    r_out: list[float] = []
    q_out: list[float] = []
    m = len(times)
    carried = np.full(m, -1, dtype=np.int64)
    t_list = times.tolist()
    cb = np.concatenate(([0.0], np.cumsum(row_bytes))).tolist()
    covered = 0            # rows [0, covered) are at the follower
    # cycle k carries rows [covered before it, ends[k]) (written to ``carried`` at the
    # end, in one pass)
    ends: list[int] = []
    full = window * connections if window else float("inf")  # the TCP windows' bytes
    find = bisect_right
    s = t0
    resp_bytes = 0.0
    k = 0
    while s < t_end:
        if k >= len(up):
            delays.need(k)
        a = s + up[k]
        if covered < m and t_list[covered] <= a:
            r = a  # the leader has data for the follower: it answers at once
        else:
            r = _long_poll(t_list, a, wait_max)
        at_r = find(t_list, r)
        size = cb[at_r] - cb[covered]
        if size > budget:
            if session is None or row_pid is None:
                raise WindowRefused(
                    f"a fetch response from {lz} to {fz} would pass "
                    "replica.fetch.response.max.bytes per connection (filled part of a "
                    "row at a time in the fetch session's order)")
            return session_cycles(w, delays, lz, fz, times, row_pid, row_bytes, session,
                                  connections, t0, t_end, bill, tracks)
        covered = at_r
        ends.append(covered)
        resp_bytes += size
        a_out.append(a)
        r_out.append(r)
        s = _arrival(r, down[k], size, full, rtt)
        q_out.append(s)
        k += 1
    # the rows each cycle brought into the prefix
    bounds = np.array(ends, dtype=np.int64)
    starts = np.concatenate(([0], bounds[:-1]))
    gained = bounds - starts
    into = gained > 0
    if into.any():
        g = gained[into]
        rows = np.repeat(starts[into] - np.concatenate(([0], np.cumsum(g)[:-1])), g) \
            + np.arange(int(g.sum()))
        carried[rows] = np.repeat(np.flatnonzero(into), g)
    at = np.asarray(cb)
    if _item_over(w.response_max_bytes, carried, row_bytes, row_pid, session,
                  at[bounds] - at[starts]):
        if session is None or row_pid is None:
            raise WindowRefused(
                f"a fetch response from {lz} to {fz} would carry more of a partition "
                "than replica.fetch.response.max.bytes (its connection's budget)")
        return session_cycles(w, delays, lz, fz, times, row_pid, row_bytes, session,
                              connections, t0, t_end, bill, tracks)
    req_bytes = float(req_size * k)
    resp_bytes += FETCH_REQUEST_BYTES * k
    bill(fz, lz, "replicate", req_bytes)
    bill(lz, fz, "replicate", resp_bytes)
    return np.array(a_out), np.array(r_out), np.array(q_out), carried


def session_cycles(w: Wiring, delays: Delays, lz: str, fz: str, times: np.ndarray,
                   row_pid: np.ndarray, row_bytes: np.ndarray, session: Session,
                   connections: int, t0: float, t_end: float,
                   bill: Callable[[str, str, str, float], None],
                   tracks: dict[tuple[str, str], Track] | None = None) -> Cycles:
    """:func:`fetch_cycles` item by item (its arguments; ``row_pid``: each row's
    partition, ``row_bytes`` times its copies in the pair, which this model splits
    again among its items; ``session``: the pair's items). Per item the bytes appended
    to its partition and those its follower holds (the window's log end as 0); per
    cycle the leader answers at once if any item has more, else as :func:`fetch_cycles`;
    a response that would pass the budget, or carry more than one connection's budget
    of one item, takes the items in the session's order (stamp, then item), each what
    it has, at most one connection's budget, while the budget lasts, one that meets
    either bound a part; the items that got data move to the session's end in the
    order they got it. A row is at a follower once it holds the row's last byte. An
    ISR follower not caught up (Kafka's rule, from ``session.caught_up``) for
    ``replica.lag.time.max.ms`` / 2, which the ISR check could drop, refuses the
    window.

    ``tracks``: where to leave the pair's :class:`Track` if it has followers out of the
    ISR; its data bytes are then not billed here (the hand-back bills those of the
    responses that arrived by then, and sets its followers' state as of then)."""
    n = len(session.pids)
    wait_max = w.wait_max
    cap = float(w.response_max_bytes)  # per item: one connection's budget
    budget = cap * connections
    window = w.window
    rtt = w.median_rtt[(lz, fz)]
    req_size = FETCH_REQUEST_BYTES + FETCH_PARTITION_BYTES * n
    full = window * connections if window else float("inf")
    up, down = delays.up, delays.down
    # the pair's (row, item) entries in append order, and each one's bytes
    items_of: dict[int, list[int]] = {}
    for i, pid in enumerate(session.pids.tolist()):
        items_of.setdefault(pid, []).append(i)
    per_row = np.array([len(items_of.get(pid, ())) for pid in row_pid.tolist()],
                       dtype=np.int64)
    e_row = np.repeat(np.arange(len(row_pid)), per_row)
    e_item = np.array([i for pid in row_pid.tolist() for i in items_of.get(pid, ())],
                      dtype=np.int64)
    e_bytes = (row_bytes / np.maximum(per_row, 1))[e_row]
    t_list = times.tolist()
    e_starts = np.searchsorted(e_row, np.arange(len(row_pid) + 1)).tolist()
    appended = np.zeros(n)
    held = session.held.astype(float).copy()
    stamps = session.stamps.astype(float).copy()
    responses = session.responses
    step = 1.0 / (n + 1)
    isr = session.in_isr
    # Kafka's caught-up rule (Replica.updateFetchState): a follower is caught up when
    # its fetch reaches the leader's log end at that fetch, or at the previous one (as
    # of then); the ISR check drops one not caught up for replica.lag.time.max.ms
    caught = session.caught_up.astype(float).copy()
    before = appended.copy()      # the leader's log end per item at the last request
    a_before = t0
    half_lag = w.lag_max / 2
    hist_k: list[np.ndarray] = []  # per cycle: the items that got data, and what they hold
    hist_i: list[np.ndarray] = []
    hist_h: list[np.ndarray] = []
    hist_s: list[np.ndarray] = []
    outside = ~isr
    replay = session.replayed if session.replayed is not None else np.zeros(n, dtype=bool)
    tracking = tracks is not None and bool(outside.any())
    replayed: list[float] = []    # per cycle: the bytes it moved to followers set back
    others: list[float] = []      # and to the others
    caught_hist: list[np.ndarray] = []
    a_out: list[float] = []
    r_out: list[float] = []
    q_out: list[float] = []
    at = 0           # rows [0, at) are appended into ``appended``
    find = bisect_right
    s = t0
    resp_bytes = 0.0
    k = 0

    def upto(i_row: int) -> None:
        nonlocal at
        if i_row > at:
            lo, hi = e_starts[at], e_starts[i_row]
            appended[:] += np.bincount(e_item[lo:hi], weights=e_bytes[lo:hi], minlength=n)
            at = i_row

    while s < t_end:
        delays.need(k)
        a = s + up[k]
        upto(find(t_list, a))
        caught[held >= before] = a_before
        caught[held >= appended] = a
        if isr.any() and a - caught[isr].min() >= half_lag:
            raise WindowRefused(
                f"an ISR follower fetching from {lz} in {fz} would not be caught up for "
                "replica.lag.time.max.ms / 2 (the ISR check could drop it)")
        before[:] = appended
        a_before = a
        if tracking:
            caught_hist.append(caught.copy())
        if (appended > held).any():
            r = a
        else:
            r = _long_poll(t_list, a, wait_max)
            upto(find(t_list, r))
        avail = appended - held
        has = avail > 0
        size = float(avail[has].sum())
        responses += 1
        if tracking:
            was = held[replay].sum()
        if size <= budget and (size <= cap or avail.max() <= cap):
            moved = np.flatnonzero(has)
            held[moved] = appended[moved]
            stamps[moved] = responses
        else:
            # no item takes more than one connection's budget (Replication._cut)
            order = np.argsort(stamps, kind="stable")  # ties: the item order
            take = np.where(has[order], np.minimum(avail[order], cap), 0.0)
            cum = np.cumsum(take)
            cut = int(np.searchsorted(cum, budget, side="left"))
            if cut < n:
                take[cut] = budget - (cum[cut - 1] if cut else 0.0)
                take[cut + 1:] = 0.0
                size = budget
            else:
                size = float(cum[-1])
            got = take > 0
            moved = order[got]
            held[moved] += take[got]
            stamps[moved] = responses + step * np.arange(1, len(moved) + 1)
        if len(moved):
            hist_k.append(np.full(len(moved), k, dtype=np.int64))
            hist_i.append(moved)
            hist_h.append(held[moved])
            hist_s.append(stamps[moved])
        if tracking:  # the hand-back bills its data bytes
            mine = float(held[replay].sum() - was)
            replayed.append(mine)
            others.append(size - mine)
        else:
            resp_bytes += size
        a_out.append(a)
        r_out.append(r)
        s = _arrival(r, down[k], size, full, rtt)
        q_out.append(s)
        k += 1
    carried = _carried(n, len(row_pid), e_row, e_item, e_bytes,
                       (hist_k, hist_i, hist_h), isr)
    if tracking and tracks is not None:
        def cat(x: list[np.ndarray], dtype: type) -> np.ndarray:
            return np.concatenate(x) if x else np.zeros(0, dtype=dtype)
        tracks[(lz, fz)] = Track(cat(hist_k, np.int64), cat(hist_i, np.int64),
                                 cat(hist_h, float), cat(hist_s, float),
                                 np.array(replayed), np.array(others),
                                 np.array(caught_hist).reshape(-1, n))
    bill(fz, lz, "replicate", float(req_size * k))
    bill(lz, fz, "replicate", resp_bytes + FETCH_REQUEST_BYTES * k)
    return np.array(a_out), np.array(r_out), np.array(q_out), carried


def _item_over(cap: float, carried: np.ndarray, row_bytes: np.ndarray,
               row_pid: np.ndarray | None, session: Session | None,
               sizes: np.ndarray) -> bool:
    """Whether a response of :func:`fetch_cycles` (``carried``: each row's cycle;
    ``sizes``: each response's data bytes) carries more than ``cap`` of one item: a
    partition is fetched over one connection, whose response carries at most its
    budget of it (``Replication._cut``). Without the pair's ``session`` (a mirror
    flow's target) a partition's copies in the pair count as one item, an upper bound;
    without ``row_pid``, a response past ``cap`` counts."""
    if not len(sizes) or sizes.max() <= cap:
        return False
    if row_pid is None:
        return True
    pids, local = np.unique(row_pid, return_inverse=True)
    if session is None:  # the items unknown: a partition's copies count as one item
        copies = np.ones(len(pids), dtype=np.int64)
    else:
        copies = np.bincount(
            np.searchsorted(pids, session.pids[np.isin(session.pids, pids)]),
            minlength=len(pids))
    # only the rows of responses past ``cap`` can make an item pass it
    sel = np.flatnonzero(carried >= 0)
    sel = sel[sizes[carried[sel]] > cap]
    _keys, of = np.unique(carried[sel] * len(pids) + local[sel], return_inverse=True)
    sums = np.bincount(of, weights=row_bytes[sel] / np.maximum(copies[local[sel]], 1))
    return bool(sums.max() > cap)


def _long_poll(t_list: list[float], a: float, wait_max: float) -> float:
    """When a fetch that found nothing new at ``a`` is answered: at the next append to
    one of the pair's partitions (``t_list``: their appends, sorted), or after
    ``replica.fetch.wait.max.ms``."""
    nxt = bisect_right(t_list, a)
    return t_list[nxt] if nxt < len(t_list) and t_list[nxt] <= a + wait_max else a + wait_max


def _arrival(r: float, one_way: float, size: float, full: float, rtt: float) -> float:
    """When a response of ``size`` bytes that left at ``r`` arrives: a one-way delay
    later, plus the TCP windows' wait beyond their ``full`` bytes."""
    return r + one_way + (window_delay(size, full, rtt, None) if size > full else 0.0)


def _carried(n: int, rows: int, e_row: np.ndarray, e_item: np.ndarray,
             e_bytes: np.ndarray,
             hist: tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]],
             isr: np.ndarray) -> np.ndarray:
    """Per row, the cycle after which every ISR item of its partition in the pair holds
    it (every item, where none is in the ISR; -1: not by the cycles' end), from each
    item's holdings after the cycles that moved it (``hist``: cycle, item, bytes held
    past the window's log end; ``isr``: per item). Bytes are whole numbers, exact in
    floats."""
    out = np.full(rows, -1, dtype=np.int64)
    if not len(e_row):
        return out
    hk, hi, hh = (np.concatenate(x) if x else np.zeros(0) for x in hist)
    by_item = np.argsort(hi, kind="stable")
    bounds = np.searchsorted(hi[by_item], np.arange(n + 1))
    e_order = np.argsort(e_item, kind="stable")
    e_bounds = np.searchsorted(e_item[e_order], np.arange(n + 1))
    when = np.full(len(e_row), -1, dtype=np.int64)
    for i in range(n):
        es = e_order[e_bounds[i]:e_bounds[i + 1]]
        if not len(es):
            continue
        sel = by_item[bounds[i]:bounds[i + 1]]
        ends = np.cumsum(e_bytes[es])  # the window's bytes up to each row's end
        j = np.searchsorted(hh[sel], ends - 0.5, side="left")
        ok = j < len(sel)
        when[es[ok]] = hk[sel][j[ok]].astype(np.int64)
    never = np.iinfo(np.int64).max
    late = np.where(when < 0, never, when)
    # a row's commit waits for the ISR followers of its partition in the pair only; a
    # row with none there (an observer's, or a follower's catching up) is at the
    # follower zone when all of them hold it
    in_isr = isr[e_item]
    worst = np.full(rows, -1, dtype=np.int64)
    np.maximum.at(worst, e_row[in_isr], late[in_isr])
    rest = np.zeros(rows, dtype=bool)
    rest[e_row] = True
    rest[e_row[in_isr]] = False
    sel = np.flatnonzero(rest[e_row])
    np.maximum.at(worst, e_row[sel], late[sel])
    has = worst >= 0
    out[has] = np.where(worst[has] == never, -1, worst[has])
    return out


__all__ = ["Delays", "Track", "fetch_cycles", "session_cycles"]
