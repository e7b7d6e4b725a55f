"""The edge strategy's model: one SimPy process per class of identical sites.

A class's process sleeps until the next change of its state (a schedule transition of
its uplink, a fetch response landing, a caught-up instant, a retention check that
deletes a segment, the end of production), advances the site
(:mod:`geosim.strategies.edge.fluid`) and emits an
:class:`~geosim.strategies.edge.events.EdgeState`; the edge report section's fold
(:mod:`geosim.strategies.edge.report`) integrates the states. Events therefore
scale with schedule windows, fetch responses of sites behind and retention deletions
per class, not with records or with sites.
Bytes copied over the uplinks are counted through the network's seam
(``Network.count``, purpose ``mirror``, from the template region's first zone to the
central region's first zone), multiplied by the class's multiplicity.

Faults: a ``site-failure`` destroys brokers of one site (its class splits first, so
the other sites of the class are untouched); an outage of the central region, or a
partition between a template's region and the central region, holds every uplink
down on top of its schedule; an outage of the sites' own zone stops them, and its
destruction destroys them.
"""

from __future__ import annotations

import copy
import math
from bisect import bisect_right
from dataclasses import replace
from typing import ClassVar

import simpy

from geosim.core.estimate import EventEstimate
from geosim.strategies.base import Strategy, World
from geosim.strategies.edge.config import resolve_fetch, resolve_site_config
from geosim.strategies.edge.estimate import edge_estimate
from geosim.strategies.edge.events import EdgeClassDeclared, EdgeState
from geosim.strategies.edge.fleet import SiteClass, site_classes, up_windows
from geosim.strategies.edge.fluid import FluidSite
from geosim.strategies.edge.spec import EdgeSpec, SiteTemplate
from geosim.strategies.edge.uplink import DOWN, LinkNow, link_states


class _Class:
    """One class of identical sites: its fluid, its uplink's schedule, its process."""

    def __init__(self, owner: EdgeStrategy, index: int, template: SiteTemplate,
                 sites: tuple[str, ...], fluid: FluidSite,
                 windows: list[tuple[float, float]], up: LinkNow, outside: LinkNow,
                 record_bytes: float, message_bytes: float):
        self.owner = owner
        self.record_bytes = record_bytes
        self.message_bytes = message_bytes   # a record's uncompressed bytes
        self.index = index
        self.template = template
        self.sites = sites
        self.fluid = fluid
        self.windows = windows
        self.starts = [a for a, _ in windows]
        self.up = up
        self.outside = outside
        self.zone = owner.world.topology.zones(template.region)[0]
        self.cut = False          # the template region cannot reach the central one
        self.rebuild_at = math.inf
        self.down_since: float | None = None   # the uplink is cut since then
        self.resume_at = math.inf                # the fetcher's first retry once back
        self.process: simpy.Process | None = None
        self._carry = 0.0         # fraction of a byte not yet counted

    def link_now(self, t: float) -> LinkNow:
        if self.owner.central_down or self.cut:
            return DOWN
        i = bisect_right(self.starts, t) - 1
        if i >= 0 and t < self.windows[i][1]:
            return self.up
        return self.outside

    def next_transition(self, t: float) -> float:
        i = bisect_right(self.starts, t)
        out = self.starts[i] if i < len(self.starts) else math.inf
        j = i - 1
        if j >= 0 and t < self.windows[j][1]:
            out = min(out, self.windows[j][1])
        return out

    def reconnected(self, link: LinkNow, now: float) -> LinkNow:
        """A cut uplink drops the fetch in flight and every retry; the fetcher retries
        each ``consumer.request.timeout.ms`` from the cut (the cross-cluster engine's
        flow does the same), so once the link is back nothing moves until the next
        retry; a link cut again before that retry keeps the same retry instants."""
        if not link.moves:
            if self.down_since is None:
                self.down_since = now
            self.resume_at = math.inf
            return link
        if self.down_since is None:
            return link
        timeout = self.owner.fetch.request_timeout
        waited = now - self.down_since
        resume = self.down_since + math.ceil(waited / timeout - 1e-9) * timeout
        if now >= resume - 1e-9:
            self.down_since = None
            self.resume_at = math.inf
            return link
        self.resume_at = resume
        return replace(link, budget=0)

    def step(self) -> None:
        """Advance to now, apply what is due now, emit the state."""
        owner = self.owner
        now = owner.env.now
        fluid = self.fluid
        fluid.advance(now)
        if now >= self.rebuild_at:
            self.rebuild_at = math.inf
            fluid.rebuild()
        fluid.set_link(self.reconnected(self.link_now(now), now))
        if fluid.is_check_time():
            fluid.retention_check()
        copied = fluid.take_copied()
        if copied > 0:
            total = copied * len(self.sites) + self._carry
            whole = int(total)
            self._carry = total - whole
            owner.world.network.count(self.zone, owner.central_zone, "mirror", whole)
        self.emit()

    def emit(self) -> None:
        f = self.fluid
        s = f.snapshot()
        link = f.link
        self.owner.world.ctx.recorder.emit(EdgeState(
            self.owner.env.now, self.index, link.state, s["alive"], s["caught_up"],
            s["backlog"], s["backlog_rate"], s["newest"], s["newest_rate"],
            s["replicated"], s["throughput"], link.bandwidth if link.moves else None,
            s["lost_retention"], s["lost_failure"], s["copy_rate"]))

    def run(self):
        """Sleeps until the next change of the class (the fluid's own, the uplink's
        schedule, a rebuild, the end of the run), then steps; an interrupt (a fault
        stepped the class already) only reschedules."""
        env = self.owner.env
        end = self.owner.end
        while env.now < end:
            now = env.now
            nxt = min(self.fluid.next_change(), self.next_transition(now), self.rebuild_at,
                      self.resume_at, end)
            try:
                yield env.timeout(max(nxt - now, 1e-9))
            except simpy.Interrupt:
                continue
            self.step()

    def poke(self) -> None:
        """Something outside changed the class now: step and reschedule."""
        self.step()
        if self.process is not None and self.process.is_alive \
                and self.process is not self.owner.env.active_process:
            self.process.interrupt()


class EdgeStrategy(Strategy):
    """A fleet of edge sites replicating into a central cluster, as fluids by class."""

    name: ClassVar[str] = "edge"

    def __init__(self, world: World):
        super().__init__(world)
        spec = world.scenario.strategy
        assert isinstance(spec, EdgeSpec)
        self.spec = spec
        self.env = world.ctx.env
        self.fleets = []
        self.groups = []
        self.central = central_region(spec, world.topology.regions)
        self.central_zone = world.topology.zones(self.central)[0]
        self.central_down = False
        self._zones_down: set[str] = set()
        sim = world.scenario.simulation
        self.end = sim.end
        fetch = self.fetch = resolve_fetch(spec.replication, spec.mirror_config)
        window = world.topology.spec.tcp_window
        omb = world.workload.omb
        ratio = world.workload.compression_ratio
        self.classes: list[_Class] = []
        self.by_site: dict[str, _Class] = {}
        for sc in site_classes(list(spec.sites), world.ctx.rng):
            self._add(sc, fetch, window, omb, ratio, sim.duration)

    def _add(self, sc: SiteClass, fetch, window, omb, ratio: float,
             production_end: float) -> None:
        t = sc.template
        records = t.producer_rate if t.producer_rate is not None else omb.producerRate
        size = t.message_size if t.message_size is not None else omb.messageSize
        partitions = t.partitions if t.partitions is not None \
            else omb.topics * omb.partitionsPerTopic
        record_bytes = size / ratio
        rf = t.replication_factor if t.replication_factor is not None else min(t.brokers, 3)
        # One fetch connection per site broker and task (the engine's flows, tasks.max).
        connections = fetch.tasks * t.brokers
        up, outside = link_states(t.uplink, fetch, connections, window)
        fluid = FluidSite(rate=records * record_bytes, partitions=partitions,
                          config=resolve_site_config(t.config),
                          production_end=production_end, brokers=t.brokers,
                          replication_factor=rf, min_insync=t.min_insync_replicas)
        cls = _Class(self, len(self.classes), t, sc.sites, fluid,
                     up_windows(t.uplink.schedule, sc.offset, self.end), up, outside,
                     record_bytes, size)
        self.classes.append(cls)
        for site in sc.sites:
            self.by_site[site] = cls

    def _declare(self, cls: _Class, parent: int = -1) -> None:
        self.world.ctx.recorder.emit(EdgeClassDeclared(
            self.env.now, cls.index, cls.template.name, cls.sites, cls.fluid.rate,
            cls.record_bytes, parent, cls.template.region, cls.message_bytes))

    def start(self) -> None:
        for cls in self.classes:
            self._declare(cls)
        for cls in self.classes:
            cls.fluid.set_link(cls.reconnected(cls.link_now(0.0), 0.0))
            cls.emit()
            cls.process = self.env.process(cls.run())

    # --- faults ---------------------------------------------------------------------
    def site_failure(self, site: str, brokers: int | None, up: bool) -> None:
        """``brokers`` brokers of ``site`` (all if None) are destroyed (``up=False``)
        or replaced (``up=True``)."""
        cls = self.by_site[site]
        if len(cls.sites) > 1:
            cls.step()
            alone = _Class(self, len(self.classes), cls.template, (site,),
                           copy.copy(cls.fluid), cls.windows, cls.up, cls.outside,
                           cls.record_bytes, cls.message_bytes)
            alone.cut = cls.cut
            alone.down_since, alone.resume_at = cls.down_since, cls.resume_at
            cls.sites = tuple(s for s in cls.sites if s != site)
            self.classes.append(alone)
            self.by_site[site] = alone
            self._declare(alone, parent=cls.index)
            alone.process = self.env.process(alone.run())
            cls = alone
        cls.fluid.advance(self.env.now)
        if up:
            cls.rebuild_at = self.env.now
        else:
            cls.fluid.lose_brokers(brokers if brokers is not None else cls.template.brokers)
        cls.poke()

    def zone_state(self, zone: str, up: bool, destroyed: bool = False) -> None:
        """A central zone down: the central cluster is unreachable while all are. The
        zone of a template's sites down: they stop (producers, brokers, replication)
        and, destroyed, lose what they had not replicated."""
        if self.world.topology.region_of(zone) != self.central:
            now = self.env.now
            for cls in list(self.classes):
                if cls.zone != zone:
                    continue
                cls.fluid.advance(now)
                cls.fluid.set_out(not up)
                if destroyed and not up:
                    cls.fluid.lose_brokers(cls.template.brokers)
                cls.poke()
            return
        if up:
            self._zones_down.discard(zone)
        else:
            self._zones_down.add(zone)
        down = len(self._zones_down) == len(self.world.topology.zones(self.central))
        if down != self.central_down:
            for cls in self.classes:
                cls.fluid.advance(self.env.now)
            self.central_down = down
            for cls in self.classes:
                cls.poke()

    def connectivity_changed(self) -> None:
        net = self.world.network
        for cls in self.classes:
            cut = not net.reachable(cls.zone, self.central_zone)
            if cut != cls.cut:
                cls.fluid.advance(self.env.now)
                cls.cut = cut
                cls.poke()

    def crash_brokers(self, zone: str, count: int, up: bool) -> None:
        raise TypeError("broker-crash does not apply to the edge strategy; "
                        "use site-failure")

    def unclean_election(self) -> None:
        raise TypeError("unclean-election does not apply to the edge strategy")

    def estimate_events(self) -> EventEstimate:
        """This model's pre-run event estimate
        (:func:`geosim.strategies.edge.estimate.edge_estimate`)."""
        return edge_estimate(self)

    def counters(self) -> dict[str, int]:
        return {"edge_sites": sum(len(c.sites) for c in self.classes),
                "edge_classes": len(self.classes)}

    def offered_bytes_per_s(self) -> dict[str, float]:
        """None: the sites' production is the edge section's, not the regions'."""
        return {}


def central_region(spec: EdgeSpec, regions: list[str]) -> str:
    """``strategy.central``, or the region of ``strategy.brokers`` (a key is a region
    id or a zone id ``<region>-<zone>``)."""
    if spec.central is not None:
        return spec.central
    found = sorted({key if key in regions else key.rsplit("-", 1)[0]
                    for key in spec.brokers})
    return found[0] if found else ""


__all__ = ["EdgeStrategy", "central_region"]
