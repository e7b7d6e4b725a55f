"""Independent Kafka clusters linked by replication flows (MirrorMaker 2, Cluster Linking).

The model shared by the ``mirrormaker2`` and ``cluster-linking`` strategies; domain.md §5
is the specification, figures.md §6–7 hold the defaults. Each cluster is the Kafka
cluster model of :mod:`geosim.strategies.kafka_cluster` restricted to one region, with
its own KRaft quorum over the region's zones (a region outage takes the whole cluster
down; nothing of it depends on another region).

**Topics.** Every cluster has the workload's topic (``N`` partitions, its *local*
topic). A flow ``S -> T`` mirrors S's local topic only, so nothing is ever mirrored
back (domain.md §5, active-active): into a remote topic ``S.<topic>`` of ``N`` more
partitions of T (MirrorMaker 2's ``DefaultReplicationPolicy``; Cluster Linking with a
link prefix), or, for Cluster Linking onto a passive cluster with that single flow,
into T's topic of the same name with the same offsets (a mirror topic).

**Flow timing.** A flow's fetcher runs in the target region (MirrorMaker 2's
recommended consume-remote, produce-local deployment; a cluster link's destination
brokers fetch): it fetches committed data (up to the high watermark) from the source
leaders, waiting up to ``consumer.fetch.max.wait.ms`` for new data; each response is
bounded by ``consumer.fetch.max.bytes`` per source broker connection and by the TCP
window / RTT (domain.md §2), and crosses the WAN once (purpose ``mirror``). The copies
are then produced to the target's leaders with ``acks=all``; the fetch loop does not
wait for those acks. A refused copy is sent again from the task's buffer after the
producer's backoff; a copy appended before its acknowledgement failed, or copied again
by a task restarted from its last commit (``offset.flush.interval.ms``) after its worker's
zone went down, is written twice by MirrorMaker 2 (at-least-once); an offset-preserving
mirror never appends a copy twice.

**Offsets.** MirrorMaker 2 emits an offset sync (upstream -> downstream offset) once
the downstream offset moved ``offset.lag.max`` past the previous sync, and publishes
the latest pending one at every task commit (``offset.flush.interval.ms``). Every
``emit.checkpoints.interval.seconds`` the checkpoint task reads each source group's
committed offsets and translates them through the latest sync at or below them, so a
translated offset is never ahead of the true position. Cluster Linking copies group
offsets unchanged every ``consumer.offset.sync.ms`` (capped at what was mirrored).

**Failover** is a decision (domain.md §5): when every zone of the region a set of clients
uses is down, after ``failover.detection`` and ``failover.decision`` the clients move to
the target of that cluster's first flow. Producers restart against the new cluster
(new producer instances; unsent data is gone). Each consumer group starts in the new
cluster from its translated (or synced) offsets, else from ``auto.offset.reset``. The
flows out of the failed cluster stop; when it is reachable again, what it holds that
the new cluster never received is reported as diverged (failback).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import defaultdict, deque
from dataclasses import dataclass, field, replace
from typing import ClassVar

from geosim.clients.consumer import ConsumerGroup, Member
from geosim.clients.producer import ProducerFleet
from geosim.components.metadata_store import MetadataStore, defaults_for, place_voters
from geosim.core.events import FailedBack, FailedOver, MirrorLag, Row, TranslationAvailable
from geosim.kafka.mirror_config import MirrorConfig, resolve_mirror_config
from geosim.kafka.regional import ClusterScope, RegionalCluster
from geosim.scenario.schema import MetadataSpec, VoterSpec
from geosim.strategies.base import Strategy, World

FETCH_REQUEST_BYTES = 64
FETCH_PARTITION_BYTES = 32
OFFSET_SYNC_BYTES = 64        # one offset-sync record (assumption)
CHECKPOINT_BYTES = 96         # one checkpoint record per group and partition (assumption)
LAG_SAMPLE = 1.0              # s between lag samples (and delivery snapshots)
MONITOR = 0.5                 # s between checks for unreachable clusters
RETRY_BACKOFF = 0.1           # the task producer's retry.backoff.ms (Kafka default 100)
RETRY_BACKOFF_MAX = 1.0       # retry.backoff.max.ms (Kafka default 1000)


@dataclass
class _Partition:
    """A flow's state for one partition of the source's local topic."""

    position: int = 0      # next upstream offset to fetch
    acked: int = 0         # upstream end acknowledged in the target, contiguously, by
                           # the current task (a restarted task starts at committed)
    copied: int = 0        # the highest such end ever: what the target holds a copy of
    committed: int = 0     # upstream offset of the task's last commit (restart point)
    ahead: dict = field(default_factory=dict)  # u_offset -> (u_end, d_end) acked early
    pairs: deque = field(default_factory=deque)  # (u_end, d_end) of acknowledged copies
    syncs: deque = field(default_factory=deque)  # published offset syncs (u_end, d_end)
    last_sync_d: int = -1
    delayed: tuple[int, int] | None = None
    largest_row: int = 0


class MirrorFlow:
    """One replication flow from a source cluster's local topic to a target topic."""

    def __init__(self, owner: CrossClusterStrategy, index: int, source: RegionalCluster,
                 target: RegionalCluster, target_base: int, cfg: MirrorConfig):
        self.owner = owner
        self.index = index
        self.source = source
        self.target = target
        self.base = target_base
        self.cfg = cfg
        self.name = f"{source.region}->{target.region}"
        self.env = owner.env
        self.net = owner.net
        self.zone = owner.world.topology.zones(target.region)[0]
        self.n = owner.partitions
        self.parts = [_Partition() for _ in range(self.n)]
        self._inflight: dict[int, tuple[int, int, int]] = {}  # id(copy) -> (i, u_off, u_end)
        self.stopped = False
        self.alive = True      # the worker (Connect task, link fetcher) runs
        self._revive = None
        self.produce_retries = 0
        self.task_restarts = 0
        self.duplicate_records = 0
        self.duplicate_bytes = 0      # compressed, as they crossed the WAN
        self.copied_bytes = 0         # compressed bytes of first copies acknowledged
        self.rows_mirrored = 0
        # Per consumer group of the source (by subscription): the latest checkpoint,
        # per partition (source committed offset, translated target offset).
        self.checkpoints: dict[int, list[tuple[int, int] | None]] = {}
        # With sync.group.offsets.enabled: the checkpoints last written into the target's
        # consumer groups, which a failed-over group resumes from.
        self.synced: dict[int, list[tuple[int, int] | None]] = {}
        self.first_checkpoint: float | None = None
        source.holds.append(self._source_hold)
        target.holds.append(self._target_hold)

    # --- retention --------------------------------------------------------------------
    def _source_hold(self, pid: int) -> int:
        if pid >= self.n or self.stopped:
            return math.inf
        st = self.parts[pid]
        # a restarted task reads again from its last commit
        return st.copied if self.cfg.offset_preserving else st.committed

    def _target_hold(self, pid: int) -> int:
        i = pid - self.base
        if not 0 <= i < self.n:
            return math.inf
        low = math.inf
        for marks in (*self.checkpoints.values(), *self.synced.values()):
            mark = marks[i]
            low = min(low, mark[1] if mark is not None else 0)
        return 0 if low == math.inf and self.owner.failover_pending(self.source) else low

    # --- the fetch loop ---------------------------------------------------------------
    def run(self):
        """Fetch from the source leaders, then produce the copies to the target.

        Per cycle: the request's trip to each source leader zone; at the source, a wait
        of at most ``consumer.fetch.max.wait.ms`` when nothing new is committed; the
        responses' trips (bytes through the links and the TCP windows), the slowest
        zone deciding. A lost request or response is retried after
        ``consumer.request.timeout.ms``; a response whose source zone went down during
        its trip is dropped (the fetch fails), so a source lost at time t contributes
        nothing fetched after t. Ends when the flow is stopped (failover)."""
        env, net, cfg = self.env, self.net, self.cfg
        source = self.source
        window = self.owner.world.topology.spec.tcp_window
        while not self.stopped:
            if not self.alive:
                self._revive = env.event()
                yield self._revive
                continue
            by_zone: dict[str, list[int]] = defaultdict(list)
            for i in range(self.n):
                zone = source.leader_zone(i)
                if zone is not None:
                    by_zone[zone].append(i)
            if not by_zone:
                yield env.timeout(cfg.request_timeout)
                continue
            trips = {}
            for zone, items in sorted(by_zone.items()):
                d = net.delay(self.zone, zone, FETCH_REQUEST_BYTES
                              + FETCH_PARTITION_BYTES * len(items), "mirror")
                if d is not None:
                    trips[zone] = d
            if not trips:
                yield env.timeout(cfg.request_timeout)
                continue
            yield env.timeout(max(trips.values()))
            asked = {zone: by_zone[zone] for zone in trips}
            batch = self._collect(asked)
            if not any(batch.values()):
                events = [e for z in trips if (e := source.produce.appended_event(z)) is not None]
                yield env.any_of(events + [env.timeout(cfg.fetch_max_wait)])
                batch = self._collect(asked)
            slowest = 0.0
            lost = False
            for zone, rows in sorted(batch.items()):
                size = sum(r.bytes_compressed for r in rows)
                d = net.delay(zone, self.zone, size + FETCH_REQUEST_BYTES, "mirror")
                if d is None:
                    lost = True
                    continue
                connections = cfg.tasks * max(source.live_brokers_in(zone), 1)
                if window and size > window * connections:
                    d += net.rtt_estimate(zone, self.zone) * size / (window * connections)
                slowest = max(slowest, d)
            if lost:
                yield env.timeout(cfg.request_timeout)
                continue
            yield env.timeout(slowest)
            if self.stopped:
                return
            if not self.alive:
                continue  # the worker died meanwhile: the response is lost with it
            copies: list[Row] = []
            for zone, rows in batch.items():
                if net.is_down(zone) or net.is_down(self.zone):
                    # the source (or the fetcher) went away during the trip: the fetch
                    # fails as a whole and nothing of it is written
                    continue
                for row in rows:
                    i = row.partition
                    st = self.parts[i]
                    if row.offset < st.position:
                        continue  # rewound meanwhile: fetched again later
                    st.position = row.offset + row.records
                    copy = replace(row, partition=self.base + i, mirror=self.index,
                                   offset=row.offset if cfg.offset_preserving else -1)
                    self._inflight[id(copy)] = (i, row.offset, row.offset + row.records)
                    copies.append(copy)
            if copies:
                self._produce(copies)

    def _collect(self, asked: dict[str, list[int]]) -> dict[str, list[Row]]:
        """What each source leader zone answers for the partitions asked of it: the
        committed rows from the flow's positions, its response budget shared evenly."""
        cfg = self.cfg
        out: dict[str, list[Row]] = {}
        for zone, items in asked.items():
            budget = cfg.fetch_max_bytes * cfg.tasks * max(self.source.live_brokers_in(zone), 1)
            share = max(budget // max(len(items), 1), 1)
            rows: list[Row] = []
            for i in items:
                rows += self.source.reads.committed_rows(i, self.parts[i].position, share)
            out[zone] = rows
        return out

    def _produce(self, copies: list[Row]) -> None:
        """The copies travel to the target's leaders (in the target region) and are
        appended there; a copy without a leader or a reachable one fails (and is
        retried, :meth:`failed`)."""
        by_zone: dict[str | None, list[Row]] = defaultdict(list)
        for copy in copies:
            by_zone[self.target.leader_zone(copy.partition)].append(copy)
        for zone, rows in by_zone.items():
            if zone is None:
                for row in rows:
                    self.failed(row, "no leader")
                continue
            d = self.net.delay(self.zone, zone, sum(r.bytes_compressed for r in rows),
                               "mirror")
            if d is None:
                for row in rows:
                    self.failed(row, "target unreachable")
                continue
            self.env.timeout(d).callbacks.append(lambda _e, rows=rows: self._arrive(rows))

    def _arrive(self, rows: list[Row]) -> None:
        if self.stopped or not self.alive:
            for row in rows:
                self._inflight.pop(id(row), None)
            return
        for row in self.target.produce.append_mirrored(rows):
            self.failed(row, "refused")

    # --- the target's answers (a mirror sink of the target cluster) --------------------
    def acked(self, copy: Row) -> None:
        origin = self._inflight.pop(id(copy), None)
        if origin is None:
            return
        i, u_off, u_end = origin
        st = self.parts[i]
        d_end = copy.offset + copy.records
        if u_off < st.acked:
            return  # sent by an earlier incarnation of the task
        if u_off > st.acked:  # acknowledged before an earlier copy: wait for it
            st.ahead[u_off] = (u_end, d_end, copy.records, copy.bytes_compressed)
            return
        self._advance(i, st, u_end, d_end, copy.records, copy.bytes_compressed)
        while st.acked in st.ahead:
            u_end, d_end, records, nbytes = st.ahead.pop(st.acked)
            self._advance(i, st, u_end, d_end, records, nbytes)

    def _advance(self, i: int, st: _Partition, u_end: int, d_end: int, records: int,
                 nbytes: int) -> None:
        st.acked = u_end
        if u_end <= st.copied:
            # written again after a restart from the last commit: a duplicate in the
            # target (an offset-preserving mirror appends nothing twice)
            if not self.cfg.offset_preserving:
                self.duplicate_records += records
                self.duplicate_bytes += nbytes
        else:
            st.copied = u_end
            self.copied_bytes += nbytes
        st.pairs.append((u_end, d_end))
        st.largest_row = max(st.largest_row, records)
        self.rows_mirrored += 1
        if self.cfg.offset_preserving:
            return
        # OffsetSyncWriter: a sync at once when the downstream offset moved offset.lag.max
        # past the previous one, else kept as the delayed sync for the next task commit.
        if st.last_sync_d < 0 or d_end - (st.last_sync_d + 1) >= self.cfg.offset_lag_max:
            self._publish_sync(st, (u_end, d_end))
        else:
            st.delayed = (u_end, d_end)

    def _publish_sync(self, st: _Partition, pair: tuple[int, int]) -> None:
        # The offset-syncs topic lives in the source cluster (offset-syncs.topic.location).
        leader = self.source.leader_zone(0)
        if leader is not None and self.net.delay(self.zone, leader, OFFSET_SYNC_BYTES,
                                                 "mirror") is None:
            return
        st.syncs.append(pair)
        st.last_sync_d = pair[1]
        st.delayed = None

    def failed(self, copy: Row, reason: str) -> None:
        """The target refused or lost a copy: the task's producer sends it again after
        its backoff (``retry.backoff.ms`` doubling to ``retry.backoff.max.ms``), from
        its buffer; nothing is fetched again. A copy appended before the failure (its
        acknowledgement timed out) is appended a second time by MirrorMaker 2."""
        origin = self._inflight.pop(id(copy), None)
        if origin is None or self.stopped or not self.alive:
            return
        self.produce_retries += 1
        retry = replace(copy, offset=copy.offset if self.cfg.offset_preserving
                        else -1, attempts=copy.attempts + 1)
        self._inflight[id(retry)] = origin
        backoff = min(RETRY_BACKOFF * 2 ** copy.attempts, RETRY_BACKOFF_MAX)
        self.env.timeout(backoff).callbacks.append(
            lambda _e, r=retry: self._retry(r))

    def _retry(self, copy: Row) -> None:
        if id(copy) in self._inflight and not self.stopped and self.alive:
            self._produce([copy])

    def worker_state(self, up: bool) -> None:
        """The flow's worker zone went down (the task dies; what it had in flight is
        lost) or came back: the task restarts from its last commit, so MirrorMaker 2
        writes again what it copied since (at-least-once); a cluster link resumes from
        what its destination holds."""
        if not up:
            self.alive = False
            self._inflight.clear()
            return
        if self.alive:
            return
        self.alive = True
        self.task_restarts += 1
        for st in self.parts:
            if not self.cfg.offset_preserving:
                st.acked = st.committed
                st.last_sync_d = -1  # a new task syncs its first record at once
            st.position = st.acked
            st.ahead.clear()
        if self._revive is not None and not self._revive.triggered:
            self._revive.succeed()

    # --- commits, checkpoints, offset sync ---------------------------------------------
    def run_commits(self):
        """Every ``offset.flush.interval.ms`` the task commits and publishes each
        partition's delayed offset sync (MirrorMaker 2)."""
        while not self.stopped:
            yield self.env.timeout(self.cfg.offset_flush_interval)
            if not self.alive:
                continue
            for st in self.parts:
                st.committed = st.acked
                if st.delayed is not None:
                    self._publish_sync(st, st.delayed)

    def run_checkpoints(self, interval: float):
        """Every ``interval`` the checkpoint task reads the source groups' committed
        offsets (a round trip to the source) and stores their translations."""
        while not self.stopped:
            yield self.env.timeout(interval)
            if self.stopped:
                return
            groups = self.owner.groups_on(self.source)
            if not groups:
                continue
            leader = self.source.leader_zone(0) or self.source.zones[0]
            if self.net.round_trip(self.zone, leader, FETCH_REQUEST_BYTES,
                                   CHECKPOINT_BYTES * self.n * len(groups), "mirror") is None:
                continue
            for group in groups:
                marks = self.checkpoints.setdefault(group.subscription, [None] * self.n)
                for i in range(self.n):
                    committed = group.partitions[i].committed
                    marks[i] = (committed, self.translate(i, committed))
            if self.first_checkpoint is None:
                self.first_checkpoint = self.env.now
                self.owner.ctx.recorder.emit(TranslationAvailable(self.env.now, self.name))
            self._prune_maps()

    def run_group_sync(self, interval: float):
        """Every ``sync.group.offsets.interval.seconds``: the latest checkpoints are
        written as the target groups' committed offsets (the groups are not active in
        the target before a failover)."""
        while not self.stopped:
            yield self.env.timeout(interval)
            if self.alive and not self.stopped:
                self.synced = {sub: list(marks) for sub, marks in self.checkpoints.items()}

    def start_marks(self, subscription: int) -> list[tuple[int, int] | None] | None:
        """Where a group failing over to the target starts: the offsets synced into
        the target group (``sync.group.offsets.enabled``), else the latest checkpoint,
        which the application translates at failover (RemoteClusterUtils)."""
        if self.cfg.sync_group_offsets and not self.cfg.offset_preserving:
            return self.synced.get(subscription)
        return self.checkpoints.get(subscription)

    def translate(self, i: int, committed: int) -> int:
        """The target offset for a source committed offset: through the latest offset
        sync at or below it (never ahead of the true position); offsets are unchanged
        on an offset-preserving mirror, capped at what it holds."""
        st = self.parts[i]
        if self.cfg.offset_preserving:
            return min(committed, st.copied)
        return _mapped(st.syncs, committed)

    def image(self, i: int, upstream: int) -> int:
        """The target offset up to which the copy holds the source's records below
        ``upstream`` (exact, from the acknowledged copies)."""
        st = self.parts[i]
        if self.cfg.offset_preserving:
            return min(upstream, st.copied)
        return _mapped(st.pairs, upstream)

    def _prune_maps(self) -> None:
        """Forget syncs and copy pairs below every group's latest checkpoint."""
        for i, st in enumerate(self.parts):
            low = min((marks[i][0] for marks in self.checkpoints.values()
                       if marks[i] is not None), default=0)
            for dq in (st.pairs, st.syncs):
                while len(dq) > 1 and dq[1][0] <= low:
                    dq.popleft()

    def sample(self) -> tuple[float, int, int]:
        """(seconds, records, bytes) the target is behind the source's committed data."""
        now = self.env.now
        seconds = 0.0
        records = nbytes = 0
        for i, st in enumerate(self.parts):
            p = self.source.parts[i]
            end = p.hw
            if end <= st.copied:
                continue
            records += end - st.copied
            nbytes += p.bytes_at(end) - p.bytes_at(st.copied)
            k = bisect_right(p.ends, st.copied)
            if k < len(p.times):
                seconds = max(seconds, now - p.times[k])
        return seconds, records, nbytes

    def unreplicated_rows(self) -> list[tuple[int, Row]]:
        """Acknowledged rows of the source the target has not acknowledged yet."""
        out = []
        for i, st in enumerate(self.parts):
            p = self.source.parts[i]
            k = bisect_right(p.ends, st.copied)
            out += [(i, row) for row in p.rows[k:] if row.acked_at >= 0]
        return out

    def unreplicated(self, rows: list[tuple[int, Row]] | None = None
                     ) -> tuple[int, int, float]:
        """(records, bytes, oldest ack time) of ``rows`` (default: the source's rows now)
        that the target still has not acknowledged: a response already on the wire when
        the source went away still lands."""
        records = nbytes = 0
        oldest = math.inf
        for i, row in self.unreplicated_rows() if rows is None else rows:
            if row.offset + row.records > self.parts[i].copied:
                records += row.records
                nbytes += row.bytes_uncompressed
                oldest = min(oldest, row.acked_at)
        return records, nbytes, oldest


class CrossClusterStrategy(Strategy):
    """Clusters, flows and failover; subclasses fix the flow semantics."""

    name: ClassVar[str] = "cross-cluster"
    description: ClassVar[str] = "independent clusters linked by replication flows"

    def __init__(self, world: World):
        super().__init__(world)
        spec = world.scenario.strategy
        self.spec = spec
        self.ctx = world.ctx
        self.env = world.ctx.env
        self.net = world.network
        topo = world.topology
        wl = world.workload
        self.cfg = resolve_mirror_config(spec.name, spec.mirror_config)
        self.partitions = wl.partitions
        regions = spec.clusters or sorted({topo.region_of(z) for z in wl.broker_counts})
        self.primary = spec.primary or regions[0]
        flows = [(f.source, f.target) for f in spec.flows] or self._pattern_flows(regions)
        self.flow_pairs = flows
        # --- clusters: local topic first, then one block per incoming flow
        incoming: dict[str, list[str]] = {r: [s for s, t in flows if t == r] for r in regions}
        self.fleets: list[ProducerFleet] = wl.make_fleets(self.ctx)
        self.home_of = {r: self._home(r, regions, flows) for r in topo.regions}
        homes = set(self.home_of.values())
        self.clusters: dict[str, RegionalCluster] = {}
        self._blocks: dict[tuple[str, str], int] = {}
        base = 0
        for region in regions:
            sources = incoming[region]
            same_name = (self.cfg.offset_preserving and len(sources) == 1
                         and region not in homes)
            size = self.partitions * (1 if same_name else 1 + len(sources))
            for k, src in enumerate(sources):
                self._blocks[(src, region)] = 0 if same_name else self.partitions * (k + 1)
            # the cluster's KRaft quorum: controller_voters voters over the region's
            # zones, with the kraft preset's election timeout
            kraft = defaults_for(MetadataSpec(preset="kraft", regions=[region]))[1]
            mspec = MetadataSpec(preset="custom", regions=[region],
                                 voters=[VoterSpec(region=region,
                                                   count=spec.controller_voters)],
                                 election_timeout=kraft)
            store = MetadataStore(self.ctx, self.net, mspec, place_voters(mspec, topo.zones),
                                  name=f"kraft-{region}")
            scope = ClusterScope(
                name=region, metadata=store, partitions=size, partition_base=base,
                broker_counts={z: n for z, n in wl.broker_counts.items()
                               if topo.region_of(z) == region},
                fleets=self.fleets, local_partitions=self.partitions,
                producing=[f for f in self.fleets if self.home_of[f.region] == region])
            cluster = self.clusters[region] = RegionalCluster(world, scope)
            cluster.lost_rows = lambda pid, rows, c=cluster: self._lost_rows(c, pid, rows)
            base += size
        # --- flows: a target answers a copy's produce through mirror_sinks[row.mirror]
        self.flows = [MirrorFlow(self, k, self.clusters[src], self.clusters[dst],
                                 self._blocks[(src, dst)], self.cfg)
                      for k, (src, dst) in enumerate(flows)]
        for cluster in self.clusters.values():
            cluster.mirror_sinks[:] = [f if f.target is cluster else None
                                       for f in self.flows]
        # --- consumer groups: one per subscription and cluster its members use
        self._zone_down: set[str] = set()
        self.groups: list[ConsumerGroup] = []
        self._group_cluster: dict[int, RegionalCluster] = {}
        for template in wl.make_groups(self.ctx, commit=lambda *a: None,
                                       is_ready=lambda *a: False,
                                       request=lambda *a: None, release=lambda *a: None):
            by_home: dict[str, list[Member]] = defaultdict(list)
            for m in template.members:
                by_home[self.home_of[m.region]].append(m)
            for region, members in sorted(by_home.items()):
                self._new_group(template.id, self.clusters[region], members)
        self.active_fleets = list(self.fleets)
        self._down_since: dict[str, float] = {}
        self._failed_over: dict[str, str] = {}   # old cluster -> new cluster
        self._pending_failover: set[str] = set()
        self._history: deque = deque()  # (t, {group id: [delivered end per partition]})
        self._bound_snapshots: dict[str, dict[int, list[int]]] = {}
        self._destroyed: set[str] = set()
        self._unreplicated: dict[str, dict[int, list[tuple[int, Row]]]] = {}
        self.counters_: defaultdict[str, int] = defaultdict(int)

    # --- layout -----------------------------------------------------------------------
    def _pattern_flows(self, regions: list[str]) -> list[tuple[str, str]]:
        others = [r for r in regions if r != self.primary]
        if self.spec.pattern == "active-active":
            return [(a, b) for a in regions for b in regions if a != b]
        if self.spec.pattern == "hub-and-spoke":
            return [(r, self.primary) for r in others]
        return [(self.primary, r) for r in others]

    def _home(self, region: str, regions: list[str], flows) -> str:
        """The cluster a region's clients use before any failover."""
        if region not in regions:
            return self.primary
        if not self.spec.flows:
            return self.primary if self.spec.pattern == "active-passive" else region
        if region == self.primary or (self.primary, region) not in flows:
            return region
        return self.primary

    def _new_group(self, subscription: int, cluster: RegionalCluster,
                   members: list[Member]) -> ConsumerGroup:
        members = [Member(k, m.zone, m.region, alive=m.zone not in self._zone_down)
                   for k, m in enumerate(members)]
        group = ConsumerGroup(self.ctx, len(self.groups), members, cluster.partitions_n,
                              self.world.workload.consumer_settings,
                              cluster.reads.commit_offsets, cluster.reads.is_readable,
                              lambda row, zone: None, lambda _object_id: None,
                              subscription=subscription)
        self.groups.append(group)
        self._group_cluster[group.id] = cluster
        return group

    def groups_on(self, cluster: RegionalCluster) -> list[ConsumerGroup]:
        return [g for g in self.groups if self._group_cluster.get(g.id) is cluster]

    def failover_pending(self, cluster: RegionalCluster) -> bool:
        return cluster.region not in self._failed_over

    # --- lifecycle --------------------------------------------------------------------
    def start(self) -> None:
        for group in self.groups:
            self._group_cluster[group.id].reads.attach_group(group)
        for cluster in self.clusters.values():
            cluster.start()
        for flow in self.flows:
            self.env.process(flow.run())
            if not self.cfg.offset_preserving:
                self.env.process(flow.run_commits())
                if self.cfg.emit_checkpoints:
                    self.env.process(flow.run_checkpoints(self.cfg.checkpoint_interval))
                    if self.cfg.sync_group_offsets:
                        self.env.process(flow.run_group_sync(
                            self.cfg.sync_group_offsets_interval))
            elif self.cfg.offset_sync_enabled:
                self.env.process(flow.run_checkpoints(self.cfg.offset_sync_interval))
        self.env.process(self._sampler())
        self.env.process(self._monitor())
        if self.spec.migrate_at is not None:
            self.env.process(self._migration(self.spec.migrate_at))

    def _sampler(self):
        """Every second: each running flow's lag, and each group's delivered offsets
        (the reprocessing bound looks back over them)."""
        keep = self._bound_window() + 2 * LAG_SAMPLE
        while True:
            yield self.env.timeout(LAG_SAMPLE)
            now = self.env.now
            for flow in self.flows:
                if not flow.stopped:
                    seconds, records, nbytes = flow.sample()
                    self.ctx.recorder.emit(MirrorLag(now, flow.name, seconds, records, nbytes))
            self._history.append((now, {g.id: [_delivered_end(s) for s in g.partitions]
                                        for g in self.groups}))
            while self._history and self._history[0][0] < now - keep:
                self._history.popleft()

    def _bound_window(self) -> float:
        commit = self.world.workload.consumer_settings.auto_commit_interval
        interval = (self.cfg.offset_sync_interval if self.cfg.offset_preserving
                    else self.cfg.checkpoint_interval)
        if self.cfg.sync_group_offsets and not self.cfg.offset_preserving:
            interval += self.cfg.sync_group_offsets_interval  # synced marks are older
        return interval + commit + LAG_SAMPLE

    # --- failover ---------------------------------------------------------------------
    def _monitor(self):
        """Every 0.5 s: a cluster whose every zone is down has been unreachable since
        then; after ``failover.detection`` and ``failover.decision`` its clients move."""
        fo = self.spec.failover
        while True:
            yield self.env.timeout(MONITOR)
            if not fo.enabled:
                continue
            now = self.env.now
            homes = set(self.home_of.values())
            for region in self.clusters:
                if region in self._failed_over or region in self._pending_failover \
                        or region not in homes:
                    continue  # done, under way, or no client uses this cluster
                since = self._down_since.get(region)
                if since is not None and now - since >= fo.detection:
                    self._pending_failover.add(region)
                    self.env.process(self._decide(region))

    def _decide(self, region: str):
        """The operator (or automation) switches after ``failover.decision``; with
        Cluster Linking's ``promote`` it first waits for the mirror to catch up."""
        yield self.env.timeout(self.spec.failover.decision)
        if self._down_since.get(region) is None:
            self._pending_failover.discard(region)
            return  # back before the decision: no failover
        if self.cfg.offset_preserving and self.spec.failover.mode == "promote":
            flow = self._first_flow(region)
            while flow is not None and (self._down_since.get(region) is not None
                                        or flow.sample()[1] > 0):
                yield self.env.timeout(MONITOR)
        self._failover(region, "region unreachable")

    def _migration(self, at: float):
        """A planned cut-over (migration): the primary's clients move at ``at``."""
        yield self.env.timeout(at)
        if self.primary not in self._failed_over:
            self._failover(self.primary, "planned cut-over")

    def _first_flow(self, region: str) -> MirrorFlow | None:
        return next((f for f in self.flows if f.source.region == region
                     and f.target.region not in self._failed_over), None)

    def _failover(self, region: str, reason: str) -> None:
        flow = self._first_flow(region)
        self._pending_failover.discard(region)
        if flow is None:
            self.counters_["failovers_without_target"] += 1
            return
        old, new = flow.source, flow.target
        now = self.env.now
        since = self._down_since.get(region, now)
        self._failed_over[region] = new.region
        at_loss = self._unreplicated.pop(region, {})
        records, nbytes, oldest = flow.unreplicated(at_loss.get(flow.index))
        for f in self.flows:
            if f.source is old:
                f.stopped = True
        # producers: new producer instances against the new cluster
        moving = [f for f in self.active_fleets if self._current_home(f.region) is old]
        replacements = []
        for fleet in moving:
            old.produce.detach_fleets([fleet])
            fleet.crash()
            self.active_fleets.remove(fleet)
            clone = fleet.successor(len(self.fleets), now)
            clone.alive = fleet.zone not in self._zone_down
            self.fleets.append(clone)
            self.active_fleets.append(clone)
            replacements.append(clone)
        for fleet_region in list(self.home_of):
            if self._current_home(fleet_region) is old:
                self.home_of[fleet_region] = new.region
        new.produce.attach_fleets(replacements)
        # consumer groups: start in the new cluster from translated offsets
        totals = defaultdict(int)
        snapshot = self._bound_snapshots.pop(region, None) or \
            self._snapshot_before(since - self._bound_window())
        for group in self.groups_on(old):
            old.reads.detach_group(group)
            for m in group.members:
                m.alive = False
            self._group_cluster[group.id] = None
            moved = self._new_group(group.subscription, new, group.members)
            self._seed_offsets(group, moved, old, new, snapshot, totals)
            new.reads.attach_group(moved)
        self.counters_["failovers"] += 1
        self.ctx.recorder.emit(FailedOver(
            now, old.region, new.region, reason, since, records, nbytes,
            max(since - oldest, 0.0) if records else 0.0, totals["translated"],
            totals["reset"], totals["reprocessed"], totals["bound"], totals["skipped"]))

    def _current_home(self, region: str) -> RegionalCluster:
        return self.clusters[self.home_of[region]]

    def _snapshot_before(self, t: float) -> dict[int, list[int]]:
        best: dict[int, list[int]] = {}
        for when, snap in self._history:
            if when <= t:
                best = snap
        return best

    def _seed_offsets(self, group: ConsumerGroup, moved: ConsumerGroup,
                      old: RegionalCluster, new: RegionalCluster,
                      snapshot: dict[int, list[int]], totals) -> None:
        """Each partition of ``new`` gets a start offset: translated where the old
        group's position has an image there, else ``auto.offset.reset``."""
        reset = self.spec.failover.auto_offset_reset
        n = self.partitions
        before = snapshot.get(group.id)
        # new pid -> (translated start or None, image of the true position, bound)
        mapped: dict[int, tuple[int | None, int, int]] = {}
        # new's copy of old's local topic (flow old -> new): through its checkpoints
        forward = next((f for f in self.flows if f.source is old and f.target is new), None)
        if forward is not None:
            marks = forward.start_marks(group.subscription)
            for i in range(n):
                true = _delivered_end(group.partitions[i])
                mark = marks[i] if marks else None
                slack = 0 if self.cfg.offset_preserving else max(
                    self.cfg.offset_lag_max, forward.parts[i].largest_row)
                bound = max(true - (before[i] if before else 0), 0) + slack
                mapped[forward.base + i] = (None if mark is None else mark[1],
                                            forward.image(i, true), bound)
        # new's local topic, which the old group read as a remote topic (flow new -> old):
        # its offsets translate back through that flow's copies
        backward = next((f for f in self.flows if f.source is new and f.target is old), None)
        if backward is not None:
            for i in range(n):
                state = group.partitions[backward.base + i]
                d_true = _delivered_end(state)
                before_d = before[backward.base + i] if before else 0
                bound = max(d_true - before_d, 0) + max(
                    self.cfg.offset_lag_max, backward.parts[i].largest_row)
                mapped[i] = (_upstream_of(backward, i, state.committed),
                             _upstream_of(backward, i, d_true), bound)
        for q in range(new.partitions_n):
            p = new.parts[q]
            start, image, bound = mapped.get(q, (None, None, 0))
            if start is not None:
                totals["translated"] += 1
                totals["bound"] += bound
            else:
                # translation unavailable: auto.offset.reset
                start = 0 if reset == "earliest" else p.log_end
                if p.log_end > 0:
                    totals["reset"] += 1
            start = min(start, p.log_end)
            if image is not None:
                totals["reprocessed"] += max(image - start, 0)
                totals["skipped"] += max(start - image, 0)
            state = moved.partitions[q]
            state.committed = start
            state.position = 0
            state.log.clear()
            k = bisect_right(p.ends, start)
            for row in p.rows[k:]:
                state.log.append((row, -1))

    # --- faults -----------------------------------------------------------------------
    def zone_state(self, zone: str, up: bool, destroyed: bool = False) -> None:
        region = self.world.topology.region_of(zone)
        if not up and region in self.clusters and all(
                z in self._zone_down or z == zone for z in self.world.topology.zones(region)):
            # what the flows out of the region had not copied when it went away (before a
            # destruction removes it from the source's log)
            self._unreplicated[region] = {f.index: f.unreplicated_rows() for f in self.flows
                                          if f.source.region == region}
        if up:
            self._zone_down.discard(zone)
        else:
            self._zone_down.add(zone)
        for cluster in self.clusters.values():
            cluster.metadata.on_topology_change()
            cluster.zone_state(zone, up, destroyed)
        for flow in self.flows:
            if flow.zone == zone:
                flow.worker_state(up)
        self.crash_clients("all", zone, up)
        if region in self.clusters:
            all_down = all(z in self._zone_down for z in self.world.topology.zones(region))
            if destroyed:
                self._destroyed.add(region)
            if all_down and region not in self._down_since:
                self._down_since[region] = self.env.now
                # deliveries one checkpoint cadence before: the reprocessing bound's base
                self._bound_snapshots[region] = self._snapshot_before(
                    self.env.now - self._bound_window())
            elif not all_down and region in self._down_since:
                del self._down_since[region]
                if region in self._failed_over:
                    self._failback(region)

    def _lost_rows(self, cluster: RegionalCluster, pid: int, rows: list[Row]) -> list[Row]:
        """Rows truncated from ``cluster`` that no other cluster holds: an original
        whose copy a flow's target acknowledged survives there, as does a copy whose
        source cluster still exists."""
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

    def _failback(self, region: str) -> None:
        """The failed-over cluster is back: report what diverged (its acknowledged data
        the new cluster never received). Clients stay on the new cluster."""
        target = self._failed_over[region]
        for flow in self.flows:
            if flow.source.region == region and flow.target.region == target:
                records, nbytes, _oldest = flow.unreplicated()
                self.ctx.recorder.emit(FailedBack(self.env.now, region, target, records,
                                                  nbytes))

    def client_fleets(self) -> list[ProducerFleet]:
        """Producers replaced at a failover are gone for good: faults act on the rest."""
        return self.active_fleets

    def client_groups(self) -> list[ConsumerGroup]:
        return [g for g in self.groups if self._group_cluster.get(g.id) is not None]

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
        return dict(sorted(out.items()))


def _delivered_end(state) -> int:
    """The offset after the last row a group member delivered in a partition."""
    if state.position > 0:
        row = state.log[state.position - 1][0]
        return row.offset + row.records
    return state.committed


def _mapped(pairs: deque, offset: int, *, backward: bool = False) -> int:
    """Map an offset through (upstream end, downstream end) pairs, newest last: the
    downstream end of the newest pair whose upstream end is at or below ``offset``
    (``backward``: the upstream end of the newest pair whose downstream end is); 0 if
    none. Never ahead of the true position: records past the pair are read again."""
    key, value = (1, 0) if backward else (0, 1)
    for pair in reversed(pairs):
        if pair[key] <= offset:
            return pair[value]
    return 0


def _upstream_of(flow: MirrorFlow, i: int, downstream: int) -> int:
    """The source offset whose records the copy below ``downstream`` holds."""
    return _mapped(flow.parts[i].pairs, downstream, backward=True)


__all__ = ["CrossClusterStrategy", "MirrorFlow", "RegionalCluster"]
