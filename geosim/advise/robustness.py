"""Trying to break the advised design: a property search over the declared failure set.

The failures of the objectives file are a few representatives; ``property_search:``
declares the set they stand for (region fault kinds, regions, start times, durations).
The winner's scenario is searched over that set with the claims machinery of
:mod:`geosim.testing`: :func:`~geosim.testing.generators.around` the winner's scenario,
with :func:`~geosim.testing.generators.region_faults` drawing the failure and a seed,
and a :class:`~geosim.testing.claims.Claim` that the objectives hold (the per-failure
limits: RPO, RTO and the p99s during the failure, those of the first declared failure
of the same kind, else the top-level limits). Hypothesis searches derandomized (the
same examples on every machine), and shrinks a violation to a minimal failure, written
as a scenario file that ``geosim run`` replays. A counterexample demotes the design.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from geosim.advise.objectives import Limits, Objectives, PropertySearch
from geosim.advise.verdict import PER_FAILURE, failure_values
from geosim.testing.claims import Claim

__all__ = ["RobustnessReport", "objectives_claim", "try_to_break"]


@dataclass
class RobustnessReport:
    """The outcome of one design's property search."""

    candidate_id: str
    examples: int
    seconds: float
    states: dict[str, int]
    counterexample: Path | None = None
    violation: str | None = None
    replay: str | None = None

    @property
    def broken(self) -> bool:
        return self.counterexample is not None


def _limits_for(objectives: Objectives, kinds: set[str]) -> Limits:
    for failure in objectives.failures:
        if kinds & {f.get("kind") for f in failure.faults}:
            return failure.limits
    return objectives.limits


def objectives_claim(objectives: Objectives) -> Claim:
    """The per-failure objectives as a claim on one run's summary."""
    from geosim.advise.evaluate import format_quantity

    def check(summary: dict) -> str | None:
        kinds = {f["kind"] for f in summary.get("faults", [])}
        limits = _limits_for(objectives, kinds)
        values = failure_values(summary, limits)
        broken = []
        for attr, name, unit in PER_FAILURE:
            limit = getattr(limits, attr)
            if limit is not None and values[name] > limit:
                broken.append(f"{name} {format_quantity(values[name], unit)} > "
                              f"{format_quantity(limit, unit)}")
        return "; ".join(broken) or None

    return Claim("advise-objectives", "the design meets its per-failure objectives "
                 "(RPO, RTO, p99 during the failure)", check)


def try_to_break(candidate_id: str, scenario_yaml: str, objectives: Objectives,
                 spec: PropertySearch, directory: Path) -> RobustnessReport:
    """Search ``spec``'s failures around the scenario ``scenario_yaml`` (one of the
    design's failure runs) for a violation of the objectives."""
    from hypothesis import HealthCheck, Phase
    from hypothesis import settings as hsettings

    from geosim.testing.generators import around, region_faults
    from geosim.testing.search import search

    base: dict[str, Any] = yaml.safe_load(scenario_yaml)
    regions = list(spec.regions) if spec.regions else None
    faults = region_faults(tuple(spec.kinds), regions=regions, at=spec.at,
                           duration=spec.duration)
    settings = hsettings(max_examples=spec.examples, derandomize=True, database=None,
                         deadline=None, suppress_health_check=list(HealthCheck),
                         phases=[Phase.explicit, Phase.generate, Phase.shrink],
                         report_multiple_bugs=False, print_blob=False)
    report = search(objectives_claim(objectives), around(base, faults=faults),
                    settings=settings, max_examples=spec.examples,
                    directory=str(directory), quiet=True)
    found = report.counterexample
    return RobustnessReport(
        candidate_id=candidate_id, examples=report.examples, seconds=report.seconds,
        states=dict(sorted(report.coverage.counts.items())),
        counterexample=found.path if found else None,
        violation=found.violation.reason if found else None,
        replay=found.command if found else None)
