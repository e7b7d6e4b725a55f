"""The ``strategy:`` block of the replicator strategy."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from geosim.kafka.spec import CrossClusterSpec
from geosim.scenario.sections import InstanceGroupSpec, Model
from geosim.scenario.types import described

if TYPE_CHECKING:
    from geosim.kafka.mirror_config import MirrorConfig
    from geosim.kafka.replicator import ReplicatorSettings

#: A Connect worker's instance type when ``connect.instance_type`` is not set: a
#: general-purpose 4 vCPU / 16 GiB VM per provider (assumption; only the AWS one is
#: priced in the bundled books, the others show as unpriced lines).
DEFAULT_WORKER_TYPE = {"aws": "m6i.xlarge", "gcp": "n2-standard-4",
                       "azure": "Standard_D4s_v5"}

#: Connect workers per Connect cluster (model bound).
MAX_WORKERS = 1000


class ConnectSpec(Model):
    """The Kafka Connect clusters that run the Replicator connectors."""

    side: Literal["destination", "source"] = described(
        "destination", "Where each flow's Connect cluster runs: in its destination region "
        "(consume remotely, produce locally) or in its source region. One Connect cluster "
        "per region that hosts flows.",
        source="docs.confluent.io/legacy/platform/4.1.3/connect/connect-replicator/docs/"
        "connect_replicator.html (the Connect cluster is typically in the destination "
        "datacenter)")
    workers: int = described(
        2, "Connect workers per Connect cluster, spread round-robin over the region's zones.",
        ge=1, le=MAX_WORKERS, source="assumption (two workers for fail-over)")
    instance_type: str | None = described(
        None, "Instance type of a worker, billed as the instance group `connect-workers` "
        "(`cost.deployment.instances` may name that group to override it). Default: "
        "m6i.xlarge (aws), n2-standard-4 (gcp), Standard_D4s_v5 (azure).",
        source="assumption (a general-purpose 4 vCPU / 16 GiB VM)")
    config: dict[str, str | int | float | bool] = described(
        {}, "Connect worker configs by key (`session.timeout.ms`, `heartbeat.interval.ms`, "
        "`scheduled.rebalance.max.delay.ms`, `offset.flush.interval.ms`). Keys and defaults: "
        "geosim/strategies/replicator/config.py.",
        source="apache/kafka DistributedConfig, WorkerConfig")


class ReplicatorSpec(CrossClusterSpec):
    """Confluent Replicator: Connect source connectors between independent clusters."""

    name: Literal["replicator"] = "replicator"
    mirror_config: dict[str, str | int | float | bool] = described(
        {}, "Replicator connector configs by key (`topic.rename.format`, "
        "`provenance.header.enable`, `topic.auto.create`, `topic.config.sync`, "
        "`offset.translator.tasks.max`, `tasks.max`, `src.consumer.*`, ...). Keys and "
        "defaults: geosim/strategies/replicator/config.py.",
        source="docs.confluent.io/platform/current/multi-dc-deployments/replicator/"
        "configuration_options.html")
    connect: ConnectSpec = described(ConnectSpec(), "The Connect workers.")

    def resolved_replicator(
            self, resolve: Callable[[ReplicatorSpec], tuple[MirrorConfig, ReplicatorSettings]],
    ) -> tuple[MirrorConfig, ReplicatorSettings]:
        """The connector and worker configs resolved by ``resolve`` (its errors are
        raised), once: the checks resolve them, a build reads them."""
        inputs = (f"{resolve.__module__}.{resolve.__qualname__}",
                  _comparable(self.mirror_config), _comparable(self.connect.config),
                  self.connect.workers, self.connect.side)
        return self._resolved.get("replicator", inputs, lambda: resolve(self))

    # --- where the Connect clusters run ------------------------------------------------
    def cluster_regions(self, regions: Sequence[str]) -> list[str]:
        """The regions that run a cluster (``clusters``, else those with brokers)."""
        if self.clusters:
            return list(self.clusters)
        if not self.brokers:
            return sorted(regions)
        return sorted({key if key in regions else key.rsplit("-", 1)[0]
                       for key, n in self.brokers.items() if n > 0})

    def flow_pairs(self, regions: Sequence[str]) -> list[tuple[str, str]]:
        """(source, target) of every flow: ``flows``, else the ``pattern``'s."""
        if self.flows:
            return [(f.source, f.target) for f in self.flows]
        clusters = self.cluster_regions(regions)
        primary = self.primary or (clusters[0] if clusters else "")
        others = [r for r in clusters if r != primary]
        if self.pattern == "active-active":
            return [(a, b) for a in clusters for b in clusters if a != b]
        if self.pattern == "hub-and-spoke":
            return [(r, primary) for r in others]
        return [(primary, r) for r in others]

    def connect_regions(self, regions: Sequence[str]) -> list[str]:
        """The regions that run a Connect cluster (``connect.side`` of every flow)."""
        side = 1 if self.connect.side == "destination" else 0
        return sorted({pair[side] for pair in self.flow_pairs(regions)})

    def worker_zones(self, zones: Mapping[str, Sequence[str]]) -> dict[str, int]:
        """Connect workers per zone id (``zones``: the topology's zone ids by region):
        each Connect cluster's workers round-robin over its region's zones."""
        out: dict[str, int] = {}
        for region in self.connect_regions(list(zones)):
            ids = list(zones.get(region, ()))
            for k in range(self.connect.workers if ids else 0):
                out[ids[k % len(ids)]] = out.get(ids[k % len(ids)], 0) + 1
        return out

    def billed_instances(self, provider: str, regions: Sequence[str]) -> list[InstanceGroupSpec]:
        """The Connect workers, ``connect.workers`` in each Connect cluster's region."""
        kind = self.connect.instance_type or DEFAULT_WORKER_TYPE.get(provider)
        if kind is None:
            return []
        counts = {region: self.connect.workers for region in self.connect_regions(regions)}
        return [InstanceGroupSpec(name="connect-workers", type=kind, count=counts)]


def _comparable(settings: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((name, repr(raw)) for name, raw in settings.items()))


__all__ = ["DEFAULT_WORKER_TYPE", "ConnectSpec", "ReplicatorSpec"]
