"""Scenario-time checks of the mirrormaker2 strategy's block: those of independent
Kafka clusters linked by flows, with MirrorMaker 2's flow configs
(:mod:`geosim.strategies.mirrormaker2.config`)."""

from __future__ import annotations

from geosim.kafka.checks import check_cross_cluster
from geosim.scenario.checks import Checker
from geosim.strategies.mirrormaker2.config import KEYS, mirror_config
from geosim.strategies.mirrormaker2.spec import MirrorMaker2Spec


def check(checker: Checker, spec: MirrorMaker2Spec) -> None:
    """The cross-cluster checks; resolving the flow configs keeps them for the build."""
    check_cross_cluster(checker, spec, KEYS, mirror_config)


__all__ = ["check"]
