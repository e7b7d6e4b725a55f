"""A stretch cluster with asynchronous observers (Confluent Multi-Region Clusters): the
``observers`` strategy.

The plug-in (entry point ``observers`` of the ``geosim.strategies`` group): its spec is
imported here, the rest when first used (``docs/writing-a-strategy.md``).
"""

from __future__ import annotations

from geosim.scenario.plugins import StrategyPlugin
from geosim.strategies.observers.spec import ObserversSpec

PLUGIN = StrategyPlugin(
    name="observers",
    description=("stretch cluster plus asynchronous observer replicas "
                 "and automatic observer promotion (Confluent MRC)"),
    spec=ObserversSpec,
    model="geosim.strategies.observers.model:ObserversStrategy",
    checks="geosim.strategies.observers.checks:check",
    generator="geosim.strategies.observers.generators:generator",
    probes=("geosim.kafka.probes:KafkaProbe",),
    helpers=("geosim.strategies.observers.generators:observers",),
    reference="geosim.kafka.reference:broker_config_tables",
)

__all__ = ["PLUGIN", "ObserversSpec"]
