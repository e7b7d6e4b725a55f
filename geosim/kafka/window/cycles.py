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

from geosim.kafka.window.wiring import Draws, Wiring
from geosim.kafka.wire import FETCH_PARTITION_BYTES, FETCH_REQUEST_BYTES
from geosim.world.network import window_delay


def fetch_cycles(w: Wiring, draws: Draws, lz: str, fz: str, times: np.ndarray,
                 row_bytes: np.ndarray, item_of_row: np.ndarray, items: int,
                 connections: int, t0: float, t_end: float,
                 bill: Callable[[str, str, str, float], None],
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
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
    # While no response is cut short, cycle k carries rows [covered before it, ends[k])
    # (written to ``carried`` at the end, in one pass).
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
        first_missing = covered if per_item is None else earliest
        if first_missing < m and t_list[first_missing] <= a:
            r = a  # the leader has data for the follower: it answers at once
        else:
            nxt = find(t_list, a)
            r = t_list[nxt] if nxt < m and t_list[nxt] <= a + wait_max else a + wait_max
        at_r = find(t_list, r)
        size = 0.0
        if per_item is None:
            size = cb[at_r] - cb[covered]
            if size <= budget:
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
                avail = find(rows_i, at_r - 1)  # its rows appended by r
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
    # the rows each cycle brought into the prefix (a cycle cut short brings none: its
    # rows were written item by item, and the prefix moves at the one that catches up)
    bounds = np.array(ends, dtype=np.int64)
    starts = np.concatenate(([0], bounds[:-1]))
    gained = bounds - starts
    into = gained > 0
    if into.any():
        g = gained[into]
        rows = np.repeat(starts[into] - np.concatenate(([0], np.cumsum(g)[:-1])), g) \
            + np.arange(int(g.sum()))
        fresh = carried[rows] < 0
        carried[rows[fresh]] = np.repeat(np.flatnonzero(into), g)[fresh]
    req_bytes = float(req_size * k)
    resp_bytes += FETCH_REQUEST_BYTES * k
    bill(fz, lz, "replicate", req_bytes)
    bill(lz, fz, "replicate", resp_bytes)
    return np.array(a_out), np.array(r_out), np.array(q_out), carried


__all__ = ["fetch_cycles"]
