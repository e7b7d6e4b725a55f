"""Scenario-time checks of the cluster-linking strategy's block: those of
independent Kafka clusters linked by flows, with the cluster link's configs
(:mod:`geosim.strategies.cluster_linking.config`)."""

from __future__ import annotations

from geosim.kafka.checks import check_cross_cluster
from geosim.scenario.checks import Checker
from geosim.strategies.cluster_linking.config import KEYS, mirror_config
from geosim.strategies.cluster_linking.spec import ClusterLinkingSpec


def check(checker: Checker, spec: ClusterLinkingSpec) -> None:
    """The cross-cluster checks; resolving the flow configs keeps them for the build."""
    check_cross_cluster(checker, spec, KEYS, mirror_config)


__all__ = ["check"]
