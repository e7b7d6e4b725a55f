"""Loss and unavailability of acknowledged data in replicated partition logs (Kafka).

Definitions (domain.md §7), for strategies whose data lives in partition replicas:

- **Lost**: acknowledged rows removed from a partition's log (:class:`RowsTruncated`:
  an election onto a replica that lacked them, or the destruction of every replica
  holding them), and when every replica of a partition was destroyed
  (:class:`PartitionErased`) every record acknowledged in it and not yet lost, the
  prefix the engine no longer keeps row by row included. Rows are attributed to their
  producer's region. **RPO** of a loss:
  the start of the latest fault begun at or before it minus the earliest ack time
  among the rows lost, never negative. A row removed before its acknowledgement
  reached the producer (the response was on its way) is lost when that
  acknowledgement arrives: the producer was told it is stored, and it is not.
- **Unavailable**: while a partition is offline (no leader, :class:`PartitionChanged`
  with ``leader_region`` None), every record acknowledged in it so far is unreadable.
  A partition's records count once, at its first offline episode, plus those acked
  between episodes; the interval runs until it has a leader again (or the end of the
  run, then its records are also ``open_records``), and counts only if the partition
  held acknowledged records. Lost records are withdrawn from
  the unavailable counts of their region, so the two never overlap.
- **Between clusters** (the cross-cluster strategies): a cluster unreachable as a whole
  (:class:`ClusterReachability`; its controller is gone too, so no partition changes
  state) has every partition offline until one of its zones is back. A record whose
  copy a flow's target acknowledged (:class:`MirrorCopied`) stays readable there while
  that target is reachable: an offline episode of a mirrored partition counts only
  the records no reachable target holds yet (those acked past the copies' end, once
  each), and its interval only if it counted any.

Partitions are numbered run-wide, as :class:`PartitionChanged` and
:class:`RowsTruncated` name them. A row names its cluster-local partition; in a
cross-cluster run its fleet's cluster (:class:`ClientsAttached`) gives the offset to
add (the cluster's ``partition_base``); a fleet never attached writes partitions
numbered run-wide already (one cluster).

Memory: counters per partition and region, one open interval per offline partition
and one base per producer fleet; per row, only rows removed while their
acknowledgement was on its way (at most the requests in flight at a truncation), and
of a mirrored partition the acknowledged rows no copy covers yet (the flow's lag).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import defaultdict, deque

from geosim.core.events import (
    ClientsAttached,
    ClusterReachability,
    FaultStarted,
    LogTruncated,
    MirrorCopied,
    MirrorFlowStarted,
    PartitionChanged,
    PartitionErased,
    ProduceAcked,
    Recorder,
    RowsTruncated,
    WindowAcked,
    WindowMirrored,
)
from geosim.metrics.intervals import union_intervals
from geosim.metrics.report import (
    LossReport,
    RegionLoss,
    RegionUnavailability,
    UnavailabilityReport,
    loss_report,
    with_losses,
)


class _Uncovered:
    """An acknowledged row of a mirrored partition that no flow target holds yet."""

    __slots__ = ("end", "records", "bytes", "region", "lost")

    def __init__(self, end: int, records: int, nbytes: int, region: str):
        self.end = end            # its end offset
        self.records = records
        self.bytes = nbytes       # uncompressed
        self.region = region      # its producer's
        self.lost = False         # removed from the log since (lost, not unread)


class PartitionLoss:
    """Fold of partition events into loss and unavailability; see the module docstring."""

    def __init__(self) -> None:
        self._acked: dict[int, dict[str, list[int]]] = defaultdict(dict)   # p -> region -> [n, b]
        # p -> region -> the ack time of the oldest record counted in ``_acked``
        self._first_ack: dict[int, dict[str, float]] = defaultdict(dict)
        self._counted: dict[int, dict[str, list[int]]] = defaultdict(dict)
        self._offline: dict[int, float] = {}
        self._intervals: list[tuple[float, float]] = []
        self._lost: dict[str, RegionLoss] = {}
        self._fault_starts: list[float] = []
        self._base: dict[int, int] = {}  # fleet -> run-wide number of its partition 0
        # (fleet, partition, seq) -> (attempts, run-wide partition, region, time) of rows
        # removed before their acknowledgement arrived
        self._doomed: dict[tuple[int, int, int], tuple[int, int, str, float]] = {}
        self.tracked_records = 0
        self.active = False
        # run-wide partition -> (records, bytes) acknowledged and lost
        self.lost_by_partition: dict[int, tuple[int, int]] = {}
        # Between clusters: each cluster's (first run-wide partition, partitions); the
        # unreachable clusters; the partitions without a leader; per mirrored source
        # partition, each target cluster's copied upstream end, the acknowledged rows
        # no copy covers yet (in offset order), and the offset up to which an episode
        # counted them.
        self._spans: dict[str, tuple[int, int]] = {}
        self._bases: list[tuple[int, str]] = []
        self._unreachable: set[str] = set()
        self._leaderless: set[int] = set()
        self._flows: dict[str, tuple[int, str]] = {}   # flow -> (source base, target)
        self._copied: dict[int, dict[str, int]] = {}
        self._uncovered: dict[int, deque[_Uncovered]] = {}
        self._counted_end: dict[int, int] = {}
        # A mirrored partition's episode: the rows it found without a readable copy
        # (its interval counts unless every one of them was lost since), under way by
        # partition and ended ((start, end, rows)).
        self._episode: dict[int, list[_Uncovered]] = {}
        self._mirrored_intervals: list[tuple[float, float, list[_Uncovered]]] = []

    def subscribe(self, recorder: Recorder) -> None:
        for kind, handler in ((ProduceAcked, self.on_acked),
                              (WindowAcked, self.on_acked),  # rows per partition
                              (PartitionChanged, self.on_partition),
                              (RowsTruncated, self.on_truncated),
                              (PartitionErased, self.on_erased),
                              (FaultStarted, self.on_fault),
                              (ClientsAttached, self.on_clients),
                              (ClusterReachability, self.on_reachability),
                              (MirrorFlowStarted, self.on_flow),
                              (MirrorCopied, self.on_copied),
                              (WindowMirrored, self.on_window_copied),
                              (LogTruncated, self.on_log_cut)):
            recorder.subscribe(kind, handler)

    # --- events ----------------------------------------------------------------------
    def on_fault(self, ev: FaultStarted) -> None:
        self._fault_starts.append(ev.t)

    def on_clients(self, ev: ClientsAttached) -> None:
        for fleet in ev.fleets:
            self._base[fleet] = ev.partition_base
        if ev.partitions and ev.cluster not in self._spans:
            self._spans[ev.cluster] = (ev.partition_base, ev.partitions)
            self._bases = sorted((base, name) for name, (base, _n) in self._spans.items())

    def on_flow(self, ev: MirrorFlowStarted) -> None:
        span = self._spans.get(ev.source)
        if span is None:
            return
        self._flows[ev.flow] = (span[0], ev.target)
        for i in range(ev.partitions):
            self._copied.setdefault(span[0] + i, {})[ev.target] = 0
            self._uncovered.setdefault(span[0] + i, deque())

    def on_window_copied(self, ev: WindowMirrored) -> None:
        """A window's copies need nothing more here: what each target holds comes
        from the :class:`MirrorCopied` of the copies standing for the window, emitted
        before it (a window ends well before any fault, so no loss is decided in it)."""

    def on_copied(self, ev: MirrorCopied) -> None:
        flow = self._flows.get(ev.flow)
        if flow is None:
            return
        p = flow[0] + ev.partition
        copied = self._copied[p]
        if ev.upstream_end > copied[flow[1]]:
            copied[flow[1]] = ev.upstream_end
        # rows every target holds a copy of are covered for good
        end = min(copied.values())
        rows = self._uncovered[p]
        while rows and rows[0].end <= end:
            rows.popleft()

    def on_reachability(self, ev: ClusterReachability) -> None:
        span = self._spans.get(ev.cluster)
        if span is None:
            return
        base, n = span
        if not ev.reachable:
            self._unreachable.add(ev.cluster)
            for p in range(base, base + n):
                if p not in self._offline:
                    self._go_offline(p, ev.t)
        else:
            self._unreachable.discard(ev.cluster)
            for p in range(base, base + n):
                if p in self._offline and p not in self._leaderless:
                    self._go_online(p, ev.t)
        # the copies this cluster holds became unreadable or readable again: the
        # offline sources copied into it are judged afresh from now
        for p, copied in self._copied.items():
            if ev.cluster in copied and p in self._offline:
                self._go_online(p, ev.t)
                self._go_offline(p, ev.t)

    def on_log_cut(self, ev: LogTruncated) -> None:
        """A cross-cluster partition's log was cut at ``ev.offset``: the rows appended
        from there on are new records, which no copy made before holds."""
        span = self._spans.get(ev.cluster)
        if span is not None:
            self._cut(span[0] + ev.partition, ev.offset)

    def _cut(self, p: int, offset: int) -> None:
        copied = self._copied.get(p)
        if copied is None:
            return
        for target, end in copied.items():
            if end > offset:
                copied[target] = offset
        if self._counted_end.get(p, 0) > offset:
            self._counted_end[p] = offset
        uncovered = self._uncovered[p]
        while uncovered and uncovered[-1].end > offset:
            uncovered.pop().lost = True   # removed from the log: lost, not unread

    def _cluster_of(self, p: int) -> str | None:
        i = bisect_right(self._bases, (p, "\uffff"))
        return self._bases[i - 1][1] if i else None

    def on_acked(self, ev: ProduceAcked) -> None:
        if not self.active:
            return
        region = ev.region
        acked = self._acked
        base = self._base.get(ev.fleet, 0)
        n = 0
        doomed = self._doomed
        mirrored = self._uncovered or None   # (per row: only cross-cluster runs look)
        for row in ev.rows:
            if doomed:
                gone = doomed.pop((row.fleet, row.partition, row.seq), None)
                if gone is not None and gone[0] == row.attempts:
                    self._lose(gone[1], gone[2], gone[3], row.records,
                               row.bytes_uncompressed, row.acked_at)
                    continue
            p = base + row.partition
            entry = acked[p].get(region)
            if entry is None:
                entry = acked[p][region] = [0, 0]
                self._first_ack[p][region] = row.acked_at
            entry[0] += row.records
            entry[1] += row.bytes_uncompressed
            n += row.records
            uncovered = mirrored.get(p) if mirrored is not None else None
            if uncovered is not None:
                uncovered.append(_Uncovered(row.offset + row.records, row.records,
                                            row.bytes_uncompressed, region))
        self.tracked_records += n

    def on_partition(self, ev: PartitionChanged) -> None:
        self.active = True
        p = ev.partition
        if ev.leader_region is None:
            self._leaderless.add(p)
            if p not in self._offline:
                self._go_offline(p, ev.t)
        else:
            self._leaderless.discard(p)
            if p in self._offline and (not self._unreachable
                                       or self._cluster_of(p) not in self._unreachable):
                self._go_online(p, ev.t)

    def _go_offline(self, p: int, t: float) -> None:
        """``p`` goes offline at ``t``; the episode's interval counts only if it finds
        acknowledged records that no reachable copy holds."""
        self._offline[p] = t
        rows = self._count_unavailable(p)
        if rows is not None:
            self._episode[p] = rows
        elif not any(n for n, _b in self._acked[p].values()):
            self._episode[p] = []

    def _go_online(self, p: int, t: float) -> None:
        since = self._offline.pop(p)
        rows = self._episode.pop(p, None)
        if rows is None:
            self._intervals.append((since, t))
        elif rows and t > since:
            self._mirrored_intervals.append((since, t, rows))

    def on_truncated(self, ev: RowsTruncated) -> None:
        records = nbytes = 0
        first_ack = math.inf
        if ev.rows and ev.partition in self._uncovered:
            # the log is cut at the first row removed (as LogTruncated says too)
            self._cut(ev.partition, min(row.offset for row in ev.rows))
        for row in ev.rows:
            if row.acked_at < 0:
                if row.mirror < 0:
                    self._doomed[(row.fleet, row.partition, row.seq)] = (
                        row.attempts, ev.partition, ev.region, ev.t)
                continue
            records += row.records
            nbytes += row.bytes_uncompressed
            first_ack = min(first_ack, row.acked_at)
        if records:
            self._lose(ev.partition, ev.region, ev.t, records, nbytes, first_ack)

    def on_erased(self, ev: PartitionErased) -> None:
        """Every record acknowledged in the partition and not lost yet is lost, each
        region's from the ack time of its oldest."""
        p = ev.partition
        uncovered = self._uncovered.get(p)
        while uncovered:
            uncovered.pop().lost = True
        for region, (records, nbytes) in list(self._acked[p].items()):
            self._lose(p, region, ev.t, records, nbytes, self._first_ack[p][region])

    def _lose(self, partition: int, region: str, t: float, records: int, nbytes: int,
              first_ack: float) -> None:
        """``records`` acknowledged rows of ``partition``, removed at ``t``, are lost."""
        entry = self._lost.setdefault(region, RegionLoss())
        entry.records += records
        entry.bytes += nbytes
        by_partition = self.lost_by_partition.get(partition, (0, 0))
        self.lost_by_partition[partition] = (by_partition[0] + records,
                                             by_partition[1] + nbytes)
        i = bisect_right(self._fault_starts, t)
        fault_start = self._fault_starts[i - 1] if i else t
        entry.rpo_seconds = max(entry.rpo_seconds, fault_start - first_ack, 0.0)
        if first_ack > t:   # acknowledged after its removal: never in the acked totals
            return
        # Lost records leave the partition's acked totals, and its unavailable counts.
        acked = self._acked[partition].get(region)
        if acked is not None:
            acked[0] -= records
            acked[1] -= nbytes
            if acked[0] <= 0:   # none left: the next ack is the oldest again
                del self._acked[partition][region], self._first_ack[partition][region]
        counted = self._counted[partition].get(region)
        if counted is not None:
            counted[0] = max(counted[0] - records, 0)
            counted[1] = max(counted[1] - nbytes, 0)

    def _count_unavailable(self, p: int) -> list[_Uncovered] | None:
        """Everything acked in ``p`` so far is unreadable now (counted once), less what a
        reachable flow target holds a copy of. Returns None, or for a mirrored
        partition with a reachable target its rows without a copy (the episode's
        interval counts only if one of them is not lost)."""
        copied = self._copied.get(p)
        reachable = [end for target, end in copied.items()
                     if target not in self._unreachable] if copied else []
        if not reachable:
            counted = self._counted[p]
            for region, (n, b) in self._acked[p].items():
                done = counted.get(region)
                if done is None or n > done[0]:
                    counted[region] = [n, b]
            rows = self._uncovered.get(p)
            if rows:  # all counted: a later episode counts only rows acked since
                self._counted_end[p] = max(self._counted_end.get(p, 0), rows[-1].end)
            return None
        # the rows past the copies' end are unreadable; each is counted once over
        # the partition's episodes
        covered = max(reachable)
        start = max(covered, self._counted_end.get(p, 0))
        rows = self._uncovered[p]
        counted = self._counted[p]
        for row in rows:
            if row.end > start:
                mine = counted.setdefault(row.region, [0, 0])
                mine[0] += row.records
                mine[1] += row.bytes
        if rows:
            self._counted_end[p] = max(start, rows[-1].end)
        return [row for row in rows if row.end > covered]

    @staticmethod
    def _unread(rows: list[_Uncovered]) -> bool:
        """Whether a mirrored episode found a row that was not lost after all."""
        return any(not row.lost for row in rows)

    # --- results ---------------------------------------------------------------------
    def finalize(self, t_end: float) -> tuple[LossReport, UnavailabilityReport]:
        intervals = list(self._intervals)
        open_records = 0
        for since, end, rows in self._mirrored_intervals:
            if self._unread(rows):
                intervals.append((since, end))
        for p, since in self._offline.items():
            episode = self._episode.get(p)
            if episode is None:
                intervals.append((since, t_end))
                open_records += sum(n for n, _b in self._acked[p].values())
            elif self._unread(episode):
                intervals.append((since, t_end))
                open_records += sum(row.records for row in episode if not row.lost)
        by_region: dict[str, RegionUnavailability] = {}
        for _p, counted in sorted(self._counted.items()):
            for region, (n, b) in counted.items():
                if n > 0:
                    entry = by_region.setdefault(region, RegionUnavailability())
                    entry.records += n
                    entry.bytes += b
        by_region = dict(sorted(by_region.items()))
        longest = max((e - s for s, e in intervals), default=0.0)
        for entry in by_region.values():
            entry.max_seconds = longest
        unavailable = UnavailabilityReport(
            records=sum(u.records for u in by_region.values()),
            bytes=sum(u.bytes for u in by_region.values()),
            intervals=union_intervals(intervals), max_seconds=longest,
            open_records=open_records, by_region=by_region)
        return loss_report(self._lost), unavailable


def merge(a: tuple[LossReport, UnavailabilityReport],
          b: tuple[LossReport, UnavailabilityReport]) -> tuple[LossReport, UnavailabilityReport]:
    """Combine the object-based and the partition-based folds (one is empty per run)."""
    (la, ua), (lb, ub) = a, b
    loss = with_losses(la, [lb.by_region])
    loss.untracked_records += lb.untracked_records
    regions = dict(ua.by_region)
    for region, w in ub.by_region.items():
        u = regions.setdefault(region, RegionUnavailability())
        regions[region] = RegionUnavailability(u.records + w.records, u.bytes + w.bytes,
                                               max(u.max_seconds, w.max_seconds))
    unavailable = UnavailabilityReport(
        ua.records + ub.records, ua.bytes + ub.bytes, union_intervals(ua.intervals + ub.intervals),
        max(ua.max_seconds, ub.max_seconds), ua.open_records + ub.open_records,
        dict(sorted(regions.items())))
    return loss, unavailable


__all__ = ["PartitionLoss", "merge"]
