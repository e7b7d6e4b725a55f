"""Hypothesis generators of the observers strategy's block (for :mod:`geosim.testing`):
the plug-in's registered generator and the public ``observers(...)`` helper."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from hypothesis.strategies import SearchStrategy

from geosim.kafka.generators import kafka_cluster, kafka_cluster_generator
from geosim.scenario.drafts import Bounds, Draft


def observers(*, observers: Bounds = (1, 1),
              promotion: Sequence[str] = ("under-min-isr",), **bounds: Any,
              ) -> Callable[[Draft], SearchStrategy]:
    """Observer-cluster configurations (Confluent Multi-Region Clusters): those of
    ``stretch(...)`` (``bounds``) plus ``observers`` observers per broker region and an
    ``observer_promotion_policy`` among ``promotion``."""
    return kafka_cluster("observers", observers=observers, promotion=promotion, **bounds)


def generator(draft: Draft, **bounds: Any) -> SearchStrategy[dict]:
    """The observers configuration generator (bounds as for :func:`observers`)."""
    return kafka_cluster_generator(draft, strategy_name="observers", with_observers=True,
                                   **bounds)


__all__ = ["generator", "observers"]
