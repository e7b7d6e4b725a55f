"""A Kafka cluster: brokers in zones, replicated partitions, a KRaft controller quorum.

The engine of the ``stretch`` and ``observers`` strategies, and of each cluster of the
cross-cluster ones (:mod:`geosim.kafka.cross_cluster`); domain.md §4 "Kafka-style
brokers" is the specification. :class:`KafkaCluster` assembles the cluster (brokers,
replica placement, partitions, the clients attached to it) and owns the state every
part shares; each concern is one collaborator with its own module:

* :mod:`geosim.kafka.produce` — append clocks, produce requests, acks, produce timeouts;
* :mod:`geosim.kafka.replication` — fetch loops, the ISR, the high watermark;
* :mod:`geosim.kafka.controller` — heartbeats, fencing, elections (KRaft commits);
* :mod:`geosim.kafka.reads` — consumer fetches, fetch-from-follower, offset commits;
* :mod:`geosim.kafka.faults` — brokers and zones going down and coming back.

State shared by all of them stays here: the brokers (:class:`~geosim.kafka.broker.Broker`),
one :class:`~geosim.kafka.partition.PartitionState` per partition (its canonical log,
whose truncation and retention are this module's), the idempotent producers' sequence
state (:class:`~geosim.kafka.idempotence.PartitionLog`), the clients and the counters.

Crashes: Kafka does not fsync each write, so a broker that stops uncleanly (a crash,
or a zone or region outage) loses what it appended within ``page_cache_flush_age``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING

from geosim.clients.consumer import ConsumerGroup
from geosim.clients.producer import ProducerFleet
from geosim.core.events import (
    TOPIC_REPLICATION_COUNTER,
    PartitionChanged,
    PartitionErased,
    Row,
    RowsTruncated,
)
from geosim.kafka import faults
from geosim.kafka.broker import Broker
from geosim.kafka.config import BrokerConfig
from geosim.kafka.controller import Controller
from geosim.kafka.coordinator import GroupCoordinators, coordinator_timing, unrouted_commit
from geosim.kafka.idempotence import PartitionLog
from geosim.kafka.partition import PartitionState
from geosim.kafka.placement import (
    BrokerInfo,
    ObserverSetup,
    by_location,
    rack_aware,
    topic_layouts,
)
from geosim.kafka.produce import ProducePath
from geosim.kafka.reads import ReadPath
from geosim.kafka.replication import Replication
from geosim.kafka.shared_storage import SharedStorage
from geosim.kafka.spec import KafkaSpec
from geosim.scenario.omb import topic_config

if TYPE_CHECKING:
    from geosim.kafka.regional import ClusterScope
    from geosim.kafka.storage_spec import SharedStorageSpec
    from geosim.kafka.world import KafkaWorld

HOUSEKEEPING = 1.0  # s between produce-timeout sweeps (and log retention)


class KafkaCluster:
    """Kafka brokers with ISR replication (see the module docstring).

    Without ``scope`` the cluster is the run's only one: it takes every broker of the
    workload, the world's metadata store as its KRaft quorum, and builds the workload's
    producer fleets and consumer groups. ``observers``: the strategy places observer
    replicas (:class:`ObserverSetup`: where, and the promotion policy).
    ``client_faults(zone, up)`` is called when a zone goes down or up, after its brokers
    changed state (the strategy crashes or restarts the zone's clients).
    ``storage``: the cluster's storage is shared (:mod:`geosim.kafka.shared_storage`):
    one replica per partition, durability from a WAL and the object store.
    """

    def __init__(self, world: KafkaWorld, scope: ClusterScope | None = None, *,
                 observers: ObserverSetup | None = None,
                 client_faults: Callable[[str, bool], None] | None = None,
                 storage: SharedStorageSpec | None = None):
        spec = world.scenario.strategy
        if not isinstance(spec, KafkaSpec):
            raise TypeError(f"the Kafka engine needs a Kafka-family strategy block, "
                            f"got {type(spec).__name__}")
        self.world = world
        self.scope = scope
        # Names the cluster's message families on the network (Network.delay's stream).
        self.name = scope.name if scope else "cluster"
        self.metadata = scope.metadata if scope else world.metadata
        self.partition_base = scope.partition_base if scope else 0
        self.mirror_sinks = scope.mirror_sinks if scope else []
        self.spec: KafkaSpec = spec
        self.ctx = world.ctx
        self.env = world.ctx.env
        self.net = world.network
        topo = world.topology
        wl = world.workload
        self.config: BrokerConfig = spec.broker_config(topic_config(wl.driver))
        # Shared storage: replication factor and min.insync.replicas are forced to 1
        # (AutoMQ's ReplicationControlManager.createTopic); the WAL makes data durable.
        self.min_isr = 1 if storage else self.config.min_insync_replicas
        self.request_timeout = wl.producer_settings.request_timeout
        # The send clock's tick (strategy.append_interval, else simulation.send_tick).
        self.send_tick = spec.send_tick(world.scenario.simulation)
        self.client_faults = client_faults or (lambda _zone, _up: None)
        # --- brokers and placement
        infos: list[BrokerInfo] = []
        broker_counts = scope.broker_counts if scope else wl.broker_counts
        for zone, count in broker_counts.items():
            region = topo.region_of(zone)
            for _ in range(count):
                infos.append(BrokerInfo(len(infos), zone, region,
                                        zone if spec.rack == "zone" else region))
        interval = self.config.broker_heartbeat_interval
        self.brokers = [Broker(b, interval * ((b.id * 0.618034) % 1.0), self.name)
                        for b in infos]
        self.zones = sorted({b.zone for b in self.brokers})
        self.partitions_n = scope.partitions if scope else wl.partitions
        # Partitions producers write to (the rest hold mirrored copies).
        self.local_partitions = (scope.local_partitions if scope and scope.local_partitions
                                 else self.partitions_n)
        # Shared storage: one replica per partition, whatever the placements ask.
        rf = 1 if storage else spec.replication_factor or wl.driver.replicationFactor
        self.promotion_policy: str | None = None
        if observers is not None and (observers.placement or any(
                t.observer_placement for t in wl.topics)):
            self.promotion_policy = observers.promotion_policy
        self.parts = []

        def located(b: BrokerInfo, loc: str) -> bool:
            return loc in (b.zone, b.region)

        for layout in topic_layouts([] if storage else wl.topics, self.partitions_n, rf,
                                    self.min_isr, {} if storage else spec.replica_placement,
                                    observers.placement if observers else {}):
            start = layout.first
            replicas = (by_location(infos, layout.count, layout.replica_placement, located,
                                    start=start)
                        if layout.replica_placement
                        else rack_aware(infos, layout.count, min(layout.rf, len(infos)),
                                        start=start))
            observer_sets = (by_location(infos, layout.count, layout.observer_placement,
                                         located, replicas, start=start)
                             if layout.observer_placement else [[]] * layout.count)
            for i in range(layout.count):
                self.parts.append(PartitionState(layout.first + i, replicas[i],
                                                 observer_sets[i], layout.min_isr))
        self.log = PartitionLog(self.partitions_n)
        # Declared topics: each local partition's replication-bytes counter name.
        self.topic_counter: list[str] | None = (
            [TOPIC_REPLICATION_COUNTER + t.name for t in wl.topics for _ in t.ids]
            if wl.topics else None)
        self.counters_: defaultdict[str, int] = defaultdict(int)
        # Readers outside the cluster's groups (a mirror's position, a checkpointed
        # offset): each gives, for a partition, the lowest offset it may still read.
        self.holds: list[Callable[[int], float]] = []
        # Which truncated rows are lost: all of them, unless another cluster holds copies.
        self.lost_rows: Callable[[int, list[Row]], list[Row]] = lambda _pid, rows: rows
        # Whether a partition's forgotten prefix is lost when every replica is
        # destroyed: yes, unless another cluster holds copies of it.
        self.prefix_lost: Callable[[int], bool] = lambda _pid: True
        self.started = False  # processes start with start(); later fetch loops at creation
        self.storage: SharedStorage | None = None
        # --- the concerns
        self.produce = ProducePath(self)
        self.replication = Replication(self)
        self.controller = Controller(self)
        self.reads = ReadPath(self)
        if storage is not None:
            self.storage = SharedStorage(self, storage, world.object_store,
                                         f"shared-storage.{scope.name if scope else 'cluster'}")
        self.coordinators = GroupCoordinators(self, infos)
        # --- clients
        # Zone indices are the topology's, so that a fleet routed to one cluster's zones
        # never matches another cluster's append clock.
        self.zone_index = {z: i for i, z in enumerate(topo.zones())}
        if scope is None:
            self.fleets: list[ProducerFleet] = wl.make_fleets(self.ctx)
            self.producing = self.fleets
            self.groups: list[ConsumerGroup] = wl.make_groups(
                self.ctx, commit=unrouted_commit, is_ready=self.reads.is_readable,
                request=lambda row, zone: None, release=None,
                settings=coordinator_timing(wl.consumer_settings, self.config))
            for group in self.groups:
                self.coordinators.attach(group)
        else:
            self.fleets = scope.fleets
            self.producing = scope.producing
            self.groups = []
        self.reads.groups_changed()
        self.rewire()

    # ======================================================================== wiring
    def rewire(self) -> None:
        """Recompute who leads what and who fetches from whom: the fetch pairs, the
        leaders of each zone and the producers' routing."""
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
        self.produce.leaders_by_zone = leaders
        self.replication.set_fetchers(items, conns)
        self.produce.route()

    # ====================================================================== lifecycle
    def start(self) -> None:
        """Launch the append clocks, fetch loops, group commits, the controller, the ISR
        expiration, the housekeeping and (if enabled) unclean elections; emit each
        partition's initial state."""
        self.started = True
        env = self.env
        self.produce.start()
        self.replication.start()
        if self.storage is not None:
            self.storage.start()
        for group in self.groups:
            env.process(group.run_commits())
        env.process(self.controller.run())
        env.process(self.controller.run_heartbeats())
        env.process(self.replication.run_isr_expiration())
        env.process(self._housekeeping())
        if self.config.unclean_leader_election:
            env.process(self.controller.run_unclean_elections())
        for p in self.parts:
            self.emit_state(p, "initial")

    def _housekeeping(self):
        """Once a second: produce requests time out (:meth:`ProducePath.time_out`), then
        log rows no reader needs any more are forgotten."""
        while True:
            yield self.env.timeout(HOUSEKEEPING)
            self.produce.time_out()
            self.prune()

    # ================================================================ the canonical log
    def prune(self) -> None:
        """Forget log rows every replica holds and every group has committed past."""
        for p in self.parts:
            if len(p.rows) < 64:
                continue
            alive = [p.leo[r] for r in p.all_replicas if not self.brokers[r].destroyed]
            if not alive:   # erased: nothing is left to forget
                continue
            upto: float = min(alive + [p.hw])
            for group in self.groups:
                upto = min(upto, group.partitions[p.id].committed)
            for hold in self.holds:
                upto = min(upto, hold(p.id))
            p.prune(int(upto))  # a hold of inf (none) never wins over the HW

    def truncate(self, p: PartitionState, offset: int, cause: str) -> None:
        """Cut ``p``'s log at ``offset``; emits the rows lost (:attr:`lost_rows`) by
        writer region, and rewinds the producers' sequences, the groups and the
        consumers' views."""
        self.replication.disturb()
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
        self.reads.truncated(p.id, offset)

    def erase(self, p: PartitionState, cause: str) -> None:
        """Every replica of ``p`` was destroyed: its whole log is gone, the rows it
        keeps (:meth:`truncate`) and the prefix it forgot (:class:`PartitionErased`)."""
        self.truncate(p, 0, cause)
        if p.log_end > 0 and self.prefix_lost(p.id):
            self.ctx.recorder.emit(PartitionErased(self.env.now,
                                                   self.partition_base + p.id, cause))

    def emit_state(self, p: PartitionState, reason: str, at: float | None = None) -> None:
        """``p``'s leader or ISR changed (``at``: when, if before now: a window's)."""
        self.replication.disturb()
        leader = None if p.leader is None else self.brokers[p.leader].region
        self.ctx.recorder.emit(PartitionChanged(self.env.now if at is None else at,
                                                self.partition_base + p.id,
                                                leader, len(p.isr),
                                                len(p.isr) < p.min_isr, reason))

    # ========================================================================= queries
    def leader_zone(self, pid: int) -> str | None:
        """The zone of partition ``pid``'s live leader (None while it has none)."""
        p = self.parts[pid]
        if p.leader is None or not self.brokers[p.leader].alive:
            return None
        return self.brokers[p.leader].zone

    def live_brokers_in(self, zone: str) -> int:
        return sum(1 for b in self.brokers if b.zone == zone and b.alive)

    # ========================================================================== faults
    def zone_state(self, zone: str, up: bool, destroyed: bool = False) -> None:
        """A zone's brokers and clients stop (``up=False``) or restart."""
        faults.zone_state(self, zone, up, destroyed)

    def crash_brokers(self, zone: str, count: int, up: bool) -> None:
        """``count`` brokers of ``zone`` crash (``up=False``) or restart."""
        faults.crash_brokers(self, zone, count, up)

    def unclean_election(self) -> None:
        """The operator's unclean election (:meth:`Controller.unclean_election`)."""
        self.controller.unclean_election()

    def connectivity_changed(self) -> None:
        """A partition or brownout started or ended: parked fetches try again."""
        self.replication.wake_all()

    # ========================================================================= clients
    def client_fleets(self) -> list[ProducerFleet]:
        """The producer fleets a client fault acts on."""
        return self.fleets

    def client_groups(self) -> list[ConsumerGroup]:
        """The consumer groups a client fault acts on."""
        return self.groups

    def counters(self) -> dict[str, int]:
        return dict(sorted(self.counters_.items()))


__all__ = ["HOUSEKEEPING", "KafkaCluster"]
