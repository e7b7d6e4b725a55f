"""A shared-storage Kafka cluster in the style of AutoMQ: the ``shared-storage`` strategy.

The plug-in (entry point ``shared-storage`` of the ``geosim.strategies`` group): its spec
is imported here, the rest when first used (``docs/writing-a-strategy.md``).
"""

from __future__ import annotations

from geosim.scenario.plugins import StrategyPlugin
from geosim.strategies.shared_storage.spec import SharedStorageStrategySpec

PLUGIN = StrategyPlugin(
    name="shared-storage",
    description=("one Kafka-compatible cluster on shared storage (AutoMQ-style): leaders "
                 "write a WAL, upload it to object storage, fail over without copying"),
    spec=SharedStorageStrategySpec,
    model="geosim.strategies.shared_storage.model:SharedStorageStrategy",
    checks="geosim.strategies.shared_storage.checks:check",
    generator="geosim.strategies.shared_storage.generators:generator",
    probes=("geosim.strategies.shared_storage.probes:SharedStorageProbe",),
    helpers=("geosim.strategies.shared_storage.generators:shared_storage",),
    reference="geosim.strategies.shared_storage.reference:tables",
)

__all__ = ["PLUGIN", "SharedStorageStrategySpec"]
