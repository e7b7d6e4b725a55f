"""Edge aggregation: a fleet of small edge clusters replicating into a central cluster
over intermittent uplinks (issue 17 item 2), simulated as fluids by class of identical
sites: the ``edge`` strategy.

The plug-in (entry point ``edge`` of the ``geosim.strategies`` group): its spec is
imported here, the rest when first used (``docs/writing-a-strategy.md``). Modules: the
block (``spec``), Kafka configs of the sites and the fetch settings (``config``),
sites and classes (``fleet``), the uplink's throughput and lag (``uplink``), one site
as a fluid (``fluid``), the SimPy model (``model``) and its events (``events``),
scenario checks (``checks``), the report section (``section``: the fold and report
``report``, the plots ``plots``).
"""

from __future__ import annotations

from geosim.scenario.plugins import StrategyPlugin
from geosim.strategies.edge.spec import EdgeSpec

PLUGIN = StrategyPlugin(
    name="edge",
    description=("edge sites (from templates) replicating into a central cluster over "
                 "scheduled uplinks: backlog, loss to retention, staleness, catch-up"),
    spec=EdgeSpec,
    model="geosim.strategies.edge.model:EdgeStrategy",
    checks="geosim.strategies.edge.checks:check",
    reference="geosim.strategies.edge.config:reference_tables",
    sections=("geosim.strategies.edge.section:SECTION",),
)

__all__ = ["PLUGIN", "EdgeSpec"]
