"""Cluster Linking: independent clusters linked by offset-preserving mirror topics.

The destination cluster fetches from the source and writes byte-for-byte copies at the
same offsets into read-only mirror topics; consumer group offsets are copied every
``consumer.offset.sync.ms``. Failover makes the mirror topics writable (``failover``
at once, ``promote`` after the mirror caught up with a reachable source); RPO is the
mirror's lag at failure. The model is the cross-cluster engine,
:mod:`geosim.kafka.cross_cluster`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from geosim.kafka.mirror_config import MirrorConfig
from geosim.strategies.cluster_linking import config
from geosim.strategies.kafka_family import CrossClusterStrategy


class ClusterLinkingStrategy(CrossClusterStrategy):
    name: ClassVar[str] = "cluster-linking"

    def mirror_config(self, spec: Any) -> MirrorConfig:
        return config.mirror_config(spec)


__all__ = ["ClusterLinkingStrategy"]
