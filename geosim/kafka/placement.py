"""Replica placement: Kafka's rack-aware assignment, or explicit counts per location.

Rack-aware assignment (Kafka's ``AdminUtils`` idea, deterministic here): brokers are
listed alternating between racks; partition ``p``'s first replica (its preferred
leader) is the ``p``-th broker of that list, and each further replica is the next
broker on a rack not yet used, until every rack is used; then any broker not yet
used. So a partition spans ``min(racks, RF)`` racks and leaders rotate over all
brokers (domain.md §4). With rack = region and two regions, RF 3 puts two replicas
in one region.

Explicit placement (Confluent's placement constraints): ``{location: count}`` in
order; a partition's replicas are ``count`` brokers of each location, rotating with
the partition so that load spreads, and its preferred leader is in the first location.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class ObserverSetup:
    """Observer replicas (asynchronous, outside the ISR unless promoted): how many per
    location (``observer_placement``) and when a caught-up one joins the ISR
    (``observer_promotion_policy``)."""

    placement: Mapping[str, int]
    promotion_policy: str


@dataclass(frozen=True)
class BrokerInfo:
    id: int
    zone: str
    region: str
    rack: str


def rack_alternating(brokers: list[BrokerInfo]) -> list[BrokerInfo]:
    """Brokers ordered rack by rack in turn: r1b1, r2b1, r3b1, r1b2, ..."""
    by_rack: dict[str, list[BrokerInfo]] = {}
    for b in sorted(brokers, key=lambda b: b.id):
        by_rack.setdefault(b.rack, []).append(b)
    racks = sorted(by_rack)
    out: list[BrokerInfo] = []
    for i in range(max(len(v) for v in by_rack.values())):
        for rack in racks:
            if i < len(by_rack[rack]):
                out.append(by_rack[rack][i])
    return out


def rack_aware(brokers: list[BrokerInfo], partitions: int, rf: int,
               start: int = 0) -> list[list[int]]:
    """Replica lists (broker ids, preferred leader first) for partitions ``start ..
    start + partitions`` of the run's numbering (a topic's block continues the rotation,
    so topics do not all lead on the same brokers)."""
    if rf > len(brokers):
        raise ValueError(f"replication factor {rf} exceeds the {len(brokers)} brokers")
    ordered = rack_alternating(brokers)
    n = len(ordered)
    racks = len({b.rack for b in ordered})
    out = []
    for p in range(start, start + partitions):
        first = p % n
        chosen = [ordered[first]]
        used_racks = {ordered[first].rack}
        step = 0
        while len(chosen) < rf:
            # Followers start a shifting distance after the leader, as Kafka's
            # nextReplicaShift does, so followers of one leader spread over brokers
            # (n >= 2 here: a follower is placed only when rf >= 2).
            shift = 1 + (p // n) % (n - 1)
            candidate = ordered[(first + shift + step) % n]
            step += 1
            if candidate in chosen:
                continue
            # While a rack is unused, one of its brokers lies within the next n
            # steps (a chosen broker's rack is used), so the search ends.
            if candidate.rack in used_racks and len(used_racks) < racks:
                continue
            chosen.append(candidate)
            used_racks.add(candidate.rack)
        out.append([b.id for b in chosen])
    return out


def by_location(brokers: list[BrokerInfo], partitions: int, counts: Mapping[str, int],
                located: Callable[[BrokerInfo, str], bool],
                exclude: list[list[int]] | None = None, start: int = 0) -> list[list[int]]:
    """Replica lists with ``counts[location]`` replicas in each location, in order, for
    partitions ``start .. start + partitions``; ``exclude[i]`` lists brokers the i-th
    must not use (its sync replicas, when placing observers)."""
    pools = {loc: [b for b in sorted(brokers, key=lambda b: b.id) if located(b, loc)]
             for loc in counts}
    out = []
    for i, p in enumerate(range(start, start + partitions)):
        taken = set(exclude[i]) if exclude else set()
        replicas: list[int] = []
        for loc, count in counts.items():
            pool = [b for b in pools[loc] if b.id not in taken]
            if count > len(pool):
                raise ValueError(f"{count} replicas requested in {loc}, which has "
                                 f"{len(pool)} brokers free for them")
            chosen = [pool[(p + j) % len(pool)].id for j in range(count)]
            replicas += chosen
            taken.update(chosen)
        out.append(replicas)
    return out


@dataclass(frozen=True)
class TopicLayout:
    """Partitions ``first .. first + count`` and the policy they are placed and
    replicated with: replication factor, ``min.insync.replicas``, explicit sync-replica
    and observer counts per location (empty: rack-aware / none)."""

    first: int
    count: int
    rf: int
    min_isr: int
    replica_placement: Mapping[str, int]
    observer_placement: Mapping[str, int]


def topic_layouts(topics: list, partitions: int, rf: int, min_isr: int,
                  replica_placement: Mapping[str, int],
                  observer_placement: Mapping[str, int]) -> list[TopicLayout]:
    """The layouts of a cluster's ``partitions``: one for all of them with the cluster's
    policy when no topics are declared; else one per declared topic (its ``config`` and
    placements over the cluster's), repeated for each further block of the same size
    (a cross-cluster target's copies of another cluster's topics)."""
    if not topics:
        return [TopicLayout(0, partitions, rf, min_isr, replica_placement,
                            observer_placement)]
    local = sum(t.partitions for t in topics)
    out = []
    for block in range(0, partitions, local):
        for t in topics:
            config = t.config
            out.append(TopicLayout(
                block + t.first, t.partitions,
                int(config.get("replication.factor", rf)),
                int(config.get("min.insync.replicas", min_isr)),
                t.replica_placement or replica_placement,
                t.observer_placement or observer_placement))
    return out


__all__ = ["BrokerInfo", "ObserverSetup", "TopicLayout", "by_location", "rack_aware",
           "rack_alternating", "topic_layouts"]
