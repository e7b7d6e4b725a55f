"""A strategy plug-in that lives outside geosim: every partition on one broker in one
zone, no replication (the least durable design, as a baseline).

It exists to prove the plug-in protocol (docs/writing-a-strategy.md): the tests put this
folder on the path, so the entry point in ``geosim_singlelog-0.1.0.dist-info`` registers
it, and run it through ``geosim run``, ``geosim compare`` and a claim search without any
file of ``geosim/`` naming it.
"""

from __future__ import annotations

from geosim.scenario.plugins import StrategyPlugin
from geosim_singlelog.spec import SingleLogSpec

PLUGIN = StrategyPlugin(
    name="single-log",
    description="every partition on one broker in one zone, no replication (a baseline)",
    spec=SingleLogSpec,
    model="geosim_singlelog.model:SingleLogStrategy",
    checks="geosim_singlelog.checks:check",
    generator="geosim_singlelog.generators:generator",
    probes=("geosim_singlelog.probes:HomeProbe",),
    helpers=("geosim_singlelog.generators:single_log",),
    reference="geosim_singlelog.reference:tables",
    sections=("geosim_singlelog.section:SECTION",),
)
