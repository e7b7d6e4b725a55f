"""Scenario-time checks of ``single-log``."""

from __future__ import annotations

from geosim.scenario.checks import Checker
from geosim.scenario.schema import BrokerCrash, UncleanElection
from geosim_singlelog.spec import SingleLogSpec


def check(checker: Checker, strat: SingleLogSpec) -> None:
    """The home zone exists; there are no leaders to elect and one broker to crash."""
    checker.zone(strat.home, "strategy.home")
    if strat.append_interval <= 0:
        checker.fail("strategy.append_interval", "must be > 0 (in seconds)",
                     strat.append_interval)
    for i, fault in enumerate(checker.scenario.faults):
        if isinstance(fault, UncleanElection):
            checker.fail(f"faults[{i}].kind", "single-log has no replicas to elect",
                         fault.kind)
        if isinstance(fault, BrokerCrash) and fault.count != 1:
            checker.fail(f"faults[{i}].count", "must be 1: single-log has one broker",
                         fault.count)
