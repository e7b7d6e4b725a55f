"""``advise``: from a scenario and objectives to the cheapest design that meets them.

The steps, each in its own module: the design space (:mod:`~geosim.advise.space`), the
search (:mod:`~geosim.advise.search`) whose evaluations run through the sweep executors
with the run store as a cache (:mod:`~geosim.advise.evaluate`), the verdict of each
design (:mod:`~geosim.advise.verdict`), the Pareto front (:mod:`~geosim.advise.pareto`),
the property search that tries to break the winner (:mod:`~geosim.advise.robustness`),
and the report (:mod:`~geosim.advise.report`).

The winner is the cheapest design meeting every objective (ties: lower RPO, lower p99,
id). If the property search finds a failure of the declared set that breaks it, it is
demoted and the next cheapest feasible design is tried, up to
``property_search.designs`` designs.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from geosim.advise.evaluate import Evaluation, Evaluator, RunCounts
from geosim.advise.objectives import Objectives
from geosim.advise.pareto import front
from geosim.advise.robustness import RobustnessReport, try_to_break
from geosim.advise.search import SearchLog, candidates_of, run_search
from geosim.advise.space import Space
from geosim.scenario.errors import ScenarioError
from geosim.sweep.executors import Executor, LocalExecutor

__all__ = ["Advice", "advise"]


@dataclass
class Advice:
    """The answer of an advise run, and the evidence."""

    scenario_file: str
    objectives: Objectives
    evaluations: list[Evaluation]
    log: SearchLog
    counts: RunCounts
    front: list[str]
    best: dict[str, str]                  # design name -> cheapest feasible candidate id
    winner: str | None
    robustness: list[RobustnessReport] = field(default_factory=list)
    seconds: float = 0.0
    space_size: int = 0
    out_dir: str = ""

    def evaluation(self, candidate_id: str) -> Evaluation:
        return next(e for e in self.evaluations if e.id == candidate_id)

    @property
    def feasible(self) -> list[Evaluation]:
        """The designs meeting every objective, cheapest first."""
        return sorted((e for e in self.evaluations if e.feasible), key=_rank)

    @property
    def demoted(self) -> list[RobustnessReport]:
        return [r for r in self.robustness if r.broken]

    def nearest_misses(self, count: int = 5) -> list[Evaluation]:
        """The infeasible designs closest to feasible (fully evaluated ones first, then
        by total normalised violation, then cost)."""
        misses = [e for e in self.evaluations if e.status in ("evaluated", "screened-out")
                  and not e.feasible]
        return sorted(misses, key=lambda e: (e.status != "evaluated", e.violation_total(),
                                             e.cost, e.id))[:count]

    @property
    def frame(self) -> pd.DataFrame:
        """One row per design evaluated: knobs, status, axes, margins (for notebooks)."""
        from geosim.advise.report import advice_frame
        return advice_frame(self)


def _rank(e: Evaluation) -> tuple:
    return (e.cost, e.rpo_seconds, e.latency, e.id)


def _check_space(space: Space, objectives: Objectives) -> None:
    """Every design resolves with its knobs at their first values, and can be priced."""
    for design in objectives.designs:
        scenario = space.scenario(space.first(design))
        if objectives.limits.budget is not None and scenario.cost.provider is None and \
                scenario.topology.provider == "none":
            raise ScenarioError(objectives.source, "limits.budget", f"needs a priced "
                                f"scenario (design {design.name}: topology.provider is "
                                f"none and cost.provider unset)")
    regions = set(space.scenario(space.first(objectives.designs[0])).topology.regions)
    spec = objectives.property_search
    for i, region in enumerate(spec.regions or () if spec else ()):
        if region not in regions:
            raise ScenarioError(objectives.source, f"property_search.regions[{i}]",
                                f"must be a region of the scenario ({', '.join(sorted(regions))})",
                                region)


def _check_budget(space: Space, objectives: Objectives, budget: Any) -> None:
    """Every design, with its knobs at their first values, fits the budget's estimates
    (:func:`geosim.preflight.check_budget`): a search whose runs would each outlast the
    budget is refused before it starts. Other candidates over it are invalid designs."""
    from geosim.budget import BudgetExceeded
    from geosim.preflight import check_budget

    for design in objectives.designs:
        scenario = space.scenario(space.first(design))
        try:
            check_budget(scenario, budget)
        except BudgetExceeded as exc:
            raise ScenarioError(space.source, "", f"design {design.name}: {exc}") from None
        except Exception:  # noqa: BLE001 - a build failure is the candidate's preflight's
            continue       # to report (an invalid design naming it), not this check's


def _robustness(evaluator: Evaluator, evaluation: Evaluation, objectives: Objectives,
                out_dir: Path) -> RobustnessReport:
    """The property search of one design, stored (and reused) under ``robustness/``."""
    spec = objectives.property_search
    assert spec is not None
    first = objectives.failures[0].name
    scenario_yaml = evaluator.scenario_yaml(evaluation.candidate, first,
                                            objectives.search.seeds[0])
    key = hashlib.sha256(json.dumps([scenario_yaml, asdict(spec), [
        asdict(f.limits) for f in objectives.failures], asdict(objectives.limits)],
        sort_keys=True, default=str).encode()).hexdigest()[:12]
    folder = out_dir / "robustness"
    folder.mkdir(parents=True, exist_ok=True)
    stored = folder / f"{evaluation.id}-{key}.json"
    if stored.is_file():
        data = json.loads(stored.read_text(encoding="utf-8"))
        data["counterexample"] = Path(data["counterexample"]) if data[
            "counterexample"] else None
        return RobustnessReport(**data)
    report = try_to_break(evaluation.id, scenario_yaml, objectives, spec,
                          out_dir / "counterexamples")
    data = {**asdict(report), "counterexample": str(report.counterexample)
            if report.counterexample else None}
    tmp = stored.with_name(f".{stored.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(stored)
    return report


def advise(scenario_file: str | Path, objectives: Objectives, out_dir: str | Path, *,
           overrides: Sequence[str] = (),
           executor_factory: Callable[[], Executor] | None = None,
           budget: Any = None,
           on_generation: Callable[[int, list[Evaluation]], None] | None = None,
           on_run: Callable[[dict[str, Any]], None] | None = None,
           on_property_search: Callable[[Evaluation], None] | None = None,
           write: bool = True) -> Advice:
    """Search the design space of ``objectives`` for ``scenario_file``; write the report
    into ``out_dir`` (unless ``write`` is false) and return the :class:`Advice`.

    ``executor_factory`` makes the executor of each batch of runs (default: runs in this
    process); ``budget`` (:class:`geosim.budget.Budget`) applies to each run, and
    each design at its first knob values must fit its estimates before the search
    starts.
    """
    started = time.perf_counter()
    out = Path(out_dir)
    space = Space(scenario_file, objectives, overrides)
    _check_space(space, objectives)
    if budget is not None:
        _check_budget(space, objectives, budget)
    evaluator = Evaluator(space, objectives, out, executor_factory or LocalExecutor,
                          budget=budget, on_run=on_run)
    log = run_search(space, evaluator, objectives.search.method, on_generation)
    evaluations = [evaluator.evaluations[c.id] for c in candidates_of(log, evaluator)]
    evaluated = [e for e in evaluations if e.status == "evaluated"]
    on_front = front({e.id: (e.cost, e.rpo_seconds, e.latency) for e in evaluated})
    best: dict[str, str] = {}
    for evaluation in sorted((e for e in evaluations if e.feasible), key=_rank):
        best.setdefault(evaluation.candidate.design, evaluation.id)
    advice = Advice(str(scenario_file), objectives, evaluations, log, evaluator.counts,
                    on_front, best, None, space_size=space.size, out_dir=str(out))
    feasible = advice.feasible
    if objectives.property_search is None:
        advice.winner = feasible[0].id if feasible else None
    else:
        for evaluation in feasible[:objectives.property_search.designs]:
            if on_property_search is not None:
                on_property_search(evaluation)
            report = _robustness(evaluator, evaluation, objectives, out)
            advice.robustness.append(report)
            if not report.broken:
                advice.winner = evaluation.id
                break
    advice.seconds = time.perf_counter() - started
    if write:
        from geosim.advise.report import write_report
        write_report(advice, evaluator, out)
    return advice
