"""Hypothesis generators of the shared-storage strategy's block (for
:mod:`geosim.testing`): the plug-in's registered generator and the public
``shared_storage(...)`` helper."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from geosim.scenario import plugins
from geosim.scenario.drafts import Bounds, Draft, ordered, regions_of, zones_of


def shared_storage(*, brokers_per_zone: Bounds = (1, 2), wal: Sequence[str] = ("block",),
                   upload_interval_s: Bounds = (5, 60), acks: Sequence[str] = ("all",),
                   request_timeout_ms: int = 30000, append_interval_ms: int | None = None,
                   ) -> Callable[[Draft], SearchStrategy]:
    """Shared-storage cluster configurations within bounds (the plug-in's generator)."""
    bounds = dict(brokers_per_zone=brokers_per_zone, wal=wal,
                  upload_interval_s=upload_interval_s, acks=acks,
                  request_timeout_ms=request_timeout_ms,
                  append_interval_ms=append_interval_ms)
    return lambda draft: plugins.plugin("shared-storage").load("generator")(draft, **bounds)


def generator(draft: Draft, *, brokers_per_zone: Bounds = (1, 2),
              wal: Sequence[str] = ("block",), upload_interval_s: Bounds = (5, 60),
              acks: Sequence[str] = ("all",), request_timeout_ms: int = 30000,
              append_interval_ms: int | None = None) -> SearchStrategy[dict]:
    """One shared-storage cluster in the topology's first region (AutoMQ deploys one
    region over its zones): ``brokers_per_zone`` brokers in each of its zones, a WAL
    kind among ``wal`` (``block``, ``object``), ``s3.wal.upload.interval.ms`` within
    ``upload_interval_s`` seconds, a regional bucket and a KRaft quorum in that region,
    clients there, producers with ``acks`` among ``acks``; ``append_interval_ms``: the
    engine's resolution (``strategy.append_interval``; coarser is cheaper to search),
    default unset: ``simulation.send_tick`` (``simulations(send_tick=...)``), else 5 ms."""
    region = regions_of(draft)[0]
    zones = zones_of(draft, region)
    for kind in wal:
        if kind not in ("block", "object"):
            raise ValueError(f"shared_storage: wal must be among ('block', 'object'), "
                             f"got {kind!r}")

    @st.composite
    def build(draw) -> dict:
        per_zone = draw(st.integers(*ordered(brokers_per_zone,
                                              "shared_storage(brokers_per_zone)")))
        interval = draw(st.integers(*ordered(upload_interval_s,
                                              "shared_storage(upload_interval_s)")))
        storage: dict[str, Any] = {
            "wal": draw(st.sampled_from(list(wal))),
            "config": {"s3.wal.upload.interval.ms": interval * 1000}}
        strategy: dict[str, Any] = {"name": "shared-storage",
                                    "brokers": {z: per_zone for z in zones},
                                    "storage": storage}
        if append_interval_ms is not None:
            strategy["append_interval"] = f"{append_interval_ms}ms"
        return {"strategy": strategy,
                "object_store": {"kind": "regional", "regions": [region]},
                "metadata": {"preset": "kraft", "regions": [region]},
                "client_regions": [region],
                "producer_config": {"acks": draw(st.sampled_from(list(acks))),
                                    "request.timeout.ms": request_timeout_ms}}

    return build()


__all__ = ["generator", "shared_storage"]
