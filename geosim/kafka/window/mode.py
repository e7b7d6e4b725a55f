"""The window engine as a run mode (``simulation.engine: window``).

The event engine runs the warmup, every fault and the time around it; between them,
once the cluster is quiet, it hands the data path to the kernel
(:func:`~geosim.kafka.window.kernel.run_window`) and takes it back before the next
disturbance. One window, from a send tick ``s`` to a later one ``b``:

1. **Hand-over.** The send clock stops cutting at ``s`` (the producers' records wait in
   their buffers); the rows already sent complete under the event engine (their
   appends, replication, acknowledgements and deliveries; the followers' long polls
   end as the appends held back would end them, :func:`drain`), so the pipes are empty
   when the kernel starts from the cluster's wiring, as it assumes. The kernel computes
   every row the producers would have sent from ``s`` to ``b`` (exclusive), as of
   their own times.
2. **While it runs** the event engine goes on with everything but the data path: the
   fetch loops wait (nothing is appended) and the ISR check passes (the kernel's
   followers are caught up), heartbeats, sessions, offset commits and the controller
   run as ever, and once a bin the fleets' counts move with the records the kernel
   handed out, so the buffers and the offered, accepted and backlog series are as if
   the producers had cut them.
3. **Hand-back** at ``b``, by the send clock before it cuts: the kernel's rows join
   the log (each fleet's rows of a partition as one row standing for them, appended at
   the last one's time), every live replica holds them and the HW passes them, the
   consumer zones see what the kernel has them see by then and the groups' positions
   move past it (the rows a zone sees later stay one by one, and the read path shows
   them at the kernel's times); the fleets' cursors, rotations and sequence numbers
   continue after them. The kernel's acknowledgements, and its deliveries by then, go to
   the metrics in bulk (:class:`WindowAcked`, :class:`WindowDelivered`), its bytes to the
   network's counters. The send clock then cuts again from where the kernel stopped.

A window needs a quiet cluster: no link degraded or cut; every broker that is up
unfenced, and every one that is down (a zone or region outage, a crash) leading nothing
and in no ISR; every sync replica of a live broker in its ISR or catching up to it
(its pair then taken item by item, the kernel making its return to the ISR, or
handing back before it where it does not model it: :mod:`geosim.kafka.window.catchup`;
inside a window that ends before the controller's next preferred-leader pass, which
reads the ISRs); no fetch pair waiting out a lost request's socket
timeout; no row uncommitted for over ``ACK_WAIT``; no log growing back over
offsets a truncation took back while the producers send to it; no producer retry or
backlog; no rebalance under way or being prepared, and every partition owned by a live
member (inside a fault, by a member the fault took down, whose partitions no one reads
until its session ends: the window ends ``MARGIN`` before that, as before a fault; a
cooperative group counts as rebalancing from the member's death); and no zone
that is down on the data path it computes. Windows run from the start of the run, the
warmup's end a bound (the bill reads the counters there; a window ends
``BEFORE_BILL_READ`` before it, as before the end of production, where it reads them
again; what the kernel follows of its rows past the run's end, with a drain shorter
than ``TAIL``, is not reported), and inside faults once the cluster they leave settles
(:func:`spans`). A window ends ``MARGIN`` before a fault and before a fault's end, so
a fault always meets the event engine's own pipes; before a fault that may stop a broker
(any but those in ``STOP_NO_BROKER``, such as a partition or a brownout), the
hand-back keeps the rows appended within ``page_cache_flush_age`` of its start one by
one, at their own append times, so that an unclean stop loses what it would have (the
rows standing for the rest of the window are older than the flush age); a long span is
several windows of at most ``MAX_WINDOW``. A span where the cluster never becomes
quiet, or that the kernel refuses (:class:`WindowRefused`), stays in events;
:attr:`WindowMode.log` says what ran and why not, and the run's ``run-info.json``
carries it.
"""

from __future__ import annotations

import math
import time
from bisect import bisect_right
from typing import TYPE_CHECKING, Any

import numpy as np

from geosim.core.events import (
    Delivered,
    ProduceAcked,
    Row,
    WindowAcked,
    WindowDelivered,
)
from geosim.kafka.window.catchup import (
    behind_as_of,
    committed_by,
    hand_back_tracked,
    tracked_followers,
    tracked_inside,
)
from geosim.kafka.window.cluster_state import (
    drain,
    drained,
    live_fleets,
    pass_due,
    replicas_not_quiet,
    replicated,
    show_window,
    unseen,
    without_bulk_form,
)
from geosim.kafka.window.kernel import WindowResult, run_window
from geosim.kafka.window.order import groups, stable_int_order, time_then_key_order
from geosim.kafka.window.spans import BEFORE_BILL_READ, MARGIN, MIN_WINDOW, spans
from geosim.kafka.window.wiring import WindowRefused, Wiring, sessions_of
from geosim.world.faults import fault_window

if TYPE_CHECKING:
    from geosim.kafka.cluster import KafkaCluster

#: The longest window (s): a window's arrays grow with its rows, so a long steady state
#: is several windows in a row (a hand-over costs a drain, a fraction of a second in
#: events), and memory stays flat in simulated time.
MAX_WINDOW = 60.0
#: Faults that stop no broker: a hand-back before them may stand for all its rows
#: (before the others, which may stop a broker uncleanly and lose what its page cache
#: held, it keeps the rows appended within the flush age one by one).
STOP_NO_BROKER = frozenset({"partition", "brownout", "object-store-slowdown",
                            "replication-pause", "client-crash", "connect-worker-crash"})
#: How often a cluster that is not quiet is looked at again (s).
RETRY = 1.0
#: How long the rows in flight at a hand-over may take to complete (s); a cluster whose
#: rows take longer stays in events.
DRAIN_LIMIT = 5.0
#: The longest a row may have waited for its HW when a hand-over starts (s): longer,
#: and its drain may not complete within DRAIN_LIMIT.
ACK_WAIT = 0.5
#: The longest window while followers catch up out of their ISRs (s): the kernel's
#: work on their pairs grows with the window it computes.
MAX_BEHIND_WINDOW = 10.0
#: How far past its last send the kernel follows its rows (s).
TAIL = 10.0
#: How often a running window looks for a change of what it assumes (s).
WATCH = 0.05


class WindowMode:
    """Hands one cluster's steady states to the window engine (module docstring)."""

    #: Whether windows run in the warmup too (:func:`spans`' ``from_start``).
    FROM_START = True
    #: Whether windows run inside a fault once the cluster it leaves settles (the
    #: brokers and clients of the zones or regions down out of the data path).
    INSIDE_FAULTS = True
    #: Whether a hand-back keeps the rows within the flush age of a fault that may
    #: stop a broker one by one (else the window ends the flush age earlier).
    SINGLE_ROWS = True
    #: Whether windows run while sync replicas catch up out of their ISRs (the kernel
    #: takes their pairs item by item, geosim.kafka.window.catchup).
    BEHIND = True

    def __init__(self, cluster: KafkaCluster, *, settle: float = 0.0,
                 bounds: tuple[float, ...] = ()):
        """``settle``: how long before a fault the event engine must have run, beyond
        ``MARGIN``; ``bounds``: instants other than faults that end a span (a planned
        migration), with ``MARGIN`` plus the longer of ``settle`` and the page-cache
        flush age."""
        self.cluster = cluster
        self.env = cluster.env
        scenario = cluster.world.scenario
        sim = scenario.simulation
        flush = cluster.spec.page_cache_flush_age
        faults = [fault_window(f) for f in scenario.faults] + [(t, t + 1e-9) for t in bounds]
        # Before a fault that may stop a broker, the hand-back keeps the rows a stop
        # would find unflushed as the kernel made them (:meth:`_hand_back`), so the
        # fault needs only MARGIN, like the others; a mode that keeps no single rows
        # (SINGLE_ROWS) ends its windows the flush age earlier instead.
        stops_broker = [f.kind not in STOP_NO_BROKER for f in scenario.faults]
        margins = [MARGIN + (settle if self.SINGLE_ROWS or not stops else max(settle, flush))
                   for stops in stops_broker] + [MARGIN + max(settle, flush)] * len(bounds)
        #: When a fault that may stop a broker starts: the page cache's flush age
        #: before it, a hand-back keeps each row of the kernel with its own append time.
        self.stops = sorted(f.at for f, stops in zip(scenario.faults, stops_broker,
                                                     strict=True) if stops) \
            if self.SINGLE_ROWS else []
        self.flush_age = flush
        self.spans = spans(sim.warmup, faults, sim.duration, from_start=self.FROM_START,
                           inside=self.INSIDE_FAULTS, margins=margins)
        #: The run's end: the kernel follows a window's rows for up to TAIL past its
        #: last send, and what it has happen after the end (a drain shorter than TAIL)
        #: is not reported, as the event engine's run would not have got there.
        self.run_end = sim.end
        self._seeds = cluster.ctx.rng(f"{cluster.name}.window")
        #: At a hand-over: the sessions (followers catching up as they were) and the
        #: leaders and brokers, read before its drain.
        self._before: dict | None = None
        self._leaders_at: tuple = ()
        #: What ran: {"start", "end", "rows", "records"} per window, and
        #: {"at", "stayed in events"} for each span or attempt that did not.
        self.log: list[dict] = []

    def start(self) -> None:
        self.env.process(self._run())

    # ================================================================== the process
    def _run(self):
        env = self.env
        if not self.spans:
            self.log.append({"at": round(env.now, 6), "stayed in events": (
                f"no span of {MIN_WINDOW:g} s or more between the warmup, the faults "
                "less their margins and the end of production")})
        for lo, hi in self.spans:
            if env.now < lo:
                yield env.timeout(lo - env.now)
            said = None
            while hi - env.now >= MIN_WINDOW:
                why = self._not_quiet()
                if why is None:
                    why = yield from self._window(hi)
                    if why is None:
                        said = None
                        continue  # the span goes on if the window was cut short
                kind = why.split(":")[0]
                if kind != said:  # once per reason, not per partition or attempt
                    self.log.append({"at": round(env.now, 6), "stayed in events": why})
                    said = kind
                yield env.timeout(RETRY)

    def _not_quiet(self) -> str | None:
        """Why the cluster is not in a steady state a window can take over, if so."""
        c = self.cluster
        inside = self.INSIDE_FAULTS
        if c.net.links_impaired or (c.net.impaired and not inside):
            return "a link is degraded or cut"
        sent_to = frozenset().union(*(f.window_free() for f in live_fleets(c)))
        why = replicas_not_quiet(c, dead=inside, sent_to=sent_to, behind=self.BEHIND)
        if why is not None:
            return why
        behind = c.produce.last_tick - 2 * c.send_tick
        env_now = self.env.now
        for fleet in c.producing:
            if not fleet.alive and inside:
                continue  # down with its zone: it offers nothing until it restarts
            if not fleet.alive or fleet.pending_retries:
                return f"a producer fleet is down or retrying: {fleet.id} first"
            for target in c.zone_index.values():
                share, _parts, _next, cursor, _cap, _window = fleet.target_state(target)
                if share > 0 and cursor is not None and cursor < behind:
                    return f"a producer fleet is behind its load: {fleet.id} first"
        # A hand-over waits for the rows in flight to be acknowledged, the producers'
        # records held back meanwhile (a cancelled one holds them back for nothing, and
        # the kernel's first rows would not queue behind them): not while rows wait
        # longer than ACK_WAIT for their HW (an ISR follower served behind followers
        # catching up in its fetch session).
        oldest = min((p.times[bisect_right(p.ends, p.hw)] for p in c.parts
                      if p.hw < p.log_end and p.times), default=env_now)
        if env_now - oldest > ACK_WAIT:
            return (f"the high watermarks of {c.name} lag: a row appended "
                    f"{env_now - oldest:.1f} s ago is not yet committed")
        for group in c.groups:
            if group.in_rebalance or not (inside or all(m.alive for m in group.members)):
                return f"a consumer group is rebalancing: {group.id} first"
            # Inside a fault, a partition whose owner is down with its zone is read by
            # no one until the group's session timeout reassigns it (which ends the
            # window): the kernel reads it nowhere, as the event engine would not.
            for state in group.partitions:
                owner = state.owner
                if owner is None or not (inside or group.members[owner].alive):
                    return ("a consumer group has a partition without a live owner: "
                            f"group {group.id} first")
        return without_bulk_form(c.ctx.recorder, ((ProduceAcked, WindowAcked),
                                                  (Delivered, WindowDelivered)))

    def _drained(self) -> bool:
        """Whether every row sent before the hand-over completed (:func:`drained`)."""
        return drained(self.cluster)

    def _held_appends(self, wiring: Any) -> list[tuple[KafkaCluster, frozenset[str]]]:
        """Where the appends a hand-over holds back land: (cluster, leader zones)."""
        return [(self.cluster, frozenset(t.leader_zone for t in wiring.targets))]

    def _window(self, hi: float):
        """One window ending before ``hi``; returns why not, or None once it ran."""
        env = self.env
        c = self.cluster
        produce = c.produce
        # A silent member's session ending inside the window would have the group
        # revoke and reassign partitions the kernel is delivering (members learn of the
        # rebalance at their next heartbeat, before the next send tick): the window
        # ends MARGIN before the first such expiry, which the event engine then meets.
        expiries = [t for g in c.groups if (t := g.next_session_expiry()) is not None]
        hi = min([hi, *(t - MARGIN for t in expiries)])
        if hi - env.now < MIN_WINDOW:
            return "too short a span"  # known before the producers stop cutting
        try:
            wiring = self._wiring()
        except WindowRefused as refused:
            return str(refused)
        hi = min(hi, pass_due(c, wiring.sessions))
        if hi - env.now < MIN_WINDOW:
            return "too short a span before the controller's preferred-leader pass"
        state = self._state()
        self._leaders_at = self._leaders()
        self._before = wiring.sessions if self.BEHIND else None  # (read just now)
        s = produce.suspend()
        began = env.now
        cpu = time.process_time()
        if not (yield from drain(env, DRAIN_LIMIT, self._drained,
                                 self._held_appends(wiring))):
            produce.cancel_suspension()
            return f"the rows in flight did not complete within {DRAIN_LIMIT:g} s"
        drained_at = env.now
        if self._state() != state:
            # What the wiring and the quiet check read changed while the rows in flight
            # completed. A follower that rejoined its ISR leaves a steady state the
            # kernel takes from the window's start as well (its rows meet the new ISR a
            # drain early) rather than the producers' records waiting out a cancelled
            # hand-over; anything else (a session expired, a leader moved) is not quiet.
            rejoined = self._rejoin_only(state)
            if rejoined is not None:
                wiring = rejoined
            else:
                produce.cancel_suspension()
                return "the cluster or a group changed during the hand-over"
        tick = c.send_tick
        # the fetch sessions after the drain, the followers catching up as before it
        wiring.sessions = sessions_of(c)
        if self._before is not None:
            wiring.sessions = behind_as_of(wiring.sessions, self._before)
        behind = any(ses.behind.any() for ses in
                     (*wiring.sessions.values(), *(self._before or {}).values()))
        longest = MAX_BEHIND_WINDOW if behind else MAX_WINDOW
        hi = min(hi, pass_due(c, wiring.sessions))
        b = s + math.floor((min(hi, s + longest) - s) / tick + 1e-9) * tick
        why = None
        if b <= env.now:
            # (long enough before the drain: a cancelled hand-over would hold records back)
            why = "too short a span"
        else:
            try:
                result, extra = self._compute(wiring, s, b - tick / 2)
            except WindowRefused as refused:
                why = str(refused)
        rejoin = None if why is not None else result.rejoin_at
        shortened = rejoin is not None and rejoin < b
        if rejoin is not None and shortened:
            # A follower whose return the kernel does not model would rejoin its ISR:
            # hand back the send tick before its fetch reaches the leader (the event
            # engine makes the change), however short the window.
            b = s + (math.ceil((rejoin - s) / tick - 1e-9) - 1) * tick
            if b <= env.now:
                # it rejoins while the rows in flight drained: hand back at once (a
                # cancelled hand-over would hold the producers' records back for it)
                b = s + (math.floor((env.now - s) / tick + 1e-9) + 1) * tick
        if why is not None:
            produce.cancel_suspension()
            return why
        self._park()
        taken = {f.id: f.taken for f in live_fleets(c)}
        entry: dict = {"start": round(s, 6), "end": round(b, 6), "cpu": cpu,
                       "computed": env.now, "drained_in": round(drained_at - began, 3)}
        self.log.append(entry)
        if shortened:
            entry["until"] = "a follower's return to its ISR"
        produce.resume_at(b, lambda: self._hand_back(wiring, result, extra, taken, entry))
        yield from self._progress(result, taken, s, b)
        if shortened and rejoin is not None:
            # it rejoins in events: the next window starts RETRY after (others too)
            yield env.timeout(max(rejoin - env.now, 0.0) + RETRY)
        return None

    # ======================================================================= hooks
    def _wiring(self) -> Any:
        """What the window reads of the engine, at the hand-over."""
        return Wiring.of(self.cluster)

    def _compute(self, wiring: Any, s: float, t1: float) -> tuple[WindowResult, Any]:
        """The kernel's window from ``s`` for rows sent before ``t1``, and what else the
        engine computes over it (None here); refuses one whose rows do not all complete
        within its tail."""
        result = run_window(wiring, s, t1, seed=int(self._seeds.integers(2**62)),
                            tail=TAIL, histograms=False)
        if result.records_acked < result.records_sent:
            raise WindowRefused("the kernel's rows did not all complete within its tail")
        return result, None

    def _handed_back(self, wiring: Any, result: WindowResult, extra: Any,
                     keep: np.ndarray, share: float, appended: list[Row]) -> None:
        """What else joins the engine's state at the hand-back, after the cluster's
        (``keep``: the kernel's rows kept; ``share``: their part of its bytes;
        ``appended``: the rows standing for them, in the log)."""

    def _park(self) -> None:
        """The event engine's data path waits while the window runs, and the fleets'
        records are the kernel's to hand out."""
        self.cluster.replication.park()
        for fleet in live_fleets(self.cluster):
            fleet.window_hold()

    def _rejoin_only(self, state: tuple) -> Any:
        """If what changed since ``state`` (:meth:`_state`, read at the hand-over) is
        only the replication's generation (ISR changes: the leaders, the brokers, the
        links, the fleets and the groups as they were) and the cluster is still quiet:
        its wiring now; else None."""
        now = self._state()
        if not self.BEHIND or now[1:] != state[1:] or self._leaders() != self._leaders_at:
            return None
        if self._not_quiet() is not None:
            return None
        try:
            return self._wiring()
        except WindowRefused:
            return None

    def _leaders(self) -> tuple:
        c = self.cluster
        return (tuple(p.leader for p in c.parts),
                tuple((b.alive, b.fenced) for b in c.brokers))

    def _state(self) -> tuple:
        """What a window's wiring assumes stays as it was: any change of it (an election,
        an ISR change, a fence, a rebalance, a client's crash, a link's state) ends the
        window at the next send tick."""
        c = self.cluster
        return (c.replication.generation, c.net.fault_state(),
                tuple((f.alive, f.window_waits(), f.pending_retries)
                      for f in c.producing),
                tuple((g.generation, g.in_rebalance, tuple(m.alive for m in g.members))
                      for g in c.groups))

    def _progress(self, result: WindowResult, taken: dict[int, int], s: float, b: float):
        """Until the hand-back: once a bin each fleet's counts as of the records the
        kernel handed out by then, and every ``WATCH`` seconds a look for a change of
        what the window assumes (:meth:`_state`), which moves the hand-back to the next
        send tick."""
        env = self.env
        produce = self.cluster.produce
        tick = self.cluster.send_tick
        state = self._state()
        fleets = {f.id: f for f in live_fleets(self.cluster)}
        assert result.row_sent is not None and result.row_fleet is not None
        assert result.row_records is not None
        per_fleet = {}
        by_fleet, bounds = groups(result.row_fleet, max(fleets, default=-1) + 1)
        for fid in fleets:
            sel = by_fleet[bounds[fid]:bounds[fid + 1]]
            order = np.argsort(result.row_sent[sel], kind="stable")
            per_fleet[fid] = (result.row_sent[sel][order],
                              np.cumsum(result.row_records[sel][order]))
        step = self.cluster.world.scenario.simulation.bin
        next_report = env.now + step
        while produce.suspended:
            yield env.timeout(WATCH)
            if not produce.suspended:
                break  # handed back meanwhile: the fleets count their own cuts again
            now = env.now
            if now >= next_report:
                next_report += step
                for fid, (sent, cum) in per_fleet.items():
                    i = int(np.searchsorted(sent, now, side="right"))
                    fleets[fid].window_progress(taken[fid] + (int(cum[i - 1]) if i else 0))
            resume_at = produce.resuming_at
            if resume_at is not None and resume_at - now > tick and self._state() != state:
                produce.resume_at(s + (math.floor((now - s) / tick + 1e-9) + 1) * tick)

    # ==================================================================== hand-back
    def _hand_back(self, wiring: Any, result: WindowResult, extra: Any,
                   taken: dict[int, int], entry: dict) -> None:
        """The kernel's window joins the cluster's state (module docstring, step 3), up
        to this send tick: a window cut short (:meth:`_progress`) keeps the rows sent
        before it and its bytes in proportion."""
        c = self.cluster
        now = self.env.now
        assert result.row_partition is not None and result.row_fleet is not None
        assert result.row_records is not None and result.row_first is not None
        assert result.row_last is not None and result.row_acked is not None
        assert result.row_arrival is not None and result.row_sent is not None
        assert result.row_target is not None
        keep = result.row_sent < now - c.send_tick / 2
        if entry["end"] > now + 1e-6:
            entry["end"] = round(now, 6)
            entry["cut short"] = "the cluster or a group changed"
        entry["rows"] = int(keep.sum())
        entry["records"] = int(result.row_records[keep].sum())
        share = entry["records"] / max(result.records_sent, 1)
        fleets = {f.id: f for f in live_fleets(c)}
        part, fleet = result.row_partition, result.row_fleet
        rows_by_fleet: dict[int, list[Row]] = {fid: [] for fid in fleets}
        appended_at: list[float] = []
        new_rows: list[Row] = []
        kept = np.flatnonzero(keep)
        # A broker stopped uncleanly loses what it appended within the page cache's
        # flush age (geosim.kafka.faults): rows appended that close to the next fault
        # that may stop one join the log one by one at their own append times, in
        # append order after the rows standing for the rest of the window.
        stop = next((t for t in self.stops if t >= now), math.inf)
        late = result.row_arrival[kept] >= stop - self.flush_age
        if self.SINGLE_ROWS:
            # So do the rows a zone that reads them sees only after the hand-back: the
            # read path shows them at the kernel's times (show_window).
            late |= unseen(wiring.reads, part, result.deliveries, now)[kept]
        inside = tracked_inside(wiring, result.tracked, now)
        if inside:
            # and the rows of a partition a follower catching up holds some of: its log
            # end and its part of a row fall on them (hand_back_tracked)
            late |= np.isin(part[kept], np.fromiter(inside, dtype=np.int64))
        singles = kept[late]
        kept = kept[~late]
        # one row per (partition, fleet), in that order
        key = part[kept] * (max(fleets, default=-1) + 1) + fleet[kept]
        by_key = stable_int_order(key)
        order, key = kept[by_key], key[by_key]
        if len(order):
            starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
            records = np.add.reduceat(result.row_records[order], starts)
            first = np.minimum.reduceat(result.row_first[order], starts)
            last = np.maximum.reduceat(result.row_last[order], starts)
            acked = np.maximum.reduceat(result.row_acked[order], starts)
            arrived = np.maximum.reduceat(result.row_arrival[order], starts)
            for j, i0 in enumerate(starts.tolist()):
                i = order[i0]
                row = fleets[int(fleet[i])].window_row(
                    int(part[i]), int(records[j]), float(first[j]), float(last[j]),
                    float(acked[j]))
                new_rows.append(row)
                appended_at.append(float(arrived[j]))
        if len(singles):
            arrival = result.row_arrival
            singles = singles[time_then_key_order(arrival[singles], fleet[singles])]
            for i in singles.tolist():
                new_rows.append(fleets[int(fleet[i])].window_row(
                    int(part[i]), int(result.row_records[i]), float(result.row_first[i]),
                    float(result.row_last[i]), float(result.row_acked[i])))
                appended_at.append(float(arrival[i]))
        appended, rejected, duplicates = c.log.append(new_rows)
        if rejected or duplicates:
            raise RuntimeError("window engine: a row standing for the window was refused "
                               "by the log's sequence checks")
        parts = c.parts
        touched: dict[int, None] = {}
        for row, t in zip(appended, appended_at, strict=True):
            p = parts[row.partition]
            # A partition's append times stay in order (the page cache's flush point is
            # a bisection of them): a row the kernel has arriving after the hand-back
            # joins the log at it, before the event engine's next appends, and the rows
            # of two fleets standing for a window keep their order.
            if t > now:
                t = now
            times = p.times
            if times and t < times[-1]:
                t = times[-1]
            p.append(row, t)
            for group in c.groups:
                group.appended(row, -1)
            rows_by_fleet[row.fleet].append(row)
            touched[row.partition] = None
        replicated(c, now, tracked_followers(wiring, result.tracked))
        if result.tracked:
            entry["joins"] = hand_back_tracked(
                c, wiring, result.tracked, committed_by(wiring, result, keep),
                entry["computed"], now, result.joins)
        show_window(c, wiring.reads, result.deliveries, len(part), singles,
                    appended[len(appended) - len(singles):], list(touched), now)
        by_group: dict[tuple[int, str], list[Row]] = {}
        for group in c.groups:
            for pid in touched:
                took = group.take_readable(pid)
                if took is not None:
                    by_group.setdefault((group.id, took[0]), []).extend(took[1])
        ended: dict[int, set[int]] = {fid: set() for fid in fleets}
        kept_all = np.flatnonzero(keep)
        by_target, bounds = groups(result.row_target[kept_all], len(wiring.targets))
        for ti, tg in enumerate(wiring.targets):
            mine = kept_all[by_target[bounds[ti]:bounds[ti + 1]]]
            if len(mine) and tg.fleet in fleets:
                target = c.zone_index[tg.leader_zone]
                fleets[tg.fleet].window_end(target, float(result.row_last[mine].max()),
                                            len(mine))
                ended[tg.fleet].add(target)
        covered = float(result.row_sent[keep].max()) if keep.any() else result.t0
        for fid, fleet_obj in fleets.items():
            fleet_obj.window_release(covered, ended[fid])
        by_fleet, bounds = groups(result.row_fleet[kept_all], max(fleets, default=-1) + 1)
        for fid, fleet_obj in fleets.items():
            sel = kept_all[by_fleet[bounds[fid]:bounds[fid + 1]]]
            fleet_obj.window_progress(taken[fid] + int(result.row_records[sel].sum()))
        for (src, dst, purpose), moved in sorted(result.bytes.items()):
            c.net.count(src, dst, purpose, int(round(moved * share)))
        emit = c.ctx.recorder.emit
        region_of = c.world.topology.region_of
        for fid, (at, sent_first, sent_last, n, size, idx) in sorted(result.acks.items()):
            k = keep[idx] & (at <= self.run_end)
            emit(WindowAcked(now, fleets[fid].region, at[k], sent_first[k], sent_last[k],
                             n[k], size[k], rows=tuple(rows_by_fleet[fid]), fleet=fid))
        by_region: dict[str, list[tuple[np.ndarray, ...]]] = {}
        for zone, arrays in sorted(result.deliveries.items()):
            k = keep[arrays[5]] & (arrays[0] <= self.run_end)
            if self.SINGLE_ROWS:
                k &= arrays[0] <= now  # the later ones, the read path delivers
            by_region.setdefault(region_of(zone), []).append(
                tuple(col[k] for col in arrays[:5]))
        for region, parts_r in sorted(by_region.items()):
            at, sent_first, sent_last, n, size = (np.concatenate(col)
                                                  for col in zip(*parts_r, strict=True))
            emit(WindowDelivered(now, region, at, sent_first, sent_last, n, size, rows=(),
                                 group=-1))
        empty = np.zeros(0)
        for (gid, region), rows in sorted(by_group.items()):
            emit(WindowDelivered(now, region, empty, empty, empty, empty, empty,
                                 rows=tuple(rows), group=gid))
        self._handed_back(wiring, result, extra, keep, share, appended)
        # run-info, not results: CPU seconds from the hand-over to the end of the hand-back
        entry["cpu_seconds"] = round(time.process_time() - entry.pop("cpu"), 3)
        entry.pop("computed")


__all__ = ["BEFORE_BILL_READ", "MARGIN", "WindowMode", "spans"]
