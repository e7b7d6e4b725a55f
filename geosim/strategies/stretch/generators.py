"""Hypothesis generators of the stretch strategy's block (for :mod:`geosim.testing`):
the plug-in's registered generator and the public ``stretch(...)`` helper."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from hypothesis.strategies import SearchStrategy

from geosim.kafka.generators import kafka_cluster, kafka_cluster_generator
from geosim.scenario.drafts import Bounds, Draft


def stretch(*, broker_regions: Bounds = (3, 3), brokers_per_region: Bounds = (1, 2),
            rack: Sequence[str] = ("region",), rf: Bounds = (3, 3),
            min_insync: Bounds = (2, 2), acks: Sequence[str] = ("all",),
            unclean: Sequence[bool] = (False,), controllers: Sequence[str] = ("all-regions",),
            request_timeout_ms: int = 30000, name: str = "stretch",
            observers: Bounds = (0, 0), promotion: Sequence[str] = ("under-min-isr",),
            ) -> Callable[[Draft], SearchStrategy]:
    """Kafka stretch-cluster configurations (domain.md §4, §8) within bounds.

    Brokers go in the first ``broker_regions`` regions of the topology (so a topology
    with more regions leaves the rest as controller-only third sites); ``rack``:
    ``broker.rack`` choices; ``rf`` and ``min_insync`` bound ``replication_factor`` and
    ``min.insync.replicas``; ``acks`` and ``unclean``
    (``unclean.leader.election.enable``) are choices; ``controllers``: layouts of
    the KRaft quorum (:data:`~geosim.kafka.generators.CONTROLLER_LAYOUTS`). The producers
    get ``acks`` and a ``request.timeout.ms`` of ``request_timeout_ms`` (the bundled
    kafka-latency driver's 20 minutes would outlast any run). ``name="observers"`` with
    ``observers`` bounds adds that many observers per broker region and a ``promotion``
    policy (any Kafka-cluster strategy's plug-in by its name).
    """
    return kafka_cluster(name, broker_regions=broker_regions,
                         brokers_per_region=brokers_per_region, rack=rack, rf=rf,
                         min_insync=min_insync, acks=acks, unclean=unclean,
                         controllers=controllers, request_timeout_ms=request_timeout_ms,
                         observers=observers, promotion=promotion)


def generator(draft: Draft, **bounds: Any) -> SearchStrategy[dict]:
    """The stretch configuration generator (bounds as for :func:`stretch`; observer
    bounds are ignored)."""
    return kafka_cluster_generator(draft, strategy_name="stretch", **bounds)


__all__ = ["generator", "stretch"]
