"""One Kafka cluster stretched over regions: the ``stretch`` strategy.

The plug-in (entry point ``stretch`` of the ``geosim.strategies`` group): its spec is
imported here, the rest when first used (``docs/writing-a-strategy.md``).
"""

from __future__ import annotations

from geosim.scenario.plugins import StrategyPlugin
from geosim.strategies.stretch.spec import StretchSpec

PLUGIN = StrategyPlugin(
    name="stretch",
    description=("one Kafka cluster stretched over regions: rack-aware "
                 "replicas, synchronous ISR replication, a KRaft quorum"),
    spec=StretchSpec,
    model="geosim.strategies.stretch.model:StretchStrategy",
    checks="geosim.kafka.checks:check_kafka",
    generator="geosim.strategies.stretch.generators:generator",
    probes=("geosim.kafka.probes:KafkaProbe",),
    helpers=("geosim.strategies.stretch.generators:stretch",),
    reference="geosim.kafka.reference:broker_config_tables",
)

__all__ = ["PLUGIN", "StretchSpec"]
