"""Independent Kafka clusters linked by replication flows (MirrorMaker 2, Cluster Linking).

The engine of the ``mirrormaker2`` and ``cluster-linking`` strategies; domain.md §5 is
the specification, figures.md §6–7 hold the defaults. Each cluster is the Kafka cluster
model restricted to one region (:mod:`geosim.kafka.regional`). :class:`CrossCluster`
assembles the clusters, the flows between them and the clients; each concern has its
module:

* :mod:`geosim.kafka.regional` — a cluster per region, its KRaft quorum, the layout;
* :mod:`geosim.kafka.mirror_flow` — a flow's fetcher, copies, retries, task restarts;
* :mod:`geosim.kafka.offset_sync` — offset syncs, checkpoints, translation;
* :mod:`geosim.kafka.failover` — failover decisions, offsets of moved groups.

The engine measures nothing: it emits facts (the layout once at the start, acknowledged
copies, log cuts, reachability, failover decisions) and :mod:`geosim.metrics.mirror`
folds them into lag, RPO, reprocessing and divergence.

**Topics.** Every cluster has the workload's topic (``N`` partitions, its *local*
topic). A flow ``S -> T`` mirrors S's local topic only, so nothing is ever mirrored
back (domain.md §5, active-active): into a remote topic ``S.<topic>`` of ``N`` more
partitions of T (MirrorMaker 2's ``DefaultReplicationPolicy``; Cluster Linking with a
link prefix), or, for Cluster Linking onto a passive cluster with that single flow,
into T's topic of the same name with the same offsets (a mirror topic). With
``keep_topic_names`` (Replicator's default ``topic.rename.format`` ``${topic}``) every
flow into T writes into T's own topic, where its copies and T's local records share the
partitions; such a flow must not copy back what it wrote (its flow class filters by
provenance, :mod:`geosim.kafka.replicator_flow`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from geosim.clients.consumer import ConsumerGroup, Member
from geosim.clients.producer import ProducerFleet
from geosim.core.events import ClientsAttached, LogTruncated, MirrorFlowStarted, Row
from geosim.kafka.coordinator import coordinator_timing, unrouted_commit
from geosim.kafka.failover import Failover
from geosim.kafka.mirror_config import MirrorConfig
from geosim.kafka.mirror_flow import MirrorFlow
from geosim.kafka.regional import (
    ClusterScope,
    RegionalCluster,
    home_cluster,
    pattern_flows,
    regional_quorum,
)
from geosim.kafka.spec import CrossClusterSpec

if TYPE_CHECKING:
    from geosim.kafka.world import KafkaWorld


class CrossCluster:
    """Clusters, flows and failover (see the module docstring). ``mirror``: the flows'
    configs, resolved by the strategy. ``client_faults(zone, up)`` is called when a zone
    goes down or up, after the clusters and flows changed state (the strategy crashes or
    restarts the zone's live clients)."""

    #: the class of the engine's flows (a subclass changes how a flow copies)
    flow_type: type[MirrorFlow] = MirrorFlow

    def __init__(self, world: KafkaWorld, *, mirror: MirrorConfig,
                 client_faults: Callable[[str, bool], None] | None = None):
        spec = world.scenario.strategy
        if not isinstance(spec, CrossClusterSpec):
            raise TypeError(f"the cross-cluster engine needs a cross-cluster strategy block, "
                            f"got {type(spec).__name__}")
        self.world = world
        self.spec: CrossClusterSpec = spec
        self.ctx = world.ctx
        self.env = world.ctx.env
        self.net = world.network
        topo = world.topology
        wl = world.workload
        self.cfg = mirror
        self.client_faults = client_faults or (lambda _zone, _up: None)
        self.partitions = wl.partitions
        regions = spec.clusters or sorted({topo.region_of(z) for z in wl.broker_counts})
        self.primary = spec.primary or regions[0]
        flows = ([(f.source, f.target) for f in spec.flows]
                 or pattern_flows(spec.pattern, self.primary, regions))
        self.flow_pairs = flows
        # --- clusters: local topic first, then one block per incoming flow
        incoming: dict[str, list[str]] = {r: [s for s, t in flows if t == r] for r in regions}
        self.fleets: list[ProducerFleet] = wl.make_fleets(self.ctx)
        self.home_of = {r: home_cluster(r, regions, flows, primary=self.primary,
                                        pattern=spec.pattern, explicit_flows=bool(spec.flows))
                        for r in topo.regions}
        homes = set(self.home_of.values())
        self.clusters: dict[str, RegionalCluster] = {}
        blocks: dict[tuple[str, str], int] = {}
        base = 0
        for region in regions:
            sources = incoming[region]
            same_name = self.cfg.keep_topic_names or (
                self.cfg.offset_preserving and len(sources) == 1 and region not in homes)
            size = self.partitions * (1 if same_name else 1 + len(sources))
            for k, src in enumerate(sources):
                blocks[(src, region)] = 0 if same_name else self.partitions * (k + 1)
            scope = ClusterScope(
                name=region, metadata=regional_quorum(world, region, spec.controller_voters),
                partitions=size, partition_base=base,
                broker_counts={z: n for z, n in wl.broker_counts.items()
                               if topo.region_of(z) == region},
                fleets=self.fleets, local_partitions=self.partitions,
                producing=[f for f in self.fleets if self.home_of[f.region] == region])
            shared = spec.shared_storage
            storage = shared if shared and (not shared.clusters
                                            or region in shared.clusters) else None
            cluster = self.clusters[region] = RegionalCluster(world, scope, storage)
            cluster.lost_rows = partial(self._lost_rows, cluster)
            cluster.prefix_lost = partial(self._prefix_lost, cluster)
            base += size
        # --- flows: a target answers a copy's produce through mirror_sinks[row.mirror]
        self.failover = Failover(self)
        self.flows = [self.flow_type(self, k, self.clusters[src], self.clusters[dst],
                                     blocks[(src, dst)], self.cfg)
                      for k, (src, dst) in enumerate(flows)]
        for cluster in self.clusters.values():
            cluster.mirror_sinks[:] = [f if f.target is cluster else None
                                       for f in self.flows]
        # --- consumer groups: one per subscription and cluster its members use
        self.zone_down: set[str] = set()
        self.groups: list[ConsumerGroup] = []
        self.group_cluster: dict[int, RegionalCluster | None] = {}
        for template in wl.make_groups(self.ctx, commit=lambda *a: None,
                                       is_ready=lambda *a: False,
                                       request=lambda *a: None, release=None):
            by_home: dict[str, list[Member]] = defaultdict(list)
            for m in template.members:
                by_home[self.home_of[m.region]].append(m)
            for region, members in sorted(by_home.items()):
                self.new_group(template.id, self.clusters[region], members)
        self.active_fleets = list(self.fleets)
        self._destroyed: set[str] = set()
        self.counters_: defaultdict[str, int] = defaultdict(int)

    # --- clients ----------------------------------------------------------------------
    def new_group(self, subscription: int, cluster: RegionalCluster,
                  members: list[Member]) -> ConsumerGroup:
        """A consumer group of ``subscription`` reading ``cluster`` (not attached yet)."""
        members = [Member(k, m.zone, m.region, alive=m.zone not in self.zone_down,
                          session_start=self.env.now)
                   for k, m in enumerate(members)]
        group = ConsumerGroup(self.ctx, len(self.groups), members, cluster.partitions_n,
                              coordinator_timing(self.world.workload.consumer_settings,
                                                 cluster.config),
                              unrouted_commit, cluster.reads.is_readable,
                              lambda row, zone: None, None,
                              subscription=subscription)
        self.groups.append(group)
        self.group_cluster[group.id] = cluster
        return group

    def groups_on(self, cluster: RegionalCluster) -> list[ConsumerGroup]:
        return [g for g in self.groups if self.group_cluster.get(g.id) is cluster]

    def current_home(self, region: str) -> RegionalCluster:
        """The cluster the clients of ``region`` use now."""
        return self.clusters[self.home_of[region]]

    def client_fleets(self) -> list[ProducerFleet]:
        """Producers replaced at a failover are gone for good: faults act on the rest."""
        return self.active_fleets

    def client_groups(self) -> list[ConsumerGroup]:
        return [g for g in self.groups if self.group_cluster.get(g.id) is not None]

    # --- lifecycle --------------------------------------------------------------------
    def start(self) -> None:
        env, cfg = self.env, self.cfg
        self._announce()
        for group in self.groups:
            home = self.group_cluster[group.id]
            assert home is not None  # every group has a cluster before any failover
            home.reads.attach_group(group)
        for cluster in self.clusters.values():
            cluster.start()
        for flow in self.flows:
            env.process(flow.run())
            if not cfg.offset_preserving:
                env.process(flow.run_commits())
                if cfg.emit_checkpoints:
                    env.process(flow.offsets.run_checkpoints(cfg.checkpoint_interval))
                    if cfg.sync_group_offsets:
                        env.process(flow.offsets.run_group_sync(
                            cfg.sync_group_offsets_interval))
            elif cfg.offset_sync_enabled:
                env.process(flow.offsets.run_checkpoints(cfg.offset_sync_interval))
        env.process(self.failover.run_monitor())
        if self.spec.migrate_at is not None:
            env.process(self.failover.run_migration(self.spec.migrate_at))

    def _announce(self) -> None:
        """The layout the metrics fold needs: which clients use which cluster, which
        flow copies what where, and the cadences of the offsets a group fails over to."""
        emit, now, cfg = self.ctx.recorder.emit, self.env.now, self.cfg
        for region, cluster in self.clusters.items():
            emit(ClientsAttached(now, region, tuple(f.id for f in cluster.producing),
                                 tuple(g.id for g in self.groups_on(cluster)),
                                 cluster.partition_base, cluster.partitions_n))
        if cfg.offset_preserving:
            marks = cfg.offset_sync_interval
        else:
            marks = cfg.checkpoint_interval
            if cfg.sync_group_offsets:
                marks += cfg.sync_group_offsets_interval  # synced marks are older
        commit = self.world.workload.consumer_settings.auto_commit_interval
        for flow in self.flows:
            emit(MirrorFlowStarted(now, flow.name, flow.source.region, flow.target.region,
                                   flow.n, flow.base, cfg.offset_preserving,
                                   cfg.offset_lag_max, marks, commit))

    # --- faults -----------------------------------------------------------------------
    def zone_state(self, zone: str, up: bool, destroyed: bool = False) -> None:
        topo = self.world.topology
        region = topo.region_of(zone)
        if not up and region in self.clusters and all(
                z in self.zone_down or z == zone for z in topo.zones(region)):
            self.failover.region_lost(region)
        if up:
            self.zone_down.discard(zone)
        else:
            self.zone_down.add(zone)
        for cluster in self.clusters.values():
            cluster.metadata.on_topology_change()
            cluster.zone_state(zone, up, destroyed)
        for flow in self.flows:
            if flow.zone == zone:
                flow.worker_state(up)
        self.client_faults(zone, up)
        if region in self.clusters:
            if destroyed:
                self._destroyed.add(region)
            self.failover.reachability(
                region, all(z in self.zone_down for z in topo.zones(region)))

    def _lost_rows(self, cluster: RegionalCluster, pid: int, rows: list[Row]) -> list[Row]:
        """Rows truncated from ``cluster`` that no other cluster holds: an original
        whose copy a flow's target acknowledged survives there, as does a copy whose
        source cluster still exists. Emits the cut (:class:`LogTruncated`)."""
        if rows:
            self.ctx.recorder.emit(LogTruncated(self.env.now, cluster.region, pid,
                                                rows[0].offset))
        out = []
        for row in rows:
            if row.mirror >= 0:
                if self.flows[row.mirror].source.region in self._destroyed:
                    out.append(row)
                continue
            end = row.offset + row.records
            held = pid < self.partitions and any(
                f.source is cluster and f.target.region not in self._destroyed
                and f.parts[pid].copied >= end for f in self.flows)
            if not held:
                out.append(row)
        return out

    def _prefix_lost(self, cluster: RegionalCluster, pid: int) -> bool:
        """Whether the forgotten prefix of a partition whose every replica was destroyed
        is lost: a prefix of the cluster's own partitions is forgotten only once every
        flow from it copied it (its holds), so it survives while one of their targets
        does. A copy partition's prefix is lost too (only records produced to it there,
        after a failover, count: the copies' originals are counted where they were
        produced; a copy destroyed after its source's destruction is not counted)."""
        return pid >= self.partitions or not any(
            f.source is cluster and f.target.region not in self._destroyed
            for f in self.flows)

    def crash_brokers(self, zone: str, count: int, up: bool) -> None:
        region = self.world.topology.region_of(zone)
        if region in self.clusters:
            self.clusters[region].crash_brokers(zone, count, up)

    def unclean_election(self) -> None:
        for cluster in self.clusters.values():
            cluster.unclean_election()

    def connectivity_changed(self) -> None:
        for cluster in self.clusters.values():
            cluster.metadata.on_topology_change()
            cluster.connectivity_changed()

    def counters(self) -> dict[str, int]:
        out: defaultdict[str, int] = defaultdict(int, self.counters_)
        for cluster in self.clusters.values():
            for key, value in cluster.counters().items():
                out[key] += value
        for flow in self.flows:
            out["mirror_rows"] += flow.rows_mirrored
            out["mirror_produce_retries"] += flow.produce_retries
            out["mirror_task_restarts"] += flow.task_restarts
            out["mirror_duplicate_records"] += flow.duplicate_records
            out["mirror_diverged_records"] += flow.diverged_records
        return dict(sorted(out.items()))


__all__ = ["CrossCluster"]
