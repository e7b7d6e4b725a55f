"""Independent clusters linked by MirrorMaker 2: the ``mirrormaker2`` strategy.

The plug-in (entry point ``mirrormaker2`` of the ``geosim.strategies`` group): its spec is
imported here, the rest when first used (``docs/writing-a-strategy.md``).
"""

from __future__ import annotations

from geosim.scenario.plugins import StrategyPlugin
from geosim.strategies.mirrormaker2.spec import MirrorMaker2Spec

PLUGIN = StrategyPlugin(
    name="mirrormaker2",
    description=("independent clusters linked by MirrorMaker 2 flows: "
                 "remote topics, offset syncs, checkpoints, failover"),
    spec=MirrorMaker2Spec,
    model="geosim.strategies.mirrormaker2.model:MirrorMaker2Strategy",
    checks="geosim.strategies.mirrormaker2.checks:check",
    generator="geosim.strategies.mirrormaker2.generators:generator",
    probes=("geosim.kafka.probes:KafkaProbe", "geosim.kafka.probes:CrossClusterProbe"),
    helpers=("geosim.strategies.mirrormaker2.generators:cross_cluster",),
    reference="geosim.strategies.mirrormaker2.config:reference_tables",
)

__all__ = ["PLUGIN", "MirrorMaker2Spec"]
