"""The plan of a sweep: factors from ``--grid``, seeds from ``--seeds``, and their product.

A *factor* is a scenario field named by its ``--set`` dotted path with the values it
takes (``strategy.flush_interval=100ms,250ms``). The plan is the cartesian product of
the factors' values and the seeds, in a fixed order (factors in the order given, values
in the order given, seeds ascending), each point resolved into a checked scenario with
:func:`geosim.scenario.loader.load_scenario` and built without starting the clock
(:func:`geosim.preflight.preflight`), so a bad key or value is reported before anything
runs. A plan has at most :data:`MAX_RUNS` runs unless the caller raises the bound.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

#: How many hex digits of the scenario hash name a run directory.
HASH_DIGITS = 12

#: Most runs (grid points x seeds) a sweep plans unless told otherwise (``--max-runs``):
#: a plan resolves and stores every run, so a typo such as ``--seeds 1-100000000``
#: would otherwise sit planning for hours before the first run.
MAX_RUNS = 1_000_000


class GridError(ValueError):
    """A malformed ``--grid`` or ``--seeds`` argument (a user error)."""


@dataclass(frozen=True)
class Factor:
    """One swept field: its ``--set`` path and the raw values (YAML text) it takes."""

    key: str
    values: tuple[str, ...]

    def parsed(self) -> list[Any]:
        """The values as YAML reads them (``100`` an int, ``100ms`` a string)."""
        return [yaml.safe_load(value) for value in self.values]


@dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: a point of the grid and a seed, resolved to a scenario."""

    factors: tuple[tuple[str, Any], ...]   # (key, value as given) in grid order
    overrides: tuple[str, ...]             # the --set items that make this point
    seed: int
    scenario_yaml: str                     # the resolved scenario, self-contained
    scenario_hash: str                     # of the resolved scenario without its seed
    scenario_name: str = ""
    strategy: str = ""

    @property
    def run_id(self) -> str:
        """A stable, readable name for the run: ``<hash prefix>-seed-<n>``."""
        return f"{self.scenario_hash[:HASH_DIGITS]}-seed-{self.seed}"


def _split_top_level(text: str) -> list[str]:
    """Split on commas outside brackets and quotes: ``[a,b],[c]`` is two values."""
    items, depth, quote, current = [], 0, "", []
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif char == "," and depth == 0:
            items.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    items.append("".join(current).strip())
    return items


def parse_factor(text: str) -> Factor:
    """``key=v1,v2,...`` as a :class:`Factor`; raises :class:`GridError` if malformed."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key or not raw.strip():
        raise GridError(f"--grid {text}: expected KEY=V1,V2,... (e.g. "
                        f"strategy.flush_interval=100ms,250ms)")
    values = _split_top_level(raw)
    if any(not value for value in values):
        raise GridError(f"--grid {text}: empty value")
    for value in values:
        try:
            yaml.safe_load(value)
        except yaml.YAMLError:
            raise GridError(f"--grid {text}: value {value!r} is not valid YAML") from None
    if len(set(values)) != len(values):
        raise GridError(f"--grid {text}: a value is listed twice")
    return Factor(key, tuple(values))


def parse_factors(items: Iterable[str]) -> list[Factor]:
    """Every ``--grid`` item; a key given twice is an error."""
    factors = [parse_factor(item) for item in items]
    seen = set()
    for factor in factors:
        if factor.key in seen:
            raise GridError(f"--grid {factor.key}: given twice; list all its values in one "
                            f"--grid")
        seen.add(factor.key)
    return factors


def parse_seeds(text: str, max_runs: int | None = MAX_RUNS) -> list[int]:
    """``1-20``, ``3``, ``1,4,7-9``: sorted distinct non-negative seeds.

    More than ``max_runs`` distinct seeds (None: no bound) is a :class:`GridError`,
    raised before any list of them is built.
    """
    ranges: list[tuple[int, int]] = []
    for part in text.split(","):
        part = part.strip()
        low, dash, high = part.partition("-")
        try:
            first = int(low)
            last = int(high) if dash else first
        except ValueError:
            raise GridError(f"--seeds {text}: expected N, N-M or a comma-separated list of "
                            f"them (e.g. 1-20), got {part!r}") from None
        if first < 0 or last < first:
            raise GridError(f"--seeds {text}: {part!r} is not a range of non-negative "
                            f"integers N-M with N <= M")
        ranges.append((first, last))
    count = _distinct(ranges)
    if max_runs is not None and count > max_runs:
        raise GridError(f"--seeds {_short(text)}: {count:,} seeds, more than the "
                        f"{max_runs:,} runs a sweep may have (--max-runs N raises the bound)")
    seeds: set[int] = set()
    for first, last in ranges:
        seeds.update(range(first, last + 1))
    return sorted(seeds)


def _distinct(ranges: list[tuple[int, int]]) -> int:
    """How many integers the inclusive ``ranges`` cover together."""
    count, reached = 0, -1
    for first, last in sorted(ranges):
        if last > reached:
            count += last - max(first, reached + 1) + 1
            reached = last
    return count


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


def count_runs(factors: Sequence[Factor], seeds: Sequence[int] | None) -> int:
    """How many runs the plan of ``factors`` and ``seeds`` has (grid points x seeds)."""
    return math.prod(len(f.values) for f in factors) * (len(seeds) if seeds is not None
                                                         else 1)


def check_size(factors: Sequence[Factor], seeds: Sequence[int] | None,
               max_runs: int | None = MAX_RUNS) -> int:
    """The plan's run count; a :class:`GridError` if it exceeds ``max_runs``."""
    runs = count_runs(factors, seeds)
    if max_runs is not None and runs > max_runs:
        points = math.prod(len(f.values) for f in factors)
        raise GridError(f"the sweep has {runs:,} runs ({points:,} grid points x "
                        f"{len(seeds) if seeds is not None else 1:,} seeds), more than "
                        f"{max_runs:,} (--max-runs N raises the bound)")
    return runs


def scenario_hash(scenario: Any) -> str:
    """SHA-256 of the resolved scenario with its seed set to 0.

    Equal for every seed of one grid point and different for different points, so it
    identifies the configuration a row was run with.
    """
    from geosim.scenario.loader import dump_scenario

    unseeded = scenario.model_copy(update={
        "simulation": scenario.simulation.model_copy(update={"seed": 0})})
    return hashlib.sha256(dump_scenario(unseeded).encode()).hexdigest()


def plan(path: str | Path, factors: Sequence[Factor], seeds: Sequence[int] | None,
         overrides: Sequence[str] = (), *, max_runs: int | None = MAX_RUNS,
         budget: Any = "default") -> list[RunSpec]:
    """Resolve every (grid point, seed) of a sweep into a :class:`RunSpec`.

    ``overrides`` (``--set``) apply to every run, before the factors. ``seeds`` default
    to the scenario's ``simulation.seed`` (:func:`~geosim.scenario.seed.settle_seeds`).
    Each grid point is loaded with the scenario checks and built without starting the
    clock (:func:`geosim.preflight.preflight`, as ``geosim validate`` does), so a point
    that ``geosim run`` would refuse is refused here, before anything runs: a
    :class:`~geosim.scenario.errors.ScenarioError` naming the grid point. More than
    ``max_runs`` runs (None: no bound) is a :class:`GridError`, raised first.
    """
    from geosim.preflight import preflight
    from geosim.scenario.errors import ScenarioError
    from geosim.scenario.loader import dump_scenario, load_scenario
    from geosim.scenario.seed import settle_seeds

    check_size(factors, seeds, max_runs)
    specs = []
    points = itertools.product(*[[(f.key, v) for v in f.values] for f in factors])
    for point in points:
        items = [*overrides, *(f"{key}={value}" for key, value in point)]
        try:
            base = load_scenario(path, items)
            preflight(base, source=str(path), budget=budget)
        except ScenarioError as exc:
            if point:
                where = ", ".join(f"{key}={value}" for key, value in point)
                raise ScenarioError(exc.file, exc.path, f"{exc.expected} (grid point "
                                    f"{where})", exc.value, line=exc.line,
                                    column=exc.column) from None
            raise
        digest = scenario_hash(base)
        for seed in settle_seeds(base, seeds):
            scenario = base.model_copy(update={
                "simulation": base.simulation.model_copy(update={"seed": seed})})
            specs.append(RunSpec(factors=tuple(point), overrides=tuple(items), seed=seed,
                                 scenario_yaml=dump_scenario(scenario),
                                 scenario_hash=digest, scenario_name=scenario.name,
                                 strategy=scenario.strategy.name))
    return specs
