"""The window engine's run mode for a cross-cluster run of one flow.

An active-passive MirrorMaker 2 or Cluster Linking run: every client uses the source
cluster, and one flow copies its topic into the target. Between disturbances the event
engine hands the kernel the source's data path (as :class:`~geosim.kafka.window.mode.
WindowMode` does for one cluster), the flow's fetches and copies and the target's data
path (:mod:`geosim.kafka.window.mirror`), and takes them back:

1. **Hand-over** as for one cluster, and the flow and the target drain too: every
   committed row copied, acknowledged and replicated in the target. The flow's fetch
   loop and the target's fetch loops wait while the window runs; the flow's task
   commits and checkpoints, the clusters' controllers and the failover monitor run on.
2. **Hand-back**: the source's rows standing for the window (one per fleet and
   partition) are copied into the target as one copy each, at the target's log end (at
   the same offsets for a mirror topic), held by every live target replica and
   committed; the flow's positions and acknowledged and copied offsets move to the
   source's log end; each copy is reported (:class:`~geosim.core.events.MirrorCopied`)
   and its offsets go to the flow's offset syncs. The flow's per-row times over the
   window go to the folds in bulk (:class:`~geosim.core.events.WindowMirrored`), so that
   the lag sampled inside the window counts what was uncopied then. The kernel's bytes
   go to the network's counters.

Windows end ``MARGIN`` plus the flow's offset-marks window (the checkpoint or
consumer-offset-sync interval, plus the consumers' commit interval and a second) before
each fault and planned migration, and at least ``MARGIN`` plus ``page_cache_flush_age``
before one that may stop a broker (a flow's hand-back merges every row, unlike
:class:`~geosim.kafka.window.mode.WindowMode`'s, which keeps the rows of the flush age
one by one): a failover's translated offsets and its reprocessing bound then read marks
and positions the event engine made, and an unclean stop its own rows. A run of several
flows, a flow that filters what it copies, a target with clients of its own, and shared
storage stay in events (``run-info.json`` says why).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from geosim.core.events import MirrorCopied, Row, WindowMirrored
from geosim.kafka.window.cluster_state import (
    drained,
    replicas_not_quiet,
    replicated,
    without_bulk_form,
)
from geosim.kafka.window.kernel import WindowResult
from geosim.kafka.window.mirror import FlowWiring, MirrorResult, run_mirror
from geosim.kafka.window.mode import TAIL, WindowMode
from geosim.kafka.window.wiring import WindowRefused, Wiring

if TYPE_CHECKING:
    from geosim.kafka.cluster import KafkaCluster
    from geosim.kafka.cross_cluster import CrossCluster

#: One second beyond the marks' refresh and the commit interval (the mirror fold's
#: reprocess-bound window, geosim.metrics.mirror).
SAMPLE = 1.0


class FlowWindowMode(WindowMode):
    """Hands a one-flow cross-cluster run's steady states to the window engine (module
    docstring)."""

    #: A flow's windows stay out of faults: inside one the flow's fetches to a zone
    #: that is down wait out their request timeout, and a failover gives the target
    #: clients of its own.
    INSIDE_FAULTS = False
    #: A flow copies each row standing for a window as one copy with one upstream end
    #: (:meth:`_handed_back`), so its hand-backs merge every row, and its windows end
    #: the page cache's flush age before a fault that may stop a broker (the marks
    #: window may be shorter: ``consumer.offset.sync.ms``, checkpoints are configurable).
    SINGLE_ROWS = False
    #: Nor does it keep the rows a follower catching up holds some of one by one: its
    #: windows wait for every follower to be in its ISR.
    BEHIND = False

    def __init__(self, engine: CrossCluster):
        self.engine = engine
        self.flow = engine.flows[0]
        self.target = self.flow.target
        cfg = engine.cfg
        if cfg.offset_preserving:
            marks = cfg.offset_sync_interval
        else:
            marks = cfg.checkpoint_interval
            if cfg.sync_group_offsets:
                marks += cfg.sync_group_offsets_interval
        commit = engine.world.workload.consumer_settings.auto_commit_interval
        migrate = engine.spec.migrate_at
        super().__init__(self.flow.source, settle=marks + commit + SAMPLE,
                         bounds=() if migrate is None else (migrate,))
        self._flow_wiring: FlowWiring | None = None

    # ======================================================================= checks
    def _not_quiet(self) -> str | None:
        e = self.engine
        if len(e.flows) != 1:
            return "the run has several flows (one flow per run in windows)"
        if any(c.storage is not None for c in e.clusters.values()):
            return "a cluster has shared storage"
        flow, target = self.flow, self.target
        if flow.stopped or not flow.alive or flow.halted:
            return f"flow {flow.name} is stopped, down or halted on a partition"
        if target.producing or e.groups_on(target):
            return f"the target of flow {flow.name} has clients of its own"
        why = replicas_not_quiet(target) or super()._not_quiet()
        if why is not None:
            return why
        return without_bulk_form(self.cluster.ctx.recorder, ((MirrorCopied, WindowMirrored),))

    def _held_appends(self, wiring: Any) -> list[tuple[KafkaCluster, frozenset[str]]]:
        # and the flow's copies to the target's leaders
        pairs = self.target.replication.pairs
        return [*super()._held_appends(wiring),
                (self.target, frozenset(p.leader_zone for p in pairs.values()))]

    def _drained(self) -> bool:
        flow = self.flow
        if not (super()._drained() and drained(self.target)) or flow.in_flight:
            return False
        parts = self.cluster.parts
        for i in flow.mirrored:
            st = flow.parts[i]
            if st.position != parts[i].log_end or st.acked != st.position or st.ahead:
                return False
        return True

    def _state(self) -> tuple:
        flow = self.flow
        return (super()._state(), self.target.replication.generation, flow.alive,
                flow.stopped, len(flow.halted))

    # ======================================================================= hooks
    def _wiring(self) -> Wiring:
        """The source's wiring; the flow's is read with it (before the hand-over, so
        that a flow the kernel refuses never stops the producers)."""
        wiring = Wiring.of(self.cluster, alone=False)
        self._flow_wiring = FlowWiring.of(self.flow, wiring)
        return wiring

    def _compute(self, wiring: Any, s: float, t1: float) -> tuple[WindowResult, Any]:
        result, _ = super()._compute(wiring, s, t1)
        flow_wiring = self._flow_wiring
        assert flow_wiring is not None  # read by _wiring at the hand-over
        mirror = run_mirror(flow_wiring, result, s, t1 + TAIL,
                            seed=int(self._seeds.integers(2**62)))
        assert result.row_partition is not None and mirror.copied is not None
        mirrored = np.isin(result.row_partition, flow_wiring.mirrored)
        if not np.isfinite(mirror.copied[mirrored]).all():
            raise WindowRefused("the flow's copies did not all complete within the tail")
        return result, (flow_wiring, mirror)

    def _park(self) -> None:
        super()._park()
        self.target.replication.park()
        self.flow.park()

    # ==================================================================== hand-back
    def _handed_back(self, wiring: Any, result: WindowResult, extra: Any,
                     keep: np.ndarray, share: float, appended: list[Row]) -> None:
        flow_wiring, mirror = extra
        assert isinstance(flow_wiring, FlowWiring) and isinstance(mirror, MirrorResult)
        assert result.row_partition is not None and result.row_fleet is not None
        assert result.row_bytes is not None and result.row_acked is not None
        assert result.row_last is not None and result.row_records is not None
        assert mirror.appended is not None and mirror.copied is not None
        now = self.env.now
        flow, target, source = self.flow, self.target, self.cluster
        base = flow_wiring.base
        mirrored = keep & np.isin(result.row_partition, flow_wiring.mirrored)
        # when each (partition, fleet)'s last copy reached the target
        reached: dict[tuple[int, int], float] = {}
        if mirrored.any():
            fleets = int(result.row_fleet.max()) + 1
            key = result.row_partition[mirrored] * fleets + result.row_fleet[mirrored]
            order = np.argsort(key, kind="stable")
            k = key[order]
            starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
            last = np.maximum.reduceat(mirror.appended[mirrored][order], starts)
            reached = {(int(code) // fleets, int(code) % fleets): float(t)
                       for code, t in zip(k[starts].tolist(), last.tolist(), strict=True)}
        # 1. one copy per row standing for the window, at the target's log end (a mirror
        #    topic: at the source's offsets, where the target's log ends too)
        tparts = target.parts
        copies: list[tuple[int, Row]] = []
        for row in appended:
            i = row.partition
            if (i, row.fleet) not in reached:
                continue
            p = tparts[base + i]
            end = p.log_end
            if flow_wiring.offset_preserving and row.offset != end:
                raise RuntimeError(f"window engine: mirror topic partition {p.id} ends at "
                                   f"{end}, its source row starts at {row.offset}")
            copy = replace(row, partition=base + i, mirror=flow.index, offset=end)
            target.log.next_offset[p.id] = end + copy.records
            p.append(copy, reached[(i, row.fleet)])
            for group in target.groups:
                group.appended(copy, -1)
            copies.append((i, copy))
        replicated(target, now)
        # 2. the flow: everything the window sent is fetched, copied and acknowledged
        sparts = source.parts
        for i in flow_wiring.mirrored:
            st = flow.parts[i]
            st.position = st.acked = st.copied = sparts[i].log_end
        flow.rows_mirrored += int(mirrored.sum())
        flow.copied_bytes += int(result.row_bytes[mirrored].sum())
        flow.unpark()
        # 3. the copies' reports and offset syncs, in upstream order per partition
        emit = source.ctx.recorder.emit
        by_source = {(row.partition, row.fleet): row for row in appended}
        for i, copy in copies:
            row = by_source[(i, copy.fleet)]
            u_end = row.offset + row.records
            d_end = copy.offset + copy.records
            flow.offsets.copied(i, u_end, d_end)
            emit(MirrorCopied(now, flow.name, i, u_end, d_end, copy.records,
                              copy.bytes_compressed))
        emit(WindowMirrored(now, flow.name, float(result.t0),
                            result.row_acked[mirrored], mirror.copied[mirrored],
                            result.row_bytes[mirrored]))
        for (src, dst, purpose), moved in sorted(mirror.bytes.items()):
            source.net.count(src, dst, purpose, int(round(moved * share)))


__all__ = ["FlowWindowMode"]
