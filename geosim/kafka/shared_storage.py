"""Shared storage for a Kafka cluster (AutoMQ-style): WAL, upload, failover without copy.

A :class:`~geosim.kafka.cluster.KafkaCluster` built with a
:class:`~geosim.kafka.storage_spec.SharedStorageSpec` has one replica per partition (its
leader) and no follower fetches; this collaborator replaces what replication did:

* **WAL.** A leader's appends become durable when its write-ahead log says so; the
  leader's LEO is the durable end, so the high watermark (ISR = the leader) and with it
  every ``acks=1|all`` answer waits for the WAL (AutoMQ answers a produce once the WAL
  write completes). ``block``: one write per produce request and broker, completing in
  order after a lognormal draw (the volume is in the broker's zone: no network hop).
  ``object``: each broker buffers its appends and writes one WAL object to the
  scenario's object store every ``wal_batch_interval`` or ``wal_batch_bytes``
  (``ObjectStore.put``: its latency, requests and bytes, and the bucket's outages).
* **Upload.** Each broker uploads what its WAL holds for the partitions it leads to the
  object store every ``s3.wal.upload.interval.ms`` or once ``s3.wal.upload.threshold``
  bytes wait; when the PUT is durable the partitions are in object storage up to the
  uploaded offsets (:class:`~geosim.core.events.WalUploaded`). The log keeps rows above
  them (a prune hold): they may still be needed to account for a loss.
* **Failover without copy.** The controller fences a silent broker (the engine's
  heartbeats); its partitions go offline. Once a second (AutoMQ's
  ``FailoverControlManager`` task) one failed broker at a time (its ``maxInflight`` of
  1) whose WAL can be read is recovered: a block volume is attached to a live broker of
  its zone and read at its throughput, an object WAL is read back with a GET; what was
  not uploaded yet is uploaded (a PUT), and then each of its partitions opens on the
  live broker leading the fewest (AutoMQ's ``LoadAwarePartitionLeaderSelector``),
  through one controller commit. Nothing is copied between brokers.
* **Losses.** A crash loses nothing durable: only appends whose WAL write had not
  completed, which were never acknowledged. A destroyed WAL (a block volume with its
  zone; a zonal object WAL with its zone bucket; any WAL with its region) takes the
  partitions' rows above their uploaded offsets: exactly the acknowledged, not yet
  uploaded rows. A destroyed regional bucket takes everything.
* **Reads.** A leader serves reads from its cache: what it appended itself. A partition
  that moved serves the rows below the offset where it opened from object storage
  (one GET per catch-up read into the leader's zone), then from its cache.

Sources: AutoMQ/automq at f1ce98ec (``core/src/main/java/kafka/automq/failover/``,
``s3stream/.../s3/failover/Failover.java``, ``metadata/.../controller/es/``), cited
per behaviour in :mod:`geosim.kafka.storage_spec` and docs/shared-storage.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING

from geosim.core.context import call_later
from geosim.core.distributions import LogNormal
from geosim.core.events import WalUploaded
from geosim.kafka.wire import CONTROLLER_RECORD_BYTES

if TYPE_CHECKING:
    from simpy import Event

    from geosim.components.object_store import ObjectStore
    from geosim.core.events import Row
    from geosim.kafka.cluster import KafkaCluster
    from geosim.kafka.partition import PartitionState
    from geosim.kafka.storage_spec import SharedStorageSpec

FAILOVER_TICK = 1.0   # s: FailoverControlManager runs its task every second
RETRY = 1.0           # s before a failed WAL object write or catch-up read is retried
# equivalent: the store serves any id it never issued from every bucket site alike
UNTRACKED = -1        # a WAL read's object id: none the store tracks  # mutate: equivalent


def _answer(event: Event) -> Callable[[bool], None]:
    """An object-store callback that triggers ``event`` with the request's outcome."""
    def done(ok: bool) -> None:
        event.succeed(ok)
    return done


class SharedStorage:
    """The WAL, uploader and WAL failover of one shared-storage cluster."""

    def __init__(self, cluster: KafkaCluster, spec: SharedStorageSpec, store: ObjectStore,
                 name: str):
        self.cluster = cluster
        self.spec = spec
        self.cfg = spec.resolved()
        self.store = store
        self.env = cluster.env
        self.name = name
        n = cluster.partitions_n
        self.uploaded = [0] * n        # end offset in object storage, per partition
        self.cached_from = [0] * n     # the leader's cache holds offsets from here
        nb = len(cluster.brokers)
        self._last_write = [0.0] * nb  # block WAL: completion of each broker's last write
        self._buffer: list[list[tuple[PartitionState, int, int]]] = [[] for _ in range(nb)]
        self._buffered = [0] * nb      # object WAL: bytes waiting for the next object
        self._waiting = [0] * nb       # durable bytes not uploaded yet
        self._uploading = [False] * nb
        self._lost_at: dict[int, float] = {}  # broker: when its WAL was destroyed
        self._recovering: int | None = None
        self._fetched: dict[tuple[int, str], int] = {}  # (partition, zone): caught up to
        self._fetching: set[tuple[int, str]] = set()    # (partition, zone): being read
        self._write = LogNormal(spec.wal_write_p50, max(spec.wal_write_p99,
                                                        spec.wal_write_p50)).sampler(
            cluster.ctx.rng(f"{name}.wal"))
        self.counters = cluster.counters_
        cluster.holds.append(self._hold)

    def _hold(self, pid: int) -> float:
        return self.uploaded[pid]

    @property
    def zonal(self) -> bool:
        """Whether a WAL goes with its zone (a block volume, or a zonal WAL bucket)."""
        return self.spec.wal == "block" or self.store.zonal

    def start(self) -> None:
        env = self.env
        for b in self.cluster.brokers:
            env.process(self._upload_clock(b.id))
            if self.spec.wal == "object":
                env.process(self._wal_clock(b.id))
        env.process(self._failover_task())

    # ============================================================================ WAL
    def appended(self, rows: list[Row]) -> None:
        """The leaders appended ``rows`` (their offsets assigned): write them to the
        leaders' WALs. Called after the canonical log took them, with the leaders'
        LEOs still at their durable ends."""
        c = self.cluster
        parts = c.parts
        by_broker: dict[int, list[tuple[PartitionState, int, int]]] = defaultdict(list)
        sizes: dict[int, int] = defaultdict(int)
        for row in rows:
            p = parts[row.partition]
            assert p.leader is not None
            by_broker[p.leader].append((p, row.offset + row.records, p.epoch))
            sizes[p.leader] += row.bytes_compressed
        now = self.env.now
        for b, items in by_broker.items():
            if self.spec.wal == "block":
                done = max(now + self._write(), self._last_write[b])
                self._last_write[b] = done
                self.counters["wal_writes"] += 1
                call_later(self.env, done - now, self._durable, b, items, sizes[b])
            else:
                self._buffer[b].extend(items)
                self._buffered[b] += sizes[b]
                if self._buffered[b] >= self.spec.wal_batch_bytes:
                    self._write_object(b)

    def _wal_clock(self, b: int):
        """Object WAL: every ``wal_batch_interval`` the broker writes what it buffered."""
        while True:
            yield self.env.timeout(self.spec.wal_batch_interval)
            if self._buffer[b]:
                self._write_object(b)

    def _write_object(self, b: int) -> None:
        """One WAL object of broker ``b``'s buffer: durable when the PUT is; a failed
        PUT is written again (its rows stay unacknowledged meanwhile)."""
        broker = self.cluster.brokers[b]
        if not broker.alive:
            return
        items, size = self._buffer[b], self._buffered[b]
        self._buffer[b], self._buffered[b] = [], 0
        store = self.store
        obj = store.create(size, broker.region)
        self.counters["wal_objects"] += 1

        def done(ok: bool) -> None:
            store.release(obj.object_id)
            if ok:
                self._durable(b, items, size)
            elif self.cluster.brokers[b].alive:
                self._buffer[b][:0] = items
                self._buffered[b] += size
                call_later(self.env, RETRY, self._retry_object, b)

        store.put(obj, broker.zone, store.home_site(broker.zone), done)

    def _retry_object(self, b: int) -> None:
        if self._buffer[b]:
            self._write_object(b)

    def _durable(self, b: int, items: list[tuple[PartitionState, int, int]],
                 size: int) -> None:
        """Broker ``b``'s WAL holds ``items``: the leaders' LEOs (and so the HW and the
        acks) move up to them, unless the broker died or lost leadership meanwhile."""
        c = self.cluster
        if not c.brokers[b].alive:
            return
        touched: dict[int, PartitionState] = {}
        for p, end, epoch in items:
            if p.epoch != epoch or p.leader != b:
                continue
            # equivalent: one partition's row ends differ; at equality nothing would move
            if end > p.leo[b]:  # mutate: equivalent
                p.leo[b] = min(end, p.log_end)
                touched[p.id] = p
        self._waiting[b] += size
        for p in touched.values():
            c.replication.advance_hw(p)
        if self._waiting[b] >= self.cfg.upload_threshold:
            self._upload(b)

    # ========================================================================= upload
    def _upload_clock(self, b: int):
        """Every ``s3.wal.upload.interval.ms`` the broker uploads its WAL."""
        while True:
            yield self.env.timeout(self.cfg.upload_interval)
            self._upload(b)

    def _upload(self, b: int) -> None:
        """Upload what broker ``b``'s WAL holds beyond the uploaded offsets of the
        partitions it leads (one object, the stream set object); committed when the
        PUT is durable and the broker is still alive and unfenced."""
        c = self.cluster
        broker = c.brokers[b]
        if self._uploading[b] or not broker.alive or broker.fenced:
            return
        targets = []
        size = 0
        for p in c.parts:
            if p.leader == b and p.leo[b] > self.uploaded[p.id]:
                end = p.leo[b]
                targets.append((p, end))
                size += p.bytes_at(end) - p.bytes_at(self.uploaded[p.id])
        if not targets:
            self._waiting[b] = 0
            return
        self._uploading[b] = True
        store = self.store
        obj = store.create(size, broker.region)
        self.counters["wal_uploads"] += 1

        def done(ok: bool) -> None:
            self._uploading[b] = False
            store.release(obj.object_id)
            live = c.brokers[b]
            if not ok or not live.alive or live.fenced:
                return
            self._waiting[b] = max(self._waiting[b] - size, 0)
            self._commit_upload(targets, live.zone)

        store.put(obj, broker.zone, store.home_site(broker.zone), done)

    def _commit_upload(self, targets: list[tuple[PartitionState, int]], zone: str) -> None:
        emit = self.cluster.ctx.recorder.emit
        base = self.cluster.partition_base
        now = self.env.now
        for p, end in targets:
            end = min(end, p.log_end)  # a cut since the upload started
            if end > self.uploaded[p.id]:
                self.uploaded[p.id] = end
                emit(WalUploaded(now, base + p.id, end, zone))

    # ======================================================================== faults
    def broker_stopped(self, b: int, destroyed: bool) -> None:
        """Broker ``b`` stopped. Its WAL keeps what was durable, unless ``destroyed``
        took it (a zonal WAL with its zone, any WAL with its region): then its
        partitions keep only what was uploaded. Pending appends never become durable."""
        c = self.cluster
        self._buffer[b], self._buffered[b] = [], 0
        self._uploading[b] = False
        if not destroyed:
            return
        broker = c.brokers[b]
        region_lost = c.net.is_down(broker.region)
        if not (self.zonal or region_lost):
            return  # a regional object WAL outlives its zone
        self._lost_at[b] = self.env.now
        bucket_lost = region_lost and self.store.home_region(broker.region) == broker.region
        for p in c.parts:
            if b not in p.replicas:
                continue
            keep = 0 if bucket_lost else self.uploaded[p.id]
            if bucket_lost:
                self.uploaded[p.id] = 0
            # the cut takes the LEO down to ``keep`` (a LEO is never above the log end)
            # equivalent: a cut at the log end removes nothing (only a generation bumps)
            if keep < p.log_end:  # mutate: equivalent
                c.truncate(p, keep, "shared storage: WAL destroyed before its upload"
                           if not bucket_lost else "shared storage: bucket destroyed")

    def _failover_task(self):
        """Once a second, while the controller is active: start the recovery of one
        fenced broker that still holds partitions (one at a time, cluster-wide)."""
        c = self.cluster
        while True:
            yield self.env.timeout(FAILOVER_TICK)
            if self._recovering is not None or not c.metadata.available():
                continue
            for b in c.brokers:
                if not b.fenced:
                    continue
                if not any(p.replicas == [b.id] and p.leader is None for p in c.parts):
                    continue
                if b.id in self._lost_at:
                    if self.env.now - self._lost_at[b.id] >= self.spec.wal_lost_decision:
                        self._recovering = b.id
                        self._reopen(b.id, None)
                        break
                    continue
                target = self._failover_target(b.id)
                if target is None:
                    continue
                self._recovering = b.id
                self.env.process(self._recover(b.id, target))
                break

    def _failover_target(self, b: int) -> int | None:
        """A live broker that can read ``b``'s WAL: of its zone for a block volume (a
        volume attaches in its own zone), any for an object WAL whose bucket is up."""
        c = self.cluster
        failed = c.brokers[b]
        live = [x for x in c.brokers if x.alive and not x.fenced and x.id != b]
        if self.spec.wal == "block":
            live = [x for x in live if x.zone == failed.zone]
        elif self.store.zonal and c.net.is_down(failed.zone):
            return None
        return live[0].id if live else None

    def _recover(self, b: int, target: int):
        """Recover broker ``b``'s WAL on ``target``: attach and read the volume (block)
        or GET the WAL objects (object), PUT what was not uploaded, then reopen the
        partitions. A failed read or write ends the attempt (retried at a later tick)."""
        c = self.cluster
        failed, reader = c.brokers[b], c.brokers[target]
        parts = [p for p in c.parts if p.replicas == [b] and p.leader is None]
        size = sum(p.bytes_at(p.leo[b]) - p.bytes_at(self.uploaded[p.id]) for p in parts)
        self.counters["wal_failovers"] += 1
        ok = True
        if self.spec.wal == "block":
            yield self.env.timeout(self.spec.volume_attach
                                   + size / self.spec.volume_throughput)
        elif size:
            got = self.env.event()
            self.store.get(UNTRACKED, size, reader.zone, _answer(got))
            ok = yield got
        if ok and size:
            obj = self.store.create(size, reader.region)
            put = self.env.event()
            self.store.put(obj, reader.zone, self.store.home_site(reader.zone),
                           _answer(put))
            ok = yield put
            self.store.release(obj.object_id)
        if not ok or not reader.alive or not failed.fenced:
            self._recovering = None
            return
        self._commit_upload([(p, p.leo[b]) for p in parts], reader.zone)
        self._reopen(b, reader.zone)

    def _reopen(self, b: int, zone: str | None) -> None:
        """Open broker ``b``'s partitions on the live brokers leading the fewest, at
        what its WAL and the object store hold, through one controller commit."""
        c = self.cluster
        parts = [p for p in c.parts if p.replicas == [b] and p.leader is None]
        start = zone or c.controller.leader_zone or c.zones[0]

        def done(ok: bool) -> None:
            self._recovering = None
            if not ok:
                c.counters_["controller_commit_failures"] += 1
                return
            # equivalent: one start for every broker leaves the least loaded the same
            load: dict[int, int] = {x.id: 0 for x in c.brokers  # mutate: equivalent
                                    if x.alive and not x.fenced}
            if not load:
                return
            for p in c.parts:
                if p.leader in load:
                    load[p.leader] += 1
            for p in parts:
                if p.replicas != [b] or p.leader is not None:
                    continue  # the broker came back and leads it again
                new = min(load, key=lambda x: (load[x], x))
                load[new] += 1
                self._move(p, b, new)
            c.rewire()
            # the broker's __consumer_offsets partitions: its group coordinators
            c.coordinators.reopened(b, min(load, key=lambda x: (load[x], x)))

        c.metadata.commit(start, CONTROLLER_RECORD_BYTES * len(parts), done)

    def _move(self, p: PartitionState, old: int, new: int) -> None:
        """Partition ``p`` opens on ``new`` with what ``old``'s WAL and the object store
        held; the rows above that (never durable, or destroyed) are cut."""
        c = self.cluster
        durable = p.leo[old]
        p.replicas = [new]
        p.isr = {new}
        p.elr.clear()
        for table in (p.leo, p.follower_hw):
            table.pop(old, None)
        p.caught_up.pop(old, None)
        p.leo[new] = durable
        p.follower_hw[new] = min(p.hw, durable)
        p.caught_up[new] = self.env.now
        self.cached_from[p.id] = durable
        self.counters["partitions_moved"] += 1
        c.controller.elect(p, "shared storage: reopened on another broker")

    # ========================================================================== reads
    def catch_up(self, p: PartitionState, have: int, zone: str, leader_zone: str,
                 again: Callable[[], None]) -> bool:
        """Consumers in ``zone`` read ``p`` from ``have``, below what the leader's cache
        holds (the partition moved): the leader GETs the missing range from object
        storage into ``leader_zone`` once, then ``again()`` re-runs the read. False when
        the cache serves the read."""
        start = self.cached_from[p.id]
        if have >= start:
            return False
        key = (p.id, zone)
        if key in self._fetching:
            return True
        got = self._fetched.get(key)
        if got is not None and got >= start:
            return False
        size = p.bytes_at(start) - p.bytes_at(have)
        if size <= 0:
            return False  # nothing below the cache start is missing (pruned)
        self._fetching.add(key)
        self.counters["catch_up_reads"] += 1

        def done(ok: bool) -> None:
            self._fetching.discard(key)
            if ok:
                self._fetched[key] = start
                again()
            else:
                call_later(self.env, RETRY, again)

        self.store.get(UNTRACKED, size, leader_zone, done)
        return True


__all__ = ["FAILOVER_TICK", "SharedStorage"]
