"""Evaluating candidates: their runs, cached by content, screened cheaply first.

An evaluation of a candidate is a set of geosim runs:

1. **Screening**: one fault-free run at the first seed, ``search.steady_duration`` after
   the scenario's warmup and ``search.steady_drain`` of drain (the short steady-state run
   ``geosim cost`` makes, with a drain so that end-to-end latency is measured). It gives
   the monthly bill and the steady-state p99s. A candidate over the budget or a
   steady-state p99 limit (by more than ``search.screen_margin``) cannot be feasible:
   it stops here (``screened-out``), reported with these numbers.
2. **Full**: the same fault-free run at every other seed, and every failure of the
   objectives at every seed.

Runs execute on a :mod:`geosim.sweep` executor (local processes or Dask) and are stored
in the run store of a sweep (:class:`geosim.sweep.store.SweepStore`) under
``<out>/cache``: one directory per run, named by the content hash of the resolved
scenario and the seed, written atomically as soon as the run finishes. A run already
there (from this search, an earlier one, or one killed with ``kill -9``) is read, never
run again; a run that was executing when the search died is run again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from geosim.advise.objectives import Objectives
from geosim.advise.space import Candidate, Space
from geosim.advise.verdict import INF, Measure, binding, measures, violations
from geosim.scenario.errors import ScenarioError
from geosim.sweep.executors import Executor
from geosim.sweep.grid import HASH_DIGITS, RunSpec, scenario_hash
from geosim.sweep.store import SweepStore

__all__ = ["Evaluation", "Evaluator", "RunCounts", "format_quantity"]

#: Name of the fault-free run in run specs and tables.
STEADY = "steady"


@dataclass
class Evaluation:
    """What is known of one candidate."""

    candidate: Candidate
    strategy: str
    status: str                       # evaluated | screened-out | invalid | error
    reason: str | None = None
    measures: list[Measure] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)   # run ids, in plan order
    front_latency: str = "publish.steady"
    # The runs' resolution where coarser than the reference (summary.json `resolution`)
    resolution: dict[str, float] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.candidate.id

    @property
    def feasible(self) -> bool:
        return self.status == "evaluated" and all(m.met for m in self.measures)

    def measure(self, name: str) -> Measure | None:
        return next((m for m in self.measures if m.name == name), None)

    def worst(self, prefix: str) -> float:
        """The worst value of the measures named ``prefix`` or ``prefix@<failure>``."""
        values = [m.value for m in self.measures
                  if m.name == prefix or m.name.startswith(f"{prefix}@")]
        return max(values) if values else INF

    @property
    def cost(self) -> float:
        return self.worst("cost")

    @property
    def rpo_seconds(self) -> float:
        return self.worst("rpo.seconds")

    @property
    def latency(self) -> float:
        kind, phase = self.front_latency.split(".")
        return self.worst(f"{kind}_p99.{phase}")

    @property
    def violations(self) -> list[tuple[Measure, float]]:
        return violations(self.measures)

    @property
    def binding(self) -> Measure | None:
        return binding(self.measures)

    def violation_total(self) -> float:
        """Sum of the normalised violations (0 when feasible): how far from feasible."""
        return sum(-n for _, n in self.violations)


@dataclass
class RunCounts:
    """Runs an advise invocation executed and found in the cache."""

    executed: int = 0
    cached: int = 0
    failed: int = 0


class Evaluator:
    """Evaluates candidates through an executor, with the run store as a cache."""

    def __init__(self, space: Space, objectives: Objectives, out_dir: str | Path,
                 executor_factory: Callable[[], Executor], *, budget: Any = None,
                 on_run: Callable[[dict[str, Any]], None] | None = None):
        self.space = space
        self.objectives = objectives
        self.store = SweepStore(Path(out_dir) / "cache")
        self.store.open()
        self.executor_factory = executor_factory
        self.budget = budget
        self.on_run = on_run
        self.counts = RunCounts()
        self.evaluations: dict[str, Evaluation] = {}
        self._specs: dict[str, dict[str, dict[int, RunSpec]]] = {}

    # --- plans ----------------------------------------------------------------------------

    def _steady_items(self, candidate: Candidate) -> list[str]:
        search = self.objectives.search
        warmup = self.space.scenario(candidate).simulation.warmup
        return ["faults=[]", f"simulation.duration={warmup + search.steady_duration}",
                f"simulation.drain={search.steady_drain}"]

    def _plan(self, candidate: Candidate) -> dict[str, dict[int, RunSpec]]:
        """Every run of ``candidate``: run name (steady or a failure) -> seed -> spec.

        Resolving checks each scenario and builds it without starting the clock
        (:func:`geosim.preflight.preflight`); a :class:`ScenarioError` means the
        candidate is invalid (a knob combination the scenario checks refuse).
        """
        from geosim.preflight import preflight
        from geosim.scenario.loader import dump_scenario

        runs: dict[str, list[str]] = {STEADY: self._steady_items(candidate)}
        for failure in self.objectives.failures:
            runs[failure.name] = [f"faults={json.dumps(list(failure.faults))}"]
        plan: dict[str, dict[int, RunSpec]] = {}
        for name, items in runs.items():
            base = self.space.scenario(candidate, items)
            digest = scenario_hash(base)
            stored = [self.store.row(f"{digest[:HASH_DIGITS]}-seed-{seed}")
                      for seed in self.objectives.search.seeds]
            if not all(row and row.get("status") == "ok" for row in stored):
                # Built before it runs; a cached run was built when it ran.
                preflight(base, source=self.space.source, budget=self.budget or None)
            plan[name] = {}
            for seed in self.objectives.search.seeds:
                scenario = base.model_copy(update={
                    "simulation": base.simulation.model_copy(update={"seed": seed})})
                plan[name][seed] = RunSpec(
                    factors=(("candidate", candidate.id), ("run", name)),
                    overrides=(*candidate.overrides, *items), seed=seed,
                    scenario_yaml=dump_scenario(scenario), scenario_hash=digest,
                    scenario_name=scenario.name, strategy=scenario.strategy.name)
        return plan

    def scenario_yaml(self, candidate: Candidate, run: str, seed: int) -> str:
        """The resolved scenario (YAML) of one of ``candidate``'s runs."""
        return self._specs[candidate.id][run][seed].scenario_yaml

    # --- execution ------------------------------------------------------------------------

    def _execute(self, specs: Sequence[RunSpec]) -> dict[str, dict[str, Any]]:
        """Run the specs not in the store; return each spec's stored row and summary."""
        from geosim.version import __version__

        done = self.store.finished(specs, __version__)
        todo = list({s.run_id: s for s in specs if s.run_id not in done}.values())
        self.counts.cached += len({s.run_id for s in specs} & done)
        if todo:
            by_id = {s.run_id: s for s in todo}
            limits = asdict(self.budget) if self.budget is not None else None
            tasks = [{"run_id": s.run_id, "scenario_yaml": s.scenario_yaml,
                      "budget": limits} for s in todo]
            executor = self.executor_factory()
            try:
                for outcome in executor.map_unordered(tasks):
                    spec = by_id[outcome["run_id"]]
                    self.store.append_timing(spec.run_id, {
                        "status": outcome["status"],
                        "wall_seconds": outcome.get("wall_seconds"),
                        "worker": outcome.get("worker"),
                        "executor": getattr(executor, "description", "")})
                    self.store.write_run(spec, outcome, __version__)
                    self.counts.executed += 1
                    if outcome["status"] != "ok":
                        self.counts.failed += 1
                    if self.on_run is not None:
                        self.on_run(outcome)
            finally:
                executor.close()
        return {s.run_id: self._stored(s.run_id) for s in specs}

    def _stored(self, run_id: str) -> dict[str, Any]:
        row = self.store.row(run_id) or {"status": "error", "error": "not run"}
        summary = None
        path = self.store.runs / run_id / "summary.json"
        if row.get("status") == "ok" and path.is_file():
            summary = json.loads(path.read_text(encoding="utf-8"))
        return {"status": row.get("status"), "error": row.get("error"), "summary": summary}

    # --- evaluation -----------------------------------------------------------------------

    def evaluate(self, candidates: Iterable[Candidate]) -> list[Evaluation]:
        """Evaluate ``candidates`` (screening all new ones together, then the full runs
        of those that pass together); the evaluations in the given order."""
        candidates = list(candidates)
        new = list({c.id: c for c in candidates if c.id not in self.evaluations}.values())
        valid = []
        for candidate in new:
            try:
                self._specs[candidate.id] = self._plan(candidate)
                valid.append(candidate)
            except ScenarioError as exc:
                strategy = self.space.designs[candidate.design].name
                self.evaluations[candidate.id] = Evaluation(
                    candidate, strategy, "invalid", str(exc),
                    front_latency=self.objectives.front_latency)
        first = self.objectives.search.seeds[0]
        screens = self._execute([self._specs[c.id][STEADY][first] for c in valid])
        full = []
        for candidate in valid:
            spec = self._specs[candidate.id][STEADY][first]
            stored = screens[spec.run_id]
            evaluation = Evaluation(candidate, spec.strategy, "screened-out",
                                    runs=[spec.run_id],
                                    front_latency=self.objectives.front_latency)
            self.evaluations[candidate.id] = evaluation
            if stored["summary"] is None:
                evaluation.status, evaluation.reason = "error", stored["error"]
                continue
            evaluation.resolution = dict(stored["summary"].get("resolution") or {})
            evaluation.measures = measures({first: stored["summary"]}, {},
                                           self.objectives.limits, ())
            over = [m for m in evaluation.measures if m.limit is not None and
                    (m.normalised or 0) < -self.objectives.search.screen_margin]
            if over:
                evaluation.reason = "; ".join(
                    f"{m.name} {format_quantity(m.value, m.unit)} > "
                    f"{format_quantity(m.limit, m.unit)}" for m in over)
                continue
            full.append(candidate)
        specs = [spec for c in full for name, by_seed in self._specs[c.id].items()
                 for seed, spec in by_seed.items() if not (name == STEADY and seed == first)]
        stored_all = {**screens, **self._execute(specs)}
        for candidate in full:
            evaluation = self.evaluations[candidate.id]
            plan = self._specs[candidate.id]
            evaluation.runs = [s.run_id for by_seed in plan.values() for s in by_seed.values()]
            errors = [stored_all[r]["error"] for r in evaluation.runs
                      if stored_all[r]["summary"] is None]
            if errors:
                evaluation.status, evaluation.reason = "error", errors[0]
                continue
            steady = {seed: stored_all[s.run_id]["summary"]
                      for seed, s in plan[STEADY].items()}
            failures = {name: {seed: stored_all[s.run_id]["summary"]
                               for seed, s in by_seed.items()}
                        for name, by_seed in plan.items() if name != STEADY}
            evaluation.measures = measures(steady, failures, self.objectives.limits,
                                           self.objectives.failures)
            evaluation.status = "evaluated"
            evaluation.reason = None
        return [self.evaluations[c.id] for c in candidates]


def format_quantity(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if value == INF:
        return "none" if unit == "s" else "inf"
    if unit == "USD/month":
        return f"${value:,.0f}/month"
    if unit == "s":
        return f"{value:.3g} s"
    if unit == "bytes":
        return f"{value:,.0f} B"
    return f"{value:,.0f} {unit}"


