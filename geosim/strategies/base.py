"""The strategy protocol and the world a strategy is built into."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from geosim.clients.workload import ResolvedWorkload
from geosim.components.metadata_store import MetadataStore
from geosim.components.object_store import ObjectStore
from geosim.core.context import Context
from geosim.core.estimate import EventEstimate
from geosim.scenario.schema import Scenario
from geosim.world.network import Network
from geosim.world.topology import Topology


@dataclass
class World:
    """Shared infrastructure every strategy may use, through public APIs only."""

    ctx: Context
    scenario: Scenario
    topology: Topology
    network: Network
    object_store: ObjectStore
    metadata: MetadataStore
    workload: ResolvedWorkload


class Strategy:
    """A replication strategy: builds its brokers and clients, reacts to faults.

    Constructors wire; :meth:`start` launches processes. Fault hooks are called by the
    fault injector after the shared components (network, storage, metadata) changed.
    """

    name: ClassVar[str]  # its plug-in's name; the description is the plug-in's

    def __init__(self, world: World):
        self.world = world

    def start(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def zone_state(self, zone: str, up: bool,
                   destroyed: bool = False) -> None:  # pragma: no cover - interface
        """All processes of a zone stop (``up=False``) or restart; ``destroyed``: the
        zone's region was destroyed, so whatever its machines held is gone."""
        raise NotImplementedError

    def crash_brokers(self, zone: str, count: int, up: bool) -> None:  # pragma: no cover
        raise NotImplementedError

    # Shared client handling: strategies keep their producer fleets in ``self.fleets``
    # and their consumer groups in ``self.groups``.
    fleets: list
    groups: list

    def client_fleets(self) -> list:
        """The producer fleets a client fault acts on (default: all of them)."""
        return self.fleets

    def client_groups(self) -> list:
        """The consumer groups a client fault acts on (default: all of them)."""
        return self.groups

    def crash_clients(self, clients: str, zone: str, up: bool) -> None:
        """The producers or the consumers of a zone crash (``up=False``) or restart."""
        if clients in ("producers", "all"):
            for fleet in self.client_fleets():
                if fleet.zone == zone:
                    fleet.restart() if up else fleet.crash()
        if clients in ("consumers", "all"):
            for group in self.client_groups():
                for member in group.members:
                    if member.zone == zone:
                        group.member_up(member) if up else group.member_down(member)

    def crash_workers(self, zone: str, count: int, up: bool) -> None:  # pragma: no cover
        """Kafka Connect workers of a zone crash or restart: only strategies that run
        them (the scenario checks refuse the fault for the others)."""
        raise NotImplementedError

    def unclean_election(self) -> None:  # pragma: no cover - interface
        """An operator forces leaders onto any live replica (Kafka strategies)."""
        raise NotImplementedError

    def site_failure(self, site: str, brokers: int | None, up: bool) -> None:
        """Brokers of an edge site are destroyed or replaced (strategies with edge
        sites; the scenario checks refuse the fault for the others)."""
        raise TypeError(f"strategy {self.name} has no edge sites")

    def connectivity_changed(self) -> None:
        """A partition or brownout started or ended; default: nothing to do."""

    def estimate_events(self) -> EventEstimate | None:
        """How many SimPy events the run will schedule, counted from the built (not
        started) model: the budget's pre-run wall-time estimate (:mod:`geosim.budget`,
        ``docs/budgets.md``). Each strategy estimates its own engine; None (the default)
        means no estimate, and only the in-run projection guards the wall time."""
        return None

    def counters(self) -> dict[str, int]:
        return {}

    def run_notes(self) -> dict:
        """What the model says of how it ran, for ``run-info.json`` (not results: the
        window engine's windows, for one)."""
        return {}

    def resolution(self) -> dict[str, float]:
        """The model's time-resolution settings where they differ from its reference
        ones (empty at the reference): the strategy block's
        (:meth:`~geosim.scenario.sections.StrategySpecBase.resolution`). A coarser
        resolution keeps loss and availability but not latency tails, so
        ``summary.json`` records them (``resolution``) and the summary table says so."""
        scenario = self.world.scenario
        return scenario.strategy.resolution(scenario.simulation)

    def offered_bytes_per_s(self) -> dict[str, float]:
        """Each region's nominal offered load (uncompressed bytes/s)."""
        out: dict[str, float] = {}
        for fleet in self.fleets:
            out[fleet.region] = out.get(fleet.region, 0.0) + \
                fleet.records_per_s * fleet.message_size
        return out
