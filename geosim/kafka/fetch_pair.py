"""One fetch loop's items, and which of them a fetch can pass over.

A :class:`FetchPair` stands for the replica fetchers of one follower zone from one
leader zone: its *items* are (partition, follower broker). Each fetch request carries
every item (Kafka's fetch sessions list every partition a follower replicates), but in
steady state nearly all of them are *quiet*: the follower is a caught-up ISR member,
the leader has nothing new for it and it knows the high watermark. For a quiet item a
request changes only the follower's caught-up and last-fetch times (to the request's
arrival) and its response carries nothing; at seed 000's scale 92% of the items of a
request are quiet.

So the pair keeps the *hot* items (those that may not be quiet) and treats the others
in bulk: a request's arrival stamps :attr:`FetchPair.quiet_arrival` instead of each
quiet item's times, which are written back (:meth:`FetchPair.settle`) before anything
else reads or writes them. An item turns hot when its partition gets an append or a
higher HW (:meth:`FetchPair.touch`, called by the engine), and every item does when
anything else changes a partition, a broker or the wiring (the cluster's
``Replication.disturb``, which bumps a generation; a request sent under an older
generation is handled item by item as sent, rebuilt by :meth:`FetchPair.as_sent`). An
item turns quiet again when a request's arrival finds it so. The results are those of
handling every item of every request (tests/test_golden.py holds them identical).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from simpy import Event

    from geosim.kafka.partition import PartitionState

#: (item index, partition, follower, follower's LEO as sent, partition epoch as sent)
Item = tuple[int, "PartitionState", int, int, int]


class FetchPair:
    """The replica fetchers of one follower zone from one leader zone."""

    __slots__ = ("leader_zone", "follower_zone", "items", "connections", "wake", "poll",
                 "deadline", "timer_armed", "hot", "snapshot", "quiet_arrival", "generation",
                 "count", "heated", "served", "responses", "leaders", "backoff_until")

    def __init__(self, leader_zone: str, follower_zone: str,
                 items: list[tuple[PartitionState, int]], connections: int):
        self.leader_zone = leader_zone
        self.follower_zone = follower_zone
        self.wake: Event | None = None
        # The long poll under way, if any (its event, triggered by the next append to
        # one of the pair's partitions); when it gives up (replica.fetch.wait.max.ms
        # after it began); and whether the pair's poll timer is pending.
        self.poll: Event | None = None
        # equivalent: read only while a poll is under way, and a poll sets it first
        self.deadline = 0.0  # mutate: equivalent
        self.timer_armed = False
        # Until when the loop waits out replica.socket.timeout.ms after a request or
        # response was lost (read by the window engine: a pair waiting so sends nothing)
        self.backoff_until = 0.0
        # How many times a quiet item turned hot (touch); read only for a change.
        self.heated = 0  # mutate: equivalent: only compared with an earlier reading of it
        self.items: list[tuple[PartitionState, int]] = []
        self.served: list[float] = []
        self.leaders: list[int | None] = []
        self.reset(items, connections)

    def reset(self, items: list[tuple[PartitionState, int]], connections: int) -> None:
        """New items and broker connections (the wiring changed): every item is hot.
        Fresh containers, so a request in flight keeps those it was sent with."""
        old_items = self.items
        self.items = items  # (partition, follower broker)
        self.connections = connections
        self.hot: set[int] = set(range(len(items)))
        # per quiet item: (its follower's LEO, the partition epoch) when it turned quiet
        self.snapshot: dict[int, tuple[int, int]] = {}
        # The last request's arrival: the quiet items' times.
        # equivalent: no item is quiet, so none reads it, before an arrival sets it
        self.quiet_arrival = 0.0  # mutate: equivalent
        # The cluster generation the hot set and the count are valid for; the
        # cluster's generations start at 0, so no valid one at first.
        self.generation = -1  # mutate: equivalent: any negative value matches no generation
        # Items of a request (live followers), at that generation.
        self.count = 0  # mutate: equivalent: read only once a generation matches, which sets it
        # The fetch session's order (KIP-227): an item whose data a response carried
        # moves to its end (``FetchSession``'s PartitionIterator), so a response that
        # reaches replica.fetch.response.max.bytes serves first those served longest
        # ago. Per item: the response that last carried its data (items of one response
        # in index order, or in the order a cut response took them). A new wiring keeps
        # the order of the items whose follower fetches from the same leader as before
        # (the same session) and puts the others, new to their leader's session, after
        # them in index order: the order's ranks become the stamps (at the first wiring,
        # -1 for all: index order, one float shared by every item).
        leaders = [p.leader for p, _r in items]
        before = {(p.id, r, leader): (stamp, i) for i, ((p, r), stamp, leader)
                  in enumerate(zip(old_items, self.served, self.leaders, strict=True))}
        self.leaders = leaders
        if not old_items:
            self.served = [-1.0] * len(items)
            self.responses = 0
            return
        late = (math.inf, 0)
        rank = sorted(range(len(items)), key=lambda i: (
            before.get((items[i][0].id, items[i][1], leaders[i]), late), i))
        served = [0.0] * len(items)
        for order, i in enumerate(rank):
            served[i] = float(order)
        self.served = served
        self.responses = len(items)

    def stamp(self, items: list[tuple[PartitionState, int]], moved: list[int],
              first: float, step: float = 0.0) -> None:
        """Items ``moved`` (indices of ``items``, the list a request was sent with) got
        data in its response: they move to the session's end, the k-th at ``first + k *
        step`` (one stamp for an uncut response's items, their index order breaking the
        tie). After a rewiring (new lists) the same (partition, follower) of the new
        list moves."""
        served = self.served
        if items is self.items:
            if not step:
                for i in moved:
                    served[i] = first
                return
            for k, i in enumerate(moved):
                served[i] = first + k * step
            return
        where = {(p.id, r): j for j, (p, r) in enumerate(self.items)}
        for k, i in enumerate(moved):
            p, r = items[i]
            j = where.get((p.id, r))
            if j is not None:
                served[j] = first + k * step

    # ===================================================================== quiet items
    def settle(self) -> None:
        """Write the quiet items' caught-up and last-fetch times (they stay quiet)."""
        if len(self.hot) == len(self.items):
            return
        t = self.quiet_arrival
        hot = self.hot
        for i, (p, r) in enumerate(self.items):
            if i not in hot:
                p.caught_up[r] = t
                p.last_fetch_time[r] = t

    def heat_all(self) -> None:
        """Every item turns hot (its times written first)."""
        self.settle()
        self.hot = set(range(len(self.items)))

    def touch(self, i: int) -> None:
        """Item ``i``'s partition changed (an append, a higher HW): it turns hot."""
        hot = self.hot
        if i not in hot:
            p, r = self.items[i]
            p.caught_up[r] = p.last_fetch_time[r] = self.quiet_arrival
            hot.add(i)
            # equivalent: any change of the count tells its reader that a touch happened
            self.heated += 1  # mutate: equivalent

    def quiet(self, i: int, fetch_offset: int, epoch: int) -> None:
        """Item ``i`` was found quiet by a request's arrival (sent as ``fetch_offset``
        under ``epoch``)."""
        self.hot.discard(i)
        self.snapshot[i] = (fetch_offset, epoch)

    # ======================================================================= requests
    @staticmethod
    def as_sent(items: list[tuple[PartitionState, int]], sent: list[Item],
                hot_at_send: frozenset[int] | set[int],
                snapshot: dict[int, tuple[int, int]]) -> list[Item]:
        """Every item of a request as it was sent: the hot ones as listed in ``sent``
        (live followers only), the quiet ones as they were when they turned quiet
        (nothing about them changed until the request left)."""
        by_index = {item[0]: item for item in sent}
        out: list[Item] = []
        for i, (p, r) in enumerate(items):
            item = by_index.get(i)
            if item is not None:
                out.append(item)
            elif i not in hot_at_send:
                leo, epoch = snapshot[i]
                out.append((i, p, r, leo, epoch))
        return out


__all__ = ["FetchPair", "Item"]
