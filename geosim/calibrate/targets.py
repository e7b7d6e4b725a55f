"""The targets file of ``geosim calibrate``: which scenario fields are free, within which
bounds, and which observed figures the runs must reproduce.
::

    parameters:                      # the free parameters, each a scenario field
      - path: strategy.flush_interval
        bounds: [50ms, 1s]           # in the field's own units, as --set takes them
        start: 250ms                 # optional; default the scenario's value
        scale: log                   # optional: log (default when both bounds > 0) or linear
    observed:                        # summary.json values the runs must reproduce
      - metric: latency.publish.all.before.p50
        value: 0.31                  # in summary.json's units (seconds, bytes, records)
        weight: 1                    # optional
    seeds: [0, 1]                    # optional: the common random numbers (default [0])
    set: [faults=[], simulation.duration=60s]   # optional: --set items for every run

Every error is one line naming the file, the field, the value and what was expected.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geosim.scenario.errors import ScenarioError
from geosim.scenario.loader import load_scenario
from geosim.scenario.yamlfile import read_yaml

__all__ = ["Observed", "Parameter", "Targets", "field_value", "load_targets", "metric_value"]

_KEYS = ("parameters", "observed", "seeds", "set")
MAX_PARAMETERS = 8
MAX_SEEDS = 100


@dataclass(frozen=True)
class Parameter:
    path: str
    low: float          # canonical units (seconds, bytes, ...), as the scenario resolves
    high: float
    start: float
    log: bool

    def to_unit(self, value: float) -> float:
        """``value`` mapped to [0, 1] over the bounds (log or linear)."""
        if self.log:
            return math.log(value / self.low) / math.log(self.high / self.low)
        return (value - self.low) / (self.high - self.low)

    def from_unit(self, u: float) -> float:
        u = min(max(u, 0.0), 1.0)
        if self.log:
            return self.low * (self.high / self.low) ** u
        return self.low + u * (self.high - self.low)


@dataclass(frozen=True)
class Observed:
    metric: str
    value: float
    weight: float = 1.0


@dataclass(frozen=True)
class Targets:
    parameters: tuple[Parameter, ...]
    observed: tuple[Observed, ...]
    seeds: tuple[int, ...]
    overrides: tuple[str, ...]


def field_value(scenario: Any, path: str) -> Any:
    """A field of a resolved scenario by dotted path (``a.b[0].c``), in canonical units."""
    node: Any = scenario.model_dump(mode="json")
    for part in path.replace("[", ".[").split("."):
        if part.startswith("["):
            node = node[int(part[1:-1])]
        else:
            node = node[part]
    return node


def metric_value(summary: dict, metric: str) -> float | None:
    """A value of ``summary.json`` by dotted path, or None if absent or not a number."""
    node: Any = summary
    for part in metric.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    if isinstance(node, bool) or not isinstance(node, (int, float)):
        return None
    return float(node)


def load_targets(path: str | Path, scenario_file: str | Path,
                 overrides: list[str] | None = None) -> Targets:
    """Read and check a targets file against its scenario; :class:`ScenarioError`."""
    display = str(path)
    data = read_yaml(path, display)

    def fail(field: str, reason: str, value: Any = ...) -> None:
        if value is ...:
            raise ScenarioError(display, field, reason)
        raise ScenarioError(display, field, reason, value)

    if not isinstance(data, dict):
        fail("", "must be a mapping with `parameters:` and `observed:`", data)
    for key in data:
        if key not in _KEYS:
            fail(str(key), f"unknown field; expected one of: {', '.join(_KEYS)}")
    items = data.get("set", [])
    if not isinstance(items, list) or not all(isinstance(i, str) and "=" in i for i in items):
        fail("set", "must be a list of key=value items, as --set takes", items)
    base = [*(overrides or []), *items]
    try:
        scenario = load_scenario(scenario_file, base)
    except ScenarioError as exc:
        raise ScenarioError(display, "set", f"makes the scenario invalid: {exc}") from None

    seeds = data.get("seeds", [0])
    if not isinstance(seeds, list) or not seeds or len(seeds) > MAX_SEEDS or not all(
            isinstance(s, int) and not isinstance(s, bool) and 0 <= s < 2**63 for s in seeds):
        fail("seeds", f"must be a list of 1 to {MAX_SEEDS} seeds (integers >= 0)", seeds)

    raw = data.get("parameters")
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_PARAMETERS:
        fail("parameters", f"must be a list of 1 to {MAX_PARAMETERS} free parameters", raw)
    parameters = []
    seen = set()
    for i, entry in enumerate(raw):
        where = f"parameters[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            fail(where, "must be a mapping with `path` and `bounds`", entry)
        unknown = sorted(set(entry) - {"path", "bounds", "start", "scale"})
        if unknown:
            fail(f"{where}.{unknown[0]}", "unknown field; expected one of: path, bounds, "
                 "start, scale")
        field = entry["path"]
        if field in seen:
            fail(f"{where}.path", "is already a parameter", field)
        seen.add(field)
        bounds = entry.get("bounds")
        if not isinstance(bounds, list) or len(bounds) != 2:
            fail(f"{where}.bounds", "must be [low, high]", bounds)

        def resolve(value: Any, at: str, field: str = field, where: str = where) -> float:
            try:
                resolved = field_value(load_scenario(scenario_file, [
                    *base, f"{field}={value}"]), field)
            except ScenarioError as exc:
                raise ScenarioError(display, at, f"is not a valid {field}: {exc}") from None
            except (KeyError, IndexError, TypeError):
                raise ScenarioError(display, f"{where}.path", "is not a field of the "
                                    "scenario", field) from None
            if isinstance(resolved, bool) or not isinstance(resolved, (int, float)):
                raise ScenarioError(display, f"{where}.path", "is not a numeric field",
                                    field)
            return float(resolved)

        low = resolve(bounds[0], f"{where}.bounds[0]")
        high = resolve(bounds[1], f"{where}.bounds[1]")
        if not low < high:
            fail(f"{where}.bounds", "must have low < high", bounds)
        if "start" in entry:
            start = resolve(entry["start"], f"{where}.start")
        else:
            try:
                start = float(field_value(scenario, field))
            except (KeyError, IndexError, TypeError, ValueError):
                fail(f"{where}.start", f"is needed: the scenario has no value for {field}")
        if not low <= start <= high:
            fail(f"{where}.start", f"must lie within the bounds [{low:g}, {high:g}]", start)
        scale = entry.get("scale", "log" if low > 0 else "linear")
        if scale not in ("log", "linear") or (scale == "log" and low <= 0):
            fail(f"{where}.scale", "must be `log` (bounds > 0) or `linear`", scale)
        parameters.append(Parameter(field, low, high, start, scale == "log"))

    raw = data.get("observed")
    if not isinstance(raw, list) or not raw:
        fail("observed", "must be a non-empty list of {metric, value} entries", raw)
    observed = []
    for i, entry in enumerate(raw):
        where = f"observed[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("metric"), str):
            fail(where, "must be a mapping with `metric` and `value`", entry)
        unknown = sorted(set(entry) - {"metric", "value", "weight"})
        if unknown:
            fail(f"{where}.{unknown[0]}", "unknown field; expected one of: metric, value, "
                 "weight")
        value, weight = entry.get("value"), entry.get("weight", 1)
        for name, number in (("value", value), ("weight", weight)):
            if isinstance(number, bool) or not isinstance(number, (int, float)) \
                    or not math.isfinite(number):
                fail(f"{where}.{name}", "must be a finite number", number)
        if value == 0:
            fail(f"{where}.value", "must not be 0 (residuals are relative)", value)
        if weight <= 0:
            fail(f"{where}.weight", "must be > 0", weight)
        observed.append(Observed(entry["metric"], float(value), float(weight)))
    return Targets(tuple(parameters), tuple(observed), tuple(seeds), tuple(items))
