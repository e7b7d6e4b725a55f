"""Diskless brokers on object storage (Bufstream, WarpStream).

Stateless brokers in every zone; clients talk only to brokers in their own zone
(domain.md §5). A broker buffers produce requests and, every ``flush_interval`` or as
soon as ``flush_bytes`` are buffered, writes them as one object; once the object is
durable it commits the object's offsets to the metadata store, and only then
acknowledges the producers. Commits of one broker are issued in flush order so offsets
follow write order. Zones learn of new offsets through the metadata store, fetch the
object once into a per-zone cache (the writer's zone has it already) and consumers
deliver in offset order.

Brokers are simulated in writers of ``strategy.brokers_per_writer`` (one by default):
a zone's brokers flush together anyway, and a writer stands for several of them at
once, with their requests counted one by one and one latency draw shared
(:class:`DisklessWriter`).

Variants:

* one dual/multi-region bucket (``object_store.kind`` dual-/multi-region): PUT to the
  writer's region; the bucket replicates asynchronously;
* ``write_quorum: k`` over regional buckets: PUT to every bucket region in parallel,
  acknowledge after k copies are durable (WarpStream multi-region).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from typing import ClassVar

from geosim.clients.consumer import ConsumerGroup
from geosim.clients.producer import OUT_OF_ORDER, ProducerFleet, expire_retries_every
from geosim.core.estimate import EventEstimate
from geosim.core.events import ObjectCommitted, Row
from geosim.kafka.idempotence import PartitionLog
from geosim.strategies.base import Strategy, World
from geosim.strategies.diskless.cache import ZoneCache
from geosim.strategies.diskless.estimate import diskless_estimate
from geosim.strategies.diskless.spec import DisklessSpec

COMMIT_BYTES_PER_ROW = 128  # metadata written per partition entry of an object (assumption)
ACK_BYTES = 128
FETCH_RETRY_BACKOFF = 0.1  # Kafka retry.backoff.ms default (figures.md K16)


class DisklessWriter:
    """``brokers`` stateless brokers of one zone (``strategy.brokers_per_writer``; one by
    default), simulated together: buffer, flush, PUT, commit in order, acknowledge.

    The brokers of a zone share its producers' load evenly and flush at the same
    instants, so the writer's flush is their flushes at once: one object standing for
    ``brokers`` objects, each request counted per broker and timed at one broker's
    share of the bytes, with one latency draw for all of them.
    """

    def __init__(self, strategy: DisklessStrategy, index: int, zone: str, region: str):
        self.strategy = strategy
        self.brokers = strategy.per_writer
        self.world = strategy.world
        self.env = strategy.world.ctx.env
        self.index = index
        self.zone = zone
        self.region = region
        self.alive = True
        self.fleets: list[ProducerFleet] = []
        # equivalent: epochs are only compared for equality, any start value serves
        self._epoch = 0  # mutate: equivalent
        self._commit_queue: deque = deque()
        self._committing = False
        self._period: float | None = None  # recomputed when routing changes

    def rerouted(self) -> None:
        """Fleets or brokers changed: the inflow, hence the flush period, may differ."""
        self._period = None

    def flush_period(self) -> float:
        """Flush every ``flush_interval``, or sooner if ``flush_bytes`` fill first.

        Computed from the fleets' current inflow, so no event is spent per produce
        request; cached until routing changes.
        """
        if self._period is None:
            spec = self.strategy.spec
            # compressed_rate_per_broker is per target, i.e. per writer
            inflow = sum(f.compressed_rate_per_broker() for f in self.fleets if f.alive)
            self._period = min(spec.flush_interval, spec.flush_bytes * self.brokers / inflow) \
                if inflow > 0 else spec.flush_interval
        return self._period

    def flush(self) -> None:
        now = self.env.now
        rows: list[Row] = []
        one_way = self.strategy.client_one_way
        for fleet in self.fleets:
            cut = fleet.cut(self.index, now, one_way, self.brokers)
            if cut:
                rows.extend(cut)
        if not rows:
            return
        size = sum(r.bytes_compressed for r in rows)
        self.strategy.write_object(self, rows, size, self._epoch)

    def enqueue_commit(self, job: Callable[[Callable[[], None]], None]) -> None:
        """Run commit jobs one at a time, in flush order."""
        self._commit_queue.append(job)
        if not self._committing:
            self._next_commit()

    def _next_commit(self) -> None:
        if not self._commit_queue:
            self._committing = False
            return
        self._committing = True
        job = self._commit_queue.popleft()
        job(self._next_commit)

    def crash(self) -> None:
        """Lose the buffer and every unacknowledged flush (they fail at the producers)."""
        self.alive = False
        # equivalent: epochs are only compared for equality, any new value serves
        self._epoch += 1  # mutate: equivalent

    def restart(self) -> None:
        self.alive = True


class DisklessStrategy(Strategy):
    """Zone-local stateless brokers writing objects, offsets in the metadata store."""

    name: ClassVar[str] = "diskless"

    def __init__(self, world: World):
        super().__init__(world)
        spec = world.scenario.strategy
        if not isinstance(spec, DisklessSpec):
            raise TypeError(f"the diskless model needs a diskless strategy block, got "
                            f"{type(spec).__name__}")
        self.spec: DisklessSpec = spec
        self.ctx = world.ctx
        self.env = world.ctx.env
        topo = world.topology
        wl = world.workload
        self.writers: list[DisklessWriter] = []
        self.writers_by_zone: dict[str, list[DisklessWriter]] = {}
        #: brokers each writer stands for (the loader checked it divides every count)
        self.per_writer = per_writer = self.spec.brokers_per_writer
        for zone, count in wl.broker_counts.items():
            for _ in range(count // per_writer):
                writer = DisklessWriter(self, len(self.writers), zone, topo.region_of(zone))
                self.writers.append(writer)
                self.writers_by_zone.setdefault(zone, []).append(writer)
        self.partitions = wl.partitions
        self.log = PartitionLog(self.partitions)
        self.caches = {z: ZoneCache(z, self.spec.cache_bytes_per_zone) for z in topo.zones()}
        self.fleets: list[ProducerFleet] = wl.make_fleets(self.ctx)
        for fleet in self.fleets:
            if fleet.zone not in self.writers_by_zone:
                raise ValueError(f"workload.producers: producers in zone {fleet.zone} have no "
                                 f"zone-local broker (strategy.brokers)")
        self.client_one_way = 0.5 * topo.link(topo.zones()[0], topo.zones()[0]).rtt.median()
        self.groups: list[ConsumerGroup] = wl.make_groups(
            self.ctx, commit=world.metadata.commit, is_ready=self._is_ready,
            request=self._request, release=self._unref)
        self._route_all()
        self.quorum = self.spec.write_quorum
        self.counters_ = {"flushes": 0, "flush_failures": 0, "rows_rejected_out_of_order": 0}
        # object id -> (size, partitions, owners by zone at commit) while a group may
        # still read it, and how many group-log rows still reference it
        self._objects: dict[int, tuple] = {}
        self._refs: dict[int, int] = {}

    # --- lifecycle --------------------------------------------------------------------
    def start(self) -> None:
        for zone in sorted(self.writers_by_zone):
            self.env.process(self._flush_clock(self.writers_by_zone[zone]))
        for group in self.groups:
            self.env.process(group.run_commits())
        self.env.process(expire_retries_every(self.env, self.fleets))

    def _flush_clock(self, writers: list[DisklessWriter]):
        """Wakes a zone's brokers at their flush times and lets each live one flush.

        A zone's brokers share their fleets' load evenly, so they have one flush period
        and, starting together, flush at the same instants: one timer serves them all
        (the same schedule as one timer each, at a fraction of the events). A crashed
        writer skips its turns.
        """
        timeout = self.env.timeout
        while True:
            live = [w for w in writers if w.alive]
            yield timeout(live[0].flush_period() if live else self.spec.flush_interval)
            for writer in writers:
                if writer.alive:
                    writer.flush()

    def _unref(self, object_id: int) -> None:
        """A group committed past a row of this object; forget it once none holds it."""
        left = self._refs[object_id] - 1
        if left:
            self._refs[object_id] = left
            return
        del self._refs[object_id]
        if not any(object_id in cache.fetching for cache in self.caches.values()):
            self._objects.pop(object_id, None)
            self.world.object_store.release(object_id)

    def _route_all(self) -> None:
        """Partition p is led, for the clients of each zone, by live writer p mod n there."""
        for fleet in self.fleets:
            live = [w for w in self.writers_by_zone.get(fleet.zone, []) if w.alive]
            table: dict[int, list[int]] = {w.index: [] for w in live}
            for p in range(self.partitions):
                if live:
                    table[live[p % len(live)].index].append(p)
            # each producer holds a connection to every live broker of its zone
            fleet.route(table, connections=len(table) * self.per_writer)
        for writer in self.writers:
            writer.fleets = [f for f in self.fleets if f.zone == writer.zone]
            writer.rerouted()

    # --- the write path ---------------------------------------------------------------
    def write_object(self, writer: DisklessWriter, rows: list[Row], size: int,
                     epoch: int) -> None:
        """PUT (to one bucket, or to a quorum of regional buckets), then commit, then ack."""
        store = self.world.object_store
        obj = store.create(size, writer.region)
        # A retried row already placed in an earlier object keeps that placement (the
        # earlier object may hold it); this object holds a copy.
        rows = [replace(row) if row.object_id >= 0 else row for row in rows]
        for row in rows:
            row.object_id = obj.object_id
        self.counters_["flushes"] += writer.brokers
        if self.quorum is None:
            targets = [store.home_site(writer.zone)]
            needed = 1
        else:
            targets = list(store.sites)
            needed = self.quorum
        state = {"ok": 0, "failed": 0, "done": False}

        def on_put(ok: bool) -> None:
            if state["done"]:
                return
            state["ok" if ok else "failed"] += 1
            if state["ok"] >= needed:
                state["done"] = True
                writer.enqueue_commit(lambda next_job: self._commit(
                    writer, obj, rows, epoch, next_job))
            elif state["failed"] > len(targets) - needed:
                state["done"] = True
                self.counters_["flush_failures"] += writer.brokers
                store.release(obj.object_id)
                self._fail(rows, "object PUT failed", written_maybe=False)

        for region in targets:
            store.put(obj, writer.zone, region, on_put, requests=writer.brokers)

    def _commit(self, writer, obj, rows, epoch, next_job) -> None:
        """Commit the object's offsets; runs after the broker's previous commit."""
        if not writer.alive or writer._epoch != epoch:
            self._fail(rows, "broker crashed", written_maybe=False)
            next_job()
            return

        def on_commit(ok: bool) -> None:
            try:
                if not ok:
                    self._fail(rows, "metadata commit failed", written_maybe=True)
                    return
                if not writer.alive or writer._epoch != epoch:
                    # Committed, but the ack died with the broker: the producer can't know.
                    appended, rejected, duplicates = self.log.append(rows)
                    self.counters_["rows_rejected_out_of_order"] += len(rejected)
                    self._committed(writer, obj, appended)
                    self._fail(appended + rejected + duplicates,
                               "broker crashed before acknowledging", written_maybe=True)
                    return
                appended, rejected, duplicates = self.log.append(rows)
                if rejected:
                    self.counters_["rows_rejected_out_of_order"] += len(rejected)
                    self._fail(rejected, OUT_OF_ORDER, written_maybe=False)
                self._committed(writer, obj, appended)
                self._ack(writer, appended + duplicates)
            finally:
                next_job()

        self.world.metadata.commit(
            writer.zone, COMMIT_BYTES_PER_ROW * len(rows) + 256 * writer.brokers, on_commit,
            requests=writer.brokers)

    def _committed(self, writer: DisklessWriter, obj, rows: list[Row]) -> None:
        """Offsets are durable: announce, append to groups, notify zones that need it."""
        store = self.world.object_store
        if not rows:  # every row was a duplicate or rejected: the object holds nothing
            store.release(obj.object_id)
            return
        store.announce(obj)
        self.ctx.recorder.emit(ObjectCommitted(self.env.now, obj.object_id, writer.region,
                                               tuple(rows)))
        self.caches[writer.zone].add(obj.object_id, obj.size)
        # Which groups' owners read which of this object's partitions, by zone.
        needs: dict[str, list[tuple[ConsumerGroup, list[int]]]] = {}
        object_id = obj.object_id
        refs = len(self.groups) * len(rows)
        if refs:
            self._refs[object_id] = refs
        for group in self.groups:
            by_zone: dict[str, list[int]] = {}
            for row in rows:
                group.appended(row, object_id)
                zone = group.owner_zone(row.partition)
                if zone is not None:
                    by_zone.setdefault(zone, []).append(row.partition)
            for zone, partitions in by_zone.items():
                needs.setdefault(zone, []).append((group, partitions))
        if not refs:  # nobody consumes: nothing to track
            store.release(object_id)
            return
        by_partition: dict[int, int] = {}
        for row in rows:
            by_partition[row.partition] = by_partition.get(row.partition, 0) + row.bytes_compressed
        by_partition = dict(sorted(by_partition.items()))
        self._objects[object_id] = (obj.size, by_partition, needs, self._generation())
        metadata = self.world.metadata
        for zone in sorted(needs):
            wanted = frozenset(p for _group, partitions in needs[zone] for p in partitions)
            size, requests, part = self._part_read(obj.size, by_partition, wanted)
            # each broker whose object the zone needs is learnt of by one metadata read
            notify = metadata.read_latency(zone, requests) \
                if self.spec.notify_via_leader else 0.0
            self._fetch(obj.object_id, size, requests, part, zone, notify or 0.0)

    def _ack(self, writer: DisklessWriter, rows: list[Row]) -> None:
        by_fleet: dict[int, list[Row]] = {}
        for row in rows:
            by_fleet.setdefault(row.fleet, []).append(row)
        for fleet_id, fleet_rows in by_fleet.items():
            fleet = self.fleets[fleet_id]
            delay = self.world.network.delay(writer.zone, fleet.zone, ACK_BYTES, "ack")
            if delay is None:
                self._fail(fleet_rows, "ack lost", written_maybe=True)
                continue
            # The ack's intra-zone hop (~0.1 ms) is not worth an event: the fleet records
            # it with its arrival time.
            fleet.acked(fleet_rows, at=self.env.now + delay)

    def _fail(self, rows: list[Row], reason: str, *, written_maybe: bool) -> None:
        by_fleet: dict[int, list[Row]] = {}
        for row in rows:
            by_fleet.setdefault(row.fleet, []).append(row)
        for fleet_id, fleet_rows in by_fleet.items():
            self.fleets[fleet_id].failed(fleet_rows, reason, written_maybe=written_maybe)

    # --- the read path ----------------------------------------------------------------
    def _is_ready(self, row: Row, zone: str) -> bool:
        return self.caches[zone].has(row.object_id, row.partition)

    def _request(self, row: Row, zone: str) -> None:
        """A group needs an object in a zone that doesn't have it (after a rebalance, or
        the zone's fetch is still under way)."""
        object_id = row.object_id
        if object_id in self.caches[zone].fetching:
            return
        entry = self._objects.get(object_id)
        if entry is None:
            self._fetch(object_id, 0, self.per_writer, None, zone, 0.0)
            return
        by_partition = entry[1]
        held = self.caches[zone].partitions_held(object_id)
        if held is None:
            return  # the whole object is here already
        # the partitions the zone's owners read now that it does not hold yet
        wanted = frozenset(p for p in by_partition if p not in held and (
            p == row.partition or any(group.owner_zone(p) == zone for group in self.groups)))
        size, requests, part = self._part_read(entry[0], by_partition, wanted)
        self._fetch(object_id, size, requests, part, zone, 0.0)

    def _part_read(self, size: int, by_partition: dict[int, int],
                   wanted: frozenset[int]) -> tuple[int, int, frozenset[int] | None]:
        """The bytes and requests of a zone's read of the partitions ``wanted`` from an
        object of ``size`` bytes holding ``by_partition`` (compressed row bytes).

        A reader fetches only the byte ranges holding its partitions (docs/architecture.md,
        "Object requests and the read path"). In a writer of k brokers, each row is one
        broker's object: the zone reads the brokers' objects holding its partitions, as
        many requests as broker objects those bytes fill (brokers share the load evenly),
        not all k. Returns (bytes, requests, the partitions read or None for all)."""
        total = sum(by_partition.values())
        need = sum(by_partition[p] for p in wanted)  # wanted: some of its partitions
        if need >= total:  # all of it, or an object of empty rows
            return size, self.per_writer, None
        fraction = need / total
        requests = min(self.per_writer, max(1, math.ceil(self.per_writer * fraction - 1e-9)))
        return max(round(size * fraction), 1), requests, wanted

    def _fetch(self, object_id: int, size: int, requests: int, part: frozenset[int] | None,
               zone: str, after: float) -> None:
        """Make ``part`` of an object (None: all of it) readable in ``zone`` ``after``
        seconds from now, or via a GET of ``size`` bytes as ``requests`` requests
        (:meth:`_part_read`)."""
        cache = self.caches[zone]
        if cache.holds(object_id, part):
            if after > 0:
                self.env.timeout(after).callbacks.append(
                    lambda _e: self._became_ready(object_id, zone))
            else:
                self._became_ready(object_id, zone)
            return
        if object_id in cache.fetching:
            return
        cache.fetching.add(object_id)

        def start(after: float) -> None:
            self.world.object_store.get(object_id, size, zone, done, after=after,
                                        requests=requests,
                                        part_bytes=self.spec.read_range_bytes)

        def done(ok: bool) -> None:
            if ok:
                cache.fetching.discard(object_id)
                cache.add(object_id, size, part)
                self._became_ready(object_id, zone)
                if object_id not in self._refs:  # released while it was being fetched
                    self._objects.pop(object_id, None)
                    self.world.object_store.release(object_id)
                return
            # Retry once a copy is reachable, after the client's retry backoff
            # (retry.backoff.ms, 100 ms) so a lossy link cannot spin at one instant.
            waiter = self.world.object_store.when_readable(object_id, zone)
            waiter.callbacks.append(lambda _e: start(after=FETCH_RETRY_BACKOFF))

        start(after=after)

    def _became_ready(self, object_id: int, zone: str) -> None:
        entry = self._objects.get(object_id)
        if entry is None:
            return
        if entry[3] == self._generation():
            for group, partitions in entry[2].get(zone, ()):
                group.ready(partitions)
            return
        # A rebalance moved owners since the commit: ask every group.
        for group in self.groups:
            group.ready([p for p in entry[1] if group.owner_zone(p) == zone])

    def _generation(self) -> int:
        """Changes whenever any group reassigns partitions."""
        return sum(group.generation for group in self.groups)

    # --- faults -----------------------------------------------------------------------
    def zone_state(self, zone: str, up: bool,
                   destroyed: bool = False) -> None:  # mutate: equivalent: the flag is never read
        # Diskless brokers hold nothing durable: a destruction is an outage for them.
        for writer in self.writers_by_zone.get(zone, []):
            writer.restart() if up else writer.crash()
        self.crash_clients("all", zone, up)
        if not up:
            self.caches[zone].clear()
        self._route_all()

    def crash_brokers(self, zone: str, count: int, up: bool) -> None:
        # the loader checked that count is a multiple of brokers_per_writer
        for writer in self.writers_by_zone.get(zone, [])[:count // self.per_writer]:
            writer.restart() if up else writer.crash()
        self._route_all()

    def estimate_events(self) -> EventEstimate:
        """This model's pre-run event estimate
        (:func:`geosim.strategies.diskless.estimate.diskless_estimate`)."""
        return diskless_estimate(self)

    def counters(self) -> dict[str, int]:
        return dict(self.counters_)



__all__ = ["DisklessStrategy", "PartitionLog"]
