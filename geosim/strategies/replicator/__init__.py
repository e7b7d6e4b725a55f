"""Independent clusters linked by Confluent Replicator: the ``replicator`` strategy.

The plug-in (entry point ``replicator`` of the ``geosim.strategies`` group): its spec is
imported here, the rest when first used (``docs/writing-a-strategy.md``).
"""

from __future__ import annotations

from geosim.scenario.plugins import StrategyPlugin
from geosim.strategies.replicator.spec import ReplicatorSpec

PLUGIN = StrategyPlugin(
    name="replicator",
    description=("independent clusters linked by Confluent Replicator connectors on "
                 "Connect workers: kept topic names, provenance headers, timestamp "
                 "offset translation"),
    spec=ReplicatorSpec,
    model="geosim.strategies.replicator.model:ReplicatorStrategy",
    checks="geosim.strategies.replicator.checks:check",
    generator="geosim.strategies.replicator.generators:generator",
    probes=("geosim.kafka.probes:KafkaProbe", "geosim.kafka.probes:CrossClusterProbe",
            "geosim.strategies.replicator.probes:ReplicatorProbe"),
    # the cross-cluster helper takes any cross-cluster strategy; its default is
    # mirrormaker2, so it lives in that package
    helpers=("geosim.strategies.mirrormaker2.generators:cross_cluster",
             "geosim.strategies.replicator.generators:replicator"),
    reference="geosim.strategies.replicator.config:reference_tables",
)

__all__ = ["PLUGIN", "ReplicatorSpec"]
