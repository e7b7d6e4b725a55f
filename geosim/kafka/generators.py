"""Hypothesis generators of the Kafka-family strategy blocks (stretch, observers,
mirrormaker2, cluster-linking), for :mod:`geosim.testing`.

Each public function takes bounds and returns a draft strategy of configurations; the
``*_generator`` functions are the plug-ins' registered generators
(``generator(draft, **bounds)``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from geosim.scenario.drafts import Bounds, Draft, ordered, regions_of

#: Controller (KRaft voter) layouts of :func:`stretch`: ``all-regions``: the ``kraft``
#: preset over every region of the topology (a region without brokers is a third site);
#: ``broker-regions``: ``kraft`` over the broker regions only; ``majority-in-one``: two
#: voters in the first broker region and one in the second (custom voters).
CONTROLLER_LAYOUTS = ("all-regions", "broker-regions", "majority-in-one")


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
    the KRaft quorum (:data:`CONTROLLER_LAYOUTS`). The producers get ``acks`` and a
    ``request.timeout.ms`` of ``request_timeout_ms`` (the bundled kafka-latency driver's
    20 minutes would outlast any run). ``name="observers"`` with ``observers`` bounds
    adds that many observers per broker region and a ``promotion`` policy.
    """
    bounds = dict(broker_regions=broker_regions, brokers_per_region=brokers_per_region,
                  rack=rack, rf=rf, min_insync=min_insync, acks=acks, unclean=unclean,
                  controllers=controllers, request_timeout_ms=request_timeout_ms,
                  observers=observers, promotion=promotion)
    return lambda draft: stretch_generator(draft, strategy_name=name, **bounds)


def observers(*, observers: Bounds = (1, 1),
              promotion: Sequence[str] = ("under-min-isr",), **bounds: Any,
              ) -> Callable[[Draft], SearchStrategy]:
    """Observer-cluster configurations (Confluent Multi-Region Clusters): those of
    :func:`stretch` (``bounds``) plus ``observers`` observers per broker region and an
    ``observer_promotion_policy`` among ``promotion``."""
    return stretch(name="observers", observers=observers, promotion=promotion, **bounds)


def stretch_generator(draft: Draft, *, broker_regions: Bounds = (3, 3),
                       brokers_per_region: Bounds = (1, 2),
                       rack: Sequence[str] = ("region",), rf: Bounds = (3, 3),
                       min_insync: Bounds = (2, 2), acks: Sequence[str] = ("all",),
                       unclean: Sequence[bool] = (False,),
                       controllers: Sequence[str] = ("all-regions",),
                       request_timeout_ms: int = 30000, observers: Bounds = (0, 0),
                       promotion: Sequence[str] = ("under-min-isr",),
                       strategy_name: str = "stretch") -> SearchStrategy[dict]:
    regions = regions_of(draft)
    for layout in controllers:
        if layout not in CONTROLLER_LAYOUTS:
            raise ValueError(f"stretch: controllers must be among {CONTROLLER_LAYOUTS}, "
                             f"got {layout!r}")

    @st.composite
    def build(draw) -> dict:
        lo, hi = ordered(broker_regions, f"{strategy_name}(broker_regions)")
        hi = min(hi, len(regions))
        if lo > hi:
            raise ValueError(f"{strategy_name}: {lo} broker regions asked for, the "
                             f"topology has {len(regions)}")
        chosen = regions[:draw(st.integers(lo, hi))]
        per_region = draw(st.integers(*ordered(brokers_per_region,
                                                f"{strategy_name}(brokers_per_region)")))
        strategy: dict[str, Any] = {"name": strategy_name,
                                    "brokers": {r: per_region for r in chosen},
                                    "rack": draw(st.sampled_from(list(rack)))}
        total = per_region * len(chosen)
        rlo, rhi = ordered(rf, f"{strategy_name}(rf)")
        factor = draw(st.integers(min(rlo, total), min(rhi, total)))
        strategy["replication_factor"] = factor
        mlo, mhi = ordered(min_insync, f"{strategy_name}(min_insync)")
        config: dict[str, Any] = {
            "min.insync.replicas": draw(st.integers(min(mlo, factor), min(mhi, factor)))}
        if draw(st.sampled_from(list(unclean))):
            config["unclean.leader.election.enable"] = True
        strategy["config"] = config
        if strategy_name == "observers":
            olo, ohi = ordered(observers, "observers(observers)")
            count = draw(st.integers(olo, ohi))
            if count:
                strategy["observer_placement"] = {r: count for r in chosen}
            strategy["observer_promotion_policy"] = draw(st.sampled_from(list(promotion)))
        layout = draw(st.sampled_from(list(controllers)))
        if layout == "majority-in-one" and len(chosen) >= 2:
            meta: dict[str, Any] = {"preset": "custom", "voters": [
                {"region": chosen[0], "count": 2}, {"region": chosen[1], "count": 1}]}
        elif layout == "broker-regions":
            meta = {"preset": "kraft", "regions": list(chosen)}
        else:
            meta = {"preset": "kraft", "regions": list(regions)}
        return {"strategy": strategy,
                "object_store": {"kind": "regional", "regions": chosen[:1]},
                "metadata": meta, "client_regions": list(chosen),
                "producer_config": {"acks": draw(st.sampled_from(list(acks))),
                                    "request.timeout.ms": request_timeout_ms}}

    return build()


def observers_generator(draft: Draft, **bounds: Any) -> SearchStrategy[dict]:
    """The observers configuration generator (bounds as for :func:`observers`)."""
    return stretch_generator(draft, strategy_name="observers", **bounds)


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
    Linking's failover modes to choose from."""
    if name not in ("mirrormaker2", "cluster-linking"):
        raise ValueError(f"cross_cluster: name must be mirrormaker2 or cluster-linking, "
                         f"got {name!r}")
    bounds = dict(brokers_per_region=brokers_per_region, rf=rf, min_insync=min_insync,
                  detection_s=detection_s, decision_s=decision_s, checkpoint_s=checkpoint_s,
                  offset_lag_max=offset_lag_max, auto_offset_reset=auto_offset_reset,
                  mode=mode)
    return lambda draft: cross_cluster_generator(draft, strategy_name=name, **bounds)


def cross_cluster_generator(draft: Draft, *, strategy_name: str = "mirrormaker2",
                            brokers_per_region: Bounds = (2, 3), rf: Bounds = (2, 2),
                            min_insync: Bounds = (1, 1), detection_s: Bounds = (5, 15),
                            decision_s: Bounds = (5, 20), checkpoint_s: Bounds = (5, 30),
                            offset_lag_max: Bounds = (1, 100),
                            auto_offset_reset: Sequence[str] = ("earliest",),
                            mode: Sequence[str] = ("failover",)) -> SearchStrategy[dict]:
    """The cross-cluster configuration generator (bounds as for :func:`cross_cluster`)."""
    regions = regions_of(draft)
    if len(regions) < 2:
        raise ValueError(f"{strategy_name}: needs a topology of at least 2 regions")
    pair = regions[:2]

    @st.composite
    def build(draw) -> dict:
        per_region = draw(st.integers(*ordered(brokers_per_region,
                                                f"{strategy_name}(brokers_per_region)")))
        rlo, rhi = ordered(rf, f"{strategy_name}(rf)")
        factor = draw(st.integers(min(rlo, per_region), min(rhi, per_region)))
        mlo, mhi = ordered(min_insync, f"{strategy_name}(min_insync)")
        interval = draw(st.integers(*ordered(checkpoint_s, f"{strategy_name}(checkpoint_s)")))
        if strategy_name == "mirrormaker2":
            mirror: dict[str, Any] = {
                "emit.checkpoints.interval.seconds": interval,
                "offset.lag.max": draw(st.integers(*ordered(
                    offset_lag_max, "mirrormaker2(offset_lag_max)")))}
        else:
            mirror = {"consumer.offset.sync.ms": interval * 1000}
        failover: dict[str, Any] = {
            "detection": f"{draw(st.integers(*ordered(detection_s, 'detection_s')))}s",
            "decision": f"{draw(st.integers(*ordered(decision_s, 'decision_s')))}s",
            "auto_offset_reset": draw(st.sampled_from(list(auto_offset_reset)))}
        if strategy_name == "cluster-linking":
            failover["mode"] = draw(st.sampled_from(list(mode)))
        strategy = {"name": strategy_name, "brokers": {r: per_region for r in pair},
                    "pattern": "active-passive", "primary": pair[0],
                    "replication_factor": factor,
                    "config": {"min.insync.replicas": draw(st.integers(
                        min(mlo, factor), min(mhi, factor)))},
                    "mirror_config": mirror, "failover": failover}
        return {"strategy": strategy,
                "object_store": {"kind": "regional", "regions": pair[:1]},
                "metadata": {"preset": "kraft", "regions": pair[:1]},
                "client_regions": list(pair)}

    return build()


def mirrormaker2_generator(draft: Draft, **bounds: Any) -> SearchStrategy[dict]:
    """The mirrormaker2 configuration generator (bounds as for :func:`cross_cluster`)."""
    return cross_cluster_generator(draft, strategy_name="mirrormaker2", **bounds)


def cluster_linking_generator(draft: Draft, **bounds: Any) -> SearchStrategy[dict]:
    """The cluster-linking configuration generator (bounds as for :func:`cross_cluster`)."""
    return cross_cluster_generator(draft, strategy_name="cluster-linking", **bounds)
