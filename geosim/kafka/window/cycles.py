"""Stage 3 of a window: one fetch pair's cycles, one Python step per cycle.

A fetch pair (one follower zone fetching from one leader zone) runs back-to-back
cycles: the request reaches the leader; if anything of the pair's partitions was
appended beyond the follower's log end the response leaves at once, else at the next
append to one of them or after ``replica.fetch.wait.max.ms``; it carries everything
appended up to then, item by item within ``replica.fetch.response.max.bytes`` per
broker connection, and arrives a one-way delay later plus the TCP windows' wait; the
next request leaves then. The event engine's loop is
:meth:`geosim.kafka.replication.Replication._fetch_loop`.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable

import numpy as np

from geosim.kafka.window.wiring import Draws, WindowRefused, Wiring
from geosim.kafka.wire import FETCH_PARTITION_BYTES, FETCH_REQUEST_BYTES
from geosim.world.network import window_delay


def fetch_cycles(w: Wiring, draws: Draws, lz: str, fz: str, times: np.ndarray,
                 row_bytes: np.ndarray, items: int, connections: int, t0: float,
                 t_end: float, bill: Callable[[str, str, str, float], None],
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One fetch pair's cycles from ``t0`` to ``t_end``: per cycle the request's
    arrival at the leader, the response's departure and its arrival; and per row of the
    pair's partitions (``times``: their appends, sorted; ``items``: how many partitions
    a request lists) the cycle whose response carried it (-1: none).

    A response carries everything appended to the pair's partitions up to its
    departure, so the follower holds a prefix of the pair's appends (one index). A
    response whose data would pass ``replica.fetch.response.max.bytes`` x connections
    is filled in the fetch session's order, part of a row at a time
    (``Replication._cut``); the kernel does not model that and refuses the window
    (:class:`WindowRefused`), which the event engine then runs."""
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
            up.extend(draws.one_way(fz, lz, block).tolist())
            down.extend(draws.one_way(lz, fz, block).tolist())
        a = s + up[k]
        if covered < m and t_list[covered] <= a:
            r = a  # the leader has data for the follower: it answers at once
        else:
            nxt = find(t_list, a)
            r = t_list[nxt] if nxt < m and t_list[nxt] <= a + wait_max else a + wait_max
        at_r = find(t_list, r)
        size = cb[at_r] - cb[covered]
        if size > budget:
            raise WindowRefused(
                f"a fetch response from {lz} to {fz} would pass "
                "replica.fetch.response.max.bytes per connection (filled part of a row "
                "at a time in the fetch session's order, which the kernel does not model)")
        covered = at_r
        ends.append(covered)
        q = r + down[k]
        if size > full:
            q += window_delay(size, full, rtt, None)
        resp_bytes += size
        a_out.append(a)
        r_out.append(r)
        q_out.append(q)
        s = q
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
    req_bytes = float(req_size * k)
    resp_bytes += FETCH_REQUEST_BYTES * k
    bill(fz, lz, "replicate", req_bytes)
    bill(lz, fz, "replicate", resp_bytes)
    return np.array(a_out), np.array(r_out), np.array(q_out), carried


__all__ = ["fetch_cycles"]
