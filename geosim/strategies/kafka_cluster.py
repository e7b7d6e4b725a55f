"""A Kafka cluster: brokers in zones, replicated partitions, a KRaft controller quorum.

The model shared by the ``stretch`` and ``observers`` strategies (and later by the
cross-cluster ones); domain.md §4 "Kafka-style brokers" is the specification. Timing:

* **Produce.** Each zone with brokers runs an *append clock*: every
  ``append_interval`` its leaders take what the producer fleets sent them (one row per
  fleet and zone, rotating over the zone's partitions) and append it. ``acks=0|1``
  rows are acknowledged at once; ``acks=all`` rows when the high watermark passes them,
  or fail with NotEnoughReplicas when the ISR is smaller than ``min.insync.replicas``
  (and NotEnoughReplicasAfterAppend if it shrank below while they waited).
* **Replication.** Followers fetch from leaders. All fetchers from one follower zone to
  one leader zone are one fetch loop (brokers of a zone are symmetric): the request
  carries the followers' LEOs, which advance the leader's view and so the HW; the
  response carries everything appended since (bounded by
  ``replica.fetch.response.max.bytes`` per broker pair and by the TCP window / RTT),
  or waits up to ``replica.fetch.wait.max.ms`` for data. Kafka's rule decides
  whether a follower is caught up; the ISR check every ``replica.lag.time.max.ms``/2
  removes followers not caught up for that long, and a follower whose fetch offset
  reaches the HW rejoins. Every ISR change is a controller commit.
* **Controller.** The scenario's metadata store is the KRaft quorum. Brokers heartbeat
  every ``broker.heartbeat.interval.ms``; one silent (down, or cut off from the quorum
  leader) for ``broker.session.timeout.ms`` is fenced and its partitions get new
  leaders from the ISR (then, if enabled, from the ELR, then unclean). Nothing changes
  without a quorum majority.
* **Consumers** read committed data from the leader, or with fetch-from-follower from a
  replica in their rack (a follower serves up to the HW it last heard of). Data
  reaches a consumer one network hop after it becomes readable there.

Crashes: Kafka does not fsync each write, so a broker that stops uncleanly (a crash,
or a zone or region outage) loses what it appended within ``page_cache_flush_age``.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from geosim.clients.consumer import ConsumerGroup
from geosim.clients.producer import OUT_OF_ORDER, ProducerFleet
from geosim.core.events import BrokerFenced, PartitionChanged, Row, RowsTruncated
from geosim.kafka.config import BrokerConfig, resolve_broker_config
from geosim.kafka.idempotence import PartitionLog
from geosim.kafka.partition import PartitionState
from geosim.kafka.placement import BrokerInfo, by_location, rack_aware
from geosim.scenario.omb import topic_config
from geosim.strategies.base import Strategy, World

ACK_BYTES = 128
FETCH_REQUEST_BYTES = 64          # per fetch request, plus per partition below
FETCH_PARTITION_BYTES = 32
CONTROLLER_RECORD_BYTES = 128     # a partition-change or broker record (assumption)
CONTROLLER_CHECK = 0.5            # s between controller liveness evaluations
PENDING_SWEEP = 1.0               # s between produce-timeout sweeps
NOT_LEADER = "NotLeaderOrFollower"
NOT_ENOUGH = "NotEnoughReplicas"
NOT_ENOUGH_AFTER = "NotEnoughReplicasAfterAppend"


class Broker:
    __slots__ = ("id", "zone", "region", "rack", "alive", "fenced", "destroyed",
                 "last_heartbeat", "phase", "unclean_restart")

    def __init__(self, info: BrokerInfo, phase: float):
        self.id = info.id
        self.zone = info.zone
        self.region = info.region
        self.rack = info.rack
        self.alive = True
        self.fenced = False
        self.destroyed = False
        self.last_heartbeat = 0.0
        self.phase = phase            # heartbeat offset within the interval
        self.unclean_restart = False  # came back from a crash, not yet re-registered


class FetchPair:
    """The replica fetchers of one follower zone from one leader zone."""

    __slots__ = ("leader_zone", "follower_zone", "items", "connections", "wake")

    def __init__(self, leader_zone: str, follower_zone: str):
        self.leader_zone = leader_zone
        self.follower_zone = follower_zone
        self.items: list[tuple[PartitionState, int]] = []  # (partition, follower broker)
        self.connections = 1
        self.wake = None


@dataclass
class ClusterScope:
    """What makes a Kafka cluster one of several (the cross-cluster strategies): its
    brokers, its own controller quorum, its partitions and the clients attached to it.

    ``fleets`` is the run's list of producer fleets (rows name their fleet by index in
    it); ``producing`` the fleets writing to this cluster. Groups are attached with
    :meth:`KafkaClusterStrategy.attach_group`. Events name partitions
    ``partition_base + i`` so that partition ``i`` of two clusters stay apart.
    """

    name: str
    broker_counts: dict[str, int]
    metadata: Any                       # geosim.components.metadata_store.MetadataStore
    partitions: int
    partition_base: int
    fleets: list[ProducerFleet]
    producing: list[ProducerFleet] = field(default_factory=list)
    local_partitions: int | None = None  # producers write to partitions below this
    mirror_sinks: list[Any] = field(default_factory=list)  # by Row.mirror


class KafkaClusterStrategy(Strategy):
    """Kafka brokers with ISR replication; subclasses name the strategy."""

    name: ClassVar[str] = "kafka"
    description: ClassVar[str] = "Kafka cluster"
    with_observers: ClassVar[bool] = False

    def __init__(self, world: World, scope: ClusterScope | None = None):
        super().__init__(world)
        spec = world.scenario.strategy
        self.scope = scope
        self.metadata = scope.metadata if scope else world.metadata
        self.partition_base = scope.partition_base if scope else 0
        self.mirror_sinks = scope.mirror_sinks if scope else []
        self.spec = spec
        self.ctx = world.ctx
        self.env = world.ctx.env
        self.net = world.network
        topo = world.topology
        wl = world.workload
        self.config: BrokerConfig = resolve_broker_config(spec.config, topic_config(wl.driver))
        self.min_isr = self.config.min_insync_replicas
        self.acks = wl.producer_settings.acks
        self.request_timeout = wl.producer_settings.request_timeout
        # --- brokers and placement
        infos: list[BrokerInfo] = []
        broker_counts = scope.broker_counts if scope else wl.broker_counts
        for zone, count in broker_counts.items():
            region = topo.region_of(zone)
            for _ in range(count):
                infos.append(BrokerInfo(len(infos), zone, region,
                                        zone if spec.rack == "zone" else region))
        interval = self.config.broker_heartbeat_interval
        self.brokers = [Broker(b, interval * ((b.id * 0.618034) % 1.0)) for b in infos]
        self.zones = sorted({b.zone for b in self.brokers})
        self.partitions_n = scope.partitions if scope else wl.partitions
        # Partitions producers write to (the rest hold mirrored copies).
        self.local_partitions = (scope.local_partitions if scope and scope.local_partitions
                                 else self.partitions_n)
        rf = spec.replication_factor or wl.driver.replicationFactor
        if spec.replica_placement:
            replicas = by_location(infos, self.partitions_n, spec.replica_placement,
                                   lambda b, loc: loc in (b.zone, b.region))
        else:
            replicas = rack_aware(infos, self.partitions_n, min(rf, len(infos)))
        observers = [[] for _ in range(self.partitions_n)]
        self.promotion_policy = None
        if self.with_observers and getattr(spec, "observer_placement", None):
            observers = by_location(infos, self.partitions_n, spec.observer_placement,
                                    lambda b, loc: loc in (b.zone, b.region), replicas)
            self.promotion_policy = spec.observer_promotion_policy
        self.parts = [PartitionState(p, replicas[p], observers[p])
                      for p in range(self.partitions_n)]
        self.log = PartitionLog(self.partitions_n)
        # --- clients
        # Zone indices are the topology's, so that a fleet routed to one cluster's zones
        # never matches another cluster's append clock.
        self.zone_index = {z: i for i, z in enumerate(topo.zones())}
        if scope is None:
            self.fleets: list[ProducerFleet] = wl.make_fleets(self.ctx)
            self.producing = self.fleets
            self.groups: list[ConsumerGroup] = wl.make_groups(
                self.ctx, commit=self.commit_offsets, is_ready=self.is_readable,
                request=lambda row, zone: None, release=lambda _object_id: None)
        else:
            self.fleets = scope.fleets
            self.producing = scope.producing
            self.groups = []
        self._consumer_zones = sorted({m.zone for g in self.groups for m in g.members})
        # offset readable by consumers in each zone, per partition (after the hop)
        self.visible: dict[str, list[int]] = {z: [0] * self.partitions_n
                                              for z in topo.zones()}
        # --- replication wiring
        self.pairs: dict[tuple[str, str], FetchPair] = {}
        self._appended: dict[str, object] = {}
        self._leaders_by_zone: dict[str, list[PartitionState]] = {}
        self._controller_leader = self.metadata.leader_zone
        self.counters_: defaultdict[str, int] = defaultdict(int)
        self._orphans: list[tuple[Row, float]] = []  # produces waiting on a dead leader
        # Readers outside the cluster's groups (a mirror's position, a checkpointed
        # offset): each gives, for a partition, the lowest offset it may still read.
        self.holds: list[Callable[[int], int]] = []
        # Which truncated rows are lost: all of them, unless another cluster holds copies.
        self.lost_rows: Callable[[int, list[Row]], list[Row]] = lambda _pid, rows: rows
        self._started = False  # fetch loops start with start(); later pairs at creation
        self._rewire()

    # ======================================================================== wiring
    def _rewire(self) -> None:
        """Recompute fetch pairs, leaders by zone and producer routing."""
        leaders: dict[str, list[PartitionState]] = {z: [] for z in self.zones}
        items: dict[tuple[str, str], list] = defaultdict(list)
        conns: dict[tuple[str, str], set] = defaultdict(set)
        brokers = self.brokers
        for p in self.parts:
            if p.leader is None or not brokers[p.leader].alive:
                continue
            lz = brokers[p.leader].zone
            leaders[lz].append(p)
            for r in p.all_replicas:
                b = brokers[r]
                if r != p.leader and not b.destroyed:
                    items[(lz, b.zone)].append((p, r))
                    conns[(lz, b.zone)].add((p.leader, r))
        self._leaders_by_zone = leaders
        for key, pair in self.pairs.items():
            pair.items = items.pop(key, [])
            pair.connections = max(len(conns.get(key, ())), 1)
            self._wake(pair)
        for key, its in items.items():
            pair = self.pairs[key] = FetchPair(*key)
            pair.items = its
            pair.connections = max(len(conns[key]), 1)
            if self._started:
                self.env.process(self._fetch_loop(pair))
        self._route()

    def _route(self) -> None:
        """Producers send each partition to its leader's zone (target = zone index)."""
        table: dict[int, list[int]] = {}
        local = self.local_partitions
        for zone, parts in self._leaders_by_zone.items():
            ids = [p.id for p in parts if p.id < local]
            if ids:
                table[self.zone_index[zone]] = ids
        live_leaders = len({p.leader for parts in self._leaders_by_zone.values()
                            for p in parts})
        for fleet in self.producing:
            fleet.route(table, connections=live_leaders)

    def _signal_appended(self, zone: str) -> None:
        """Wake the fetches long-polling on ``zone``'s leaders: new data was appended."""
        event = self._appended.get(zone)
        if event is not None:
            self._appended[zone] = self.env.event()
            event.succeed()

    def _wake(self, pair: FetchPair) -> None:
        if pair.wake is not None and not pair.wake.triggered:
            pair.wake.succeed()

    # ====================================================================== lifecycle
    def start(self) -> None:
        self._started = True
        for zone in self.zones:
            self._appended[zone] = self.env.event()
            self.env.process(self._append_clock(zone))
        for pair in list(self.pairs.values()):
            self.env.process(self._fetch_loop(pair))
        for group in self.groups:
            self.env.process(group.run_commits())
        self.env.process(self._controller_loop())
        self.env.process(self._isr_expiration())
        self.env.process(self._sweep())
        if self.config.unclean_leader_election:
            self.env.process(self._unclean_elections())
        for p in self.parts:
            self._emit_state(p, "initial")

    # ===================================================================== produce path
    def _append_clock(self, zone: str):
        """Every ``append_interval``, the zone's leaders append what producers sent.

        Waits on a timeout; emits acks (acks=0/1), NotEnoughReplicas failures, and
        wakes the follower fetches parked on this zone."""
        interval = self.spec.append_interval
        target = self.zone_index[zone]
        while True:
            yield self.env.timeout(interval)
            if not self._leaders_by_zone[zone]:
                continue  # no live leader here (the table holds live leaders only)
            now = self.env.now
            appended_any = False
            for fleet in self.producing:
                if not fleet.alive or not self.net.reachable(fleet.zone, zone):
                    continue  # the producers' records wait in their buffers
                one_way = 0.5 * self.net.rtt_estimate(fleet.zone, zone)
                rows = fleet.cut(target, now, one_way)
                if rows:
                    appended_any |= self._produce(zone, fleet, rows, now)
            if appended_any:
                self._signal_appended(zone)

    def _produce(self, zone: str, fleet: ProducerFleet, rows: list[Row], now: float) -> bool:
        """A produce request reached the leaders in ``zone``; returns whether it appended."""
        size = sum(r.bytes_compressed for r in rows)
        self.net.delay(fleet.zone, zone, size, "produce")  # counts the bytes
        parts = self.parts
        ok_rows, refused = [], []
        for row in rows:
            p = parts[row.partition]
            if p.leader is None or self.brokers[p.leader].zone != zone \
                    or not self.brokers[p.leader].alive:
                refused.append(row)
            elif self.acks == "all" and len(p.isr) < self.min_isr:
                self.counters_["not_enough_replicas"] += 1
                fleet.failed([row], NOT_ENOUGH, written_maybe=False)
            else:
                ok_rows.append(row)
        if refused:
            fleet.failed(refused, NOT_LEADER, written_maybe=False)
        if not ok_rows:
            return False
        appended, rejected, duplicates = self.log.append(ok_rows)
        if rejected:
            self.counters_["rows_rejected_out_of_order"] += len(rejected)
            fleet.failed(rejected, OUT_OF_ORDER, written_maybe=False)
        for row in appended:
            p = parts[row.partition]
            p.append(row, now)
            for group in self.groups:
                group.appended(row, -1)
        if self.acks == "all":
            for row in appended:
                parts[row.partition].pending.append((row, now))
            # A duplicate is answered once its first copy is committed.
            done = []
            for row in duplicates:
                p = parts[row.partition]
                if row.offset + row.records <= p.hw:
                    done.append(row)
                else:
                    p.pending.append((row, now))
            if done:
                self._ack(zone, done)
        else:
            self._ack(zone, appended + duplicates)
        if self.acks == "all":
            # A leader alone in its ISR commits at once.
            for pid in {r.partition for r in appended}:
                p = parts[pid]
                if len(p.isr) == 1:
                    self._advance_hw(p)
        return bool(appended)

    def _ack(self, zone: str, rows: list[Row]) -> None:
        by_fleet: dict[int, list[Row]] = defaultdict(list)
        for row in rows:
            if row.mirror >= 0:
                self.mirror_sinks[row.mirror].acked(row)
                continue
            by_fleet[row.fleet].append(row)
        now = self.env.now
        for fleet_id, fleet_rows in by_fleet.items():
            fleet = self.fleets[fleet_id]
            delay = self.net.delay(zone, fleet.zone, ACK_BYTES, "produce")
            if delay is None:
                fleet.failed(fleet_rows, "ack lost", written_maybe=True)
            elif delay > self.request_timeout:
                # stuck behind a saturated link: the producer's request times out first
                self.env.timeout(self.request_timeout).callbacks.append(
                    lambda _e, f=fleet, r=fleet_rows: f.failed(r, "request timed out",
                                                                written_maybe=True))
            else:
                fleet.acked(fleet_rows, at=now + delay)

    def _advance_hw(self, p: PartitionState) -> None:
        """Move the HW to the smallest LEO in the ISR; acknowledge what it passed."""
        hw = p.hw_candidate(self.min_isr if self.config.eligible_leader_replicas else 0)
        if hw <= p.hw:
            return
        p.hw = hw
        if p.pending:
            done, keep = [], []
            for row, t in p.pending:
                (done if row.offset + row.records <= hw else keep).append((row, t))
            p.pending = keep
            if done:
                zone = self.brokers[p.leader].zone
                if len(p.isr) >= self.min_isr:
                    self._ack(zone, [r for r, _ in done])
                else:
                    self.counters_["not_enough_replicas_after_append"] += 1
                    self._fail_rows([r for r, _ in done], NOT_ENOUGH_AFTER, written_maybe=True)
        self._readable_changed(p, p.leader)

    def _fail_rows(self, rows: list[Row], reason: str, *, written_maybe: bool) -> None:
        by_fleet: dict[int, list[Row]] = defaultdict(list)
        for row in rows:
            if row.mirror >= 0:
                self.mirror_sinks[row.mirror].failed(row, reason)
                continue
            by_fleet[row.fleet].append(row)
        for fleet_id, fleet_rows in by_fleet.items():
            self.fleets[fleet_id].failed(fleet_rows, reason, written_maybe=written_maybe)

    def _sweep(self):
        """Once a second: produce requests waiting longer than ``request.timeout.ms``
        time out (outcome unknown, retried), and expired producer retries end."""
        while True:
            yield self.env.timeout(PENDING_SWEEP)
            now = self.env.now
            limit = self.request_timeout
            if self._orphans:
                expired = [r for r, t in self._orphans if now - t >= limit]
                self._orphans = [(r, t) for r, t in self._orphans if now - t < limit]
                if expired:
                    self._fail_rows(expired, "request timed out", written_maybe=True)
            for p in self.parts:
                if p.pending and now - p.pending[0][1] >= limit:
                    expired = [r for r, t in p.pending if now - t >= limit]
                    p.pending = [(r, t) for r, t in p.pending if now - t < limit]
                    self._fail_rows(expired, "request timed out", written_maybe=True)
            for fleet in self.producing:
                if fleet.pending_retries:
                    fleet.expire_retries()
            self._prune()

    def _prune(self) -> None:
        """Forget log rows every replica holds and every group has committed past."""
        for p in self.parts:
            if len(p.rows) < 64:
                continue
            alive = [p.leo[r] for r in p.all_replicas if not self.brokers[r].destroyed]
            upto = min(alive + [p.hw]) if alive else 0
            for group in self.groups:
                upto = min(upto, group.partitions[p.id].committed)
            for hold in self.holds:
                upto = min(upto, hold(p.id))
            p.prune(upto)

    # ====================================================================== replication
    def _fetch_loop(self, pair: FetchPair):
        """Fetches of one follower zone from one leader zone, back to back.

        Per cycle: the request's trip (it carries the followers' LEOs), at the leader
        a wait for data of at most ``replica.fetch.wait.max.ms``, the response's trip
        (its bytes through the link and the TCP windows). A request or response lost
        to a partition or outage is retried after ``replica.socket.timeout.ms``."""
        env = self.env
        cfg = self.config
        net = self.net
        lz, fz = pair.leader_zone, pair.follower_zone
        brokers = self.brokers
        window = self.world.topology.spec.tcp_window
        while True:
            items = pair.items
            if not items or net.is_down(fz) or net.is_down(lz):
                pair.wake = env.event()
                yield pair.wake
                continue
            request = [(p, r, p.leo[r], p.epoch) for p, r in items if brokers[r].alive]
            if not request:
                pair.wake = env.event()
                yield pair.wake
                continue
            d = net.delay(fz, lz, FETCH_REQUEST_BYTES + FETCH_PARTITION_BYTES * len(request),
                          "replicate")
            if d is None:
                yield env.timeout(cfg.replica_socket_timeout)
                continue
            yield env.timeout(d)
            if net.is_down(lz):
                yield env.timeout(max(cfg.replica_socket_timeout - d, 0.0))
                continue
            self._on_fetch_request(request)
            if not any(p.leader is not None and p.leo[p.leader] > p.leo[r]
                       for p, r, _leo, _e in request):
                waited = self._appended.get(lz)
                if waited is not None:
                    yield waited | env.timeout(cfg.replica_fetch_wait_max)
                else:
                    yield env.timeout(cfg.replica_fetch_wait_max)
            # the response: data up to the leader's LEO, within the byte budget
            budget = cfg.replica_fetch_response_max_bytes * pair.connections
            response = []
            size = 0
            for p, r, _leo, epoch in request:
                if p.epoch != epoch or p.leader is None or brokers[p.leader].zone != lz:
                    continue
                have = p.leo[r]
                target = p.leo[p.leader]
                if target > have:
                    more = p.end_bytes - p.bytes_at(have)
                    if size and size + more > budget:
                        continue
                    size += more
                response.append((p, r, target, p.hw, epoch))
            d = net.delay(lz, fz, size + FETCH_REQUEST_BYTES, "replicate")
            if d is None:
                yield env.timeout(cfg.replica_socket_timeout)
                continue
            if window and size > window * pair.connections:
                # each connection moves at most one window per round trip
                d += net.rtt_estimate(lz, fz) * size / (window * pair.connections)
            yield env.timeout(d)
            if net.is_down(fz):
                continue
            changed = []
            for p, r, target, hw, epoch in response:
                if p.epoch != epoch or not brokers[r].alive:
                    continue
                if target > p.leo[r]:
                    p.leo[r] = min(target, p.log_end)
                new_hw = min(hw, p.leo[r])
                if new_hw > p.follower_hw[r]:
                    p.follower_hw[r] = new_hw
                    changed.append((p, r))
            for p, r in changed:
                self._readable_changed(p, r)

    def _on_fetch_request(self, request) -> None:
        """A fetch reached the leader: update its view, the caught-up times, the HW."""
        now = self.env.now
        expand: list[tuple[PartitionState, int]] = []
        for p, r, fetch_offset, epoch in request:
            if p.epoch != epoch or p.leader is None:
                continue
            leader_leo = p.leo[p.leader]
            progressed = fetch_offset > p.view.get(r, -1)
            if progressed:
                p.view[r] = fetch_offset
            # Kafka's rule (Replica.updateFetchState): caught up if the fetch reached the
            # leader's LEO now, or its LEO at the previous fetch (then as of that fetch).
            if fetch_offset >= leader_leo:
                p.caught_up[r] = now
            elif fetch_offset >= p.last_fetch_leo.get(r, 0):
                p.caught_up[r] = max(p.caught_up[r], p.last_fetch_time.get(r, 0.0))
            p.last_fetch_leo[r] = leader_leo
            p.last_fetch_time[r] = now
            if r not in p.isr and fetch_offset >= p.hw and self._may_join_isr(p, r):
                expand.append((p, r))
            elif progressed and r in p.isr:
                self._advance_hw(p)  # only a follower's progress can move the HW
        if expand:
            self._alter_isr(expand, add=True)

    def _may_join_isr(self, p: PartitionState, r: int) -> bool:
        if r in p.replicas:
            return not self.brokers[r].fenced
        policy = self.promotion_policy  # an observer
        if policy == "under-min-isr":
            return len(p.isr) < self.min_isr
        if policy == "under-replicated":
            return len([x for x in p.isr if x in p.replicas]) < len(p.replicas)
        return False

    def _isr_expiration(self):
        """Every ``replica.lag.time.max.ms``/2, leaders drop followers not caught up
        for ``replica.lag.time.max.ms`` (and demote observers no longer needed)."""
        lag = self.config.replica_lag_time_max
        while True:
            yield self.env.timeout(lag / 2)
            now = self.env.now
            shrink = []
            for p in self.parts:
                if p.leader is None or not self.brokers[p.leader].alive:
                    continue
                for r in p.isr:
                    if r != p.leader and now - p.caught_up[r] > lag:
                        shrink.append((p, r))
                if self.promotion_policy and any(o in p.isr for o in p.observers):
                    sync_isr = [x for x in p.isr if x in p.replicas]
                    enough = len(sync_isr) >= (self.min_isr
                                               if self.promotion_policy == "under-min-isr"
                                               else len(p.replicas))
                    if enough:
                        shrink += [(p, o) for o in p.observers if o in p.isr]
            if shrink:
                self._alter_isr(shrink, add=False)

    def _alter_isr(self, changes: list[tuple[PartitionState, int]], *, add: bool) -> None:
        """AlterPartition: leaders ask the controller to change ISRs (one commit)."""
        by_zone: dict[str, list] = defaultdict(list)
        for p, r in changes:
            by_zone[self.brokers[p.leader].zone].append((p, r, p.epoch))
        for zone, batch in by_zone.items():
            def done(ok: bool, batch=batch) -> None:
                if not ok:
                    self.counters_["isr_change_failures"] += 1
                    return
                touched: dict[int, PartitionState] = {}  # in batch order: deterministic
                for p, r, epoch in batch:
                    if p.epoch != epoch or p.leader is None:
                        continue
                    if add and r not in p.isr:
                        if r in p.observers:
                            self.counters_["observer_promotions"] += 1
                        p.isr.add(r)
                        p.elr.discard(r)
                        p.caught_up[r] = self.env.now
                    elif not add and r in p.isr and r != p.leader:
                        p.isr.discard(r)
                        if self.config.eligible_leader_replicas and \
                                len(p.isr) < self.min_isr and r in p.replicas:
                            p.elr.add(r)
                    else:
                        continue
                    touched[p.id] = p
                for p in touched.values():
                    self.counters_["isr_expansions" if add else "isr_shrinks"] += 1
                    self._emit_state(p, "isr expand" if add else "isr shrink")
                    self._advance_hw(p)
            self.metadata.commit(zone, CONTROLLER_RECORD_BYTES * len(batch), done)

    # ======================================================================== controller
    def _controller_loop(self):
        """Every 0.5 s the controller evaluates heartbeats: it fences brokers silent for
        ``broker.session.timeout.ms``, unfences brokers heard from again, and elects
        leaders for partitions without one. Each change is one quorum commit."""
        cfg = self.config
        interval = cfg.broker_heartbeat_interval
        metadata = self.metadata
        while True:
            yield self.env.timeout(CONTROLLER_CHECK)
            now = self.env.now
            leader_zone = metadata.leader_zone if metadata.available() else None
            if leader_zone is None:
                continue
            if leader_zone != self._controller_leader:
                # a new active controller gives every broker a fresh session
                self._controller_leader = leader_zone
                for b in self.brokers:
                    b.last_heartbeat = now
            fence, unfence = [], []
            for b in self.brokers:
                if b.destroyed:
                    if not b.fenced:
                        fence.append(b)
                    continue
                beating = b.alive and self.net.reachable(b.zone, leader_zone) \
                    and self.net.reachable(leader_zone, b.zone)
                if beating:
                    # the last heartbeat tick of this broker at or before now
                    k = (now - b.phase) // interval
                    b.last_heartbeat = max(b.last_heartbeat, k * interval + b.phase)
                    if b.fenced or b.unclean_restart:
                        unfence.append(b)
                elif not b.fenced and now - b.last_heartbeat >= cfg.broker_session_timeout:
                    fence.append(b)
            if fence or unfence:
                self._commit_brokers(fence, unfence)
            elif any(p.leader is None for p in self.parts):
                self._elect_offline()

    def _commit_brokers(self, fence: list[Broker], unfence: list[Broker]) -> None:
        size = CONTROLLER_RECORD_BYTES * (len(fence) + len(unfence))

        def done(ok: bool) -> None:
            if not ok:
                self.counters_["controller_commit_failures"] += 1
                return
            for b in fence:
                if not b.fenced:
                    b.fenced = True
                    self.counters_["brokers_fenced"] += 1
                    self.ctx.recorder.emit(BrokerFenced(self.env.now, b.id, b.zone, True))
            for b in unfence:
                if b.unclean_restart:
                    b.unclean_restart = False
                    if self.config.eligible_leader_replicas:
                        # KIP-966: a replica back from an unclean shutdown may have lost
                        # committed data, so it leaves the ISR and the ELR.
                        for p in self.parts:
                            if b.id in p.isr or b.id in p.elr:
                                p.elr.discard(b.id)
                                if b.id in p.isr and p.leader != b.id:
                                    p.isr.discard(b.id)
                                    self._emit_state(p, "unclean restart")
                if b.fenced and b.alive:
                    b.fenced = False
                    self.ctx.recorder.emit(BrokerFenced(self.env.now, b.id, b.zone, False))
            self._reassign_after_fencing()

        self.metadata.commit(self._controller_leader, size, done)

    def _reassign_after_fencing(self) -> None:
        """Partitions led by fenced brokers get new leaders; fenced replicas leave ISRs
        (the last ISR member stays unless ELR is on: KRaft never empties an ISR)."""
        brokers = self.brokers
        elr = self.config.eligible_leader_replicas
        changed = False
        for p in self.parts:
            fenced = [r for r in p.isr if brokers[r].fenced]
            if not fenced and (p.leader is None or not brokers[p.leader].fenced):
                continue
            for r in fenced:
                if len(p.isr) > 1 or elr:
                    p.isr.discard(r)
                    if elr and r in p.replicas and len(p.isr) < self.min_isr \
                            and not brokers[r].destroyed:
                        p.elr.add(r)
            if p.leader is not None and brokers[p.leader].fenced:
                self._elect(p, "leader fenced")
                changed = True
            else:
                self._emit_state(p, "fenced replica left the ISR")
                self._advance_hw(p)  # the fenced follower no longer holds the HW back
        if changed:
            self._rewire()
        self._elect_offline()

    def _elect_offline(self) -> None:
        changed = False
        for p in self.parts:
            if p.leader is None and self._elect(p, "offline partition"):
                changed = True
        if changed:
            self._rewire()

    def _candidates(self, p: PartitionState, *, unclean: bool) -> list[int]:
        brokers = self.brokers
        ok = [r for r in p.all_replicas if not brokers[r].fenced and brokers[r].alive
              and not brokers[r].destroyed and not brokers[r].unclean_restart]
        clean = [r for r in ok if r in p.isr]
        if clean:
            return clean
        if self.config.eligible_leader_replicas:
            eligible = [r for r in ok if r in p.elr]
            if eligible:
                return eligible
        if unclean:
            return ok
        return []

    def _elect(self, p: PartitionState, reason: str, *, unclean: bool = False) -> bool:
        """Choose a leader (clean from the ISR, then the ELR; unclean if asked)."""
        candidates = self._candidates(p, unclean=unclean)
        old = p.leader
        if not candidates:
            if old is not None:
                self._set_leader(p, None, reason)
            return False
        new = candidates[0]
        if new == old:
            return False
        if unclean and new not in p.isr:
            self.counters_["unclean_elections"] += 1
            p.isr = {new}
            p.elr.clear()
            reason = "unclean election"
        self._set_leader(p, new, reason)
        return True

    def _set_leader(self, p: PartitionState, new: int | None, reason: str) -> None:
        now = self.env.now
        old = p.leader
        if p.pending:
            if old is not None and self.brokers[old].alive:
                # The old leader answers waiting produces with NotLeaderOrFollower; the
                # producers retry, as duplicates if the data survived.
                self._fail_rows([r for r, _t in p.pending], NOT_LEADER, written_maybe=True)
            else:
                # A dead leader answers nothing: the requests time out at the producers.
                self._orphans.extend(p.pending)
            p.pending = []
        p.leader = new
        p.epoch += 1
        self.counters_["leader_changes"] += 1
        if new is None:
            if p.offline_since is None:
                p.offline_since = now
            self._emit_state(p, reason)
            return
        p.offline_since = None
        new_leo = p.leo[new]
        if new_leo < p.log_end:
            self._truncate(p, new_leo, "election onto a shorter log")
        # The new leader's HW is at most what it holds; followers' fetches move it on.
        p.hw = min(p.hw, new_leo)
        p.view = {}
        for r in p.isr:
            p.caught_up[r] = now
        self._emit_state(p, reason)
        self._advance_hw(p)

    def _truncate(self, p: PartitionState, offset: int, cause: str) -> None:
        removed = p.truncate(offset)
        if not removed:
            return
        self.counters_["rows_truncated"] += len(removed)
        by_region: dict[str, list[Row]] = defaultdict(list)
        for row in self.lost_rows(p.id, removed):
            by_region[self.fleets[row.fleet].region].append(row)
        for region, rows in sorted(by_region.items()):
            self.ctx.recorder.emit(RowsTruncated(self.env.now, self.partition_base + p.id,
                                                 region, tuple(rows), cause))
        self.log.truncate(p.id, offset, p.rows)
        for group in self.groups:
            group.truncate(p.id, offset)
        for visible in self.visible.values():
            if visible[p.id] > offset:
                visible[p.id] = offset

    def _unclean_elections(self):
        """Every ``unclean.leader.election.interval.ms``, offline partitions elect any
        live replica (``unclean.leader.election.enable``)."""
        while True:
            yield self.env.timeout(self.config.unclean_election_interval)
            if not self.metadata.available():
                continue
            self.unclean_election()

    def unclean_election(self) -> None:
        """The operator's unclean election: every offline partition takes the first live
        replica (sync, then observer) as leader, through one controller commit."""
        offline = [p for p in self.parts if p.leader is None]
        if not offline:
            return

        def done(ok: bool) -> None:
            if not ok:
                self.counters_["controller_commit_failures"] += 1
                return
            elected = [p for p in offline
                       if p.leader is None and self._elect(p, "unclean election", unclean=True)]
            if elected:
                self._rewire()

        self.metadata.commit(self._controller_leader,
                                   CONTROLLER_RECORD_BYTES * len(offline), done)

    def _emit_state(self, p: PartitionState, reason: str) -> None:
        leader = None if p.leader is None else self.brokers[p.leader].region
        self.ctx.recorder.emit(PartitionChanged(self.env.now, self.partition_base + p.id,
                                                leader, len(p.isr),
                                                len(p.isr) < self.min_isr, reason))

    # ========================================================================= consumers
    def _serving_replica(self, p: PartitionState, zone: str) -> int | None:
        if p.leader is None:
            return None
        if not self.spec.fetch_from_follower:
            return p.leader
        region = self.world.topology.region_of(zone)
        rack = zone if self.spec.rack == "zone" else region
        for r in p.all_replicas:
            b = self.brokers[r]
            if b.rack == rack and b.alive and not b.fenced:
                return r
        return p.leader

    def _readable_changed(self, p: PartitionState, replica: int) -> None:
        """``replica`` can serve more of ``p``: consumers reading from it see it one
        network hop later."""
        offset = p.readable(replica)
        rzone = self.brokers[replica].zone
        for zone in self._consumer_zones:
            if self._serving_replica(p, zone) != replica:
                continue
            have = self.visible[zone][p.id]
            if offset <= have:
                continue
            owners = sum(1 for g in self.groups if g.owner_zone(p.id) == zone)
            size = (p.bytes_at(offset) - p.bytes_at(have)) * owners
            delay = self.net.delay(rzone, zone, size, "consume") if owners else 0.0
            if delay is None:
                continue  # retried at the next advance
            epoch = p.epoch
            if delay <= 0:
                self._visible(p, zone, offset, epoch)
            else:
                self.env.timeout(delay).callbacks.append(
                    lambda _e, p=p, zone=zone, offset=offset, epoch=epoch:
                    self._visible(p, zone, offset, epoch))

    def _visible(self, p: PartitionState, zone: str, offset: int, epoch: int) -> None:
        if p.epoch != epoch:
            offset = min(offset, p.hw if p.leader is not None else offset)
        visible = self.visible[zone]
        if offset > visible[p.id]:
            visible[p.id] = offset
            for group in self.groups:
                if group.owner_zone(p.id) == zone:
                    group.ready((p.id,))

    def is_readable(self, row: Row, zone: str) -> bool:
        """Whether ``row`` is readable by a consumer in ``zone`` now (it reached that
        zone's view of the partition)."""
        return row.offset + row.records <= self.visible[zone][row.partition]

    def commit_offsets(self, zone: str, size: int, done: Callable[[bool], None]) -> None:
        """Offset commits go to the group coordinator, a live broker (a round trip)."""
        live = [b for b in self.brokers if b.alive and not b.fenced]
        if not live:
            done(False)
            return
        coordinator = live[0]
        rtt = self.net.round_trip(zone, coordinator.zone, size, ACK_BYTES, "consume")
        if rtt is None:
            done(False)
            return
        self.env.timeout(rtt).callbacks.append(lambda _e: done(True))

    # ============================================================================ faults
    def zone_state(self, zone: str, up: bool, destroyed: bool = False) -> None:
        for b in self.brokers:
            if b.zone == zone:
                self._broker_state(b, up, clean=False, destroyed=destroyed)
        self.crash_clients("all", zone, up)
        if not up:
            self.visible[zone] = [0] * self.partitions_n
        self._rewire()

    def _broker_state(self, b: Broker, up: bool, *, clean: bool, destroyed: bool) -> None:
        if b.destroyed:
            return
        if not up:
            b.alive = False
            if destroyed:
                b.destroyed = True
                self._destroy_replicas(b)
            elif not clean:
                self._lose_page_cache(b)
            return
        b.alive = True
        b.unclean_restart = not clean or b.unclean_restart
        # back as a follower of everything (its partitions re-elect if it led them)
        for p in self.parts:
            if p.leader == b.id:
                self._elect(p, "leader restarted")

    def _lose_page_cache(self, b: Broker) -> None:
        """An unclean stop: each replica keeps only what was flushed to disk."""
        flushed_before = self.env.now - self.spec.page_cache_flush_age
        for p in self.parts:
            if b.id in p.leo:
                keep = min(p.leo[b.id], p.offset_flushed_before(flushed_before))
                if keep < p.leo[b.id]:
                    self.counters_["unflushed_suffixes_lost"] += 1
                    p.leo[b.id] = keep
                    p.follower_hw[b.id] = min(p.follower_hw[b.id], keep)

    def _destroy_replicas(self, b: Broker) -> None:
        """A destroyed broker's data is gone: rows no surviving replica holds are lost."""
        for p in self.parts:
            if b.id not in p.leo:
                continue
            p.leo[b.id] = 0
            survivors = [p.leo[r] for r in p.all_replicas if not self.brokers[r].destroyed]
            best = max(survivors) if survivors else 0
            if best < p.log_end:
                self._truncate(p, best, "every replica holding the rows was destroyed")

    def crash_brokers(self, zone: str, count: int, up: bool) -> None:
        fault = next((f for f in self.world.scenario.faults
                      if f.kind == "broker-crash" and f.zone == zone), None)
        clean = bool(getattr(fault, "clean", False))
        for b in [b for b in self.brokers if b.zone == zone][:count]:
            self._broker_state(b, up, clean=clean, destroyed=False)
        self._rewire()

    # ===================================================================== cross-cluster
    def attach_group(self, group: ConsumerGroup) -> None:
        """A consumer group now reads this cluster (its log rows already set); what is
        committed here now is readable by its members at once."""
        self.groups.append(group)
        self._consumer_zones = sorted({m.zone for g in self.groups for m in g.members})
        for zone in self._consumer_zones:
            visible = self.visible[zone]
            for p in self.parts:
                if p.leader is not None and self.brokers[p.leader].alive:
                    visible[p.id] = max(visible[p.id], p.hw)
        if self._started:
            self.env.process(group.run_commits())
        group.ready(range(self.partitions_n))

    def detach_group(self, group: ConsumerGroup) -> None:
        self.groups.remove(group)
        self._consumer_zones = sorted({m.zone for g in self.groups for m in g.members})

    def attach_fleets(self, fleets: list[ProducerFleet]) -> None:
        self.producing.extend(fleets)
        self._route()

    def detach_fleets(self, fleets: list[ProducerFleet]) -> None:
        for fleet in fleets:
            if fleet in self.producing:
                self.producing.remove(fleet)

    def committed_rows(self, pid: int, start: int, budget: int) -> list[Row]:
        """Rows of partition ``pid`` from offset ``start`` up to its high watermark, at
        most ``budget`` compressed bytes (at least one row), as the leader serves them;
        none without a live leader."""
        p = self.parts[pid]
        if p.leader is None or not self.brokers[p.leader].alive:
            return []
        hw = p.readable(p.leader)
        if start >= hw:
            return []
        i = bisect_right(p.ends, start)
        out: list[Row] = []
        size = 0
        rows, ends = p.rows, p.ends
        while i < len(rows) and ends[i] <= hw:
            row = rows[i]
            if out and size + row.bytes_compressed > budget:
                break
            out.append(row)
            size += row.bytes_compressed
            i += 1
        return out

    def live_brokers_in(self, zone: str) -> int:
        return sum(1 for b in self.brokers if b.zone == zone and b.alive)

    def leader_zone(self, pid: int) -> str | None:
        p = self.parts[pid]
        if p.leader is None or not self.brokers[p.leader].alive:
            return None
        return self.brokers[p.leader].zone

    def appended_event(self, zone: str):
        """The event the zone's next append triggers (a fetch's long-poll wakes on it)."""
        return self._appended.get(zone)

    def append_mirrored(self, rows: list[Row]) -> list[Row]:
        """A mirror's produce request reached the leaders: append copies (``row.mirror``
        names the flow; ``row.offset`` >= 0 asks for that offset, as offset-preserving
        mirror topics do, otherwise the log end). Acks and failures go to
        ``mirror_sinks[row.mirror]``; returns the rows refused at once."""
        now = self.env.now
        parts = self.parts
        refused: list[Row] = []
        touched: set[int] = set()
        for row in rows:
            p = parts[row.partition]
            if p.leader is None or not self.brokers[p.leader].alive:
                refused.append(row)
                continue
            if len(p.isr) < self.min_isr:  # mirror producers use acks=all
                self.counters_["not_enough_replicas"] += 1
                refused.append(row)
                continue
            end = p.log_end
            if row.offset >= 0:
                if row.offset + row.records <= end:
                    # already here (a re-sent fetch): answered once committed
                    if row.offset + row.records <= p.hw:
                        self.mirror_sinks[row.mirror].acked(row)
                    else:
                        p.pending.append((row, now))
                    continue
                if row.offset != end:
                    refused.append(row)
                    continue
            else:
                row.offset = end
            self.log.next_offset[p.id] = row.offset + row.records
            p.append(row, now)
            for group in self.groups:
                group.appended(row, -1)
            p.pending.append((row, now))
            touched.add(p.id)
        for pid in touched:
            self._advance_hw(parts[pid])  # a leader alone in its ISR commits at once
        for zone in sorted({self.brokers[parts[pid].leader].zone for pid in touched}):
            self._signal_appended(zone)
        return refused

    def connectivity_changed(self) -> None:
        for pair in self.pairs.values():
            self._wake(pair)

    def counters(self) -> dict[str, int]:
        return dict(sorted(self.counters_.items()))



__all__ = ["KafkaClusterStrategy"]
