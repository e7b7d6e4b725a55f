"""Hypothesis generators of the mirrormaker2 strategy's block (for :mod:`geosim.testing`):
the plug-in's registered generator and the public ``cross_cluster(...)`` helper, whose
default strategy is this one."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from geosim.kafka.generators import cross_cluster_generator, cross_cluster_of
from geosim.scenario.drafts import Bounds, Draft, ordered


def cross_cluster(name: str = "mirrormaker2", *, brokers_per_region: Bounds = (2, 3),
                  rf: Bounds = (2, 2), min_insync: Bounds = (1, 1),
                  detection_s: Bounds = (5, 15), decision_s: Bounds = (5, 20),
                  checkpoint_s: Bounds = (5, 30), offset_lag_max: Bounds = (1, 100),
                  auto_offset_reset: Sequence[str] = ("earliest",),
                  mode: Sequence[str] = ("failover",),
                  ) -> Callable[[Draft], SearchStrategy]:
    """Cross-cluster configurations (``mirrormaker2`` or ``cluster-linking``, domain.md
    §5, §8) within bounds: an active-passive pair, a cluster in each of the topology's
    first two regions, the first primary, clients in both. ``checkpoint_s`` bounds
    ``emit.checkpoints.interval.seconds`` (MirrorMaker 2) or ``consumer.offset.sync.ms``
    (Cluster Linking, in seconds); ``offset_lag_max`` MirrorMaker 2's ``offset.lag.max``;
    ``detection_s`` and ``decision_s`` the failover's delays; ``mode`` Cluster
    Linking's failover modes to choose from. ``name`` may be any cross-cluster
    strategy's plug-in (:func:`~geosim.kafka.generators.cross_cluster_of`)."""
    return cross_cluster_of(name, brokers_per_region=brokers_per_region, rf=rf,
                            min_insync=min_insync, detection_s=detection_s,
                            decision_s=decision_s, checkpoint_s=checkpoint_s,
                            offset_lag_max=offset_lag_max,
                            auto_offset_reset=auto_offset_reset, mode=mode)


def generator(draft: Draft, *, offset_lag_max: Bounds = (1, 100),
              mode: Sequence[str] = ("failover",), **bounds: Any) -> SearchStrategy[dict]:
    """The mirrormaker2 configuration generator (bounds as for :func:`cross_cluster`;
    ``mode`` is Cluster Linking's and ignored): checkpoints every drawn interval, and
    an ``offset.lag.max`` within ``offset_lag_max``."""
    def mirror(draw: Callable[[SearchStrategy], Any], interval: int) -> dict:
        return {"emit.checkpoints.interval.seconds": interval,
                "offset.lag.max": draw(st.integers(*ordered(
                    offset_lag_max, "mirrormaker2(offset_lag_max)")))}

    return cross_cluster_generator(draft, strategy_name="mirrormaker2", mirror=mirror,
                                   **bounds)


__all__ = ["cross_cluster", "generator"]
