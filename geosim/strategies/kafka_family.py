"""The Kafka-family strategies: thin plug-ins over the Kafka engine of :mod:`geosim.kafka`.

The engine knows nothing of strategies; :class:`KafkaFamilyStrategy` adapts it to the
strategy protocol (:class:`~geosim.strategies.base.Strategy`): the fault hooks, the
counters and the clients are the engine's. :class:`KafkaClusterStrategy` runs one
:class:`~geosim.kafka.cluster.KafkaCluster` (``stretch``, ``observers``);
:class:`CrossClusterStrategy` runs :class:`~geosim.kafka.cross_cluster.CrossCluster`,
independent clusters linked by replication flows (``mirrormaker2``, ``cluster-linking``).
"""

from __future__ import annotations

from typing import Any

from geosim.core.estimate import EventEstimate
from geosim.kafka.cluster import KafkaCluster
from geosim.kafka.cross_cluster import CrossCluster
from geosim.kafka.estimate import engine_estimate
from geosim.kafka.mirror_config import MirrorConfig
from geosim.kafka.placement import ObserverSetup
from geosim.kafka.window.flow_mode import FlowWindowMode
from geosim.kafka.window.mode import WindowMode
from geosim.strategies.base import Strategy, World


class KafkaFamilyStrategy(Strategy):
    """A strategy whose model is a Kafka engine (``self.engine``), built by
    :meth:`build_engine`. The engine's state reads through the strategy
    (``strategy.parts``, ``strategy.flows``, ...), for inspecting a built run."""

    def __init__(self, world: World):
        super().__init__(world)
        self.engine = self.build_engine(world)
        # the engine's own lists (it appends to them, never replaces them)
        self.fleets = self.engine.fleets
        self.groups = self.engine.groups

    def build_engine(self, world: World) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def __getattr__(self, name: str) -> Any:
        if name == "engine" or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.engine, name)

    def zone_clients(self, zone: str, up: bool) -> None:
        """The engine's hook for a zone going down or up: the zone's clients follow."""
        self.crash_clients("all", zone, up)

    def client_fleets(self) -> list:
        return self.engine.client_fleets()

    def client_groups(self) -> list:
        return self.engine.client_groups()

    def start(self) -> None:
        self.engine.start()

    def zone_state(self, zone: str, up: bool, destroyed: bool = False) -> None:
        self.engine.zone_state(zone, up, destroyed)

    def crash_brokers(self, zone: str, count: int, up: bool) -> None:
        self.engine.crash_brokers(zone, count, up)

    def unclean_election(self) -> None:
        self.engine.unclean_election()

    def connectivity_changed(self) -> None:
        self.engine.connectivity_changed()

    def counters(self) -> dict[str, int]:
        return self.engine.counters()

    def run_notes(self) -> dict:
        mode = getattr(self, "window_mode", None)
        return {} if mode is None else {"window_engine": mode.log}

    def estimate_events(self) -> EventEstimate:
        """The Kafka engine's estimate (:func:`geosim.kafka.estimate.engine_estimate`)."""
        return engine_estimate(self.engine)


class KafkaClusterStrategy(KafkaFamilyStrategy):
    """One Kafka cluster over the scenario's brokers; :meth:`observers` says where
    observer replicas go (Confluent Multi-Region Clusters), if anywhere."""

    window_mode: WindowMode | None = None

    def observers(self, spec: Any) -> ObserverSetup | None:
        """The observer replicas of ``spec``'s cluster; none by default."""
        return None

    def build_engine(self, world: World) -> KafkaCluster:
        return KafkaCluster(world, observers=self.observers(world.scenario.strategy),
                            client_faults=self.zone_clients)

    def start(self) -> None:
        """The engine, and with ``simulation.engine: window`` the window engine's run
        mode over it (one cluster without shared storage; docs/architecture.md)."""
        super().start()
        engine = self.engine
        if self.world.scenario.simulation.engine == "window" and engine.storage is None:
            self.window_mode = WindowMode(engine)
            self.window_mode.start()


class CrossClusterStrategy(KafkaFamilyStrategy):
    """Independent clusters linked by replication flows, configured by the strategy's
    own flow configs (:meth:`mirror_config`)."""

    window_mode: FlowWindowMode | None = None

    def mirror_config(self, spec: Any) -> MirrorConfig:  # pragma: no cover - interface
        """The spec's ``mirror_config`` resolved by the strategy's keys (once per spec)."""
        raise NotImplementedError

    def build_engine(self, world: World) -> CrossCluster:
        return CrossCluster(world, mirror=self.mirror_config(world.scenario.strategy),
                            client_faults=self.zone_clients)

    def start(self) -> None:
        """The engine, and with ``simulation.engine: window`` the window engine's run
        mode over its flow (one flow; geosim.kafka.window.flow_mode)."""
        super().start()
        if self.world.scenario.simulation.engine == "window" and self.engine.flows:
            self.window_mode = FlowWindowMode(self.engine)
            self.window_mode.start()


__all__ = ["CrossClusterStrategy", "KafkaClusterStrategy", "KafkaFamilyStrategy"]
