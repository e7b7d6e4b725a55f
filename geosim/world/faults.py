"""The fault timeline: faults are data, applied and reverted at their times.

Faults act only through the components' fault APIs (``fail_region``/``recover_region``,
the network's ``set_down``/``partition``/``degrade``, the metadata store's reachability
and loss) and the strategy's hooks for the processes of a zone. Overlapping faults
compose: a zone is up only when no active fault holds it (or its region) down.

What the injector needs is stated here as protocols, so that this module imports
neither the strategies nor the components: a strategy is a :class:`FaultTarget`
(:class:`geosim.strategies.base.Strategy` is one), and the world it acts on is a
:class:`FaultedWorld` (:class:`geosim.strategies.base.World` is one).
"""

from __future__ import annotations

from collections import Counter
from typing import Protocol

from geosim.core.context import Context
from geosim.core.events import FaultEnded, FaultStarted, RegionState
from geosim.scenario import schema
from geosim.world.network import Degradation, Network
from geosim.world.schedules import LinkScheduler
from geosim.world.topology import Topology


class FaultTarget(Protocol):
    """The hooks a fault calls on the strategy, after the shared components changed."""

    def zone_state(self, zone: str, up: bool, destroyed: bool = False) -> None:
        """All processes of ``zone`` stop (``up=False``) or restart; ``destroyed``: the
        zone (or its whole region) was destroyed."""

    def crash_brokers(self, zone: str, count: int, up: bool) -> None:
        """``count`` brokers of ``zone`` crash (``up=False``) or restart."""

    def crash_clients(self, clients: str, zone: str, up: bool) -> None:
        """The producers, consumers or ``all`` clients of ``zone`` crash or restart."""

    def crash_workers(self, zone: str, count: int, up: bool) -> None:
        """``count`` Kafka Connect workers of ``zone`` crash (``up=False``) or restart."""

    def unclean_election(self) -> None:
        """An operator forces leaders onto any live replica."""

    def connectivity_changed(self) -> None:
        """A partition or brownout started or ended."""

    def site_failure(self, site: str, brokers: int | None, up: bool) -> None:
        """``brokers`` brokers (None: all) of edge site ``site`` are destroyed
        (``up=False``) or replaced (``up=True``)."""


class FaultableObjectStore(Protocol):
    """The object store's fault API (:class:`geosim.components.object_store.ObjectStore`)."""

    def fail_region(self, region: str, *, destroy: bool = False) -> None: ...

    def recover_region(self, region: str) -> None: ...

    def destroy_zone(self, zone: str) -> None: ...

    def wake_readers(self) -> None: ...

    def set_slowdown(self, region: str | None, factor: float | None) -> None: ...

    def pause_replication(self, paused: bool) -> None: ...


class FaultableMetadataStore(Protocol):
    """The metadata store's fault API
    (:class:`geosim.components.metadata_store.MetadataStore`)."""

    def set_lost(self, lost: bool) -> None: ...

    def on_topology_change(self) -> None: ...


class FaultedWorld(Protocol):
    """The shared infrastructure faults act on (read-only members)."""

    @property
    def ctx(self) -> Context: ...

    @property
    def scenario(self) -> schema.Scenario: ...

    @property
    def topology(self) -> Topology: ...

    @property
    def network(self) -> Network: ...

    @property
    def object_store(self) -> FaultableObjectStore: ...

    @property
    def metadata(self) -> FaultableMetadataStore: ...


def fault_target(fault) -> str:
    for attr in ("region", "zone", "site"):
        value = getattr(fault, attr, None)
        if value:
            return value
    if hasattr(fault, "between"):
        return "<->".join(fault.between) if not getattr(fault, "one_way", False) \
            else "->".join(fault.between)
    return "all"


def fault_window(fault) -> tuple[float, float]:
    """(start, end) of a fault; a destruction never ends (end = start)."""
    return fault.at, fault.at + (getattr(fault, "duration", 0.0) or 0.0)


class FaultInjector:
    """Applies a scenario's fault timeline to a built world and strategy."""

    def __init__(self, world: FaultedWorld, strategy: FaultTarget):
        self.world = world
        self.strategy = strategy
        self.env = world.ctx.env
        self._region_holds: Counter[str] = Counter()
        self._zone_holds: Counter[str] = Counter()
        self.destroyed: set[str] = set()

    def start(self) -> None:
        """Start the faults' timeline, and the link schedules (which compose with it)."""
        scenario = self.world.scenario
        for index, fault in enumerate(scenario.faults):
            self.env.process(self._run(index, fault))
        LinkScheduler(self.env, self.world.network, list(scenario.topology.links),
                      scenario.simulation.end,
                      self._connectivity_changed).start()

    def _run(self, index: int, fault):
        """Waits until the fault's start, applies it, waits its duration, reverts it."""
        yield self.env.timeout(fault.at)
        recorder = self.world.ctx.recorder
        destroys = isinstance(fault, schema.RegionDestruction | schema.ZoneDestruction)
        recorder.emit(FaultStarted(self.env.now, index, fault.kind, fault_target(fault),
                                   destroys))
        self._apply(fault, True)
        if destroys or getattr(fault, "duration", None) is None:
            return  # permanent (a destruction) or instantaneous (an operator step)
        yield self.env.timeout(fault.duration)
        self._apply(fault, False)
        recorder.emit(FaultEnded(self.env.now, index, fault.kind, fault_target(fault)))

    def apply_now(self, index: int, fault, active: bool = True) -> None:
        """Start (``active``) or end a fault at the current time, outside the timeline.

        For drivers that step a run and decide faults as they go (the state machine of
        ``geosim.testing.stateful``); the fault's ``at`` and ``duration`` are ignored.
        Emits FaultStarted/FaultEnded as the timeline does; ``index`` numbers the fault.
        """
        recorder = self.world.ctx.recorder
        if active:
            recorder.emit(FaultStarted(
                self.env.now, index, fault.kind, fault_target(fault),
                isinstance(fault, schema.RegionDestruction | schema.ZoneDestruction)))
            self._apply(fault, True)
        else:
            self._apply(fault, False)
            recorder.emit(FaultEnded(self.env.now, index, fault.kind, fault_target(fault)))

    def _apply(self, fault, active: bool) -> None:
        world = self.world
        if isinstance(fault, schema.RegionOutage | schema.RegionDestruction):
            self._hold_region(fault.region, active,
                              destroy=isinstance(fault, schema.RegionDestruction))
        elif isinstance(fault, schema.ZoneOutage):
            self._hold_zone(fault.zone, active)
        elif isinstance(fault, schema.ZoneDestruction):
            self._destroy_zone(fault.zone)
        elif isinstance(fault, schema.Partition):
            world.network.partition(*fault.between, one_way=fault.one_way, active=active)
            self._connectivity_changed()
        elif isinstance(fault, schema.Brownout):
            degradation = Degradation(fault.extra_latency, fault.bandwidth, fault.loss)
            world.network.degrade(*fault.between, degradation, active=active)
            self._connectivity_changed()
        elif isinstance(fault, schema.ObjectStoreSlowdown):
            world.object_store.set_slowdown(fault.region, fault.factor if active else None)
        elif isinstance(fault, schema.ReplicationPause):
            world.object_store.pause_replication(active)
        elif isinstance(fault, schema.MetadataLoss):
            world.metadata.set_lost(active)
        elif isinstance(fault, schema.ClientCrash):
            self.strategy.crash_clients(fault.clients, fault.zone, up=not active)
        elif isinstance(fault, schema.BrokerCrash):
            self.strategy.crash_brokers(fault.zone, fault.count, up=not active)
        elif isinstance(fault, schema.ConnectWorkerCrash):
            self.strategy.crash_workers(fault.zone, fault.count, up=not active)
        elif isinstance(fault, schema.SiteFailure):
            self.strategy.site_failure(fault.site, fault.brokers, up=not active)
        elif isinstance(fault, schema.UncleanElection):
            if active:
                self.strategy.unclean_election()
        else:  # pragma: no cover - the schema admits no other kind
            raise TypeError(f"unknown fault {fault!r}")

    def _connectivity_changed(self) -> None:
        self.world.metadata.on_topology_change()
        self.world.object_store.wake_readers()
        self.strategy.connectivity_changed()

    def _hold_region(self, region: str, active: bool, *, destroy: bool) -> None:
        world = self.world
        self._region_holds[region] += 1 if active else -1
        down = self._region_holds[region] > 0 or region in self.destroyed
        if destroy:
            self.destroyed.add(region)
        was_down = world.network.is_down(region)
        if down == was_down and not destroy:
            return
        world.network.set_down(region, down)
        if down:
            world.object_store.fail_region(region, destroy=destroy)
        else:
            world.object_store.recover_region(region)
        world.metadata.on_topology_change()
        world.ctx.recorder.emit(RegionState(self.env.now, region, not down, destroy))
        for zone in world.topology.zones(region):
            if self._zone_holds[zone] == 0 and (down != was_down):
                self.strategy.zone_state(zone, up=not down, destroyed=destroy)

    def _destroy_zone(self, zone: str) -> None:
        """A zone is gone for good: it stays down (a held zone that never heals), its
        zonal buckets are destroyed and the strategy learns what its machines held is
        lost. Inside a region already down, the region's state governs its processes."""
        world = self.world
        self._zone_holds[zone] += 1
        world.object_store.destroy_zone(zone)
        if world.network.is_down(world.topology.region_of(zone)):
            return
        if not world.network.is_down(zone):
            world.network.set_down(zone, True)
            world.metadata.on_topology_change()
        self.strategy.zone_state(zone, up=False, destroyed=True)

    def _hold_zone(self, zone: str, active: bool) -> None:
        world = self.world
        self._zone_holds[zone] += 1 if active else -1
        down = self._zone_holds[zone] > 0
        region = world.topology.region_of(zone)
        if world.network.is_down(region):
            return  # the region's state governs
        if down == world.network.is_down(zone):
            return
        world.network.set_down(zone, down)
        world.metadata.on_topology_change()
        if not down:  # a zonal bucket there is reachable again
            world.object_store.wake_readers()
        self.strategy.zone_state(zone, up=not down)
