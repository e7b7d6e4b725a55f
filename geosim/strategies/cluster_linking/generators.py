"""Hypothesis generator of the cluster-linking strategy's block (for
:mod:`geosim.testing`); its configurations are built with ``cross_cluster("cluster-linking",
...)``, the cross-cluster helper of :mod:`geosim.strategies.mirrormaker2.generators`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from geosim.kafka.generators import cross_cluster_generator
from geosim.scenario.drafts import Bounds, Draft


def generator(draft: Draft, *, offset_lag_max: Bounds = (1, 100),
              mode: Sequence[str] = ("failover",), **bounds: Any) -> SearchStrategy[dict]:
    """The cluster-linking configuration generator (bounds as for ``cross_cluster``;
    ``offset_lag_max`` is MirrorMaker 2's and ignored): consumer offsets synced every
    drawn interval, a failover ``mode`` among ``mode``."""
    def mirror(_draw: Callable[[SearchStrategy], Any], interval: int) -> dict:
        return {"consumer.offset.sync.ms": interval * 1000}

    def failover(draw: Callable[[SearchStrategy], Any]) -> dict:
        return {"mode": draw(st.sampled_from(list(mode)))}

    return cross_cluster_generator(draft, strategy_name="cluster-linking", mirror=mirror,
                                   failover=failover, **bounds)


__all__ = ["generator"]
