"""Diskless brokers on object storage (Bufstream, WarpStream): the ``diskless`` strategy.

The plug-in (entry point ``diskless`` of the ``geosim.strategies`` group): its spec is
imported here, the rest when first used (``docs/writing-a-strategy.md``).
"""

from __future__ import annotations

from geosim.scenario.plugins import StrategyPlugin
from geosim.strategies.diskless.spec import DisklessSpec

PLUGIN = StrategyPlugin(
    name="diskless",
    description=("stateless zone-local brokers writing to object storage "
                 "(Bufstream, WarpStream); one replicated bucket or a "
                 "write quorum of regional buckets"),
    spec=DisklessSpec,
    model="geosim.strategies.diskless.model:DisklessStrategy",
    checks="geosim.strategies.diskless.checks:check",
    generator="geosim.strategies.diskless.generators:generator",
    probes=("geosim.strategies.diskless.probes:ReplicationWindowProbe",),
    helpers=("geosim.strategies.diskless.generators:diskless",),
)

__all__ = ["PLUGIN", "DisklessSpec"]
