"""Scenario-time checks of the observers strategy's block: a Kafka cluster's, with the
observer replicas placed by region or zone as the sync ones are."""

from __future__ import annotations

from geosim.kafka.checks import check_kafka
from geosim.scenario.checks import Checker
from geosim.strategies.observers.spec import ObserversSpec


def check(checker: Checker, spec: ObserversSpec) -> None:
    """The Kafka cluster's checks over both placements (sync replicas, observers)."""
    check_kafka(checker, spec, placements=("replica_placement", "observer_placement"))


__all__ = ["check"]
