"""What a window reads of a running Kafka cluster, and the delays it draws.

:class:`Wiring` is read once, at a window's start, between two events of a steady
state: the leaders and ISRs, the fetch pairs, each fleet's load and its share of each
leader zone (:class:`Target`), the replica each consumer zone reads from, and the links'
round-trip distributions. :meth:`Wiring.of` refuses (:class:`WindowRefused`) a cluster
the kernel does not model, naming the reason. :class:`Draws` gives one-way delays from
the kernel's own random streams.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from geosim.components.metadata_store import ENVELOPE

if TYPE_CHECKING:
    from geosim.core.distributions import Distribution
    from geosim.kafka.cluster import KafkaCluster


class WindowRefused(Exception):
    """The window breaks one of stage 1's conditions (the message says which)."""


@dataclass
class Target:
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
    skip: frozenset[int] = frozenset()  # partitions the fleet's cuts skip (window_waits)


@dataclass
class Session:
    """One fetch pair's items as its fetch session orders them (the kernel's per-item
    model takes them when a response would pass the pair's budget or carry more than
    one connection's budget of one item,
    :func:`~geosim.kafka.window.cycles.session_cycles`), in the pair's item order."""

    pids: np.ndarray      # per item: its partition
    stamps: np.ndarray    # per item: the response that last carried its data (FetchPair.served)
    responses: int        # the pair's responses so far (FetchPair.responses)
    held: np.ndarray      # per item: compressed bytes its follower holds past the log end
    in_isr: np.ndarray    # per item: whether its follower is in the ISR
    caught_up: np.ndarray  # per item: when its follower was last caught up (Kafka's rule)
    index: np.ndarray     # per item: its index among the pair's (FetchPair.items)
    behind: np.ndarray    # per item: a sync replica out of the ISR (catching up)
    may_join: np.ndarray  # per item: out of the ISR, it would join it on reaching the HW
    follower: np.ndarray  # per item: its follower broker
    epoch: np.ndarray     # per item: its partition's epoch
    end: np.ndarray       # per item: its partition's log end offset
    end_bytes: np.ndarray  # per item: its partition's compressed bytes there
    # per item: a follower catching up set back to where it was before the hand-over's
    # drain (catchup.behind_as_of), whose fetches meanwhile the kernel makes again
    replayed: np.ndarray | None = None


@dataclass(frozen=True)
class Quorum:
    """The metadata quorum as a window's AlterPartition commits meet it: the leader's
    zone, the other voters' zones it reaches, the acks beyond its own a commit waits
    for, the commit wait (s), and an ack's bytes."""

    leader: str
    followers: tuple[str, ...]
    needed: int
    commit_wait: float
    envelope: int


@dataclass
class FleetLoad:
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
    fleets: dict[int, FleetLoad]
    targets: list[Target]
    # per partition and consumer zone: (serving zone or None for the leader, owners)
    reads: dict[tuple[int, str], tuple[str | None, int]]
    rtt: dict[tuple[str, str], Distribution]  # the links' RTT distributions, by zone pair
    median_rtt: dict[tuple[str, str], float]
    # per fetch pair: its live items in session order terms (:class:`Session`)
    sessions: dict[tuple[str, str], Session] = field(default_factory=dict)
    lag_max: float = math.inf        # replica.lag.time.max.ms, s
    # The followers out of their ISRs whose return the kernel models (partition,
    # follower; catchup.isr_joins): a sync replica, its partition's only follower out of
    # its ISR, alone of its partition in its fetch pair, on a partition without
    # observers; per such follower the consumer zones that would read from it then.
    joinable: dict[tuple[int, int], tuple[str, ...]] = field(default_factory=dict)
    quorum: Quorum | None = None     # None: no return modelled (the store would wait)

    @classmethod
    def of(cls, cluster: KafkaCluster, *, alone: bool = True) -> Wiring:
        """The wiring of ``cluster`` now (call between two events of a steady state).
        ``alone=False`` takes a cluster of a cross-cluster run, whose flows the caller
        computes (:mod:`geosim.kafka.window.mirror`)."""
        if getattr(cluster, "replication", None) is None:  # not one cluster's engine
            raise WindowRefused(f"{type(cluster).__name__} runs several clusters and "
                                "their flows (stage 1 takes one cluster)")
        c = cluster
        topo = c.world.topology
        net = c.net
        if net.links_impaired:  # a brownout or partition is under way
            raise WindowRefused("a link is degraded or cut")
        if alone and c.scope is not None:
            raise WindowRefused(f"cluster {c.name} is one of several (its flows are "
                                "computed with it, geosim.kafka.window.mirror)")
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
            live = [p.id for p, r in pair.items if brokers[r].alive]
            if live:  # a follower zone that is down fetches nothing
                pairs[key] = (live, pair.connections)
        fleets: dict[int, FleetLoad] = {}
        targets: list[Target] = []
        index_zone = {i: z for z, i in c.zone_index.items()}
        for f in c.producing:
            if not f.alive:
                continue
            load = f.load
            lt, ln, lr = load.segments()
            fleets[f.id] = FleetLoad(f.id, f.zone, np.array(lt), np.array(ln), np.array(lr),
                                  load.start, load.stop, f.batch_records, f.accumulation,
                                  f.message_size, f.compression_ratio,
                                  f.settings.acks == "all")
            waits = f.window_waits()
            for target in sorted(index_zone):
                share, plist, nxt, cursor, cap, room = f.target_state(target)
                if share <= 0 or not plist:
                    continue
                skip = waits.intersection(plist)
                if len(skip) == len(plist):
                    raise WindowRefused(f"every partition fleet {f.id} sends to in "
                                        f"{index_zone[target]} waits (its records stay "
                                        "in the buffers)")
                targets.append(Target(f.id, f.zone, index_zone[target], share, plist, nxt,
                                       c.env.now if cursor is None else cursor, cap, room,
                                       frozenset(skip)))
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
        used = {*leader_zone, *(z for zs in isr_zones for z in zs),
                *(f.zone for f in fleets.values()), *(z for pair in pairs for z in pair),
                *(zone for (_p, zone) in reads), *(z for z, _n in reads.values() if z)}
        down = sorted(z for z in used if net.is_down(z))
        if down:  # a zone or region outage the cluster has not yet routed around
            raise WindowRefused(f"the data path crosses a zone that is down: {down[0]} first")
        zones = sorted({*topo.zones()})
        rtt = {(a, b): topo.link(a, b).rtt for a in zones for b in zones}
        median = {(a, b): topo.median_rtt(a, b) for a in zones for b in zones}
        view = c.metadata.quorum()
        quorum = None if view is None else Quorum(view[0], view[1], view[2], view[3],
                                                  ENVELOPE)
        return cls(c.name, c.send_tick, c.config.replica_fetch_wait_max,
                   c.config.replica_fetch_response_max_bytes, topo.spec.tcp_window,
                   leader_zone, isr_zones, min_isr, pairs, fleets, targets, reads, rtt,
                   median, sessions_of(c), c.config.replica_lag_time_max,
                   _joinable(c, reads) if quorum is not None else {}, quorum)

    def leader_zones(self) -> list[str]:
        """The zones that lead partitions, in name order (the kernel's zone codes)."""
        return sorted(set(self.leader_zone))


def _joinable(c: KafkaCluster, reads: Mapping[tuple[int, str], tuple[str | None, int]],
              ) -> dict[tuple[int, int], tuple[str, ...]]:
    """:attr:`Wiring.joinable` of ``c`` now (``reads``: the wiring's)."""
    brokers = c.brokers
    replication = c.replication
    rp = c.reads
    out: dict[tuple[int, int], tuple[str, ...]] = {}
    for p in c.parts:
        if p.observer_replicas or p.leader is None:
            continue
        outside = [r for r in p.replicas if r != p.leader and r not in p.isr
                   and brokers[r].alive]
        if len(outside) != 1:
            continue
        r = outside[0]
        zone = brokers[r].zone
        if not replication.may_join_isr(p, r) or any(
                brokers[x].zone == zone for x in p.all_replicas
                if x != r and x != p.leader and brokers[x].alive):
            continue
        out[(p.id, r)] = tuple(z for z in rp.consumer_zones if (p.id, z) in reads
                               and reads[(p.id, z)][0] != zone
                               and rp.serving_if_joined(p, z, r) == r)
    return out


def sessions_of(c: KafkaCluster) -> dict[tuple[str, str], Session]:
    """Each fetch pair's live items as its fetch session has them now (read after a
    hand-over's drain: what the followers hold, their order, their caught-up times)."""
    brokers = c.brokers
    replication = c.replication
    replication.settle()  # the quiet items' caught-up times written
    sessions: dict[tuple[str, str], Session] = {}
    for key, pair in replication.pairs.items():
        live = [i for i, (_p, r) in enumerate(pair.items) if brokers[r].alive]
        if not live:
            continue
        items = [pair.items[i] for i in live]
        out = [r not in p.isr for p, r in items]
        sessions[key] = Session(
            np.array([p.id for p, _r in items], dtype=np.int64),
            np.array([pair.served[i] for i in live], dtype=float), pair.responses,
            np.array([p.bytes_at(p.leo[r]) + p.held_partial(r, p.leo[r]) - p.end_bytes
                      for p, r in items], dtype=float),
            np.array([not o for o in out], dtype=bool),
            np.array([p.caught_up[r] for p, r in items], dtype=float),
            np.array(live, dtype=np.int64),
            np.array([o and r in p.replicas for (p, r), o in zip(items, out, strict=True)],
                     dtype=bool),
            np.array([o and replication.may_join_isr(p, r)
                      for (p, r), o in zip(items, out, strict=True)], dtype=bool),
            np.array([r for _p, r in items], dtype=np.int64),
            np.array([p.epoch for p, _r in items], dtype=np.int64),
            np.array([p.log_end for p, _r in items], dtype=np.int64),
            np.array([p.end_bytes for p, _r in items], dtype=float))
    return sessions


class Draws:
    """One-way delays from the kernel's own streams, per directed zone pair."""

    def __init__(self, rtt: Mapping[tuple[str, str], Distribution], seed: int):
        self.rtt = rtt
        self.rng = np.random.default_rng(seed)

    def one_way(self, src: str, dst: str, n: int) -> np.ndarray:
        return 0.5 * self.rtt[(src, dst)].draw_bulk(self.rng, n)

    def round_trip(self, src: str, dst: str, n: int) -> np.ndarray:
        """Round trips (one draw of the link's RTT each, as ``Network.round_trip``)."""
        return self.rtt[(src, dst)].draw_bulk(self.rng, n)


__all__ = ["Draws", "FleetLoad", "Session", "Target", "WindowRefused", "Wiring", "sessions_of"]
