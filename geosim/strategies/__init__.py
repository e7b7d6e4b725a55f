"""Replication strategies, registered by name.

A strategy is one module with one class implementing :class:`~geosim.strategies.base.Strategy`.
"""

from __future__ import annotations

from geosim.strategies.base import Strategy


def registry() -> dict[str, type[Strategy]]:
    """Every available strategy by its scenario name."""
    from geosim.strategies.cluster_linking import ClusterLinkingStrategy
    from geosim.strategies.diskless import DisklessStrategy
    from geosim.strategies.mirrormaker2 import MirrorMaker2Strategy
    from geosim.strategies.observers import ObserversStrategy
    from geosim.strategies.stretch import StretchStrategy

    return {cls.name: cls for cls in (DisklessStrategy, StretchStrategy, ObserversStrategy,
                                      MirrorMaker2Strategy, ClusterLinkingStrategy)}


__all__ = ["Strategy", "registry"]
