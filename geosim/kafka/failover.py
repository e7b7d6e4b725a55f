"""Failover and failback between Kafka clusters (the cross-cluster model).

Failover is a decision (domain.md §5): when every zone of the region a set of clients
uses is down, after ``failover.detection`` and ``failover.decision`` the clients move to
the target of that cluster's first flow (with Cluster Linking's ``promote``, once the
mirror caught up). Producers restart against the new cluster (new producer instances;
unsent data is gone); those of a zone that is down start when it comes back. Each
consumer group starts in the new cluster from its translated (or synced) offsets, else
from ``auto.offset.reset``. The flows out of the failed cluster stop. A planned cut-over
(``migrate_at``) moves the primary's clients the same way. The model emits the facts
(:class:`~geosim.core.events.ClusterReachability`,
:class:`~geosim.core.events.FailedOver`, :class:`~geosim.core.events.GroupMoved`,
:class:`~geosim.core.events.ClientsAttached`); what the failover cost (RPO,
reprocessing, skips, divergence at failback) is a fold over them
(:mod:`geosim.metrics.mirror`).
"""

from __future__ import annotations

from bisect import bisect_right
from typing import TYPE_CHECKING

from geosim.core.events import ClientsAttached, ClusterReachability, FailedOver, GroupMoved

if TYPE_CHECKING:
    from geosim.clients.consumer import ConsumerGroup
    from geosim.kafka.cross_cluster import CrossCluster
    from geosim.kafka.mirror_flow import MirrorFlow
    from geosim.kafka.regional import RegionalCluster

MONITOR = 0.5                 # s between checks for unreachable clusters


class Failover:
    """When and how the clients of an unreachable cluster move to another one."""

    def __init__(self, model: CrossCluster):
        self.model = model
        self.env = model.env
        self.spec = model.spec
        self.cfg = model.cfg
        self._down_since: dict[str, float] = {}
        self._failed_over: dict[str, str] = {}   # old cluster -> new cluster
        self._pending: set[str] = set()

    def failover_pending(self, cluster: RegionalCluster) -> bool:
        return cluster.region not in self._failed_over

    # --- what the clusters' reachability tells ----------------------------------------
    def region_lost(self, region: str) -> None:
        """The last zone of ``region`` is going down (its brokers have not stopped yet)."""
        if region in self._down_since:
            return
        self.model.ctx.recorder.emit(ClusterReachability(self.env.now, region, False))

    def reachability(self, region: str, all_down: bool) -> None:
        """A zone of ``region`` (a cluster's) went down or up; ``all_down``: every zone
        of it is down now."""
        now = self.env.now
        if all_down and region not in self._down_since:
            self._down_since[region] = now
        elif not all_down and region in self._down_since:
            del self._down_since[region]
            self.model.ctx.recorder.emit(ClusterReachability(now, region, True))

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
                                        or not flow.caught_up()):
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
        for f in model.flows:
            if f.source is old:
                f.stopped = True
        model.counters_["failovers"] += 1
        emit = model.ctx.recorder.emit
        emit(FailedOver(now, old.region, new.region, reason, since))
        # producers: new producer instances against the new cluster
        moving = [f for f in model.active_fleets if model.current_home(f.region) is old]
        replacements = []
        for fleet in moving:
            old.produce.detach_fleets([fleet])
            fleet.crash()
            model.active_fleets.remove(fleet)
            clone = fleet.successor(len(model.fleets), now)
            if fleet.zone in model.zone_down:
                # its zone is down: the new instances start when it comes back
                # (ProducerFleet.restart), offering nothing until then
                clone.crash()
            model.fleets.append(clone)
            model.active_fleets.append(clone)
            replacements.append(clone)
        for fleet_region in list(model.home_of):
            if model.current_home(fleet_region) is old:
                model.home_of[fleet_region] = new.region
        emit(ClientsAttached(now, new.region, tuple(f.id for f in replacements), (),
                             new.partition_base, new.partitions_n))
        new.produce.attach_fleets(replacements)
        # consumer groups: start in the new cluster from translated offsets
        for group in model.groups_on(old):
            old.reads.detach_group(group)
            group.retire()
            model.group_cluster[group.id] = None
            moved = model.new_group(group.subscription, new, group.members)
            starts = self._seed_offsets(group, moved, old, new)
            emit(GroupMoved(now, group.id, moved.id, old.region, new.region, starts))
            new.reads.attach_group(moved)

    def _seed_offsets(self, group: ConsumerGroup, moved: ConsumerGroup,
                      old: RegionalCluster, new: RegionalCluster
                      ) -> tuple[tuple[int, int, int, bool], ...]:
        """Each partition of ``new`` gets a start offset: translated where the old
        group's position has an image there, else ``auto.offset.reset``. Returns
        (partition, start, log end, translated) per partition."""
        model = self.model
        reset = self.spec.failover.auto_offset_reset
        n = model.partitions
        translated: dict[int, int] = {}   # new pid -> translated start
        # new's copy of old's local topic (flow old -> new): through its checkpoints
        forward = next((f for f in model.flows if f.source is old and f.target is new), None)
        if forward is not None:
            marks = forward.offsets.start_marks(group.subscription)
            for i in range(n):
                mark = marks[i] if marks else None
                if mark is not None:
                    translated[forward.base + i] = mark[1]
        # new's local topic, which the old group read as a remote topic (flow new -> old):
        # its offsets translate back through that flow's copies
        backward = next((f for f in model.flows if f.source is new and f.target is old), None)
        if backward is not None:
            for i in range(n):
                state = group.partitions[backward.base + i]
                upstream = backward.offsets.upstream_of(i, state.committed)
                if upstream is not None:  # None: the flow's offsets do not map back
                    translated[i] = upstream
        out = []
        for q in range(new.partitions_n):
            p = new.parts[q]
            start = translated.get(q)
            if start is None:  # translation unavailable: auto.offset.reset
                start = 0 if reset == "earliest" else p.log_end
            start = min(start, p.log_end)
            out.append((q, start, p.log_end, q in translated))
            state = moved.partitions[q]
            state.committed = start
            state.position = 0
            state.log.clear()
            k = bisect_right(p.ends, start)
            for row in p.rows[k:]:
                state.log.append((row, -1))
        return tuple(out)


__all__ = ["MONITOR", "Failover"]
