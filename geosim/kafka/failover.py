"""Failover and failback between Kafka clusters (the cross-cluster model).

Failover is a decision (domain.md §5): when every zone of the region a set of clients
uses is down, after ``failover.detection`` and ``failover.decision`` the clients move to
the target of that cluster's first flow (with Cluster Linking's ``promote``, once the
mirror caught up). Producers restart against the new cluster (new producer instances;
unsent data is gone). Each consumer group starts in the new cluster from its
translated (or synced) offsets, else from ``auto.offset.reset``. The flows out of the
failed cluster stop; when it is reachable again, what it holds that the new cluster
never received is reported as diverged (failback). A planned cut-over
(``migrate_at``) moves the primary's clients the same way.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict, deque
from typing import TYPE_CHECKING

from geosim.core.events import FailedBack, FailedOver, Row

if TYPE_CHECKING:
    from geosim.clients.consumer import ConsumerGroup
    from geosim.clients.consumer import PartitionState as GroupPartition
    from geosim.kafka.cross_cluster import CrossCluster
    from geosim.kafka.mirror_flow import MirrorFlow
    from geosim.kafka.regional import RegionalCluster

MONITOR = 0.5                 # s between checks for unreachable clusters


class Failover:
    """When and how the clients of an unreachable cluster move to another one."""

    def __init__(self, model: CrossCluster, sample_interval: float):
        self.model = model
        self.env = model.env
        self.spec = model.spec
        self.cfg = model.cfg
        self.sample_interval = sample_interval
        self.window = self._bound_window()
        self._down_since: dict[str, float] = {}
        self._failed_over: dict[str, str] = {}   # old cluster -> new cluster
        self._pending: set[str] = set()
        self._history: deque = deque()  # (t, {group id: [delivered end per partition]})
        self._bound_snapshots: dict[str, dict[int, list[int]]] = {}
        self._unreplicated: dict[str, dict[int, list[tuple[int, Row]]]] = {}

    def failover_pending(self, cluster: RegionalCluster) -> bool:
        return cluster.region not in self._failed_over

    # --- what the clusters' reachability tells ----------------------------------------
    def region_lost(self, region: str) -> None:
        """The last zone of ``region`` is going down: what the flows out of it have not
        copied (before a destruction removes it from the source's log)."""
        self._unreplicated[region] = {f.index: f.unreplicated_rows() for f in self.model.flows
                                      if f.source.region == region}

    def reachability(self, region: str, all_down: bool) -> None:
        """A zone of ``region`` (a cluster's) went down or up; ``all_down``: every zone
        of it is down now."""
        now = self.env.now
        if all_down and region not in self._down_since:
            self._down_since[region] = now
            # deliveries one checkpoint cadence before: the reprocessing bound's base
            self._bound_snapshots[region] = self._snapshot_before(now - self.window)
        elif not all_down and region in self._down_since:
            del self._down_since[region]
            if region in self._failed_over:
                self._failback(region)

    def record_deliveries(self, now: float) -> None:
        """Each group's delivered offsets now (the reprocessing bound looks back over
        them)."""
        keep = self.window + 2 * self.sample_interval
        self._history.append((now, {g.id: [_delivered_end(s) for s in g.partitions]
                                    for g in self.model.groups}))
        while self._history and self._history[0][0] < now - keep:
            self._history.popleft()

    def _bound_window(self) -> float:
        """How far back the reprocessing bound looks: the checkpoint (or offset sync)
        cadence, the consumers' commit interval and one sample."""
        commit = self.model.world.workload.consumer_settings.auto_commit_interval
        interval = (self.cfg.offset_sync_interval if self.cfg.offset_preserving
                    else self.cfg.checkpoint_interval)
        if self.cfg.sync_group_offsets and not self.cfg.offset_preserving:
            interval += self.cfg.sync_group_offsets_interval  # synced marks are older
        return interval + commit + self.sample_interval

    def _snapshot_before(self, t: float) -> dict[int, list[int]]:
        best: dict[int, list[int]] = {}
        for when, snap in self._history:
            if when <= t:
                best = snap
        return best

    # --- the decision -----------------------------------------------------------------
    def run_monitor(self):
        """Every 0.5 s: a cluster whose every zone is down has been unreachable since
        then; after ``failover.detection`` and ``failover.decision`` its clients move."""
        fo = self.spec.failover
        model = self.model
        while True:
            yield self.env.timeout(MONITOR)
            if not fo.enabled:
                continue
            now = self.env.now
            homes = set(model.home_of.values())
            for region in model.clusters:
                if region in self._failed_over or region in self._pending \
                        or region not in homes:
                    continue  # done, under way, or no client uses this cluster
                since = self._down_since.get(region)
                if since is not None and now - since >= fo.detection:
                    self._pending.add(region)
                    self.env.process(self._decide(region))

    def _decide(self, region: str):
        """The operator (or automation) switches after ``failover.decision``; with
        Cluster Linking's ``promote`` it first waits for the mirror to catch up."""
        yield self.env.timeout(self.spec.failover.decision)
        if self._down_since.get(region) is None:
            self._pending.discard(region)
            return  # back before the decision: no failover
        if self.cfg.offset_preserving and self.spec.failover.mode == "promote":
            flow = self._first_flow(region)
            while flow is not None and (self._down_since.get(region) is not None
                                        or flow.sample()[1] > 0):
                yield self.env.timeout(MONITOR)
        self._failover(region, "region unreachable")

    def run_migration(self, at: float):
        """A planned cut-over (migration): the primary's clients move at ``at``."""
        yield self.env.timeout(at)
        if self.model.primary not in self._failed_over:
            self._failover(self.model.primary, "planned cut-over")

    def _first_flow(self, region: str) -> MirrorFlow | None:
        return next((f for f in self.model.flows if f.source.region == region
                     and f.target.region not in self._failed_over), None)

    # --- the switch -------------------------------------------------------------------
    def _failover(self, region: str, reason: str) -> None:
        model = self.model
        flow = self._first_flow(region)
        self._pending.discard(region)
        if flow is None:
            model.counters_["failovers_without_target"] += 1
            return
        old, new = flow.source, flow.target
        now = self.env.now
        since = self._down_since.get(region, now)
        self._failed_over[region] = new.region
        at_loss = self._unreplicated.pop(region, {})
        records, nbytes, oldest = flow.unreplicated(at_loss.get(flow.index))
        for f in model.flows:
            if f.source is old:
                f.stopped = True
        # producers: new producer instances against the new cluster
        moving = [f for f in model.active_fleets if model.current_home(f.region) is old]
        replacements = []
        for fleet in moving:
            old.produce.detach_fleets([fleet])
            fleet.crash()
            model.active_fleets.remove(fleet)
            clone = fleet.successor(len(model.fleets), now)
            clone.alive = fleet.zone not in model.zone_down
            model.fleets.append(clone)
            model.active_fleets.append(clone)
            replacements.append(clone)
        for fleet_region in list(model.home_of):
            if model.current_home(fleet_region) is old:
                model.home_of[fleet_region] = new.region
        new.produce.attach_fleets(replacements)
        # consumer groups: start in the new cluster from translated offsets
        totals: defaultdict[str, int] = defaultdict(int)
        snapshot = self._bound_snapshots.pop(region, None) or \
            self._snapshot_before(since - self.window)
        for group in model.groups_on(old):
            old.reads.detach_group(group)
            for m in group.members:
                m.alive = False
            model.group_cluster[group.id] = None
            moved = model.new_group(group.subscription, new, group.members)
            self._seed_offsets(group, moved, old, new, snapshot, totals)
            new.reads.attach_group(moved)
        model.counters_["failovers"] += 1
        model.ctx.recorder.emit(FailedOver(
            now, old.region, new.region, reason, since, records, nbytes,
            max(since - oldest, 0.0) if records else 0.0, totals["translated"],
            totals["reset"], totals["reprocessed"], totals["bound"], totals["skipped"]))

    def _seed_offsets(self, group: ConsumerGroup, moved: ConsumerGroup,
                      old: RegionalCluster, new: RegionalCluster,
                      snapshot: dict[int, list[int]], totals) -> None:
        """Each partition of ``new`` gets a start offset: translated where the old
        group's position has an image there, else ``auto.offset.reset``."""
        model = self.model
        reset = self.spec.failover.auto_offset_reset
        n = model.partitions
        before = snapshot.get(group.id)
        # new pid -> (translated start or None, image of the true position, bound)
        mapped: dict[int, tuple[int | None, int, int]] = {}
        # new's copy of old's local topic (flow old -> new): through its checkpoints
        forward = next((f for f in model.flows if f.source is old and f.target is new), None)
        if forward is not None:
            marks = forward.offsets.start_marks(group.subscription)
            for i in range(n):
                true = _delivered_end(group.partitions[i])
                mark = marks[i] if marks else None
                slack = 0 if self.cfg.offset_preserving else max(
                    self.cfg.offset_lag_max, forward.offsets.parts[i].largest_row)
                bound = max(true - (before[i] if before else 0), 0) + slack
                mapped[forward.base + i] = (None if mark is None else mark[1],
                                            forward.offsets.image(i, true), bound)
        # new's local topic, which the old group read as a remote topic (flow new -> old):
        # its offsets translate back through that flow's copies
        backward = next((f for f in model.flows if f.source is new and f.target is old), None)
        if backward is not None:
            for i in range(n):
                state = group.partitions[backward.base + i]
                d_true = _delivered_end(state)
                before_d = before[backward.base + i] if before else 0
                bound = max(d_true - before_d, 0) + max(
                    self.cfg.offset_lag_max, backward.offsets.parts[i].largest_row)
                mapped[i] = (backward.offsets.upstream_of(i, state.committed),
                             backward.offsets.upstream_of(i, d_true), bound)
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

    def _failback(self, region: str) -> None:
        """The failed-over cluster is back: report what diverged (its acknowledged data
        the new cluster never received). Clients stay on the new cluster."""
        target = self._failed_over[region]
        for flow in self.model.flows:
            if flow.source.region == region and flow.target.region == target:
                records, nbytes, _oldest = flow.unreplicated()
                self.model.ctx.recorder.emit(FailedBack(self.env.now, region, target,
                                                        records, nbytes))


def _delivered_end(state: GroupPartition) -> int:
    """The offset after the last row a group member delivered in a partition."""
    if state.position > 0:
        row = state.log[state.position - 1][0]
        return row.offset + row.records
    return state.committed


__all__ = ["MONITOR", "Failover"]
