"""Independent Kafka clusters linked by Confluent Replicator (the cross-cluster engine
with Replicator's flows and their Connect workers).

Replicator behaves like MirrorMaker 2 where outcomes agree (a source connector that
consumes the source and produces to the destination, at least once), so the clusters,
clients, failover and metrics are those of :class:`~geosim.kafka.cross_cluster.
CrossCluster`. What differs has its own module: the flows
(:mod:`geosim.kafka.replicator_flow`: kept topic names, provenance headers, topic
creation and config sync), their offsets (:mod:`geosim.kafka.timestamp_translation`)
and the Connect workers that run them (:mod:`geosim.kafka.connect`). A Connect cluster
of ``connect.workers`` workers runs in every region that hosts a flow's tasks: the
flow's destination (Confluent's recommended deployment: consume remotely, produce
locally) or its source.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from geosim.kafka.connect import ConnectCluster, ConnectConfig
from geosim.kafka.cross_cluster import CrossCluster
from geosim.kafka.mirror_config import MirrorConfig
from geosim.kafka.replicator_flow import ReplicatorFlow

if TYPE_CHECKING:
    from geosim.kafka.world import KafkaWorld


@dataclass(frozen=True)
class ReplicatorSettings:
    """Replicator's own resolved configs (the engine's flow configs are a
    :class:`~geosim.kafka.mirror_config.MirrorConfig`). No defaults here: the
    strategy's key tables and spec hold them, once."""

    provenance_headers: bool                  # provenance.header.enable
    topic_auto_create: bool                   # topic.auto.create
    config_sync_interval: float | None        # topic.config.sync(.interval.ms); None: off
    translator_tasks: int                     # offset.translator.tasks.max
    worker_side: Literal["destination", "source"]
    connect: ConnectConfig


class ReplicatorClusters(CrossCluster):
    """Clusters, Replicator flows, their Connect clusters, and failover."""

    flow_type = ReplicatorFlow

    def __init__(self, world: KafkaWorld, *, mirror: MirrorConfig,
                 settings: ReplicatorSettings,
                 client_faults: Callable[[str, bool], None] | None = None):
        super().__init__(world, mirror=mirror, client_faults=client_faults)
        self.settings = settings
        topo = world.topology
        self.connect: dict[str, ConnectCluster] = {}
        self.replicator_flows: list[ReplicatorFlow] = []
        for flow in self.flows:
            assert isinstance(flow, ReplicatorFlow)
            side = flow.target if settings.worker_side == "destination" else flow.source
            cluster = self.connect.get(side.region)
            if cluster is None:
                cluster = self.connect[side.region] = ConnectCluster(
                    self.env, side.region, list(topo.zones(side.region)), settings.connect)
            first = len(cluster.tasks)
            cluster.add_connector(flow, flow.n, mirror.tasks)
            flow.zone = cluster.workers[cluster.tasks[first].home].zone
            flow.provenance = settings.provenance_headers
            flow.translator_tasks = settings.translator_tasks
            self.replicator_flows.append(flow)

    def start(self) -> None:
        super().start()
        for cluster in self.connect.values():
            cluster.start()
        for flow in self.replicator_flows:
            if self.settings.topic_auto_create:
                self.env.process(flow.run_topic_setup(self.settings.config_sync_interval))
            else:  # the operator created the destination topic beforehand
                flow.topic_exists()

    def zone_state(self, zone: str, up: bool, destroyed: bool = False) -> None:
        super().zone_state(zone, up, destroyed)
        for cluster in self.connect.values():
            cluster.zone_state(zone, up)

    def crash_workers(self, zone: str, count: int, up: bool) -> None:
        """``count`` Connect workers of ``zone`` crash or restart."""
        for cluster in self.connect.values():
            if zone in cluster.zones:
                cluster.crash_workers(zone, count, up)

    def worker_counts(self) -> dict[str, int]:
        """Connect workers per region (billed as instances)."""
        return {region: len(c.workers) for region, c in sorted(self.connect.items())}

    def counters(self) -> dict[str, int]:
        out: defaultdict[str, int] = defaultdict(int, super().counters())
        for cluster in self.connect.values():
            for key, value in cluster.counters().items():
                out[key] += value
        for flow in self.replicator_flows:
            out["replicator_config_syncs"] += flow.config_syncs
            out["replicator_provenance_skips"] += flow.skipped_by_provenance
            out["replicator_copied_back_records"] += flow.copied_back
            out["replicator_offset_translations"] += flow.timestamps.translations
        return dict(sorted(out.items()))


__all__ = ["ReplicatorClusters", "ReplicatorSettings"]
