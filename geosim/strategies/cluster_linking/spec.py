"""The ``strategy:`` block of the cluster-linking strategy."""

from __future__ import annotations

from typing import Literal

from geosim.kafka.spec import CrossClusterSpec
from geosim.scenario.types import described


class ClusterLinkingSpec(CrossClusterSpec):
    """Confluent Cluster Linking: offset-preserving, read-only mirror topics."""

    name: Literal["cluster-linking"] = "cluster-linking"
    mirror_config: dict[str, str | int | float | bool] = described(
        {}, "Cluster link configs by key (`consumer.offset.sync.enable`, "
        "`consumer.offset.sync.ms`, ...). Keys and defaults: "
        "geosim/strategies/cluster_linking/config.py.",
        source="figures.md C6, C7")
