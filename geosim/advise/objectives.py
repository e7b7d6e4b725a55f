"""The objectives file of ``geosim advise``: limits, failures, the design space, the search.

A plain YAML file (docs/advise.md has the reference)::

    failures:                       # the failures every design must survive (each run alone)
      - name: us-west1-outage
        faults: [{kind: region-outage, region: us-west1, at: 40s, duration: 30s}]
      - name: us-west2-destroyed
        faults: [{kind: region-destruction, region: us-west2, at: 40s}]
        limits: {rpo: {seconds: 30s}}          # this failure's own limits (merged)
    limits:
      rpo: {records: 0, bytes: 0, seconds: 0}  # worst over failures and seeds
      rto: {producers: 45s, consumers: 60s}    # rto.<region>.<role>.first_success
      publish_p99: {steady: 1s, during: 30s}
      e2e_p99: {steady: 2s, during: 60s}
      budget: 3000                             # USD per month (the run's bill)
    designs:                        # one entry per strategy (or variant) that may be used
      diskless:
        variant: diskless           # a `compare:` entry of the scenario, or `strategy:`
        set: [...]                  # fixed --set items
        vary:                       # the knobs and their ranges
          strategy.flush_interval: [100ms, 250ms]             # values of one field
          strategy.brokers.us-west1: {min: 1, max: 3}         # an integer range
          bucket: {multi-region: [], quorum: [object_store.kind=regional, ...]}  # named
    search: {seeds: [1, 2], population: 8, generations: 3, seed: 0, steady_duration: 30s}
    front: {latency: publish.steady}
    property_search: {kinds: [region-outage], regions: [us-west1], at: [30s, 50s],
                      duration: [10s, 40s], examples: 8}

Every mistake is one :class:`~geosim.scenario.errors.ScenarioError` naming the file,
the field, the value and what was expected, before anything runs.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NoReturn

from geosim.core.units import UnitError, parse_duration, parse_size
from geosim.scenario.errors import ScenarioError
from geosim.scenario.yamlfile import read_yaml

__all__ = ["FRONT_LATENCIES", "Design", "Failure", "Knob", "Limits", "Objectives",
           "PropertySearch", "SearchSettings", "load_objectives", "objectives_from_dict"]

#: Latency axes the Pareto front may use: ``<kind>.<phase>``.
FRONT_LATENCIES = ("publish.steady", "publish.during", "e2e.steady", "e2e.during")
#: Region fault kinds a property search may draw.
SEARCH_KINDS = ("region-outage", "region-destruction")
#: Most values one knob may take (a range is listed value by value).
MAX_KNOB_VALUES = 1000
#: Most seeds, failures, generations x population: an advise run is meant to finish.
MAX_SEEDS = 100
MAX_FAILURES = 50
MAX_TRIALS = 100_000


@dataclass(frozen=True)
class Limits:
    """Upper bounds; None: no limit. Seconds, records, bytes, USD per month."""

    rpo_records: float | None = None
    rpo_bytes: float | None = None
    rpo_seconds: float | None = None
    rto_producers: float | None = None
    rto_consumers: float | None = None
    rto_measure: str = "first_success"
    rto_regions: tuple[str, ...] | None = None   # None: regions the failure leaves up
    publish_p99_steady: float | None = None
    publish_p99_during: float | None = None
    e2e_p99_steady: float | None = None
    e2e_p99_during: float | None = None
    budget: float | None = None

    def merged(self, other: Mapping[str, Any]) -> Limits:
        """These limits with ``other`` (field name -> value) replacing some."""
        return replace(self, **dict(other))


@dataclass(frozen=True)
class Failure:
    """One failure to survive: a name, its fault timeline, and the limits that apply."""

    name: str
    faults: tuple[dict, ...]
    limits: Limits


@dataclass(frozen=True)
class Knob:
    """A field (or a named set of fields) a design may vary, with its values.

    ``options`` maps each value's label to the ``--set`` items that make it.
    """

    name: str
    options: tuple[tuple[str, tuple[str, ...]], ...]

    @property
    def labels(self) -> list[str]:
        return [label for label, _ in self.options]

    def items(self, label: str) -> tuple[str, ...]:
        return dict(self.options)[label]


@dataclass(frozen=True)
class Design:
    """A strategy (or a ``compare:`` variant) with fixed overrides and knobs."""

    name: str
    variant: str | None
    strategy: dict | None
    overrides: tuple[str, ...]
    knobs: tuple[Knob, ...]

    @property
    def size(self) -> int:
        return math.prod(len(k.options) for k in self.knobs)


@dataclass(frozen=True)
class SearchSettings:
    seeds: tuple[int, ...] = (1, 2)
    population: int = 8
    generations: int = 3
    seed: int = 0
    steady_duration: float = 30.0
    steady_drain: float = 10.0
    screen_margin: float = 0.0     # screened out when over a limit by more than this share
    method: str = "auto"           # auto | nsga2 | grid (geosim.advise.search)


@dataclass(frozen=True)
class PropertySearch:
    kinds: tuple[str, ...]
    regions: tuple[str, ...] | None
    at: tuple[int, int] | None
    duration: tuple[int, int]
    examples: int = 8
    designs: int = 3               # designs tried in turn until one survives


@dataclass(frozen=True)
class Objectives:
    source: str
    failures: tuple[Failure, ...]
    limits: Limits
    designs: tuple[Design, ...]
    search: SearchSettings = field(default_factory=SearchSettings)
    front_latency: str = "publish.steady"
    property_search: PropertySearch | None = None


# --- validation -------------------------------------------------------------------------

class _Reader:
    def __init__(self, source: str):
        self.source = source

    def fail(self, path: str, expected: str, value: Any = None, *,
             has_value: bool = True) -> NoReturn:
        if has_value:
            raise ScenarioError(self.source, path, expected, value)
        raise ScenarioError(self.source, path, expected)

    def mapping(self, value: Any, path: str, keys: Sequence[str]) -> Mapping[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.fail(path, "must be a mapping", value)
        for key in value:
            if key not in keys:
                where = f"{path}.{key}" if path else str(key)
                self.fail(where, f"unknown field; expected one of: {', '.join(keys)}",
                          has_value=False)
        return value

    def number(self, value: Any, path: str, *, kind: str = "number",
               integer: bool = False, low: float = 0.0, high: float = 1e18) -> float:
        """A non-negative finite number; ``kind`` ``duration``/``size`` accept units."""
        try:
            if isinstance(value, bool):
                raise UnitError("boolean")
            if kind == "duration":
                number = parse_duration(value)
            elif kind == "size":
                number = float(parse_size(value))
            elif isinstance(value, int | float):
                number = float(value)
            else:
                raise UnitError(str(value))
        except (UnitError, OverflowError, ValueError):
            what = {"duration": "a duration (e.g. 30s, 500ms)", "size": "a size (e.g. "
                    "1MiB) or a number of bytes"}.get(kind, "a number")
            self.fail(path, f"must be {what}", value)
        if not math.isfinite(number) or not low <= number <= high:
            self.fail(path, f"must be between {low:g} and {high:g}", value)
        if integer and number != int(number):
            self.fail(path, "must be an integer", value)
        return number

    def integer(self, value: Any, path: str, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(path, f"must be an integer between {low} and {high}", value)
        if not low <= value <= high:
            self.fail(path, f"must be an integer between {low} and {high}", value)
        return int(value)

    def pair(self, value: Any, path: str) -> tuple[int, int]:
        if not (isinstance(value, list) and len(value) == 2):
            self.fail(path, "must be [LOW, HIGH] durations", value)
        low = self.number(value[0], f"{path}[0]", kind="duration", high=1e7)
        high = self.number(value[1], f"{path}[1]", kind="duration", high=1e7)
        if high < low:
            self.fail(path, "must be [LOW, HIGH] with LOW <= HIGH", value)
        return int(low), int(high)

    def items(self, value: Any, path: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(i, str) and "=" in i
                                                  for i in value):
            self.fail(path, "must be a list of KEY=VALUE overrides", value)
        return tuple(value)


LIMIT_KEYS = ("rpo", "rto", "publish_p99", "e2e_p99", "budget")


def _limits(reader: _Reader, raw: Any, path: str) -> dict[str, Any]:
    """The limit fields ``raw`` sets (field name of :class:`Limits` -> value)."""
    data = reader.mapping(raw, path, LIMIT_KEYS)
    out: dict[str, Any] = {}
    rpo = reader.mapping(data.get("rpo"), f"{path}.rpo", ("records", "bytes", "seconds"))
    for key, kind in (("records", "number"), ("bytes", "size"), ("seconds", "duration")):
        if key in rpo:
            out[f"rpo_{key}"] = reader.number(rpo[key], f"{path}.rpo.{key}", kind=kind,
                                              integer=key == "records")
    rto = reader.mapping(data.get("rto"), f"{path}.rto",
                         ("producers", "consumers", "measure", "regions"))
    for role in ("producers", "consumers"):
        if role in rto:
            out[f"rto_{role}"] = reader.number(rto[role], f"{path}.rto.{role}",
                                               kind="duration", high=1e7)
    if "measure" in rto:
        if rto["measure"] not in ("first_success", "rate_recovered"):
            reader.fail(f"{path}.rto.measure", "must be first_success or rate_recovered",
                        rto["measure"])
        out["rto_measure"] = rto["measure"]
    if "regions" in rto:
        regions = rto["regions"]
        if not (isinstance(regions, list) and all(isinstance(r, str) for r in regions)):
            reader.fail(f"{path}.rto.regions", "must be a list of region ids", regions)
        out["rto_regions"] = tuple(regions)
    for kind in ("publish_p99", "e2e_p99"):
        phases = reader.mapping(data.get(kind), f"{path}.{kind}", ("steady", "during"))
        for phase in ("steady", "during"):
            if phase in phases:
                out[f"{kind}_{phase}"] = reader.number(
                    phases[phase], f"{path}.{kind}.{phase}", kind="duration", high=1e7)
    if "budget" in data:
        out["budget"] = reader.number(data["budget"], f"{path}.budget", high=1e12)
    return out


def _knob(reader: _Reader, name: str, raw: Any, path: str) -> Knob:
    """A ``vary`` entry: a list of values, a {min, max, step} range, or named options."""
    if isinstance(raw, list):
        if not raw:
            reader.fail(path, "must list at least one value", raw)
        texts = [v if isinstance(v, str) else json.dumps(v) for v in raw]
        if len(set(texts)) != len(texts):
            reader.fail(path, "lists a value twice", raw)
        return Knob(name, tuple((text, (f"{name}={text}",)) for text in texts))
    if isinstance(raw, Mapping) and set(raw) >= {"min", "max"} and set(raw) <= {
            "min", "max", "step"}:
        low = reader.number(raw["min"], f"{path}.min", high=1e12)
        high = reader.number(raw["max"], f"{path}.max", high=1e12)
        step = reader.number(raw.get("step", 1), f"{path}.step", low=1e-9, high=1e12)
        if high < low:
            reader.fail(path, "must have min <= max", dict(raw))
        count = int(math.floor((high - low) / step + 1e-9)) + 1
        if count > MAX_KNOB_VALUES:
            reader.fail(path, f"has {count} values; at most {MAX_KNOB_VALUES} (raise step)",
                        dict(raw))
        integral = all(float(v).is_integer() for v in (low, step))
        values = [low + i * step for i in range(count)]
        texts = [str(int(v)) if integral else f"{v:g}" for v in values]
        return Knob(name, tuple((text, (f"{name}={text}",)) for text in texts))
    if isinstance(raw, Mapping) and raw:
        options = []
        for label, items in raw.items():
            options.append((str(label), reader.items(items, f"{path}.{label}")))
        return Knob(name, tuple(options))
    reader.fail(path, "must be a list of values, {min, max, step}, or a mapping of option "
                "name to a list of KEY=VALUE overrides", raw)


def _designs(reader: _Reader, raw: Any) -> tuple[Design, ...]:
    if not isinstance(raw, Mapping) or not raw:
        reader.fail("designs", "must map at least one design name to {variant or "
                    "strategy, set, vary}", raw)
    designs = []
    for name, entry in raw.items():
        path = f"designs.{name}"
        entry = reader.mapping(entry, path, ("variant", "strategy", "set", "vary"))
        variant = entry.get("variant")
        if variant is not None and not isinstance(variant, str):
            reader.fail(f"{path}.variant", "must be the name of a compare: variant of the "
                        "scenario", variant)
        strategy = entry.get("strategy")
        if strategy is not None and not (isinstance(strategy, Mapping)
                                         and isinstance(strategy.get("name"), str)):
            reader.fail(f"{path}.strategy", "must be a strategy block (a mapping with "
                        "name and the strategy's fields)", strategy)
        if variant is not None and strategy is not None:
            reader.fail(path, "gives both variant and strategy; give one", has_value=False)
        vary = reader.mapping(entry.get("vary"), f"{path}.vary", list(entry.get("vary")
                                                                        or {}))
        knobs = tuple(_knob(reader, str(key), value, f"{path}.vary.{key}")
                      for key, value in vary.items())
        designs.append(Design(str(name), variant, dict(strategy) if strategy else None,
                              reader.items(entry.get("set"), f"{path}.set"), knobs))
    return tuple(designs)


def _failures(reader: _Reader, raw: Any, limits: Limits) -> tuple[Failure, ...]:
    if not isinstance(raw, list) or not raw:
        reader.fail("failures", "must be a list of {name, faults, limits}", raw)
    if len(raw) > MAX_FAILURES:
        reader.fail("failures", f"lists {len(raw)} failures; at most {MAX_FAILURES}",
                    has_value=False)
    failures, names = [], set()
    for i, entry in enumerate(raw):
        path = f"failures[{i}]"
        entry = reader.mapping(entry, path, ("name", "faults", "limits"))
        name = entry.get("name")
        if not isinstance(name, str) or not name or not name.replace("-", "").replace(
                "_", "").replace(".", "").isalnum():
            reader.fail(f"{path}.name", "must be a name of letters, digits, -, _ or .",
                        name)
        if name in names:
            reader.fail(f"{path}.name", "is given twice", name)
        names.add(name)
        faults = entry.get("faults")
        if not isinstance(faults, list) or not faults or not all(
                isinstance(f, Mapping) for f in faults):
            reader.fail(f"{path}.faults", "must be a non-empty list of faults (as in a "
                        "scenario's faults:)", faults)
        own = limits.merged(_limits(reader, entry.get("limits"), f"{path}.limits"))
        failures.append(Failure(name, tuple(dict(f) for f in faults), own))
    return tuple(failures)


def _search(reader: _Reader, raw: Any) -> SearchSettings:
    data = reader.mapping(raw, "search", ("seeds", "population", "generations", "seed",
                                          "steady_duration", "steady_drain",
                                          "screen_margin", "method"))
    settings = SearchSettings()
    if "seeds" in data:
        seeds = data["seeds"]
        if not (isinstance(seeds, list) and seeds and all(
                isinstance(s, int) and not isinstance(s, bool) and 0 <= s < 2**32
                for s in seeds)) or len(set(seeds)) != len(seeds):
            reader.fail("search.seeds", "must be a list of distinct non-negative integers",
                        seeds)
        if len(seeds) > MAX_SEEDS:
            reader.fail("search.seeds", f"lists {len(seeds)} seeds; at most {MAX_SEEDS}",
                        has_value=False)
        settings = replace(settings, seeds=tuple(seeds))
    population = reader.integer(data.get("population", settings.population),
                                "search.population", 2, 1000)
    generations = reader.integer(data.get("generations", settings.generations),
                                 "search.generations", 1, 10_000)
    method = data.get("method", "auto")
    if method not in ("auto", "nsga2", "grid"):
        reader.fail("search.method", "must be auto, nsga2 or grid", method)
    if population * generations > MAX_TRIALS:
        reader.fail("search", f"population x generations must be <= {MAX_TRIALS}",
                    population * generations)
    return replace(
        settings, population=population, generations=generations, method=method,
        seed=reader.integer(data.get("seed", 0), "search.seed", 0, 2**32 - 1),
        steady_duration=reader.number(data.get("steady_duration", settings.steady_duration),
                                      "search.steady_duration", kind="duration", low=1,
                                      high=86400),
        steady_drain=reader.number(data.get("steady_drain", settings.steady_drain),
                                   "search.steady_drain", kind="duration", high=86400),
        screen_margin=reader.number(data.get("screen_margin", 0), "search.screen_margin",
                                    high=10))


def _property_search(reader: _Reader, raw: Any) -> PropertySearch | None:
    if raw is None:
        return None
    data = reader.mapping(raw, "property_search", ("kinds", "regions", "at", "duration",
                                                   "examples", "designs"))
    kinds = data.get("kinds", ["region-outage"])
    if not (isinstance(kinds, list) and kinds and all(k in SEARCH_KINDS for k in kinds)):
        reader.fail("property_search.kinds", f"must be a list of {', '.join(SEARCH_KINDS)}",
                    kinds)
    regions = data.get("regions")
    if regions is not None and not (isinstance(regions, list) and regions and all(
            isinstance(r, str) for r in regions)):
        reader.fail("property_search.regions", "must be a list of region ids", regions)
    return PropertySearch(
        kinds=tuple(kinds), regions=tuple(regions) if regions else None,
        at=reader.pair(data["at"], "property_search.at") if "at" in data else None,
        duration=reader.pair(data.get("duration", ["5s", "30s"]),
                             "property_search.duration"),
        examples=reader.integer(data.get("examples", 8), "property_search.examples", 1,
                                100_000),
        designs=reader.integer(data.get("designs", 3), "property_search.designs", 1, 100))


def objectives_from_dict(data: Any, source: str = "<objectives>") -> Objectives:
    """Check the objectives ``data`` (a parsed file); raise :class:`ScenarioError`."""
    reader = _Reader(source)
    if data is None:
        reader.fail("", "is empty; expected failures, limits and designs", has_value=False)
    data = reader.mapping(data, "", ("failures", "limits", "designs", "search", "front",
                                     "property_search"))
    limits = Limits().merged(_limits(reader, data.get("limits"), "limits"))
    front = reader.mapping(data.get("front"), "front", ("latency",))
    latency = front.get("latency", "publish.steady")
    if latency not in FRONT_LATENCIES:
        reader.fail("front.latency", f"must be one of {', '.join(FRONT_LATENCIES)}",
                    latency)
    return Objectives(source=source, failures=_failures(reader, data.get("failures"),
                                                        limits),
                      limits=limits, designs=_designs(reader, data.get("designs")),
                      search=_search(reader, data.get("search")), front_latency=latency,
                      property_search=_property_search(reader, data.get("property_search")))


def load_objectives(path: str | Path) -> Objectives:
    """Read and check an objectives file; raise :class:`ScenarioError` naming the field."""
    source = str(path)
    return objectives_from_dict(read_yaml(path, source), source)
