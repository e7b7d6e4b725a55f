"""What the Kafka engine takes from the world it is built into.

The engine (:class:`~geosim.kafka.cluster.KafkaCluster`, and the cross-cluster model
built from several of them) is not a strategy: a strategy plug-in builds it from its
world, which has these parts (``geosim.strategies.base.World`` has them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from geosim.clients.workload import ResolvedWorkload
    from geosim.components.metadata_store import MetadataStore
    from geosim.components.object_store import ObjectStore
    from geosim.core.context import Context
    from geosim.scenario.schema import Scenario
    from geosim.world.network import Network
    from geosim.world.topology import Topology


class KafkaWorld(Protocol):
    """The shared infrastructure the engine uses, through public APIs only."""

    ctx: Context
    scenario: Scenario          # ``scenario.strategy`` is a Kafka-family spec
    topology: Topology
    network: Network
    metadata: MetadataStore     # the scenario's consensus store: a single cluster's KRaft
    object_store: ObjectStore   # the scenario's buckets (a shared-storage cluster's)
    workload: ResolvedWorkload


__all__ = ["KafkaWorld"]
