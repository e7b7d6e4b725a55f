"""Stage 1 of a window: the producers' cuts and their produce requests.

At each send tick each fleet cuts the records its share of the offered load accumulated
for each leader zone since its cursor, whole records only (the fraction waits: a
running floor of the cumulative count, with ``WHOLE_RECORD_SLACK`` for the load curve's
float error), into rows of at most one producer batch (n x ``batch.size``), each for the
next partition of the fleet's rotation (a partition the fleet skips, waiting on an old
leader, gives its turn to the next one). A tick's rows are one produce request, which
arrives a one-way delay later, in order per connection; where a skipped partition makes
a partition repeat, a new request starts at each row whose partition is already in the
current one (``ProducerFleet.drain``). The request cap is checked per tick, and a tick
whose rows wrap the rotation is refused.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from geosim.clients.send_buffer import WHOLE_RECORD_SLACK
from geosim.kafka.window.order import time_then_key_order
from geosim.kafka.window.wiring import Draws, WindowRefused, Wiring

#: The per-row columns :func:`cut_sends` returns.
COLUMNS = ("partition", "fleet", "records", "bytes", "first", "last", "arrival", "lz",
           "sent", "target")


def cut_sends(w: Wiring, draws: Draws, t0: float, t1: float,
              bill: Callable[[str, str, str, float], None]) -> dict[str, np.ndarray] | None:
    """Every row sent at the ticks after ``t0`` up to ``t1``, as columns in append
    order (arrival, then partition): its partition, fleet, records, compressed bytes,
    send window (first, last), arrival at the leader, leader zone code
    (:meth:`Wiring.leader_zones`), send tick and :attr:`Wiring.targets` index. None
    if nothing is sent."""
    ticks = t0 + w.tick * np.arange(1, int(math.floor((t1 - t0) / w.tick + 1e-9)) + 1)
    cols: dict[str, list[np.ndarray]] = {k: [] for k in COLUMNS}
    lz_names = w.leader_zones()
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
        index = (tg.next_row + np.arange(n_rows)) % len(plist)
        if tg.skip:
            index = _free_at_or_after(tg.partitions, tg.skip)[index]
        partition = plist[index]
        if (parts > len(plist)).any():
            raise WindowRefused("a tick's rows wrap the fleet's rotation (one request each)")
        tick_bytes = np.bincount(tick_of_row, weights=compressed, minlength=len(ticks))
        if tg.cap and (tick_bytes > tg.cap).any():
            raise WindowRefused("a tick's rows exceed the request cap (one request each)")
        if tg.skip:
            # a skipped partition's rows go to the next free one, so a tick may hold
            # two rows of a partition: a row whose partition the request holds starts
            # a new one (ProducerFleet.drain), which has a one-way delay of its own
            new = _request_starts(partition, tick_of_row, index)
            starts_at = np.flatnonzero(new)
            delay = draws.one_way(tg.zone, tg.leader_zone, len(starts_at))
            arrival = np.maximum.accumulate(ticks[tick_of_row[starts_at]] + delay)
            arrival_of_row = arrival[np.cumsum(new) - 1]
        else:
            # one request per tick with rows: its one-way delay, in order per connection
            sent = np.flatnonzero(keep)
            delay = draws.one_way(tg.zone, tg.leader_zone, len(sent))
            arrival = np.maximum.accumulate(ticks[sent] + delay)
            arrival_of_tick = np.zeros(len(ticks))
            arrival_of_tick[sent] = arrival
            arrival_of_row = arrival_of_tick[tick_of_row]
        bill(tg.zone, tg.leader_zone, "produce", float(tick_bytes.sum()))
        cols["partition"].append(partition)
        cols["fleet"].append(np.full(n_rows, tg.fleet))
        cols["records"].append(row_records)
        cols["bytes"].append(compressed)
        cols["first"].append(starts[tick_of_row] - fl.accumulation)
        cols["last"].append(ends[tick_of_row])
        cols["arrival"].append(arrival_of_row)
        cols["lz"].append(np.full(n_rows, lz_index[tg.leader_zone]))
        cols["sent"].append(ticks[tick_of_row])
        cols["target"].append(np.full(n_rows, ti))
    if not cols["partition"]:
        return None
    col = {k: np.concatenate(v) for k, v in cols.items()}
    order = time_then_key_order(col["arrival"], col["partition"])  # appends' order
    return {k: v[order] for k, v in col.items()}


def _request_starts(partition: np.ndarray, tick_of_row: np.ndarray,
                    index: np.ndarray) -> np.ndarray:
    """Which rows start a request: a tick's first, and one whose partition is already
    in the request (``ProducerFleet.drain``). ``index``: each row's place in the
    rotation; it rises within a tick but where the tick comes round, so elsewhere a
    repeat can only follow its twin."""
    same_tick = tick_of_row[1:] == tick_of_row[:-1]
    new = np.r_[True, ~same_tick | (partition[1:] == partition[:-1])]
    came_round = np.unique(tick_of_row[1:][same_tick & (index[1:] < index[:-1])])
    for tick in came_round.tolist():  # drain's rule, row by row, in those ticks only
        lo, hi = np.searchsorted(tick_of_row, [tick, tick + 1])
        seen: set[int] = set()
        for i in range(int(lo), int(hi)):
            p = int(partition[i])
            if new[i] or p in seen:
                new[i] = True
                seen = set()
            seen.add(p)
    return new


def _free_at_or_after(partitions: list[int], skip: frozenset[int]) -> np.ndarray:
    """For each index of a fleet's rotation over ``partitions``, the index of the
    partition its row goes to: itself, or if skipped the next one not skipped, going
    round (``Rotation.choose``)."""
    free = np.flatnonzero([p not in skip for p in partitions])
    n = len(partitions)
    return free[np.searchsorted(free, np.arange(n)) % len(free)]


__all__ = ["COLUMNS", "cut_sends"]
