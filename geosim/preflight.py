"""The zero-length build: wire a checked scenario as ``geosim run`` would, start nothing.

The scenario checks (:mod:`geosim.scenario.checks`) are meant to refuse everything the
build would refuse, with a one-line error naming the field. :func:`preflight` is the net
under them: ``geosim validate`` and a sweep's plan build every scenario they accept
(topology and links, network, object store, metadata voters, workload, the strategy's
model with its placements, the fault injector) without starting a process or the clock,
and turn whatever the build still raises into the usual one-line
:class:`~geosim.scenario.errors.ScenarioError` naming the scenario file. Building takes
milliseconds for the bundled scenarios; nothing is simulated.
"""

from __future__ import annotations

from typing import Any

from geosim.budget import Budget, BudgetExceeded, check_before, check_events, default_budget
from geosim.runner import build
from geosim.scenario.errors import INLINE, ScenarioError
from geosim.scenario.schema import Scenario
from geosim.scenario.seed import settle_seed
from geosim.world.faults import FaultInjector

__all__ = ["check_budget", "preflight"]


def check_budget(scenario: Scenario, budget: Budget, seed: int | None = None) -> None:
    """Refuse, with :class:`~geosim.budget.BudgetExceeded`, a scenario over ``budget``
    before anything runs: its estimated memory (before building), then its estimated
    wall time (built, clock not started; :func:`geosim.budget.check_events`). For
    commands that run several scenarios (``geosim compare``), so that the last one's
    refusal comes before the first one runs. Errors of the build itself propagate."""
    check_before(scenario, budget)
    _ctx, _world, strategy = build(scenario, settle_seed(scenario, seed))
    check_events(strategy.estimate_events(), budget)


def preflight(scenario: Scenario, *, source: str = INLINE, seed: int | None = None,
              budget: Any = "default") -> None:
    """Build ``scenario`` at ``seed`` (default: its own) and discard the result.

    First, the model's estimated memory must fit ``budget`` (a
    :class:`geosim.budget.Budget`; ``"default"``: :func:`geosim.budget.default_budget`;
    None: no limit), so that nothing too large is built; then the built model's
    estimated wall time (its strategy's event estimate) must fit it. Raises
    :class:`ScenarioError` for ``source`` if either does not, or if the build fails: a
    check geosim is missing, so the message says so instead of showing a traceback.
    """
    if budget == "default":
        budget = default_budget()
    if budget is not None:
        try:
            check_before(scenario, budget)
        except BudgetExceeded as exc:
            raise ScenarioError(source, "", str(exc)) from None
    try:
        _ctx, world, strategy = build(scenario, settle_seed(scenario, seed))
        FaultInjector(world, strategy)
        estimate = strategy.estimate_events() if budget is not None else None
    except ScenarioError:
        raise
    except Exception as exc:
        lines = str(exc).splitlines()
        reason = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
        raise ScenarioError(source, "", f"passes the scenario checks but cannot be built "
                            f"({reason}); the checks should have named the field: please "
                            f"report it") from None
    if budget is not None:
        try:
            check_events(estimate, budget)
        except BudgetExceeded as exc:
            raise ScenarioError(source, "", str(exc)) from None
