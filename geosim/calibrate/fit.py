"""The fit of ``geosim calibrate``: free parameters chosen so that runs reproduce
observed figures, with common random numbers.

The objective is the weighted sum of squared relative residuals,
sum_i w_i ((s_i - o_i) / o_i)^2, where s_i is the mean of metric i over the targets'
seeds. Every evaluation runs the same seeds (common random numbers): two parameter
values are compared on the same random draws, so the objective moves with the
parameters and not with the noise. The search is scipy's Nelder-Mead over the
parameters mapped to [0, 1] by their bounds (log or linear), from their start values:
it needs no gradient, which a discrete-event simulation does not give. Results are
cached by parameter values, so a point is never run twice.

A fit is a declared choice: :func:`fit` returns it; ``geosim calibrate`` prints it and
writes an overlay file (:mod:`geosim.scenario.overlay`) the user may apply with
``--overlay``. Nothing here changes a preset, a scenario file or a default.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from geosim.calibrate.targets import Targets, metric_value
from geosim.runner import run
from geosim.scenario.errors import ScenarioError
from geosim.scenario.loader import load_scenario

__all__ = ["Evaluation", "Fit", "fit", "overlay_items"]


@dataclass(frozen=True)
class Evaluation:
    values: tuple[float, ...]          # the parameters, canonical units
    simulated: tuple[float, ...]       # each observed metric, mean over the seeds
    objective: float


@dataclass
class Fit:
    targets: Targets
    best: Evaluation
    start: Evaluation
    evaluations: list[Evaluation] = field(default_factory=list)
    converged: bool = False
    message: str = ""

    def residuals(self, evaluation: Evaluation | None = None) -> list[float]:
        """Relative residuals (s - o) / o of ``evaluation`` (default the best)."""
        ev = evaluation or self.best
        return [(s - o.value) / o.value
                for s, o in zip(ev.simulated, self.targets.observed, strict=True)]


def overlay_items(fitted: Fit) -> list[str]:
    """The ``--set`` items of the fitted parameter values."""
    return [f"{p.path}={v:.6g}" for p, v in zip(fitted.targets.parameters, fitted.best.values,
                                                   strict=True)]


def fit(scenario_file: str | Path, targets: Targets, *, base: list[str] | None = None,
        max_evaluations: int = 60, tolerance: float = 1e-3,
        progress: Callable[[int, Evaluation], None] | None = None) -> Fit:
    """Fit ``targets``' parameters for the scenario (with ``base`` --set items first)."""
    from scipy.optimize import minimize

    params = targets.parameters
    cache: dict[tuple[float, ...], Evaluation] = {}
    order: list[Evaluation] = []

    def evaluate(values: tuple[float, ...]) -> Evaluation:
        key = tuple(round(v, 12) for v in values)
        if key in cache:
            return cache[key]
        items = [*(base or []), *targets.overrides,
                 *(f"{p.path}={v!r}" for p, v in zip(params, values, strict=True))]
        try:
            scenario = load_scenario(scenario_file, items)
        except ScenarioError as exc:
            raise ScenarioError(str(scenario_file), "", f"a calibration point is invalid "
                                f"({exc})") from None
        sums = [0.0] * len(targets.observed)
        for seed in targets.seeds:
            summary = run(scenario, seed).summary
            for i, obs in enumerate(targets.observed):
                value = metric_value(summary, obs.metric)
                if value is None:
                    raise ScenarioError(str(scenario_file), "", f"the runs report no "
                                        f"number at {obs.metric} (a dotted path of "
                                        f"summary.json)")
                sums[i] += value
        simulated = tuple(s / len(targets.seeds) for s in sums)
        objective = sum(o.weight * ((s - o.value) / o.value) ** 2
                        for s, o in zip(simulated, targets.observed, strict=True))
        ev = Evaluation(tuple(values), simulated, objective)
        cache[key] = ev
        order.append(ev)
        if progress is not None:
            progress(len(order), ev)
        return ev

    def objective(u) -> float:
        return evaluate(tuple(p.from_unit(float(x)) for p, x in zip(params, u,
                                                                        strict=True))).objective

    start = evaluate(tuple(p.start for p in params))
    x0 = [p.to_unit(p.start) for p in params]
    result = minimize(objective, x0, method="Nelder-Mead", bounds=[(0.0, 1.0)] * len(params),
                      options={"maxfev": max_evaluations, "xatol": tolerance,
                               "fatol": tolerance * tolerance,
                               "initial_simplex": _simplex(x0)})
    best = min(order, key=lambda ev: ev.objective)
    return Fit(targets, best, start, order, bool(result.success), str(result.message))


def _simplex(x0: list[float]) -> list[list[float]]:
    """A first simplex a quarter of the unit range wide, inside the bounds."""
    vertices = [list(x0)]
    for i in range(len(x0)):
        vertex = list(x0)
        vertex[i] = x0[i] + 0.25 if x0[i] + 0.25 <= 1.0 else x0[i] - 0.25
        vertices.append(vertex)
    return vertices
