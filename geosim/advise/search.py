"""The multi-objective search over the design space: NSGA-II (Optuna) or the whole grid.

The search minimises three objectives, the front's axes: the monthly bill, the worst RPO
in seconds over the failures, and the p99 latency the objectives file chose
(``front.latency``); every limit of the objectives is a constraint (NSGA-II's
constrained domination: a feasible design beats an infeasible one, infeasible ones are
ranked by their total violation).

* ``method: nsga2``: Optuna's NSGA-II sampler, seeded with ``search.seed``, asked for
  ``search.population`` candidates per generation for ``search.generations``
  generations through Optuna's ask-and-tell interface. The strategy is a categorical
  parameter, each knob a categorical parameter of its design (``<design>/<knob>``).
* ``method: grid``: every candidate, ``search.population`` at a time.
* ``method: auto`` (default): the grid when the space has no more candidates than the
  NSGA-II search would ask for (``population x generations``), else NSGA-II.

Each generation is evaluated as one batch (:meth:`Evaluator.evaluate`): the screening
runs of all its new candidates together, then the full runs of those that passed, so
an executor with several workers is kept busy. A candidate asked again (NSGA-II
revisits good points) is not evaluated again. The search is deterministic for a seed:
the sampler's draws depend only on its seed and on the values told, which are functions
of the stored runs; so a search restarted after a kill asks the same candidates in the
same order, finds the runs that had finished in the cache, and runs only the others.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from geosim.advise.evaluate import Evaluation, Evaluator
from geosim.advise.objectives import Objectives
from geosim.advise.space import Candidate, Space
from geosim.advise.verdict import PER_FAILURE, STEADY

__all__ = ["METHODS", "SearchLog", "run_search"]

METHODS = ("auto", "nsga2", "grid")
#: Stand-in for an infinite objective value (Optuna needs finite values to rank).
LARGE = 1e18


@dataclass
class SearchLog:
    """What the search asked, generation by generation."""

    method: str
    generations: list[list[str]] = field(default_factory=list)   # candidate ids asked

    @property
    def asked(self) -> int:
        return sum(len(g) for g in self.generations)


def _finite(value: float) -> float:
    return LARGE if math.isinf(value) or math.isnan(value) else min(value, LARGE)


def constraint_names(objectives: Objectives) -> list[str]:
    """The limited measures of every evaluated design, in measure order."""
    names = [name for attr, name, _ in STEADY if getattr(objectives.limits, attr) is not None]
    for failure in objectives.failures:
        names += [f"{name}@{failure.name}" for attr, name, _ in PER_FAILURE
                  if getattr(failure.limits, attr) is not None]
    return names


def _constraints(evaluation: Evaluation, names: list[str]) -> list[float]:
    """One value per limited measure: the normalised violation (> 0 when violated).
    A screened-out candidate has no failure runs: its unknown measures count as
    violated."""
    known = {m.name: m.normalised for m in evaluation.measures}
    out = []
    for name in names:
        normalised = known.get(name) if evaluation.status == "evaluated" else None
        out.append(_finite(-normalised) if normalised is not None else LARGE)
    return out or [0.0]


def choose_method(space: Space, method: str) -> str:
    search = space.objectives.search
    if method == "auto":
        return "grid" if space.size <= search.population * search.generations else "nsga2"
    return method


def run_search(space: Space, evaluator: Evaluator, method: str = "auto",
               on_generation: Callable[[int, list[Evaluation]], None] | None = None
               ) -> SearchLog:
    """Search the space; every evaluation ends up in ``evaluator.evaluations``."""
    method = choose_method(space, method)
    log = SearchLog(method)
    search = space.objectives.search
    if method == "grid":
        candidates = space.all_candidates()
        for start in range(0, len(candidates), search.population):
            batch = candidates[start:start + search.population]
            found = evaluator.evaluate(batch)
            log.generations.append([c.id for c in batch])
            if on_generation is not None:
                on_generation(len(log.generations), found)
        return log
    _nsga2(space, evaluator, log, on_generation)
    return log


def _nsga2(space: Space, evaluator: Evaluator, log: SearchLog,
           on_generation: Callable[[int, list[Evaluation]], None] | None) -> None:
    import optuna
    from optuna.trial import TrialState

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    search = space.objectives.search
    names = constraint_names(space.objectives)
    # Optuna 5 takes constraints from the trial (Trial.set_constraint); earlier versions
    # from a function of the finished trial.
    per_trial = hasattr(optuna.trial.Trial, "set_constraint")
    options: dict[str, Any] = {}
    if not per_trial:
        options["constraints_func"] = lambda trial: trial.user_attrs.get(
            "constraints", [LARGE] * len(names))
    sampler = optuna.samplers.NSGAIISampler(population_size=search.population,
                                            seed=search.seed, **options)
    study = optuna.create_study(directions=["minimize"] * 3, sampler=sampler)
    designs = [d.name for d in space.objectives.designs]
    for generation in range(search.generations):
        trials, batch = [], []
        for _ in range(search.population):
            trial = study.ask()
            design = trial.suggest_categorical("design", designs)
            spec = space.designs[design]
            labels = {knob.name: trial.suggest_categorical(f"{design}/{knob.name}",
                                                           knob.labels)
                      for knob in spec.knobs}
            trials.append(trial)
            batch.append(space.candidate(design, labels))
        found = evaluator.evaluate(batch)
        for trial, evaluation in zip(trials, found, strict=True):
            if evaluation.status in ("invalid", "error"):
                study.tell(trial, state=TrialState.FAIL)
                continue
            # A screened-out candidate has only its steady-state measures: its unknown
            # RPO and failure latency count as infinite, and it is infeasible.
            values = _constraints(evaluation, names)
            if per_trial:
                for i, value in enumerate(values):
                    trial.set_constraint(f"c{i}", value)
            else:
                trial.set_user_attr("constraints", values)
            study.tell(trial, [_finite(evaluation.cost), _finite(evaluation.rpo_seconds),
                               _finite(evaluation.latency)])
        log.generations.append([c.id for c in batch])
        if on_generation is not None:
            on_generation(generation + 1, found)


def candidates_of(log: SearchLog, evaluator: Evaluator) -> list[Candidate]:
    """The distinct candidates the search asked, in the order first asked."""
    seen: dict[str, Candidate] = {}
    for generation in log.generations:
        for cid in generation:
            seen.setdefault(cid, evaluator.evaluations[cid].candidate)
    return list(seen.values())
