"""A replication flow between two Kafka clusters (MirrorMaker 2, Cluster Linking).

A flow's fetcher runs in the target region (MirrorMaker 2's recommended consume-remote,
produce-local deployment; a cluster link's destination brokers fetch): it fetches
committed data (up to the high watermark) from the source leaders, waiting up to
``consumer.fetch.max.wait.ms`` for new data; each response is bounded by
``consumer.fetch.max.bytes`` per source broker connection and by the TCP window / RTT
(domain.md §2), and crosses the WAN once (purpose ``mirror``). The copies are then
produced to the target's leaders with ``acks=all``; the fetch loop does not wait for
those acks. A refused copy is sent again from the task's buffer after the producer's
backoff; a copy appended before its acknowledgement failed, or copied again by a task
restarted from its last commit (``offset.flush.interval.ms``) after its worker's zone
went down, is written twice by MirrorMaker 2 (at-least-once); an offset-preserving
mirror never appends a copy twice. Offsets across the flow: :mod:`geosim.kafka.offset_sync`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from geosim.core.context import call_later
from geosim.core.events import MirrorCopied, Row
from geosim.kafka.mirror_config import MirrorConfig
from geosim.kafka.offset_sync import OffsetSyncs
from geosim.kafka.wire import FETCH_PARTITION_BYTES, FETCH_REQUEST_BYTES, window_wait

if TYPE_CHECKING:
    from geosim.kafka.cross_cluster import CrossCluster
    from geosim.kafka.regional import RegionalCluster

RETRY_BACKOFF = 0.1           # the task producer's retry.backoff.ms (Kafka default 100)
RETRY_BACKOFF_MAX = 1.0       # retry.backoff.max.ms (Kafka default 1000)


@dataclass
class FlowPartition:
    """A flow's position in one partition of the source's local topic."""

    position: int = 0      # next upstream offset to fetch
    acked: int = 0         # upstream end acknowledged in the target, contiguously, by
                           # the current task (a restarted task starts at committed)
    copied: int = 0        # the highest such end ever: what the target holds a copy of
    committed: int = 0     # upstream offset of the task's last commit (restart point)
    ahead: dict = field(default_factory=dict)  # u_offset -> (u_end, copy) acked early
                                               # (copy None: a row passed over)


class MirrorFlow:
    """One replication flow from a source cluster's local topic to a target topic."""

    def __init__(self, owner: CrossCluster, index: int, source: RegionalCluster,
                 target: RegionalCluster, target_base: int, cfg: MirrorConfig):
        self.owner = owner
        self.index = index
        self.source = source
        self.target = target
        self.base = target_base
        self.cfg = cfg
        self.name = f"{source.region}->{target.region}"
        # The flow's fetches, their responses and its copies: message families of
        # their own (Network.delay's stream), named once.
        self._fetches = f"{self.name}.fetch"
        self._responses = f"{self.name}.fetch-response"
        self._copies = f"{self.name}.produce"
        self.env = owner.env
        self.net = owner.net
        self.zone = owner.world.topology.zones(target.region)[0]
        self.n = owner.partitions
        # Partitions of declared topics with ``mirror: false``: never fetched.
        wl = owner.world.workload
        self.unmirrored = frozenset(p for t in wl.topics if not t.mirror for p in t.ids)
        self.mirrored = [i for i in range(self.n) if i not in self.unmirrored]
        self.parts = [FlowPartition() for _ in range(self.n)]
        self.offsets = OffsetSyncs(self)
        self._inflight: dict[int, tuple[int, int, int]] = {}  # id(copy) -> (i, u_off, u_end)
        self.stopped = False
        self.alive = True      # the worker (Connect task, link fetcher) runs
        # The window engine holds the flow (geosim.kafka.window.flow_mode): the fetch
        # loop waits until :meth:`unpark`.
        self.parked = False
        self._revive = None
        self.produce_retries = 0
        self.task_restarts = 0
        self.duplicate_records = 0
        self.duplicate_bytes = 0      # compressed, as they crossed the WAN
        self.copied_bytes = 0         # compressed bytes of first copies acknowledged
        self.rows_mirrored = 0
        self.diverged_records = 0     # skipped: the source's log diverged under them
        # Cluster Linking partitions whose source log diverged under the position: their
        # mirroring stops (the mirror topic's truncation that would resume it is not
        # modelled; CHANGELOG, known limitations)
        self.halted: set[int] = set()
        source.holds.append(self._source_hold)
        target.holds.append(self._target_hold)

    # --- retention --------------------------------------------------------------------
    def _source_hold(self, pid: int) -> float:
        if pid >= self.n or self.stopped:
            return math.inf
        st = self.parts[pid]
        # a restarted task reads again from its last commit
        return st.copied if self.cfg.offset_preserving else st.committed

    def _target_hold(self, pid: int) -> float:
        i = pid - self.base
        if not 0 <= i < self.n:
            return math.inf
        low = self.offsets.target_hold(i)
        return 0 if low == math.inf and self.owner.failover.failover_pending(self.source) else low

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
        asks, answers = self._fetches, self._responses
        while not self.stopped:
            if not self.alive or self.parked:
                self._revive = env.event()
                yield self._revive
                continue
            by_zone: dict[str, list[int]] = defaultdict(list)
            for i in self.mirrored:
                zone = source.leader_zone(i)
                if zone is not None and i not in self.halted and self.running(i):
                    by_zone[zone].append(i)
            if not by_zone:
                yield env.timeout(cfg.request_timeout)
                continue
            trips = {}
            for zone, items in sorted(by_zone.items()):
                d = net.delay(self.zone, zone, FETCH_REQUEST_BYTES
                              + FETCH_PARTITION_BYTES * len(items), "mirror", stream=asks)
                if d is not None:
                    trips[zone] = d
            if not trips:
                yield env.timeout(cfg.request_timeout)
                continue
            yield env.timeout(max(trips.values()))
            asked = {zone: by_zone[zone] for zone in trips}
            batch = self._collect(asked)
            if not any(batch.values()):
                events = [e for z in trips
                          if (e := source.produce.appended_event(z)) is not None]
                yield env.any_of(events + [env.timeout(cfg.fetch_max_wait)])
                batch = self._collect(asked)
            # each partition's position as read: a task restarted during the response's
            # trip moved its partitions back, and its fetch is lost with it
            read_from = {i: self.parts[i].position for items in asked.values() for i in items}
            slowest = 0.0
            lost = False
            for zone, rows in sorted(batch.items()):
                size = sum(r.bytes_compressed for r in rows)
                d = net.delay(zone, self.zone, size + FETCH_REQUEST_BYTES, "mirror",
                              stream=answers)
                if d is None:
                    lost = True
                    continue
                d += window_wait(net, zone, self.zone, size, window, self.connections(zone))
                slowest = max(slowest, d)
            if lost:
                yield env.timeout(cfg.request_timeout)
                continue
            yield env.timeout(slowest)
            if self.stopped:
                return
            if not self.alive:
                continue  # the worker died meanwhile: the response is lost with it
            moved = {i for i, start in read_from.items() if self.parts[i].position != start}
            copies: list[Row] = []
            for zone, rows in batch.items():
                if net.is_down(zone) or net.is_down(self.zone):
                    # the source (or the fetcher) went away during the trip: the fetch
                    # fails as a whole and nothing of it is written
                    continue
                for row in rows:
                    i = row.partition
                    st = self.parts[i]
                    if not self.running(i) or i in moved or i in self.halted:
                        continue  # its task died, or restarted (the new one reads again)
                    end = row.offset + row.records
                    if row.offset < st.position:
                        # The source's log diverged below the position (an unclean stop
                        # truncated it and new rows took those offsets); a row served
                        # from the position always ends past it.
                        self.diverged_records += row.records
                        if not cfg.offset_preserving:
                            # A consumer takes only the records of such a batch from its
                            # position on; rows being the model's unit, the row is
                            # skipped whole (never copied: a failover away from the
                            # source counts it unreplicated).
                            self._skip(i, st, st.position, end)
                            st.position = end
                            continue
                        # A mirror topic keeps the source's offsets; Cluster Linking
                        # truncates it to the divergence and copies from there. Not
                        # modelled: the partition's mirroring stops here (CHANGELOG,
                        # known limitations), and it is asked for no more.
                        self.halted.add(i)
                        continue
                    st.position = end
                    if not self.copies(row):
                        self._pass_over(i, st, row)
                        continue
                    copy = replace(row, partition=self.base + i, mirror=self.index,
                                   offset=row.offset if cfg.offset_preserving else -1)
                    self._inflight[id(copy)] = (i, row.offset, end)
                    copies.append(copy)
            if copies:
                self._produce(copies)

    def park(self) -> None:
        """The window engine computes the flow: its fetch loop waits from its next
        cycle on."""
        self.parked = True

    def unpark(self) -> None:
        """The flow's state is the window's end: its fetch loop runs again."""
        self.parked = False
        if self.alive and self._revive is not None and not self._revive.triggered:
            self._revive.succeed()

    @property
    def in_flight(self) -> int:
        """Copies sent and not yet acknowledged or failed."""
        return len(self._inflight)

    def running(self, i: int) -> bool:
        """Whether a task copies partition ``i`` now (always, for a single task that dies
        with its worker's zone: :meth:`worker_state`)."""
        return True

    def copies(self, row: Row) -> bool:
        """Whether the flow copies ``row`` of its source (every row by default)."""
        return True

    def _pass_over(self, i: int, st: FlowPartition, row: Row) -> None:
        """A row the flow does not copy counts as done once the copies before it are
        acknowledged: nothing is written, nothing is emitted."""
        self._skip(i, st, row.offset, row.offset + row.records)

    def connections(self, zone: str) -> int:
        """The fetch connections to ``zone``'s source brokers: one per task and broker."""
        return self.cfg.tasks * max(self.source.live_brokers_in(zone), 1)

    def _collect(self, asked: dict[str, list[int]]) -> dict[str, list[Row]]:
        """What each source leader zone answers for the partitions asked of it: the
        committed rows from the flow's positions, its response budget shared evenly."""
        out: dict[str, list[Row]] = {}
        for zone, items in asked.items():
            budget = self.cfg.fetch_max_bytes * self.connections(zone)
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
                               "mirror", stream=self._copies)
            if d is None:
                for row in rows:
                    self.failed(row, "target unreachable")
                continue
            call_later(self.env, d, self._arrive, rows)

    def _arrive(self, rows: list[Row]) -> None:
        if self.stopped or not self.alive:
            for row in rows:
                self._inflight.pop(id(row), None)
            return
        for row in self.target.produce.append_mirrored(rows):
            self.failed(row, "refused")

    # --- the target's answers (a mirror sink of the target cluster) --------------------
    def acked(self, copy: Row) -> None:
        """The target acknowledged ``copy``: the task's acknowledged position advances
        in upstream order (an early ack waits for the earlier copies), each step emitted
        as :class:`~geosim.core.events.MirrorCopied`."""
        origin = self._inflight.pop(id(copy), None)
        if origin is None:
            return
        i, u_off, u_end = origin
        st = self.parts[i]
        if u_off < st.acked:
            return  # sent by an earlier incarnation of the task
        if u_off > st.acked:  # acknowledged before an earlier copy: wait for it
            st.ahead[u_off] = (u_end, copy)
            return
        self._advance(i, st, u_end, copy)
        self._drain(i, st)

    def _drain(self, i: int, st: FlowPartition) -> None:
        """Advance over the copies acknowledged early (and the rows passed over) that
        the acknowledged position has reached."""
        while st.acked in st.ahead:
            self._advance(i, st, *st.ahead.pop(st.acked))

    def _skip(self, i: int, st: FlowPartition, u_off: int, u_end: int) -> None:
        """Upstream offsets ``u_off .. u_end`` are passed over without a copy (the
        source's log diverged under them)."""
        st.ahead[u_off] = (u_end, None)
        self._drain(i, st)

    def _advance(self, i: int, st: FlowPartition, u_end: int, copy: Row | None) -> None:
        st.acked = u_end
        if copy is None:  # a row passed over (:meth:`_pass_over`)
            st.copied = max(st.copied, u_end)
            return
        records, nbytes = copy.records, copy.bytes_compressed
        d_end = copy.offset + records
        if u_end <= st.copied:
            # written again after a restart from the last commit: a duplicate in the
            # target (an offset-preserving mirror appends nothing twice)
            if not self.cfg.offset_preserving:
                self.duplicate_records += records
                self.duplicate_bytes += nbytes
        else:
            st.copied = u_end
            self.copied_bytes += nbytes
        self.rows_mirrored += 1
        self.offsets.copied(i, u_end, d_end)
        self.owner.ctx.recorder.emit(MirrorCopied(self.env.now, self.name, i, u_end, d_end,
                                                  records, nbytes))

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
        call_later(self.env, backoff, self._retry, retry)

    def _retry(self, copy: Row) -> None:
        if id(copy) in self._inflight and not self.stopped and self.alive:
            self._produce([copy])

    # --- the task ---------------------------------------------------------------------
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
        if not self.cfg.offset_preserving:
            self.offsets.task_restarted()
        for st in self.parts:
            if not self.cfg.offset_preserving:
                st.acked = st.committed
            st.position = st.acked
            st.ahead.clear()
        if self._revive is not None and not self._revive.triggered:
            self._revive.succeed()

    def run_commits(self):
        """Every ``offset.flush.interval.ms`` the task commits and publishes each
        partition's delayed offset sync (MirrorMaker 2)."""
        while not self.stopped:
            yield self.env.timeout(self.cfg.offset_flush_interval)
            if not self.alive:
                continue
            for i, st in enumerate(self.parts):
                if self.running(i):
                    st.committed = st.acked
                    self.offsets.publish_delayed(i)

    # --- what the target lacks --------------------------------------------------------
    def caught_up(self) -> bool:
        """Whether the target holds a copy of everything the source committed (what
        Cluster Linking's ``promote`` waits for)."""
        return all(self.source.parts[i].hw <= self.parts[i].copied for i in self.mirrored)


__all__ = ["FlowPartition", "MirrorFlow"]
