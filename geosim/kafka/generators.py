"""Hypothesis generators of the Kafka-family strategy blocks, for :mod:`geosim.testing`.

Two families, each parameterised by what its strategies make different:
:func:`kafka_cluster_generator` (one Kafka cluster over regions, with or without
observer replicas) and :func:`cross_cluster_generator` (an active-passive pair of
clusters linked by a flow, with the strategy's own flow configs and failover fields).
Each strategy package's ``generators`` module holds its plug-in's registered generator
(``generator(draft, **bounds)``) and its public helpers, which build on
:func:`kafka_cluster` and :func:`cross_cluster_of`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from geosim.kafka.spec import CrossClusterSpec
from geosim.scenario import plugins
from geosim.scenario.drafts import Bounds, Draft, ordered, regions_of

#: Controller (KRaft voter) layouts of :func:`kafka_cluster`: ``all-regions``: the
#: ``kraft`` preset over every region of the topology (a region without brokers is a
#: third site); ``broker-regions``: ``kraft`` over the broker regions only;
#: ``majority-in-one``: two voters in the first broker region and one in the second
#: (custom voters).
CONTROLLER_LAYOUTS = ("all-regions", "broker-regions", "majority-in-one")

#: ``mirror(draw, interval)``: a strategy's ``strategy.mirror_config`` for a drawn
#: offset-translation interval (in seconds).
MirrorDraw = Callable[[Callable[[SearchStrategy], Any], int], dict]
#: ``failover(draw)``: the strategy's own fields of ``strategy.failover``.
FailoverDraw = Callable[[Callable[[SearchStrategy], Any]], dict]


def _by_plugin(name: str, bounds: dict[str, Any]) -> Callable[[Draft], SearchStrategy]:
    """The configurations of plug-in ``name``'s generator within ``bounds``."""
    return lambda draft: plugins.plugin(name).load("generator")(draft, **bounds)


def kafka_cluster(name: str, *, broker_regions: Bounds = (3, 3),
                  brokers_per_region: Bounds = (1, 2), rack: Sequence[str] = ("region",),
                  rf: Bounds = (3, 3), min_insync: Bounds = (2, 2),
                  acks: Sequence[str] = ("all",), unclean: Sequence[bool] = (False,),
                  controllers: Sequence[str] = ("all-regions",),
                  request_timeout_ms: int = 30000, observers: Bounds = (0, 0),
                  promotion: Sequence[str] = ("under-min-isr",),
                  ) -> Callable[[Draft], SearchStrategy]:
    """Configurations of the Kafka-cluster strategy ``name`` (its plug-in's generator,
    built on :func:`kafka_cluster_generator`) within bounds; the bounds are those of
    :func:`kafka_cluster_generator`."""
    return _by_plugin(name, dict(
        broker_regions=broker_regions, brokers_per_region=brokers_per_region, rack=rack,
        rf=rf, min_insync=min_insync, acks=acks, unclean=unclean, controllers=controllers,
        request_timeout_ms=request_timeout_ms, observers=observers, promotion=promotion))


def kafka_cluster_generator(draft: Draft, *, strategy_name: str,
                            with_observers: bool = False, broker_regions: Bounds = (3, 3),
                            brokers_per_region: Bounds = (1, 2),
                            rack: Sequence[str] = ("region",), rf: Bounds = (3, 3),
                            min_insync: Bounds = (2, 2), acks: Sequence[str] = ("all",),
                            unclean: Sequence[bool] = (False,),
                            controllers: Sequence[str] = ("all-regions",),
                            request_timeout_ms: int = 30000, observers: Bounds = (0, 0),
                            promotion: Sequence[str] = ("under-min-isr",),
                            ) -> SearchStrategy[dict]:
    """Kafka-cluster configurations (domain.md §4, §8) of strategy ``strategy_name``.

    Brokers go in the first ``broker_regions`` regions of the topology (so a topology
    with more regions leaves the rest as controller-only third sites); ``rack``:
    ``broker.rack`` choices; ``rf`` and ``min_insync`` bound ``replication_factor`` and
    ``min.insync.replicas``; ``acks`` and ``unclean``
    (``unclean.leader.election.enable``) are choices; ``controllers``: layouts of
    the KRaft quorum (:data:`CONTROLLER_LAYOUTS`). The producers get ``acks`` and a
    ``request.timeout.ms`` of ``request_timeout_ms`` (the bundled kafka-latency driver's
    20 minutes would outlast any run). ``with_observers``: ``observers`` observers per
    broker region (``observer_placement``) and an ``observer_promotion_policy`` among
    ``promotion``; without, those two bounds are ignored.
    """
    regions = regions_of(draft)
    for layout in controllers:
        if layout not in CONTROLLER_LAYOUTS:
            raise ValueError(f"{strategy_name}: controllers must be among "
                             f"{CONTROLLER_LAYOUTS}, got {layout!r}")

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
        if with_observers:
            olo, ohi = ordered(observers, f"{strategy_name}(observers)")
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


def cross_cluster_of(name: str, *, brokers_per_region: Bounds = (2, 3), rf: Bounds = (2, 2),
                     min_insync: Bounds = (1, 1), detection_s: Bounds = (5, 15),
                     decision_s: Bounds = (5, 20), checkpoint_s: Bounds = (5, 30),
                     offset_lag_max: Bounds = (1, 100),
                     auto_offset_reset: Sequence[str] = ("earliest",),
                     mode: Sequence[str] = ("failover",),
                     ) -> Callable[[Draft], SearchStrategy]:
    """Configurations of the cross-cluster strategy ``name`` (a plug-in whose spec is a
    :class:`~geosim.kafka.spec.CrossClusterSpec`; its generator is built on
    :func:`cross_cluster_generator`) within bounds: ``checkpoint_s`` bounds the interval
    of offset translation, ``offset_lag_max`` and ``mode`` are for the strategies that
    have them (MirrorMaker 2's ``offset.lag.max``, Cluster Linking's failover modes), the
    rest as for :func:`cross_cluster_generator`."""
    found = plugins.plugins()
    known = sorted(n for n, p in found.items()
                   if issubclass(p.spec, CrossClusterSpec) and p.generator is not None)
    if name not in known:
        raise ValueError(f"cross_cluster: name must be {' or '.join(known)}, got {name!r}")
    return _by_plugin(name, dict(
        brokers_per_region=brokers_per_region, rf=rf, min_insync=min_insync,
        detection_s=detection_s, decision_s=decision_s, checkpoint_s=checkpoint_s,
        offset_lag_max=offset_lag_max, auto_offset_reset=auto_offset_reset, mode=mode))


def cross_cluster_generator(draft: Draft, *, strategy_name: str, mirror: MirrorDraw,
                            failover: FailoverDraw | None = None,
                            brokers_per_region: Bounds = (2, 3), rf: Bounds = (2, 2),
                            min_insync: Bounds = (1, 1), detection_s: Bounds = (5, 15),
                            decision_s: Bounds = (5, 20), checkpoint_s: Bounds = (5, 30),
                            auto_offset_reset: Sequence[str] = ("earliest",),
                            ) -> SearchStrategy[dict]:
    """Cross-cluster configurations (domain.md §5, §8) of strategy ``strategy_name``: an
    active-passive pair, a cluster in each of the topology's first two regions, the
    first primary, clients in both. ``checkpoint_s`` bounds the offset-translation
    interval that ``mirror(draw, interval)`` turns into the strategy's
    ``mirror_config``; ``failover(draw)`` adds the strategy's own failover fields;
    ``detection_s`` and ``decision_s`` bound the failover's delays."""
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
        mirror_config = mirror(draw, interval)
        fo: dict[str, Any] = {
            "detection": f"{draw(st.integers(*ordered(detection_s, 'detection_s')))}s",
            "decision": f"{draw(st.integers(*ordered(decision_s, 'decision_s')))}s",
            "auto_offset_reset": draw(st.sampled_from(list(auto_offset_reset)))}
        if failover is not None:
            fo.update(failover(draw))
        strategy = {"name": strategy_name, "brokers": {r: per_region for r in pair},
                    "pattern": "active-passive", "primary": pair[0],
                    "replication_factor": factor,
                    "config": {"min.insync.replicas": draw(st.integers(
                        min(mlo, factor), min(mhi, factor)))},
                    "mirror_config": mirror_config, "failover": fo}
        return {"strategy": strategy,
                "object_store": {"kind": "regional", "regions": pair[:1]},
                "metadata": {"preset": "kraft", "regions": pair[:1]},
                "client_regions": list(pair)}

    return build()


__all__ = ["CONTROLLER_LAYOUTS", "FailoverDraw", "MirrorDraw", "cross_cluster_generator",
           "cross_cluster_of", "kafka_cluster", "kafka_cluster_generator"]
