"""Replication strategies, one package each, found through the plug-in registry.

Each package (``diskless``, ``stretch``, ``observers``, ``mirrormaker2``,
``cluster_linking``) holds its scenario spec, checks, model, generators and probes, and
exports its :class:`~geosim.scenario.plugins.StrategyPlugin` as ``PLUGIN``, declared as an
entry point of the ``geosim.strategies`` group. This module imports nothing: plug-ins are
loaded while the scenario schema is built, before the strategy models can be imported.
"""

from __future__ import annotations

from typing import Any


def registry() -> dict[str, Any]:
    """Every available strategy's model class (a :class:`~geosim.strategies.base.Strategy`
    subclass) by its scenario name."""
    from geosim.scenario.plugins import plugins

    return {name: found.load("model") for name, found in plugins().items()}


__all__ = ["registry"]
