"""Replication in a Kafka cluster: follower fetches, the ISR, the high watermark.

Followers fetch from leaders. All fetchers from one follower zone to one leader zone
are one fetch loop (:class:`FetchPair`; brokers of a zone are symmetric): the request
carries the followers' LEOs, which advance the leader's view and so the HW; the
response carries everything appended since (bounded by
``replica.fetch.response.max.bytes`` per broker pair and by the TCP window / RTT), or
waits up to ``replica.fetch.wait.max.ms`` for data. Kafka's rule decides whether a
follower is caught up (``Replica.updateFetchState``); the ISR check every
``replica.lag.time.max.ms``/2 removes followers not caught up for that long, and a
follower whose fetch offset reaches the HW rejoins. ISR changes are controller commits
(AlterPartition, one in flight per partition). The HW is the smallest LEO in the ISR
(KIP-497's maximal ISR), and with ELR (KIP-966) moves only at ``min.insync.replicas``.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from typing import TYPE_CHECKING

from geosim.core.context import call_later
from geosim.kafka.fetch_pair import FetchPair, Item
from geosim.kafka.wire import (
    CONTROLLER_RECORD_BYTES,
    FETCH_PARTITION_BYTES,
    FETCH_REQUEST_BYTES,
    window_wait,
)

if TYPE_CHECKING:
    from simpy import Event

    from geosim.core.events import Row
    from geosim.kafka.cluster import KafkaCluster
    from geosim.kafka.partition import PartitionState

    #: One item of a fetch response: (partition, follower, the follower's LEO after it,
    #: the HW, the partition epoch, what the follower then holds of the next row or
    #: None, the bytes it carries).
    Entry = tuple[PartitionState, int, int, int, int, tuple[int, int, int] | None, int]


class Replication:
    """The fetch loops, ISR changes and high watermark of one cluster."""

    #: Handle every item of every fetch request (the reference the bulk handling of
    #: quiet items is tested against, tests/test_fetch_items.py), not only hot ones.
    # equivalent: the reference path, held to the same results by tests/test_fetch_items.py
    detailed = False  # mutate: equivalent

    def __init__(self, cluster: KafkaCluster):
        self.cluster = cluster
        self.env = cluster.env
        self.net = cluster.net
        self.pairs: dict[tuple[str, str], FetchPair] = {}
        # Bumped whenever something other than an append or an HW advance changes a
        # partition, a broker or the wiring (:meth:`disturb`).
        # Generations are only compared for equality: with each other and with the
        # sentinel -1 of FetchPair and ReadPath, which no start >= 0 reaches.
        # equivalent: any start >= 0 gives the same equalities between generations
        self.generation = 0  # mutate: equivalent
        # Per partition: its (pair, item index) as a fetch item.
        self.watchers: list[list[tuple[FetchPair, int]]] = []
        # The window engine holds the data path (:meth:`park`): the fetch loops wait
        # (nothing is appended) and the ISR check passes (every follower is caught up in
        # a window) until it hands the data path back (:meth:`unpark`).
        self.parked = False
        self.altering = 0  # AlterPartition commits in flight (a hand-over waits for them)

    # ========================================================================== wiring
    def set_fetchers(self, items: dict[tuple[str, str], list],
                     conns: dict[tuple[str, str], set]) -> None:
        """The (partition, follower) items and broker pairs of each (leader zone,
        follower zone): existing loops are woken with their new items, new pairs get a
        loop (once the cluster started)."""
        self.disturb()
        for key, pair in self.pairs.items():
            pair.reset(items.pop(key, []), max(len(conns.get(key, ())), 1))
            self._wake(pair)
        for key, its in items.items():
            pair = self.pairs[key] = FetchPair(*key, its, max(len(conns[key]), 1))
            if self.cluster.started:
                self.env.process(self._fetch_loop(pair))
        watchers: list[list[tuple[FetchPair, int]]] = [[] for _ in self.cluster.parts]
        for pair in self.pairs.values():
            for i, (p, _r) in enumerate(pair.items):
                watchers[p.id].append((pair, i))
        self.watchers = watchers

    def disturb(self) -> None:
        """A partition, a broker or the wiring changed otherwise than by an append or
        an HW advance: every fetch item turns hot (quiet items' times written first),
        and requests sent before are handled item by item as sent."""
        self.generation += 1
        for pair in self.pairs.values():
            if len(pair.hot) != len(pair.items):
                pair.heat_all()

    def touch(self, p: PartitionState) -> None:
        """``p`` got an append or a higher HW: its fetch items turn hot."""
        for pair, i in self.watchers[p.id]:
            pair.touch(i)

    def settle(self) -> None:
        """Every quiet item's caught-up and last-fetch times are written (before the
        ISR check reads them)."""
        for pair in self.pairs.values():
            pair.settle()

    def start(self) -> None:
        for pair in list(self.pairs.values()):
            self.env.process(self._fetch_loop(pair))

    def park(self) -> None:
        """The window engine holds the data path: the fetch loops wait and the ISR
        check passes until :meth:`unpark`."""
        self.parked = True

    def unpark(self) -> None:
        """The data path is back (the followers' state written): the loops fetch
        again."""
        self.parked = False
        self.wake_all()

    def wake_all(self) -> None:
        """Parked fetch loops look again (connectivity changed)."""
        for pair in self.pairs.values():
            self._wake(pair)

    def _wake(self, pair: FetchPair) -> None:
        if pair.wake is not None and not pair.wake.triggered:
            pair.wake.succeed()

    # ===================================================================== fetch loops
    def _fetch_loop(self, pair: FetchPair):
        """Fetches of one follower zone from one leader zone, back to back.

        Per cycle: the request's trip (it carries the followers' LEOs), at the leader
        a wait for data of at most ``replica.fetch.wait.max.ms``, the response's trip
        (its bytes through the link and the TCP windows). A request or response lost
        to a partition or outage is retried after ``replica.socket.timeout.ms``."""
        c = self.cluster
        env = self.env
        cfg = c.config
        net = self.net
        lz, fz = pair.leader_zone, pair.follower_zone
        brokers = c.brokers
        window = c.world.topology.spec.tcp_window
        topo = c.world.topology
        cross_region = topo.region_of(lz) != topo.region_of(fz)
        # the pair's requests and responses are message families of their own
        asks, answers = f"{c.name}.fetch", f"{c.name}.fetch-response"
        # shared storage moves LEOs outside appends: every item, every request
        tracking = not self.detailed and c.storage is None
        while True:
            items = pair.items
            order_at_send = pair.served  # the session's order as the request was sent
            if self.parked or not items or net.is_down(fz) or net.is_down(lz):
                pair.wake = env.event()
                yield pair.wake
                continue
            # The request: every live follower's item. Quiet items are implicit (see
            # geosim.kafka.fetch_pair); ``full`` lists every item when the hot set is
            # not valid (a new generation).
            gen = self.generation
            sent: list[Item] = []
            full: list[Item] | None = None
            hot_at_send: frozenset[int] = frozenset()
            snapshot = pair.snapshot
            heated_at_send = pair.heated
            if tracking and pair.generation == gen:
                sent = [(i, p, r, p.leo[r], p.epoch) for i in sorted(pair.hot)
                        for p, r in (items[i],) if brokers[r].alive]
                hot_at_send = frozenset(pair.hot)
                count = pair.count
            else:
                full = [(i, p, r, p.leo[r], p.epoch) for i, (p, r) in enumerate(items)
                        if brokers[r].alive]
                count = pair.count = len(full)
                pair.generation = gen
            if not count:
                pair.wake = env.event()
                yield pair.wake
                continue
            d = net.delay(fz, lz, FETCH_REQUEST_BYTES + FETCH_PARTITION_BYTES * count,
                          "replicate", stream=asks)
            if d is None:
                pair.backoff_until = env.now + cfg.replica_socket_timeout
                yield env.timeout(cfg.replica_socket_timeout)
                continue
            yield env.timeout(d)
            if net.is_down(lz):
                pair.backoff_until = env.now + max(cfg.replica_socket_timeout - d, 0.0)
                yield env.timeout(max(cfg.replica_socket_timeout - d, 0.0))
                continue
            same = tracking and self.generation == gen
            if full is None and not same:
                full = pair.as_sent(items, sent, hot_at_send, snapshot)
            if full is None:
                # Under one generation the hot set only grows while the request is on
                # its way (only this loop's arrivals make items quiet), and a sent item's
                # follower LEO, epoch and liveness are as sent (anything else that
                # changes them disturbs): the items to handle are the request's and
                # those that turned hot meanwhile, in index order.
                work = sent
                if pair.heated != heated_at_send:
                    extra = [(i, p, r, p.leo[r], p.epoch) for i in pair.hot - hot_at_send
                             for p, r in (items[i],) if brokers[r].alive]
                    if extra:
                        work = sorted(sent + extra)
            else:
                work = full
            # the response: data up to the leader's LEO, within the byte budget. Items
            # with nothing new (no data, no higher HW for the follower) are left out:
            # applying them would change nothing (a follower's LEO moves only here, and
            # its HW only rises here). Quiet items are such items. The response lists
            # the items hot when it leaves: the request's (those found quiet by it have
            # nothing new) unless an item turned hot since (a long poll, an HW advance).
            listed = work
            heated = pair.heated
            if not self._on_fetch_request(work, pair if same else None):
                yield self._long_poll(pair, cfg.replica_fetch_wait_max)
            if full is None and self.generation != gen:
                listed = full = pair.as_sent(items, sent, hot_at_send, snapshot)
            elif full is None and pair.heated != heated:
                # equivalent: the follower-LEO field of a listed item is never read (_leo)
                listed = [(i, p, r, 0, p.epoch) for i in sorted(pair.hot)  # mutate: equivalent
                          for p, r in (items[i],) if brokers[r].alive]
            # A partition is fetched over one broker connection, whose response carries
            # at most replica.fetch.response.max.bytes: no item takes more (_cut).
            cap = cfg.replica_fetch_response_max_bytes
            budget = cap * pair.connections
            response: list[Entry] = []
            size = 0
            over = False  # an item has more than ``cap``
            moved = []  # the items whose data it carries (to the session's end)
            for i, p, r, _leo, epoch in listed:
                leader = p.leader
                if p.epoch != epoch or leader is None or brokers[leader].zone != lz:
                    continue
                leo = p.leo
                have = leo[r]
                target = leo[leader]
                if target > have:
                    more = p.end_bytes - p.bytes_at(have)
                    if p.partial:
                        more -= p.held_partial(r, have)
                    size += more
                    if more > cap:
                        over = True
                    moved.append(i)
                    response.append((p, r, target, p.hw, epoch, None, more))
                # An item whose follower knows this HW would change nothing where it lands
                # (the same comparison is made there); the min is written inline.
                # equivalent: an item listed without news changes nothing on its arrival
                elif (p.hw if p.hw < have else have) <= p.follower_hw[r]:  # mutate: equivalent
                    continue
                else:
                    response.append((p, r, target, p.hw, epoch, None, 0))
            pair.responses += 1
            if size > budget or over:
                response, size = self._cut(pair, listed, budget, cap, items,
                                           order_at_send)
            elif moved:
                pair.stamp(items, moved, float(pair.responses))
            if cross_region and c.topic_counter:
                # Declared topics: the bytes each topic's partitions send across regions.
                keys = c.topic_counter
                for entry in response:
                    if entry[6]:
                        c.counters_[keys[entry[0].id % len(keys)]] += entry[6]
            d = net.delay(lz, fz, size + FETCH_REQUEST_BYTES, "replicate", stream=answers)
            if d is None:
                pair.backoff_until = env.now + cfg.replica_socket_timeout
                yield env.timeout(cfg.replica_socket_timeout)
                continue
            d += window_wait(net, lz, fz, size, window, pair.connections)
            yield env.timeout(d)
            if net.is_down(fz):
                continue
            changed = []
            for p, r, target, hw, epoch, partial, carried in response:
                if p.epoch != epoch or not brokers[r].alive:
                    continue
                leo = p.leo
                # equivalent: at target == leo[r] (<= the log end) it rewrites the same LEO
                if target > leo[r]:  # mutate: equivalent
                    end = p.log_end
                    # equivalent: an inline min: at target == end both branches give it
                    leo[r] = target if target < end else end  # mutate: equivalent
                if partial is not None:
                    if p.partial is None:
                        p.partial = {}
                    p.partial[r] = partial
                elif carried and p.partial:
                    p.partial.pop(r, None)  # it got the rest of the row
                have = leo[r]
                # equivalent: an inline min: at hw == have both branches give the same
                new_hw = hw if hw < have else have  # mutate: equivalent
                if new_hw > p.follower_hw[r]:
                    p.follower_hw[r] = new_hw
                    changed.append((p, r))
            for p, r in changed:
                c.reads.readable_changed(p, r)

    def _cut(self, pair: FetchPair, listed: list[Item], budget: int, cap: int,
             items: list[tuple[PartitionState, int]],
             order: list[float]) -> tuple[list[Entry], int]:
        """A response whose data would pass ``budget`` (replica.fetch.response.max.bytes
        per broker connection), or carry more than ``cap`` of one item (one connection's
        budget: a partition is fetched over one connection), as Kafka's leader fills it
        (``ReplicaManager.readFromLog``): the items in the fetch session's order
        (:attr:`FetchPair.served`), each taking what it has, at most ``cap``, while the
        budget lasts, one that meets either bound a part of it (its follower holds the
        part of a row it got, :attr:`PartitionState.partial`, and its LEO moves past
        whole rows only), the rest nothing but the HW. The items that got data move to
        the session's end, in the order they got it. ``items`` and ``order``: the pair's
        items and the session's order as the request was sent (``listed`` indexes them;
        a rewiring since made new lists, which :meth:`FetchPair.stamp` maps the moves
        to)."""
        brokers = self.cluster.brokers
        lz = pair.leader_zone
        entries = [(order[i], i, p, r, epoch, p.leader)
                   for i, p, r, _leo, epoch in listed
                   if p.epoch == epoch and p.leader is not None
                   and brokers[p.leader].zone == lz]
        entries.sort(key=lambda e: (e[0], e[1]))
        stamp = float(pair.responses)
        step = 1.0 / (len(entries) + 1)
        response: list[Entry] = []
        size = 0
        moved: list[int] = []
        for _order, i, p, r, epoch, leader in entries:
            have = p.leo[r]
            target = p.leo[leader]
            hw = p.hw
            if target > have and size < budget:
                start = p.bytes_at(have) + p.held_partial(r, have)
                more = p.end_bytes - start
                if more <= cap and size + more <= budget:
                    size += more
                    response.append((p, r, target, hw, epoch, None, more))
                else:
                    take = min(cap, budget - size)
                    size += take
                    reach = p.offset_within(start + take)
                    response.append((p, r, reach, hw, epoch,
                                     (reach, epoch, start + take - p.bytes_at(reach)), take))
                moved.append(i)
            elif (hw if hw < have else have) > p.follower_hw[r]:
                response.append((p, r, have, hw, epoch, None, 0))
        pair.stamp(items, moved, stamp + step, step)
        return response, size

    def _long_poll(self, pair: FetchPair, wait_max: float) -> Event:
        """An event triggered by the next append to one of the pair's partitions or
        after ``wait_max``, whichever comes first: a fetch without data waits at the
        leader for either (Kafka's ``DelayedFetch`` completes once the request's own
        partitions have ``fetch.min.bytes``, 1, of new data, or after
        ``replica.fetch.wait.max.ms``; :meth:`appended` wakes it).

        The give-up time is kept by one timer per pair rather than a timeout per poll:
        most polls end at the next append, so the timer fires at most about once per
        ``wait_max`` and, if the poll under way began later, waits again until that
        poll's deadline."""
        env = self.env
        wake = env.event()
        pair.poll = wake
        pair.deadline = env.now + wait_max
        if not pair.timer_armed:
            self._arm_poll_timer(pair, wait_max)
        return wake

    def _arm_poll_timer(self, pair: FetchPair, delay: float) -> None:
        pair.timer_armed = True
        call_later(self.env, delay, self._poll_timer, pair)

    def _poll_timer(self, pair: FetchPair) -> None:
        """The pair's poll timer fired: the poll under way gives up if its deadline
        passed (it stops listening for appends), else the timer waits for it."""
        pair.timer_armed = False
        wake = pair.poll
        if wake is None:
            return
        if wake.triggered:
            pair.poll = None
            return
        now = self.env.now
        if now < pair.deadline:
            self._arm_poll_timer(pair, pair.deadline - now)
            return
        pair.poll = None
        wake.succeed()

    def appended(self, p: PartitionState) -> None:
        """``p`` got an append at its leader: its fetch items turn hot (:meth:`touch`)
        and the long polls of the pairs that fetch it end (an append to another
        partition of the zone wakes no other pair's). One pass over its items: this
        runs for every row."""
        for pair, i in self.watchers[p.id]:
            pair.touch(i)
            wake = pair.poll
            if wake is not None and not wake.triggered:
                wake.succeed()

    def end_polls(self, leader_zones: frozenset[str]) -> None:
        """The long polls of the pairs fetching from ``leader_zones`` end, as an append
        there would end them (a window's hand-over holds the producers' appends back
        while the rows in flight complete, :func:`geosim.kafka.window.cluster_state.
        drain`)."""
        for pair in self.pairs.values():
            wake = pair.poll
            if wake is not None and not wake.triggered \
                    and pair.leader_zone in leader_zones:
                wake.succeed()

    def _on_fetch_request(self, request: list[Item], pair: FetchPair | None) -> bool:
        """A fetch reached the leader: update its view, the caught-up times, the HW.
        Returns whether the leader has data for any of the request's followers (else
        the fetch long-polls). ``request``: the items to handle (with ``pair``, the hot
        ones: the quiet ones take this arrival as their times, and those found quiet
        join them)."""
        now = self.env.now
        expand: list[tuple[PartitionState, int]] = []
        advance = self.advance_hw
        has_data = False
        if pair is not None:
            pair.quiet_arrival = now
        brokers = self.cluster.brokers
        for i, p, r, fetch_offset, epoch in request:
            leader = p.leader
            if leader is None:
                continue
            leo = p.leo
            leader_leo = leo[leader]
            if not has_data and leader_leo > leo[r]:
                has_data = True
            if p.epoch != epoch:
                continue
            view = p.view
            # equivalent: offsets are never negative: any negative default compares the same
            seen = view.get(r, -1)  # mutate: equivalent
            if fetch_offset == seen and fetch_offset >= leader_leo and r in p.isr:
                # The common case, a caught-up member of the ISR with nothing new: it
                # is caught up now, and nothing else changes.
                p.caught_up[r] = now
                p.last_fetch_leo[r] = leader_leo
                p.last_fetch_time[r] = now
            else:
                progressed = fetch_offset > seen
                if progressed:
                    view[r] = fetch_offset
                # Kafka's rule (Replica.updateFetchState): caught up if the fetch reached
                # the leader's LEO now, or at the previous fetch (then as of that fetch).
                last_fetch_leo = p.last_fetch_leo
                if fetch_offset >= leader_leo:
                    p.caught_up[r] = now
                elif fetch_offset >= last_fetch_leo.get(r, 0):
                    caught_up = p.caught_up
                    last = p.last_fetch_time.get(r, 0.0)
                    # equivalent: at last == caught_up[r] it writes the value already there
                    if last > caught_up[r]:  # mutate: equivalent
                        caught_up[r] = last
                last_fetch_leo[r] = leader_leo
                p.last_fetch_time[r] = now
                if r in p.isr or r == p.joining and p.altering == p.epoch:
                    if progressed:
                        advance(p)  # only a follower's progress can move the HW
                elif fetch_offset >= p.hw and p.altering != p.epoch and not self.parked \
                        and self.may_join_isr(p, r):  # (parked: the window's to make)
                    expand.append((p, r))
                    p.altering, p.joining = p.epoch, r  # one at a time (isInflight)
            if pair is not None and fetch_offset >= leader_leo and leo[r] == leader_leo \
                    and view.get(r) == fetch_offset \
                    and r in p.isr and p.follower_hw[r] >= (p.hw if p.hw < leader_leo
                                                           else leader_leo) \
                    and brokers[leader].zone == pair.leader_zone:
                pair.quiet(i, fetch_offset, epoch)
        if expand:
            self._alter_isr(expand, add=True)
        return has_data

    # ============================================================================= ISR
    def may_join_isr(self, p: PartitionState, r: int) -> bool:
        """Whether ``r``, out of ``p``'s ISR, joins it once its fetch reaches the HW."""
        c = self.cluster
        if r in p.replicas:
            return not c.brokers[r].fenced
        policy = c.promotion_policy  # an observer
        if policy == "under-min-isr":
            return len(p.isr) < p.min_isr
        if policy == "under-replicated":
            return len([x for x in p.isr if x in p.replicas]) < len(p.replicas)
        return False

    def run_isr_expiration(self):
        """Every ``replica.lag.time.max.ms``/2, leaders drop followers not caught up
        for ``replica.lag.time.max.ms`` (and demote observers no longer needed)."""
        c = self.cluster
        lag = c.config.replica_lag_time_max
        policy = c.promotion_policy
        while True:
            yield self.env.timeout(lag / 2)
            if self.parked:
                continue
            now = self.env.now
            self.settle()
            shrink = []
            for p in c.parts:
                if p.leader is None or not c.brokers[p.leader].alive \
                        or p.altering == p.epoch:
                    continue
                for r in p.isr:
                    if r != p.leader and now - p.caught_up[r] > lag:
                        shrink.append((p, r))
                if policy and any(o in p.isr for o in p.observer_replicas):
                    sync_isr = [x for x in p.isr if x in p.replicas]
                    enough = len(sync_isr) >= (p.min_isr if policy == "under-min-isr"
                                               else len(p.replicas))
                    if enough:
                        shrink += [(p, o) for o in p.observer_replicas if o in p.isr]
            if shrink:
                self._alter_isr(shrink, add=False)

    def _alter_isr(self, changes: list[tuple[PartitionState, int]], *, add: bool) -> None:
        """AlterPartition: leaders ask the controller to change ISRs (one commit)."""
        c = self.cluster
        by_zone: dict[str, list] = defaultdict(list)
        for p, r in changes:
            assert p.leader is not None  # only leaders change ISRs
            p.altering, p.joining = p.epoch, r if add else -1
            by_zone[c.brokers[p.leader].zone].append((p, r, p.epoch))
        for zone, batch in by_zone.items():
            self.altering += 1
            c.metadata.commit(zone, CONTROLLER_RECORD_BYTES * len(batch),
                              functools.partial(self.isr_committed, batch, add))

    def isr_committed(self, batch: list[tuple[PartitionState, int, int]], add: bool,
                      ok: bool) -> None:
        """An AlterPartition of ``batch`` ((partition, follower, epoch asked under))
        answered: if done (``ok``), followers join (``add``) or leave the ISRs."""
        c = self.cluster
        self.altering -= 1
        for p, _r, epoch in batch:
            if p.altering == epoch:  # answered: the leader may ask again
                p.altering = p.joining = -1
        if not ok:
            c.counters_["isr_change_failures"] += 1
            return
        self.disturb()
        touched: dict[int, PartitionState] = {}  # in batch order: deterministic
        removed: dict[int, set[int]] = defaultdict(set)
        for p, r, epoch in batch:
            if p.epoch != epoch or p.leader is None:
                continue
            if add and r not in p.isr:
                if r in p.observer_replicas:
                    c.counters_["observer_promotions"] += 1
                p.join_isr(r, self.env.now)
            elif not add and r in p.isr and r != p.leader:
                removed[p.id].add(r)
            else:
                continue
            touched[p.id] = p
        for pid, gone in removed.items():
            # one change per partition: every follower it drops at once
            touched[pid].shrink_isr(gone, elr=c.config.eligible_leader_replicas)
        for p in touched.values():
            c.counters_["isr_expansions" if add else "isr_shrinks"] += 1
            c.emit_state(p, "isr expand" if add else "isr shrink")
            self.advance_hw(p)
            if p.id in removed:
                c.reads.left_isr(p, removed[p.id])

    # ================================================================ high watermark
    def advance_hw(self, p: PartitionState) -> None:
        """Move the HW to the smallest LEO in the ISR; acknowledge what it passed."""
        c = self.cluster
        # Kafka's Partition.maybeIncrementLeaderHW: no HW move while the ISR is under
        # min.insync.replicas, with or without ELR (KAFKA-15583)
        hw = p.hw_candidate(p.min_isr)
        if hw <= p.hw:
            return
        leader = p.leader
        assert leader is not None  # the HW moves only under a leader
        p.hw = hw
        self.touch(p)
        if p.pending:
            done: list[tuple[Row, float]] = []
            keep: list[tuple[Row, float]] = []
            for row, t in p.pending:
                (done if row.offset + row.records <= hw else keep).append((row, t))
            p.pending = keep
            if done:
                c.produce.ack(c.brokers[leader].zone, [r for r, _ in done])
        c.reads.readable_changed(p, leader)


__all__ = ["FetchPair", "Replication"]
