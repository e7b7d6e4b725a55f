"""Replication flows between clusters: lag, failovers and failbacks, folded from facts.

The cross-cluster model (``mirrormaker2``, ``cluster-linking``; domain.md §5) records
what happens and measures nothing. This fold learns the layout from
:class:`~geosim.core.events.ClientsAttached` (which fleets and groups use which cluster)
and :class:`~geosim.core.events.MirrorFlowStarted` (which flow copies which source
partition to which target partition), then follows the source's acknowledged rows
(:class:`~geosim.core.events.ProduceAcked`), the copies the target acknowledged
(:class:`~geosim.core.events.MirrorCopied`), cut logs
(:class:`~geosim.core.events.LogTruncated`), the consumer groups' deliveries, commits
and reassignments, the clusters' reachability and the failover decisions
(:class:`~geosim.core.events.FailedOver`, :class:`~geosim.core.events.GroupMoved`).
Definitions (domain.md §7), per flow ``S -> T`` and source partition ``i``:

- **Copied**: the highest upstream end the target acknowledged a copy of.
- **Uncopied**: the rows of ``S`` acknowledged to a producer (the ack as the producer
  hears it) whose end lies past *copied*, less those cut from ``S``'s log.
- **Lag** (per flow, sampled every second ``T`` from 1 s while the flow runs, i.e.
  until the failover that stops it; a sample sees every event at or before ``T``):
  records and compressed bytes of the uncopied rows acknowledged by ``T``, and ``T``
  minus the oldest of their ack times (0 if none). The report keeps the maximum and
  the mean over samples before the first fault, and the largest sample per bin as the
  ``replication_lag`` series. The model's own lag sampler is gone on purpose: a real
  broker does expose a lag gauge, but one computed from the model's bookkeeping (its
  high watermark and its flow positions) would hide a bug of that bookkeeping; this
  one is rebuilt from acknowledgements on both sides.
- **Translation**: the time of the flow's first checkpoint (or consumer offset sync).
- **Failover** ``S -> T`` at ``t``, unreachable since ``s``: *unreplicated* records and
  uncompressed bytes are the rows uncopied when ``S`` became unreachable (before a
  destruction cuts them) that are still uncopied at ``t`` (a response on the wire
  still lands); **RPO** = ``s`` minus the oldest of their ack times (0 if none). For
  a planned cut-over (``S`` reachable) the rows uncopied at ``t``. Per moved group
  and target partition, from :class:`~geosim.core.events.GroupMoved`: *translated*
  or *reset* (``auto.offset.reset``; counted only on a non-empty partition) start
  offsets. The group's **true position** in a partition is the end of the last row
  it was delivered there (its committed offset after a reassignment, a log cut
  capping both). Its **image** in ``T``: for the copy of ``S``'s partition ``i``, the
  downstream end of the newest acknowledged copy whose upstream end is at or below
  the true position (offset-preserving: the true position, capped at *copied*); for
  ``T``'s own partition ``i`` that the group read as a remote copy in ``S`` (flow
  ``T -> S``), the upstream end of the newest copy whose downstream end is at or below
  the true position there (not when the forward copies land in ``T``'s own topic,
  ``target_base`` 0 as with Replicator's kept names: the forward image counts).
  **Reprocessed** = image minus start where positive,
  **skipped** = start minus image where positive. With kept names in both directions,
  ``T``'s partition interleaves the copies of ``S``'s records with ``T``'s own, and
  the group read ``T``'s own records through their copies in ``S`` up to the upstream
  image of its true position through the flow ``T -> S`` (the *backward image*),
  whatever the forward image: ``T``'s own records count as reprocessed between the
  start and the backward image and as skipped between the backward image and the
  start, in place of those the forward image's side of the start counted by offset
  alone. **Reprocess bound**, over
  translated partitions: the true position minus the position one *window* before
  ``s`` (the latest 1 s snapshot at or before ``s - window``, window = the marks'
  refresh interval + the consumers' commit interval + 1 s), plus the offset-sync
  spacing (``max(offset.lag.max, largest copy)``; 0 offset-preserving).
- **Failback**: when a failed-over ``S`` is reachable again, its *diverged* records and
  uncompressed bytes are the rows of ``S`` still uncopied then.

Memory: per flow and partition the uncopied rows and the copy pairs (pruned below every
group's committed offset on either side); per group its positions; one second of
positions per snapshot, for the window. With kept names both ways, the target's own
records between a moved group's start and its backward image are counted from the
reverse flow's pairs, so a start translated below every group's commit (timestamps out
of order across the two origins) can miss records whose pairs were pruned.
"""

from __future__ import annotations

import math
from bisect import insort
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from geosim.core.events import (
    ClientsAttached,
    ClusterReachability,
    Delivered,
    FailedOver,
    GroupMoved,
    LogTruncated,
    MirrorCopied,
    MirrorFlowStarted,
    OffsetsCommitted,
    ProduceAcked,
    Rebalanced,
    Recorder,
    TranslationAvailable,
    WindowAcked,
    WindowDelivered,
    WindowMirrored,
)
from geosim.core.offset_pairs import map_offset
from geosim.metrics.window_copies import WindowCopies

SAMPLE = 1.0        # s between lag samples and position snapshots
#: Copy pairs appended between two prunes of a partition's pairs.
PRUNE_EVERY = 256  # mutate: equivalent: how often pairs below every reader are dropped, memory only

# An uncopied row: (offset, end, records, uncompressed bytes, compressed bytes, ack time)
Uncopied = tuple[int, int, int, int, int, float]


@dataclass
class FlowLag:
    max_seconds: float = 0.0
    max_bytes: int = 0
    # equivalent: finalize sets it for every flow before anything reads it
    mean_seconds_before_fault: float = 0.0  # mutate: equivalent
    translation_from: float | None = None   # first checkpoint / offset sync
    samples: list[tuple[float, float, int]] = field(default_factory=list)  # (t, s, bytes)


@dataclass
class MirrorReport:
    flows: dict[str, FlowLag]
    failovers: list[dict]
    failbacks: list[dict]

    def to_dict(self) -> dict:
        return {
            "flows": {name: {"max_lag_seconds": f.max_seconds, "max_lag_bytes": f.max_bytes,
                             "mean_lag_seconds_before_fault": f.mean_seconds_before_fault,
                             "translation_unavailable_until": f.translation_from}
                      for name, f in sorted(self.flows.items())},
            "failovers": self.failovers,
            "failbacks": self.failbacks,
        }


class _Flow:
    """What the fold knows of one flow."""

    def __init__(self, ev: MirrorFlowStarted):
        n = ev.partitions
        self.name = ev.flow
        self.source = ev.source
        self.target = ev.target
        self.n = n
        self.base = ev.target_base
        self.offset_preserving = ev.offset_preserving
        self.offset_lag_max = ev.offset_lag_max
        self.window = ev.mark_interval + ev.commit_interval + SAMPLE
        self.copied = [0] * n
        self.largest = [0] * n                      # largest copy (records)
        # (u_end, d_end, records) of acknowledged copies, ack order
        self.pairs: list[deque] = [deque() for _ in range(n)]
        # equivalent: read only modulo PRUNE_EVERY, when to prune: memory only
        self.appended = [0 for _ in range(n)]  # mutate: equivalent
        self.uncopied: list[list[Uncopied]] = [[] for _ in range(n)]  # offset order
        # the window engine's rows not all copied at the last sample
        self.window_rows = WindowCopies()
        self.stopped = False

    def image(self, i: int, upstream: int) -> int:
        if self.offset_preserving:
            return min(upstream, self.copied[i])
        return map_offset(self.pairs[i], upstream)


class _Group:
    __slots__ = ("cluster", "end", "committed")

    def __init__(self, cluster: str | None):
        self.cluster = cluster
        self.end: dict[int, int] = {}        # partition -> true position
        self.committed: dict[int, int] = {}


class MirrorFold:
    """Folds the cross-cluster facts of a run (nothing for other strategies): see the
    module docstring. :meth:`subscribe` attaches it; the per-row events are subscribed
    only once a flow exists."""

    def __init__(self, first_fault: float | None):
        self._first_fault = math.inf if first_fault is None else first_fault
        self._recorder: Recorder | None = None
        self._flows: dict[str, _Flow] = {}
        self._lags: dict[str, FlowLag] = {}
        self._before: dict[str, list[float]] = {}
        self._fleet_cluster: dict[int, str] = {}
        self._groups: dict[int, _Group] = {}
        self._history: deque = deque()   # (T, {group: {partition: true position}})
        # equivalent: each flow raises it to its window + 2 s; snapshots serve only flows
        self._keep = 0.0  # mutate: equivalent
        self._next = SAMPLE              # the next sample's time (sums of 1.0 are exact)
        self._at_loss: dict[str, dict[str, list[list[Uncopied]]]] = {}
        self._bound_base: dict[str, dict[int, dict[int, int]]] = {}
        self._failed_over: dict[str, str] = {}
        self._open: dict | None = None   # the failover whose groups are moving
        self._failovers: list[dict] = []
        self._failbacks: list[dict] = []
        self.active = False

    def subscribe(self, recorder: Recorder) -> None:
        self._recorder = recorder
        recorder.subscribe(ClientsAttached, self.on_clients)
        recorder.subscribe(MirrorFlowStarted, self.on_flow)
        recorder.subscribe(TranslationAvailable, self.on_translation)

    # --- the clock ------------------------------------------------------------------
    def _advance(self, t: float) -> None:
        """Take the samples due before ``t`` (each sees every event at or before it)."""
        while self._next < t:
            self._sample(self._next)
            self._next += SAMPLE

    def _sample(self, now: float) -> None:
        for name, flow in self._flows.items():
            if flow.stopped:
                continue
            oldest = math.inf
            nbytes = 0
            for rows in flow.uncopied:
                for row in rows:
                    if row[5] <= now:
                        nbytes += row[4]
                        oldest = min(oldest, row[5])
            if flow.window_rows:
                extra, first = flow.window_rows.uncopied(now)
                flow.window_rows.forget(now)
                nbytes += extra
                oldest = min(oldest, first)
            seconds = now - oldest if nbytes else 0.0
            lag = self._lags[name]
            lag.samples.append((now, seconds, nbytes))
            lag.max_seconds = max(lag.max_seconds, seconds)
            lag.max_bytes = max(lag.max_bytes, nbytes)
            if now < self._first_fault:
                acc = self._before[name]
                acc[0] += seconds
                acc[1] += 1
        self._history.append((now, {g: dict(state.end) for g, state in self._groups.items()}))
        history = self._history
        horizon = now - self._keep
        while history:
            taken = history[0][0]
            # equivalent: the snapshot at the edge is never the latest before a query
            if taken >= horizon:  # mutate: equivalent
                break
            history.popleft()

    def _snapshot_before(self, t: float) -> dict[int, dict[int, int]]:
        best: dict[int, dict[int, int]] = {}
        for when, snap in self._history:
            if when <= t:
                best = snap
        return best

    # --- layout ---------------------------------------------------------------------
    def on_clients(self, ev: ClientsAttached) -> None:
        self._advance(ev.t)
        for fleet in ev.fleets:
            self._fleet_cluster[fleet] = ev.cluster
        for group in ev.groups:
            self._groups[group] = _Group(ev.cluster)

    def on_flow(self, ev: MirrorFlowStarted) -> None:
        self._advance(ev.t)
        if not self._flows and self._recorder is not None:
            recorder = self._recorder
            for kind, handler in ((ProduceAcked, self.on_acked),
                                  (WindowAcked, self.on_acked),  # rows per partition
                                  (MirrorCopied, self.on_copied),
                                  (WindowMirrored, self.on_window_copied),
                                  (LogTruncated, self.on_truncated),
                                  (Delivered, self.on_delivered),
                                  (WindowDelivered, self.on_delivered),  # per group
                                  (OffsetsCommitted, self.on_committed),
                                  (Rebalanced, self.on_rebalanced),
                                  (ClusterReachability, self.on_reachability),
                                  (FailedOver, self.on_failover),
                                  (GroupMoved, self.on_group_moved)):
                recorder.subscribe(kind, handler)
        self.active = True
        flow = self._flows[ev.flow] = _Flow(ev)
        self._lags.setdefault(ev.flow, FlowLag())
        self._before.setdefault(ev.flow, [0.0, 0])
        # equivalent: keeping snapshots longer than a query reaches changes nothing
        margin = 2 * SAMPLE  # mutate: equivalent
        self._keep = max(self._keep, flow.window + margin)

    def on_translation(self, ev: TranslationAvailable) -> None:
        self._advance(ev.t)
        self.active = True
        lag = self._lags.setdefault(ev.flow, FlowLag())
        self._before.setdefault(ev.flow, [0.0, 0])
        if lag.translation_from is None:
            lag.translation_from = ev.t

    # --- data -----------------------------------------------------------------------
    def on_window_copied(self, ev: WindowMirrored) -> None:
        """A window's per-row ack and copy times: the samples already taken from its
        start on count the rows uncopied then, and later ones will until the last is
        copied."""
        self._advance(ev.t)
        flow = self._flows.get(ev.flow)
        rows = WindowCopies()
        rows.add(ev.acked, ev.copied, ev.bytes)
        if flow is None or not rows:
            return
        lag = self._lags[ev.flow]
        for k, (at, seconds, nbytes) in enumerate(lag.samples):
            extra, oldest = rows.uncopied(at) if at >= ev.start else (0, math.inf)
            if extra:
                amended = max(seconds, at - oldest)
                lag.samples[k] = (at, amended, nbytes + extra)
                lag.max_seconds = max(lag.max_seconds, amended)
                lag.max_bytes = max(lag.max_bytes, nbytes + extra)
                if at < self._first_fault:
                    self._before[ev.flow][0] += amended - seconds
        if rows.last_copy() >= self._next:
            flow.window_rows.extend(rows)

    def on_acked(self, ev: ProduceAcked | WindowAcked) -> None:
        # ``ev.t`` is when the producer hears the ack, possibly later than now: it does
        # not move the clock, and a sample counts the row only from then on.
        cluster = self._fleet_cluster.get(ev.fleet)
        if cluster is None:
            return
        flows = [f for f in self._flows.values() if f.source == cluster and not f.stopped]
        if not flows:
            return
        t = ev.t
        for row in ev.rows:
            i = row.partition
            end = row.offset + row.records
            item = (row.offset, end, row.records, row.bytes_uncompressed,
                    row.bytes_compressed, t)
            for flow in flows:
                if i >= flow.n or end <= flow.copied[i]:
                    continue
                insort(flow.uncopied[i], item)

    def on_copied(self, ev: MirrorCopied) -> None:
        self._advance(ev.t)
        flow = self._flows[ev.flow]
        i = ev.partition
        if ev.records > flow.largest[i]:  # mutate: equivalent: at equality the same value
            flow.largest[i] = ev.records
        pairs = flow.pairs[i]
        pairs.append((ev.upstream_end, ev.downstream_end, ev.records))
        # equivalent: read only modulo PRUNE_EVERY, where -k and k agree on zero
        flow.appended[i] += 1  # mutate: equivalent
        # equivalent: when pairs below every reader are dropped, not which: memory only
        if flow.appended[i] % PRUNE_EVERY == 0:  # mutate: equivalent
            self._prune(flow, i)
        # equivalent: at equality no row is left to drop (an ack never adds a copied row)
        if ev.upstream_end > flow.copied[i]:  # mutate: equivalent
            copied = flow.copied[i] = ev.upstream_end
            rows = flow.uncopied[i]
            k = 0
            while k < len(rows) and rows[k][1] <= copied:
                k += 1
            if k:
                del rows[:k]

    def _prune(self, flow: _Flow, i: int) -> None:
        """Forget copy pairs no query can need: below every committed offset of the
        groups on the source (upstream) and on the target's copy (downstream)."""
        low_u = low_d = math.inf
        for group in self._groups.values():
            if group.cluster == flow.source:
                low_u = min(low_u, group.committed.get(i, 0))
            elif group.cluster == flow.target:
                low_d = min(low_d, group.committed.get(flow.base + i, 0))
        pairs = flow.pairs[i]
        while len(pairs) > 1 and pairs[1][0] <= low_u and pairs[1][1] <= low_d:
            pairs.popleft()

    def on_truncated(self, ev: LogTruncated) -> None:
        self._advance(ev.t)
        cut = ev.offset
        for flow in self._flows.values():
            if flow.source == ev.cluster and ev.partition < flow.n:
                rows = flow.uncopied[ev.partition]
                while rows and rows[-1][0] >= cut:
                    rows.pop()
        for group in self._groups.values():
            if group.cluster == ev.cluster:
                p = ev.partition
                # equivalent: at equality the same value; a missing position reads 0
                if group.end.get(p, 0) > cut:  # mutate: equivalent
                    group.end[p] = cut
                # equivalent: at equality the same value; a missing offset reads 0
                if group.committed.get(p, 0) > cut:  # mutate: equivalent
                    group.committed[p] = cut

    def on_delivered(self, ev: Delivered | WindowDelivered) -> None:
        self._advance(ev.t)
        group = self._groups.get(ev.group)
        if group is None:
            return
        end = group.end
        for row in ev.rows:
            end[row.partition] = row.offset + row.records

    def on_committed(self, ev: OffsetsCommitted) -> None:
        self._advance(ev.t)
        group = self._groups.get(ev.group)
        if group is not None:
            for p, offset in ev.offsets:
                group.committed[p] = offset

    def on_rebalanced(self, ev: Rebalanced) -> None:
        self._advance(ev.t)
        group = self._groups.get(ev.group)
        if group is not None:
            for p in ev.reassigned:  # the new owner resumes from the committed offset
                group.end[p] = group.committed.get(p, 0)

    # --- reachability and failover --------------------------------------------------
    def on_reachability(self, ev: ClusterReachability) -> None:
        self._advance(ev.t)
        cluster = ev.cluster
        if not ev.reachable:
            self._at_loss[cluster] = {f.name: [list(rows) for rows in f.uncopied]
                                      for f in self._flows.values() if f.source == cluster}
            window = self._window(cluster)
            if window is not None:
                self._bound_base[cluster] = self._snapshot_before(ev.t - window)
            return
        target = self._failed_over.get(cluster)
        if target is None:
            return
        flow = self._flows.get(f"{cluster}->{target}")
        if flow is None:
            return
        records, nbytes, _oldest = _uncopied(flow, flow.uncopied)
        self._failbacks.append({"t": ev.t, "cluster": cluster, "target": target,
                                "diverged_records": records, "diverged_bytes": nbytes})

    def _window(self, cluster: str) -> float | None:
        return next((f.window for f in self._flows.values() if f.source == cluster), None)

    def on_failover(self, ev: FailedOver) -> None:
        self._advance(ev.t)
        source, target = ev.source, ev.target
        self._failed_over[source] = target
        flow = self._flows.get(f"{source}->{target}")
        records = nbytes = 0
        oldest = math.inf
        if flow is not None:
            at_loss = self._at_loss.pop(source, {}).get(flow.name)
            records, nbytes, oldest = _uncopied(
                flow, flow.uncopied if at_loss is None else at_loss)
        for f in self._flows.values():
            if f.source == source:
                f.stopped = True
        since = ev.unreachable_since
        base = self._bound_base.pop(source, None)
        if not base:
            window = self._window(source)
            base = self._snapshot_before(since - window) if window is not None else {}
        self._open = {
            "t": ev.t, "source": source, "target": target, "reason": ev.reason,
            "unreachable_since": since, "unreplicated_records": records,
            "unreplicated_bytes": nbytes,
            "rpo_seconds": max(since - oldest, 0.0) if records else 0.0,
            "translated": 0, "reset": 0, "reprocessed": 0, "reprocess_bound": 0,
            "skipped": 0, "_base": base}
        self._failovers.append(self._open)

    def on_group_moved(self, ev: GroupMoved) -> None:
        self._advance(ev.t)
        row = self._open
        old = self._groups.get(ev.group) or _Group(None)
        old.cluster = None
        moved = self._groups[ev.new_group] = _Group(ev.target)
        for q, start, _log_end, _translated in ev.starts:
            moved.end[q] = moved.committed[q] = start
        if row is None:
            return
        before = row["_base"].get(ev.group)
        # target partition -> (image of the true position, bound if translated)
        mapped: dict[int, tuple[int, int]] = {}
        forward = self._flows.get(f"{ev.source}->{ev.target}")
        if forward is not None:
            for i in range(forward.n):
                true = old.end.get(i, 0)
                slack = 0 if forward.offset_preserving else max(
                    forward.offset_lag_max, forward.largest[i])
                bound = max(true - (before.get(i, 0) if before else 0), 0) + slack
                mapped[forward.base + i] = (forward.image(i, true), bound)
        backward = self._flows.get(f"{ev.target}->{ev.source}")
        # kept names: target partition -> how far the group read the target's own
        # records through their copies in the source
        reached: dict[int, int] = {}
        kept = None
        if backward is not None and forward is not None and forward.base == 0:
            # The forward copies land in the target's own topic (kept names), which is
            # what the backward flow copies from: the target's partition interleaves the
            # source's records (read up to the forward image) with its own (read through
            # their copies up to the backward image).
            kept = backward
            for i in range(backward.n):
                reached[i] = map_offset(backward.pairs[i], old.end.get(i, 0), backward=True)
            backward = None
        if backward is not None:
            for i in range(backward.n):
                q = backward.base + i
                d_true = old.end.get(q, 0)
                bound = max(d_true - (before.get(q, 0) if before else 0), 0) + max(
                    backward.offset_lag_max, backward.largest[i])
                mapped[i] = (map_offset(backward.pairs[i], d_true, backward=True), bound)
        for q, start, log_end, translated in ev.starts:
            image, bound = mapped.get(q, (None, 0))
            if translated:
                row["translated"] += 1
                row["reprocess_bound"] += bound
            elif log_end > 0:
                row["reset"] += 1
            if image is not None:
                row["reprocessed"] += max(image - start, 0)
                row["skipped"] += max(start - image, 0)
            if kept is not None and q in reached:
                # The image's side of the start counted the target's own records by
                # offset alone: count them by the backward image instead.
                own = reached[q]
                row["reprocessed"] += _source_records(kept, q, start, own)
                row["skipped"] += _source_records(kept, q, own, start)
                if image is not None:
                    row["reprocessed"] -= _source_records(kept, q, start, image)
                    row["skipped"] -= _source_records(kept, q, image, start)

    # --- results --------------------------------------------------------------------
    def series(self, nbins: int, bin_width: float) -> list[tuple[str, str, np.ndarray]]:
        """(flow, ``replication_lag``, the largest lag sample in each bin, s; NaN where
        the flow was not sampled, as after it stopped at a failover)."""
        out = []
        for name, flow in sorted(self._lags.items()):
            if not flow.samples:
                continue
            values = np.full(nbins, np.nan)
            for t, seconds, _bytes in flow.samples:
                b = min(int(t / bin_width - 1e-9), nbins - 1)
                values[b] = np.fmax(values[b], seconds)   # NaN: not sampled yet
            out.append((name, "replication_lag", values))
        return out

    def finalize(self, t_end: float) -> MirrorReport | None:
        """The report as of ``t_end`` (samples before it)."""
        if not self.active:
            return None
        self._advance(t_end)
        for name, lag in self._lags.items():
            total, n = self._before[name]
            lag.mean_seconds_before_fault = total / n if n else 0.0
        failovers = [{k: v for k, v in row.items() if not k.startswith("_")}
                     for row in self._failovers]
        return MirrorReport(dict(sorted(self._lags.items())), failovers,
                            list(self._failbacks))


def _uncopied(flow: _Flow, parts: list[list[Uncopied]]) -> tuple[int, int, float]:
    """(records, uncompressed bytes, oldest ack time) of the rows of ``parts`` still
    past the flow's copied offsets."""
    records = nbytes = 0
    oldest = math.inf
    for i, rows in enumerate(parts):
        copied = flow.copied[i]
        for _offset, end, n, b_unc, _b_comp, t in rows:
            if end > copied:
                records += n
                nbytes += b_unc
                oldest = min(oldest, t)
    return records, nbytes, oldest


def _source_records(flow: _Flow, i: int, low: int, high: int) -> int:
    """Records of the flow's source partition ``i`` between upstream offsets ``low`` and
    ``high``: the acknowledged copies (each upstream range once, a copy written again
    after a restart not twice) and the rows not copied yet."""
    total = 0
    seen = 0
    for pair in flow.pairs[i]:
        u_end, records = pair[0], pair[2]
        if u_end <= seen:  # mutate: equivalent: at u_end == seen the copy adds 0 records
            continue
        first = max(u_end - records, seen)
        seen = u_end
        total += max(min(u_end, high) - max(first, low), 0)
    for offset, end, _records, _unc, _comp, _t in flow.uncopied[i]:
        if end > seen:  # mutate: equivalent: at end == seen the row adds 0 records
            total += max(min(end, high) - max(offset, seen, low), 0)
    return total


__all__ = ["SAMPLE", "FlowLag", "MirrorFold", "MirrorReport"]
