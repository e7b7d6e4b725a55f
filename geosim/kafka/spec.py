"""The ``strategy:`` fields shared by the Kafka-family strategies: a Kafka cluster
(stretch, observers) and independent clusters linked by flows (mirrormaker2,
cluster-linking). Each strategy's own spec adds its ``name`` and what is its alone.

A spec also carries its Kafka-side configs once resolved (:meth:`KafkaSpec.broker_config`,
:meth:`CrossClusterSpec.resolved_mirror_config`): the scenario checks resolve them, and
the engine reads what the checks resolved instead of resolving again.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import Any, Literal, TypeVar

from pydantic import PrivateAttr

from geosim.kafka.config import BrokerConfig, resolve_broker_config
from geosim.kafka.mirror_config import MirrorConfig
from geosim.kafka.storage_spec import SharedStorageSpec
from geosim.scenario.sections import (
    MAX_BROKERS,
    MIN_SEND_TICK,
    Model,
    SimulationSpec,
    StrategySpecBase,
)
from geosim.scenario.types import Duration, described

T = TypeVar("T")


def _settings(settings: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """A mapping of Kafka settings as a comparable key (``1`` and ``true`` stay apart)."""
    return tuple(sorted((name, repr(raw)) for name, raw in settings.items()))


#: The send tick without ``strategy.append_interval`` or ``simulation.send_tick``: Kafka
#: 4.0's default ``linger.ms`` (figures.md K10).
DEFAULT_SEND_TICK = 0.005

#: KRaft controllers per cluster: quorums are 3 or 5 in practice (an odd majority), and
#: every commit waits for a majority, so more than 99 is no deployment.
MAX_VOTERS = 99


class Resolutions:
    """The configs a spec resolved, each kept with the inputs it was resolved from.

    :meth:`get` resolves on first use and again only when the inputs changed: a spec is
    frozen, but ``model_copy(update=...)`` shares this holder with a copy whose fields
    differ, and the topic configs come from the workload, outside the spec. A spec
    validated anew (``--set`` overrides, reloading) starts with an empty holder. Not part
    of the spec's value: any two holders compare equal, so a checked scenario equals an
    unchecked one.
    """

    def __init__(self) -> None:
        self.entries: dict[str, tuple[Hashable, Any]] = {}

    def get(self, what: str, inputs: Hashable, resolve: Callable[[], T]) -> T:
        entry = self.entries.get(what)
        if entry is None or entry[0] != inputs:
            entry = self.entries[what] = (inputs, resolve())
        return entry[1]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Resolutions)

    __hash__ = None  # type: ignore[assignment]


class KafkaSpec(StrategySpecBase):
    """Fields shared by the Kafka-broker strategies (domain.md §4 Kafka-style brokers)."""

    _resolved: Resolutions = PrivateAttr(default_factory=Resolutions)

    rack: Literal["zone", "region"] = described(
        "region", "What `broker.rack` names: the broker's zone or its region. Replicas are "
        "spread round-robin over racks, so a partition spans min(racks, RF) racks.",
        source="domain.md §4 (rack-aware placement)")
    replication_factor: int | None = described(
        None, "Replicas per partition (sync replicas). Default: the OMB driver's "
        "`replicationFactor`.", ge=1, le=MAX_BROKERS, source="figures.md §9 (OMB driver)")
    replica_placement: dict[str, int] = described(
        {}, "Explicit sync replica count per region or zone id (Confluent placement "
        "constraints); overrides rack-aware assignment and `replication_factor`.")
    fetch_from_follower: bool = described(
        False, "Consumers set `client.rack` and brokers use the rack-aware replica selector, "
        "so each consumer reads committed data from a replica in its rack (KIP-392).",
        source="figures.md C4; KIP-392")
    config: dict[str, str | int | float | bool] = described(
        {}, "Broker and topic configs by Kafka key (`min.insync.replicas`, "
        "`unclean.leader.election.enable`, `replica.lag.time.max.ms`, ...); "
        "`min.insync.replicas` defaults to the driver's `topicConfig`. Keys and defaults: "
        "geosim/kafka/config.py.", source="figures.md §5")
    append_interval: Duration | None = described(
        None, "Model granularity: a leader appends what its producers sent at most this "
        "often (one row per producer fleet and leader zone). Publish latency carries up to "
        "this much extra wait. Default: `simulation.send_tick` if set, else 5 ms, Kafka "
        "4.0's linger.ms. A coarser tick is the engine's fast mode for loss and "
        "availability (25 ms: 3x to 5x fewer CPU seconds; on the nine fault cases of "
        "tests/test_resolution.py loss, RPO and detection stayed within twice the tick's "
        "growth of the 5 ms results; latency tails and fault-phase latencies are not "
        "kept; docs/architecture.md, Resolution and fidelity). From 0.1 ms (linger.ms is "
        "whole milliseconds; 0.1 ms is already 10,000 sends a second per fleet and zone) "
        "to 1 s (produce timeouts and log housekeeping run once a second).", unit="s",
        ge=MIN_SEND_TICK, le=1.0,
        source="figures.md K10 (linger.ms 5 in 4.0); model assumption")
    page_cache_flush_age: Duration = described(
        30.0, "Kafka does not fsync each write: data appended less than this long ago is "
        "still in the page cache and is lost when a broker crashes uncleanly.", unit="s",
        source="figures.md K26; Linux vm.dirty_expire_centisecs default 3000 (assumption)")

    def send_tick(self, simulation: SimulationSpec) -> float:
        """The engine's send tick: ``append_interval`` if this block sets it, else the
        scenario's ``simulation.send_tick``, else :data:`DEFAULT_SEND_TICK`."""
        if self.append_interval is not None:
            return self.append_interval
        if simulation.send_tick is not None:
            return simulation.send_tick
        return DEFAULT_SEND_TICK

    def resolution(self, simulation: SimulationSpec) -> dict[str, float]:
        """The send tick, when it is coarser than the reference 5 ms (docs/architecture.md,
        "Resolution and fidelity"; a finer tick is not a loss of fidelity)."""
        tick = self.send_tick(simulation)
        return {"send_tick": tick} if tick > DEFAULT_SEND_TICK else {}

    def broker_config(self, topic_config: Mapping[str, str] | None = None) -> BrokerConfig:
        """``config`` over the driver's ``topicConfig`` over Kafka's defaults
        (:func:`~geosim.kafka.config.resolve_broker_config`, whose errors it raises),
        resolved once: the scenario checks resolve it, a build reads it."""
        topic = dict(topic_config or {})
        return self._resolved.get(
            "broker", (_settings(self.config), _settings(topic)),
            lambda: resolve_broker_config(self.config, topic))


class MirrorFlowSpec(Model):
    """One replication flow between two clusters."""

    source: str = described(..., "Region of the source cluster.")
    target: str = described(..., "Region of the target cluster.")


class FailoverSpec(Model):
    """How the clients of a lost cluster move to another (domain.md §5: a decision)."""

    enabled: bool = described(True, "Fail clients over when their cluster's region is out.")
    detection: Duration = described(
        30.0, "Time from the cluster becoming unreachable to the alert that says so.",
        unit="s", source="assumption (a monitoring scrape and alert window)")
    decision: Duration = described(
        60.0, "Time from the alert to the switch (operator or automation step).", unit="s",
        source="assumption")
    auto_offset_reset: Literal["earliest", "latest"] = described(
        "earliest", "Where a consumer starts in the new cluster when no translated offset "
        "exists for a partition (Kafka's `auto.offset.reset`; OMB's driver sets earliest).",
        source="figures.md K-consumer defaults; OMB driver-kafka")
    mode: Literal["failover", "promote"] = described(
        "failover", "Cluster Linking only: `failover` makes mirror topics writable at once; "
        "`promote` first waits for the mirror to catch up with the source (needs the "
        "source reachable).", source="domain.md §5 cluster-linking")


class CrossClusterSpec(KafkaSpec):
    """Independent single-region Kafka clusters linked by replication flows."""

    rack: Literal["zone", "region"] = described(
        "zone", "What `broker.rack` names inside each cluster (a cluster lives in one "
        "region, so the zone).", source="domain.md §5 (each cluster a single-region "
        "stretch across its zones)")
    clusters: list[str] = described(
        [], "Regions that run a cluster. Default: every region with brokers.")
    pattern: Literal["active-passive", "active-active", "hub-and-spoke"] = described(
        "active-passive", "`active-passive`: the primary mirrors to every other cluster and "
        "all clients use the primary; `active-active`: every cluster mirrors to every other "
        "and clients use their own region's cluster; `hub-and-spoke`: every other cluster "
        "mirrors to the primary (the hub), clients use their own region's cluster. "
        "Ignored when `flows` is set.", source="seeds 001, 003; domain.md §5")
    primary: str | None = described(
        None, "The active (or hub) cluster's region. Default: the first cluster.")
    flows: list[MirrorFlowSpec] = described(
        [], "Explicit flows (source, target); overrides `pattern`. Clients of a region "
        "with a cluster that receives no flow from the primary use their own cluster.")
    controller_voters: int = described(
        3, "KRaft controllers per cluster, over the zones of its region.", ge=1,
        le=MAX_VOTERS,
        source="figures.md K24 (3-voter quorum)")
    failover: FailoverSpec = described(FailoverSpec(), "Client failover.")
    migrate_at: Duration | None = described(
        None, "Planned cut-over (migration): at this time the primary's clients move to "
        "the first flow target as in a failover, without a fault.", unit="s")
    mirror_config: dict[str, str | int | float | bool] = described(
        {}, "Flow configs by key; each cross-cluster strategy has its own keys.")
    shared_storage: SharedStorageSpec | None = described(
        None, "Clusters on shared storage (AutoMQ-style, as the `shared-storage` "
        "strategy): the regions of `shared_storage.clusters` (default: every cluster) "
        "keep one replica per partition, a WAL per broker and uploads to the object "
        "store instead of ISR replication.", source="docs/shared-storage.md")

    def resolved_mirror_config(self, resolve: Callable[[Mapping[str, Any]], MirrorConfig],
                               ) -> MirrorConfig:
        """``mirror_config`` resolved by the strategy's ``resolve`` (its keys and
        defaults; its errors are raised), once: the scenario checks resolve it, a build
        reads it."""
        return self._resolved.get(
            "mirror", (f"{resolve.__module__}.{resolve.__qualname__}",
                       _settings(self.mirror_config)),
            lambda: resolve(self.mirror_config))

