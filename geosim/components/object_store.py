"""Object storage: regional, dual-region, multi-region and zonal buckets.

One :class:`ObjectStore` holds every bucket of a scenario and tracks, per object, the
sites holding a durable copy and since when. A site is a bucket region, or for a zonal
service (S3 Express One Zone directory buckets) a bucket zone.

Request timing (``object_store.service``, presets in ``geosim/data/object_storage.yaml``):
a request of ``s`` bytes takes the network's round trip from the client to the site,
plus a fixed service time ``F`` drawn per request (time to first byte; PUT and GET from
separate lognormals), plus ``s / B`` at one connection's throughput ``B``
(docs/research/object-storage-measurements.md §4.1). A GET split into ranged GETs of
``part_bytes`` runs them in parallel on their own connections; a record waits only for
the range holding it, so the read is timed as one range (one draw, shared by the
ranges as a writer's brokers share theirs) and counted as every range.

A PUT is durable in its home site when it completes; a dual/multi-region bucket then
copies the data to its other regions asynchronously, after a delay drawn per object
from the replication distribution (honouring the SLA's 99.9 % and 100 % bounds,
domain.md §4). A GET is served from the reader's site when it holds a copy, else read
through from a region that does (the bytes cross regions), or for zonal buckets read
from the nearest zone holding one, else it is blocked until a copy becomes reachable.

Outage vs destruction: while a region is down its copies are unreachable and copies it
was due to send are stalled until it returns; a destroyed region's copies are gone and
its pending copies never happen.

All I/O from strategies goes through this class; it talks to clients through the
network seam (request and response bytes are counted there).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import simpy

from geosim.core.context import Context
from geosim.core.distributions import LogNormal
from geosim.core.events import ObjectStored, ReadBlocked
from geosim.scenario import object_services
from geosim.scenario.schema import ObjectStoreSpec
from geosim.scenario.sections import to_distribution
from geosim.world.network import Network

REQUEST_BYTES = 1024  # request/response envelope (headers), assumption
MIB = 2**20


@dataclass(slots=True)
class StoredObject:
    object_id: int
    size: int
    writer_region: str
    copies: dict[str, float] = field(default_factory=dict)  # region -> time copy exists
    source: str | None = None  # the region asynchronous copies are made from


class ObjectStore:
    """Every bucket of a scenario; see the module docstring for semantics."""

    def __init__(self, ctx: Context, network: Network, spec: ObjectStoreSpec,
                 provider: str = "gcp"):
        self.ctx = ctx
        self.env = ctx.env
        self.network = network
        self.spec = spec
        self.kind = spec.kind
        self.regions = list(spec.regions)
        name = spec.service or object_services.default_service(provider, spec.kind)
        if name is None:
            raise ValueError(f"object_store.service: no default for provider {provider} "
                             f"and kind {spec.kind}")
        self.service = object_services.resolve(name)
        self.zonal = self.service.service.zonal
        #: where copies live: bucket zones for a zonal service, else bucket regions
        self.sites = list(spec.zones) if self.zonal else list(spec.regions)
        self._site_region = {site: network.topology.region_of(site) for site in self.sites}
        self.replicated = spec.kind != "regional"
        svc = self.service
        put_f, get_f = spec.put_latency, spec.get_latency
        self._put = (to_distribution(put_f) if put_f is not None else LogNormal(
            svc.put_ttfb.p50, svc.put_ttfb.p99)).sampler(ctx.rng("object_store.put"))
        self._get = (to_distribution(get_f) if get_f is not None else LogNormal(
            svc.get_ttfb.p50, svc.get_ttfb.p99)).sampler(ctx.rng("object_store.get"))
        # An explicit whole-request latency keeps its old meaning (no size term) unless
        # a throughput is given too.
        put_b = spec.put_throughput or (None if put_f is not None else svc.put_throughput.value)
        get_b = spec.get_throughput or (None if get_f is not None else svc.get_throughput.value)
        self._put_s_per_byte = 1.0 / put_b if put_b else 0.0
        self._get_s_per_byte = 1.0 / get_b if get_b else 0.0
        p50, p999, cap = spec.replication.resolved()
        self._replication = LogNormal(p50, p999, q_hi=0.999, cap=cap).sampler(
            ctx.rng("object_store.replication"))
        self._per_mib = spec.transfer_time_per_mib
        self._objects: dict[int, StoredObject] = {}
        self._next_id = 0
        self._down: set[str] = set()
        self._destroyed: set[str] = set()
        self._slowdown: dict[str | None, float] = {}
        self._paused_since: float | None = None
        if spec.replication.paused:
            self._paused_since = 0.0  # mutate: equivalent: only whether it is None is read
        self._waiters: dict[int, list[tuple[str, simpy.Event]]] = {}
        self._stalled: dict[int, dict[str, float]] = {}
        self._paused_copies: list[tuple[int, str]] = []
        # copies in flight when replication paused: (object, region, seconds they had left)
        self._held: list[tuple[int, str, float]] = []
        self._prune_at = 1
        self.counters = {"object_puts": 0, "object_gets": 0, "object_gets_cross_region": 0,
                         "object_put_bytes": 0, "object_get_bytes": 0,
                         "object_replication_bytes": 0, "objects_lost": 0}
        if self.zonal:  # only then: other runs' summaries keep their counters
            self.counters["object_gets_cross_zone"] = 0

    # --- writes -----------------------------------------------------------------------
    def create(self, size: int, writer_region: str) -> StoredObject:
        """Allocate a new object (no copy yet)."""
        self._prune()
        obj = StoredObject(self._next_id, size, writer_region)
        self._next_id += 1
        self._objects[obj.object_id] = obj
        return obj

    def home_region(self, region: str) -> str:
        """The bucket region a writer in ``region`` writes to: its own if it holds one."""
        if region in self.regions:
            return region
        return min(self.regions, key=lambda r: self.network.rtt_estimate(region, r))

    def home_site(self, zone: str) -> str:
        """The site a writer in ``zone`` writes to when it writes one copy: its own
        zone's bucket (zonal) or region's bucket if there is one, else the nearest."""
        if not self.zonal:
            return self.home_region(self.network.topology.region_of(zone))
        if zone in self.sites:
            return zone
        return min(self.sites, key=lambda s: (self.network.rtt_estimate(zone, s), s))

    def site_region(self, site: str) -> str:
        return self._site_region[site]

    def put(self, obj: StoredObject, zone: str, region: str,
            done: Callable[[bool], None], *, requests: int = 1) -> None:
        """PUT ``obj`` from ``zone`` into the bucket copy at site ``region`` (a bucket
        region, or a bucket zone for a zonal service).

        ``requests``: the object stands for that many equal objects PUT at once by the
        brokers of one modelled writer; they are counted as that many requests, and each
        takes the time of its share of the bytes (one latency draw serves them all).

        Timing: request transfer to the site's storage endpoint, then the PUT's service
        time ``F + share / B`` (scaled by any slowdown), then the response.
        ``done(True)`` is called when the writer learns the copy is durable;
        ``done(False)`` when the request or response is lost or the site is down at
        completion (the writer sees an error/timeout).
        A successful PUT to a replicated bucket schedules the asynchronous copies.
        """
        self.counters["object_puts"] += requests
        self.counters["object_put_bytes"] += obj.size
        trip = self.network.round_trip(zone, region, obj.size + REQUEST_BYTES * requests,
                                       REQUEST_BYTES * requests, "object_put",
                                       parallel=requests)
        if trip is None or self._site_down(region):
            self.env.timeout(0).callbacks.append(lambda _e: done(False))
            return
        share = obj.size / requests
        service = (self._put() + share * self._put_s_per_byte
                   + self._per_mib * share / MIB) * self._slow(self._site_region[region])

        def complete(_event):
            if self._site_down(region):
                done(False)
                return
            # Durable once the service time ended, half a round trip before the reply.
            durable = self.env.now - 0.5 * trip
            obj.copies[region] = durable
            if self.replicated:
                self._schedule_replication(obj, region, durable)
            done(True)

        self.env.timeout(trip + service).callbacks.append(complete)

    def _schedule_replication(self, obj: StoredObject, source: str, t0: float) -> None:
        obj.source = source
        for region in self.sites:
            if region == source or region in obj.copies:
                continue
            if region in self._destroyed:
                obj.copies[region] = math.inf
                continue
            if self._paused_since is None:
                obj.copies[region] = t0 + self._replication()
            else:  # made when replication resumes
                obj.copies[region] = math.inf
                self._paused_copies.append((obj.object_id, region))
            self.counters["object_replication_bytes"] += obj.size
            # Billed and physical bytes of the copy cross the regions once.
            self.network.count(source, region, "object_replication", obj.size)

    def release(self, object_id: int) -> None:
        """The writer says no reader will ask for this object again: forget its record.

        Bounds the store's memory by what readers still need rather than by the
        replication window; loss accounting lives in the metrics, not here, so the
        ``objects_lost`` counter covers only objects not yet released.
        """
        self._objects.pop(object_id, None)
        self._stalled.pop(object_id, None)

    def announce(self, obj: StoredObject) -> None:
        """Emit the object's durable copies (after the writer decided it is written)."""
        self.ctx.recorder.emit(ObjectStored(self.env.now, obj.object_id, obj.writer_region,
                                            obj.size, tuple(sorted(obj.copies.items()))))

    # --- reads ------------------------------------------------------------------------
    def _local(self, site: str, reader: str) -> bool:
        """Whether ``reader`` (a zone or a region) reads ``site`` without leaving it."""
        if self.zonal:
            return site == reader
        return site == reader or site == self.network.topology.region_of(reader)

    def source_for(self, object_id: int, reader: str) -> str | None:
        """The site a reader in ``reader`` (a zone, or a region) would be served from
        now, or None if blocked."""
        obj = self._objects.get(object_id)
        now = self.env.now
        rtt = self.network.rtt_estimate
        reader_region = self.network.topology.region_of(reader)
        # A forgotten object was fully replicated: every bucket site holds it.
        held = self.sites if obj is None else \
            (site for site, since in obj.copies.items() if since <= now)
        best = None
        for site in held:
            if self._site_down(site) or site in self._destroyed:
                continue
            if self._local(site, reader):
                return site
            if not self.network.reachable(reader_region, self._site_region[site]):
                continue
            if best is None or (
                    # equivalent: tuples tie only when site is best, so <= keeps the same best
                    (rtt(reader, site), site) < (rtt(reader, best), best)):  # mutate: equivalent
                best = site
        return best

    def get(self, object_id: int, size: int, zone: str, done: Callable[[bool], None], *,
            after: float = 0.0, requests: int = 1, part_bytes: int | None = None) -> None:
        """GET an object into ``zone``, issued ``after`` seconds from now; ``done(ok)``
        once the bytes arrived (or the read failed).

        A region without a copy reads through from the nearest region holding one; the
        object's bytes then cross regions (purpose ``object_get``). A zonal bucket in
        another zone is read directly (inter-zone bytes). The serving site is chosen when
        the call is made; if it is down when the read would complete, the read fails.
        ``requests`` as for :meth:`put`. ``part_bytes``: each request's share is read as
        parallel ranged GETs of at most this many bytes, each counted as a request and
        on its own connection; the read is timed as one range (see the module docstring).
        """
        region = self.network.topology.region_of(zone)
        source = self.source_for(object_id, zone)
        if source is None:
            self.ctx.recorder.emit(ReadBlocked(self.env.now, object_id, region))
            self.env.timeout(after).callbacks.append(lambda _e: done(False))
            return
        share = size / requests
        parts = 1
        if part_bytes and (
                # equivalent: at share == part_bytes the branch sets parts 1, share unchanged
                share > part_bytes):  # mutate: equivalent
            parts = math.ceil(share / part_bytes)
            share = float(part_bytes)
        connections = requests * parts
        self.counters["object_gets"] += connections
        self.counters["object_get_bytes"] += size
        delay = after
        ask = REQUEST_BYTES * connections
        source_region = self._site_region[source]
        if self.zonal:
            endpoint = source
            if source != zone:
                self.counters["object_gets_cross_zone"] += connections
        else:
            endpoint = region
            if source != region:
                self.counters["object_gets_cross_region"] += connections
                # The provider moves the data between its regions itself: not a client
                # connection, so no window bound.
                hop = self.network.round_trip(region, source, ask, size, "object_get",
                                              windowed=False, parallel=connections)
                if hop is None:
                    self.env.timeout(after).callbacks.append(lambda _e: done(False))
                    return
                delay += hop
        trip = self.network.round_trip(zone, endpoint, ask, size, "object_get",
                                       parallel=connections)
        if trip is None:
            self.env.timeout(after).callbacks.append(lambda _e: done(False))
            return
        delay += trip + (self._get() + share * self._get_s_per_byte
                         + self._per_mib * share / MIB) * self._slow(source_region)

        def complete(_event):
            done(not self._site_down(source))

        self.env.timeout(delay).callbacks.append(complete)

    def when_readable(self, object_id: int, region: str) -> simpy.Event:
        """An event that fires once a reader in ``region`` (a region or a zone) could
        read the object.

        It fires at once if the object is readable now, when a pending copy lands where
        the reader can read it (its own region, or another one it can reach), or when a
        recovery or a healed partition makes a copy reachable.
        """
        event = self.env.event()
        if self.source_for(object_id, region) is not None:
            event.succeed()
            return event
        self._waiters.setdefault(object_id, []).append((region, event))
        obj = self._objects.get(object_id)
        if obj is not None:
            now = self.env.now
            # Every landing is checked: which copy the reader can reach when it lands
            # depends on the partitions and outages then.
            for landing in sorted({t for t in obj.copies.values() if now < t < math.inf}):
                self.env.timeout(landing - now).callbacks.append(
                    lambda _e: self.wake_readers())
        return event

    # --- faults -----------------------------------------------------------------------
    def _sites_of(self, region: str) -> list[str]:
        if self.zonal:
            return [s for s in self.sites if self._site_region[s] == region]
        return [region]

    def _site_down(self, site: str) -> bool:
        # A zonal bucket also goes with its zone (a zone outage); the network knows.
        return site in self._down or (self.zonal and self.network.is_down(site))

    def fail_region(self, region: str, *, destroy: bool = False) -> None:
        """Take a region's bucket copies offline; with ``destroy`` they are gone for good.

        Copies the region still owed to other regions stall (an outage) or never happen
        (a destruction).
        """
        for site in self._sites_of(region):
            self._fail_site(site, region, destroy=destroy)

    def destroy_zone(self, zone: str) -> None:
        """A zone is destroyed: a zonal service's bucket there is gone for good (a
        regional bucket spans zones and keeps its copies)."""
        if self.zonal and zone in self.sites:
            self._fail_site(zone, self._site_region[zone], destroy=True)

    def _fail_site(self, site: str, region: str, *, destroy: bool) -> None:
        now = self.env.now
        self._down.add(site)
        if destroy:
            self._destroyed.add(site)
        for obj in self._objects.values():
            if site not in obj.copies:
                continue
            if obj.writer_region == region:
                for other, t in obj.copies.items():
                    if other != site and t > now:
                        if not destroy:
                            self._stalled.setdefault(obj.object_id, {})[other] = t
                        obj.copies[other] = math.inf
            if destroy:
                already_lost = all(math.isinf(t) for t in obj.copies.values())
                obj.copies[site] = math.inf
                if not already_lost and all(math.isinf(t) for t in obj.copies.values()):
                    self.counters["objects_lost"] += 1

    def recover_region(self, region: str) -> None:
        """Bring a (not destroyed) region back; its stalled copies resume."""
        sites = [s for s in self._sites_of(region) if s not in self._destroyed]
        if not sites:
            return
        for site in sites:
            self._down.discard(site)
        now = self.env.now
        for object_id in [o for o, owed in self._stalled.items()
                          if self._objects.get(o) is not None
                          and self._objects[o].writer_region == region]:
            obj = self._objects[object_id]
            for other, t in self._stalled.pop(object_id).items():
                if other in self._destroyed:
                    continue
                if self._paused_since is None:
                    obj.copies[other] = max(t, now)
                else:  # in flight again, during a pause: held until the resume
                    self._held.append((object_id, other, max(t, now) - now))
        self.wake_readers()

    def wake_readers(self) -> None:
        """Re-check blocked readers (after a recovery or a healed partition)."""
        for object_id in list(self._waiters):
            still = []
            for region, event in self._waiters[object_id]:
                if self.source_for(object_id, region) is not None:
                    event.succeed()
                else:
                    still.append((region, event))
            if still:
                self._waiters[object_id] = still
            else:
                del self._waiters[object_id]

    def set_slowdown(self, region: str | None, factor: float | None) -> None:
        if factor is None:
            self._slowdown.pop(region, None)
        else:
            self._slowdown[region] = factor

    def pause_replication(self, paused: bool) -> None:
        """Pause or resume asynchronous replication. A copy in flight at the pause is
        not made during it (no reader is served from it, and the object is not
        forgotten as fully copied); at the resume it lands as late as the pause was
        long. A copy stalled by its writer region's outage meanwhile keeps that time
        for the recovery."""
        now = self.env.now
        if paused:
            if self._paused_since is None:
                self._paused_since = now
                self._hold_in_flight(now)
            return
        since, self._paused_since = self._paused_since, None
        if since is None:
            return
        changed: dict[int, StoredObject] = {}
        for object_id, region, left in self._held:
            obj = self._objects.get(object_id)
            if obj is None or region in self._destroyed or obj.source in self._destroyed:
                continue
            stalled = self._stalled.get(object_id)
            if stalled is not None and region in stalled:
                stalled[region] = now + left    # made at the writer region's recovery
            elif math.isinf(obj.copies[region]):
                obj.copies[region] = now + left
                changed[object_id] = obj
        self._held = []
        # Copies of objects written during the pause start now, unless their source or
        # their target is gone.
        for object_id, region in self._paused_copies:
            obj = self._objects.get(object_id)
            if obj is None or region in self._destroyed or obj.source in self._destroyed \
                    or not math.isinf(obj.copies[region]):
                continue
            obj.copies[region] = now + self._replication()
            changed[object_id] = obj
        self._paused_copies = []
        for obj in changed.values():
            self.announce(obj)

    # --- internals --------------------------------------------------------------------
    def _hold_in_flight(self, now: float) -> None:
        """Hold the asynchronous copies not yet made (the source's own copy is not a
        replication, and a bucket without replication has none)."""
        for obj in self._objects.values():
            if obj.source is None:
                continue
            for region, t in obj.copies.items():
                if region != obj.source and now < t < math.inf:
                    obj.copies[region] = math.inf
                    self._held.append((obj.object_id, region, t - now))

    def _slow(self, region: str) -> float:
        if not self._slowdown:
            return 1.0
        return self._slowdown.get(region, self._slowdown.get(None, 1.0))

    def _prune(self) -> None:
        """Forget objects all of whose copies exist, whenever the table has doubled.

        A forgotten object is readable from any live bucket region (see ``source_for``).
        Scanning at doublings keeps the cost amortized O(1) per object.
        """
        if len(self._objects) < self._prune_at:
            return
        now = self.env.now
        regions = len(self.sites)
        done = [object_id for object_id, obj in self._objects.items()
                if len(obj.copies) == regions and object_id not in self._waiters
                and max(obj.copies.values()) < now]
        for object_id in done:
            del self._objects[object_id]
        self._prune_at = max(1, 2 * len(self._objects))

    @property
    def tracked_objects(self) -> int:
        return len(self._objects)
