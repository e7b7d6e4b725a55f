"""Independent clusters linked by Confluent Cluster Linking: the ``cluster-linking``
strategy.

The plug-in (entry point ``cluster-linking`` of the ``geosim.strategies`` group): its spec is
imported here, the rest when first used (``docs/writing-a-strategy.md``).
"""

from __future__ import annotations

from geosim.scenario.plugins import StrategyPlugin
from geosim.strategies.cluster_linking.spec import ClusterLinkingSpec

PLUGIN = StrategyPlugin(
    name="cluster-linking",
    description=("independent clusters linked by Cluster Linking: "
                 "offset-preserving mirror topics, consumer offset sync"),
    spec=ClusterLinkingSpec,
    model="geosim.strategies.cluster_linking.model:ClusterLinkingStrategy",
    checks="geosim.strategies.cluster_linking.checks:check",
    generator="geosim.strategies.cluster_linking.generators:generator",
    probes=("geosim.kafka.probes:KafkaProbe", "geosim.kafka.probes:CrossClusterProbe"),
    # the cross-cluster helper takes any cross-cluster strategy; its default is
    # mirrormaker2, so it lives in that package
    helpers=("geosim.strategies.mirrormaker2.generators:cross_cluster",),
    reference="geosim.strategies.cluster_linking.config:reference_tables",
)

__all__ = ["PLUGIN", "ClusterLinkingSpec"]
