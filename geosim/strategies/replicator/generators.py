"""Hypothesis generators of the replicator strategy's block (for :mod:`geosim.testing`):
the plug-in's registered generator and the public ``replicator(...)`` helper."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from geosim.kafka.generators import cross_cluster_generator
from geosim.scenario.drafts import Bounds, Draft, ordered


def replicator(*, pattern: Sequence[str] = ("active-passive", "active-active"),
               tasks: Bounds = (1, 4), workers: Bounds = (1, 3),
               rename: Sequence[str] = ("${topic}",), brokers_per_region: Bounds = (2, 3),
               rf: Bounds = (2, 2), min_insync: Bounds = (1, 1),
               detection_s: Bounds = (5, 15), decision_s: Bounds = (5, 20),
               checkpoint_s: Bounds = (5, 30),
               auto_offset_reset: Sequence[str] = ("earliest",),
               ) -> Callable[[Draft], SearchStrategy]:
    """Replicator configurations (domain.md §5) within bounds: a pair of clusters in the
    topology's first two regions, ``pattern`` among the given ones (the first region is
    the primary of an active-passive pair), provenance headers on, ``tasks.max`` within
    ``tasks``, ``connect.workers`` within ``workers``, ``topic.rename.format`` among
    ``rename``; ``checkpoint_s`` bounds ``offset.translator.batch.period.ms`` (in
    seconds); the rest as for ``cross_cluster``."""
    bounds: dict[str, Any] = dict(
        pattern=pattern, tasks=tasks, workers=workers, rename=rename,
        brokers_per_region=brokers_per_region, rf=rf, min_insync=min_insync,
        detection_s=detection_s, decision_s=decision_s, checkpoint_s=checkpoint_s,
        auto_offset_reset=auto_offset_reset)
    return lambda draft: generator(draft, **bounds)


def generator(draft: Draft, *, offset_lag_max: Bounds = (1, 100),
              mode: Sequence[str] = ("failover",),
              pattern: Sequence[str] = ("active-passive",), tasks: Bounds = (1, 4),
              workers: Bounds = (1, 3), rename: Sequence[str] = ("${topic}",),
              **bounds: Any) -> SearchStrategy[dict]:
    """The replicator configuration generator (bounds as for :func:`replicator`;
    ``offset_lag_max`` and ``mode`` are MirrorMaker 2's and Cluster Linking's and
    ignored)."""
    if not pattern or set(pattern) - {"active-passive", "active-active"}:
        raise ValueError(f"replicator(pattern): must name active-passive and/or "
                         f"active-active, got {list(pattern)}")

    def mirror(draw: Callable[[SearchStrategy], Any], interval: int) -> dict:
        return {"offset.translator.batch.period.ms": interval * 1000,
                "tasks.max": draw(st.integers(*ordered(tasks, "replicator(tasks)"))),
                "topic.rename.format": draw(st.sampled_from(list(rename))),
                "provenance.header.enable": True}

    base = cross_cluster_generator(draft, strategy_name="replicator", mirror=mirror,
                                   **bounds)

    @st.composite
    def build(draw) -> dict:
        out = draw(base)
        strategy = dict(out["strategy"])
        strategy["pattern"] = draw(st.sampled_from(list(pattern)))
        strategy["connect"] = {"workers": draw(st.integers(*ordered(
            workers, "replicator(workers)")))}
        return {**out, "strategy": strategy}

    return build()


__all__ = ["generator", "replicator"]
