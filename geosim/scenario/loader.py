"""Loading scenarios: YAML files, ``--set`` overrides, OMB files and cross-field checks.

The pipeline is::

    YAML text --parse--> dict --overrides--> dict --OMB references--> dict
              --schema (pydantic)--> Scenario --cross-field checks--> Scenario

Every problem a user can cause surfaces as one :class:`ScenarioError` whose message is a
single line naming the file, the field path, the value and what was expected. The
returned :class:`Scenario` is self-contained: OMB workload and driver references are
replaced by the parsed files, so :func:`dump_scenario` writes a complete "resolved
scenario" (canonical units, every default filled in) that reloads to an equal object.
"""

from __future__ import annotations

import copy
import difflib
import math
import re
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, BeforeValidator, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from geosim.scenario import types as unit_types
from geosim.scenario.errors import (
    NO_VALUE,
    ScenarioError,
    format_path,
    from_validation_error,
)
from geosim.scenario.omb import (
    ConsumerConfig,
    ProducerConfig,
    resolve_consumer_config,
    resolve_producer_config,
)
from geosim.scenario.schema import (
    BrokerCrash,
    Brownout,
    ClientCrash,
    ObjectStoreSlowdown,
    OmbDriver,
    OmbWorkload,
    Partition,
    RegionDestruction,
    RegionOutage,
    ReplicationPause,
    Scenario,
    UncleanElection,
    WorkloadSpec,
    ZoneOutage,
)

__all__ = [
    "BUNDLED_OMB_DIR",
    "bundled_omb_files",
    "check_scenario",
    "client_configs",
    "dump_scenario",
    "load_omb_driver",
    "load_omb_workload",
    "load_scenario",
    "read_yaml",
    "scenario_from_dict",
]

BUNDLED_OMB_DIR = Path(__file__).resolve().parent.parent / "data" / "omb"
"""Unmodified copies of OMB's ``workloads/`` and ``driver-kafka/`` (see its README)."""

_OMB_FOLDERS = {"omb": "workloads", "driver": "driver-kafka"}
_OMB_MODELS: dict[str, type[BaseModel]] = {"omb": OmbWorkload, "driver": OmbDriver}
_INLINE = "<inline>"

# --- YAML ----------------------------------------------------------------------------------


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate mapping keys.

    PyYAML silently keeps the last of two equal keys; in a scenario that hides a mistake
    (two ``faults:`` blocks, say), so it is an error here.
    """


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False):
    loader.flatten_mapping(node)
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            first = seen.get(key)
        except TypeError:
            continue  # unhashable key: construct_mapping reports it with its position
        if first is not None:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first given on line {first + 1})",
                key_node.start_mark)
        seen[key] = key_node.start_mark.line
    return yaml.SafeLoader.construct_mapping(loader, node, deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
                              _construct_mapping)


def _parse_yaml(text: str, display: str) -> Any:
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "malformed YAML"
        if exc.context and exc.problem:
            problem = f"{exc.context}, {exc.problem}"
        raise ScenarioError(display, "", f"invalid YAML: {problem}",
                            line=mark.line + 1 if mark else None,
                            column=mark.column + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(display, "", f"invalid YAML: {exc}") from None


def read_yaml(path: str | Path, display: str | None = None) -> Any:
    """Parse a YAML file; any problem (missing, unreadable, malformed) is a ScenarioError.

    ``display`` is how the file is named in messages (default: ``path`` as given).
    """
    display = str(path) if display is None else display
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(display, "", "no such file") from None
    except IsADirectoryError:
        raise ScenarioError(display, "", "is a directory, expected a YAML file") from None
    except PermissionError:
        raise ScenarioError(display, "", "cannot be read (permission denied)") from None
    except UnicodeDecodeError:
        raise ScenarioError(display, "", "is not UTF-8 text") from None
    except OSError as exc:
        raise ScenarioError(display, "", f"cannot be read ({exc.strerror})") from None
    return _parse_yaml(text, display)


# --- OMB files -----------------------------------------------------------------------------


def bundled_omb_files(folder: str = "workloads") -> list[str]:
    """``omb:`` names of the bundled files in ``workloads`` or ``driver-kafka``."""
    root = BUNDLED_OMB_DIR / folder
    return sorted(f"omb:{folder}/{p.name}" for p in root.glob("*.yaml"))


def _locate_omb(ref: str, folder: str, base_dir: Path | None, referrer: str,
                field: str) -> tuple[Path, str]:
    """(file to read, how to name it) for an OMB reference string."""
    if ref.startswith("omb:"):
        name = ref[len("omb:"):].strip().lstrip("/")
        root = BUNDLED_OMB_DIR.resolve()
        # `omb:kafka-latency.yaml` is accepted as short for `omb:driver-kafka/...`.
        for candidate in (root / name, root / folder / name):
            resolved = candidate.resolve()
            if resolved.is_relative_to(root) and resolved.is_file():
                return resolved, f"omb:{resolved.relative_to(root).as_posix()}"
        known = bundled_omb_files(folder)
        close = difflib.get_close_matches(f"omb:{folder}/{Path(name).name}", known, n=1)
        hint = f"; did you mean {close[0]}?" if close else (
            f"; bundled files are omb:{folder}/<name>.yaml, see {BUNDLED_OMB_DIR}")
        raise ScenarioError(referrer, field, f"no such bundled OMB file{hint}", ref)
    path = Path(ref).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if not path.is_file():
        raise ScenarioError(referrer, field,
                            f"no such file {str(path)!r} (paths are relative to the "
                            f"scenario file; bundled OMB files are named omb:<path>)", ref)
    return path, str(path)


def _load_omb(kind: str, ref: str, base_dir: Path | None, referrer: str,
              field: str) -> tuple[BaseModel, str]:
    path, display = _locate_omb(ref, _OMB_FOLDERS[kind], base_dir, referrer, field)
    data = read_yaml(path, display)
    model = _OMB_MODELS[kind]
    if not isinstance(data, Mapping):
        raise ScenarioError(display, "", f"top level must be a mapping of {model.__name__} "
                            f"fields, got {type(data).__name__}")
    try:
        return model.model_validate(data), display
    except ValidationError as exc:
        raise from_validation_error(exc, file=display, data=data, model=model) from None


def load_omb_workload(ref: str, *, base_dir: str | Path | None = None,
                      referrer: str = _INLINE) -> OmbWorkload:
    """Load an OMB workload file: a path (relative to ``base_dir``) or ``omb:<path>``.

    Unknown OMB keys and bad values are ScenarioErrors naming the OMB file.
    """
    base = Path(base_dir) if base_dir is not None else None
    model, _ = _load_omb("omb", ref, base, referrer, "workload.omb")
    return typing.cast(OmbWorkload, model)


def load_omb_driver(ref: str, *, base_dir: str | Path | None = None,
                    referrer: str = _INLINE) -> OmbDriver:
    """Load an OMB Kafka driver file: a path (relative to ``base_dir``) or ``omb:<path>``."""
    base = Path(base_dir) if base_dir is not None else None
    model, _ = _load_omb("driver", ref, base, referrer, "workload.driver")
    return typing.cast(OmbDriver, model)


# --- schema navigation (shared by overrides and checks) --------------------------------------


def _strip(annotation: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (typing.Union, type(int | str)):
        members = [m for m in typing.get_args(annotation) if m is not type(None)]
        if len(members) == 1:
            return _strip(members[0])
    return annotation


def _members(annotation: Any) -> list[Any]:
    annotation = _strip(annotation)
    if typing.get_origin(annotation) in (typing.Union, type(int | str)):
        return [_strip(m) for m in typing.get_args(annotation) if m is not type(None)]
    return [annotation]


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _is_scalar_dict(annotation: Any) -> bool:
    """dict[str, scalar]: Kafka configs, placements, broker counts."""
    annotation = _strip(annotation)
    if typing.get_origin(annotation) is not dict:
        return False
    args = typing.get_args(annotation)
    return len(args) == 2 and not any(_is_model(m) for m in _members(args[1]))


def _tag_fields(model: type[BaseModel]) -> dict[str, set[str]]:
    out = {}
    for name, info in model.model_fields.items():
        literal = _strip(info.annotation)
        if typing.get_origin(literal) is typing.Literal and len(typing.get_args(literal)) == 1:
            out[name] = {str(v) for v in typing.get_args(literal)}
    return out


# --- overrides -------------------------------------------------------------------------------

_TOKEN = re.compile(r"\[(\d+)\]|([^.\[\]=\s][^.\[\]=]*)")


def _next_token(key: str, pos: int) -> tuple[str | int, int] | None:
    if pos and key.startswith(".", pos):
        pos += 1
    match = _TOKEN.match(key, pos)
    if match is None:
        return None
    token: str | int = int(match.group(1)) if match.group(1) is not None else match.group(2)
    return (token.strip() if isinstance(token, str) else token), match.end()


def _seed(info: FieldInfo) -> Any:
    """Starting value for a field an override descends into but the file left out."""
    default = info.get_default(call_default_factory=True)
    if default is PydanticUndefined or default is None:
        return {}
    if isinstance(default, BaseModel):
        return default.model_dump()
    return copy.deepcopy(default)


class _Recursive(ValueError):
    """The input contains itself (a YAML alias inside its own anchor: ``&a [*a]``)."""


def _plain(data: Any, _open: frozenset[int] = frozenset()) -> Any:
    """Deep copy as plain dicts and lists (models dumped, tuples listed) so overrides can
    edit it and pydantic's error locations line up with it."""
    if isinstance(data, BaseModel):
        return _plain(data.model_dump(), _open)
    if isinstance(data, Mapping | list | tuple):
        if id(data) in _open:
            raise _Recursive
        inner = _open | {id(data)}
        if isinstance(data, Mapping):
            return {k: _plain(v, inner) for k, v in data.items()}
        return [_plain(v, inner) for v in data]
    return data


class _Build:
    """State of one load: where the scenario came from, and where its OMB parts came from."""

    def __init__(self, source: str, base_dir: Path | None) -> None:
        self.source = source
        self.base_dir = base_dir
        self.origins: dict[str, str] = {}
        self.overridden: set[str] = set()

    def fail(self, path: str, expected: str, value: Any = NO_VALUE) -> typing.NoReturn:
        raise ScenarioError(self.source, path, expected, value)

    def resolve_ref(self, kind: str, ref: Any) -> Any:
        """Replace an OMB reference string by the parsed model; record its origin."""
        if not isinstance(ref, str):
            return ref
        model, display = _load_omb(kind, ref, self.base_dir, self.source, f"workload.{kind}")
        self.origins[f"workload.{kind}"] = display
        return model

    # --- `--set` ----------------------------------------------------------------------------

    def apply_override(self, data: dict, item: str) -> None:
        """Apply one ``key=value`` override to the raw scenario dict, in place.

        The key is a dotted path with ``[i]`` list indices; inside a mapping of scalars
        (``producer_config``, ``producers``...) the rest of the path is one key, because
        Kafka's keys contain dots. The value is parsed as YAML (``5m``, ``true``, ``[a, b]``).
        """
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            self.fail("", "--set expects key=value", item)
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            self.fail(key, f"value of --set {item} is not valid YAML", raw)
        annotation: Any = Scenario
        current: Any = data
        parts: list[str | int] = []
        pos = 0
        while True:
            step = _next_token(key, pos)
            if step is None:
                self.fail(key, "malformed --set path (use a.b[0].c=value)", item)
            token, pos = step
            last = pos >= len(key)
            here = format_path([*parts, token])
            model = self._pick_model(annotation, current, parts, token)
            if model is not None:
                if not isinstance(token, str):
                    self.fail(format_path(parts), f"is not a list (in --set {item})")
                info = model.model_fields.get(token)
                if info is None:
                    self.fail(here, f"unknown field (in --set {item}); expected one of: "
                              f"{', '.join(model.model_fields)}")
                if not isinstance(current, dict):
                    self.fail(format_path(parts), f"must be a mapping to set {token} in it",
                              current)
                if last:
                    current[token] = value
                    self.overridden.add(here)
                    return
                if model is WorkloadSpec and token in _OMB_MODELS and token in current:
                    # Descending into a referenced OMB file: load it, then edit its fields.
                    current[token] = _plain(self.resolve_ref(token, current[token]))
                elif model is WorkloadSpec and token == "driver":
                    current[token] = _plain(self.resolve_ref(token, info.get_default()))
                if current.get(token) is None:
                    current[token] = _seed(info)
                if _is_scalar_dict(info.annotation):
                    rest = key[pos + 1:] if key.startswith(".", pos) else ""
                    if not rest:
                        self.fail(here, f"needs a key after it (in --set {item})")
                    if not isinstance(current[token], dict):
                        self.fail(here, "must be a mapping", current[token])
                    current[token][rest] = value
                    return
                parts.append(token)
                current = current[token]
                annotation = info.annotation
                continue
            stripped = _strip(annotation)
            origin = typing.get_origin(stripped)
            if origin in (list, tuple):
                if not isinstance(token, int):
                    self.fail(format_path(parts), f"is a list: use [index] (in --set {item})")
                if not isinstance(current, list) or token >= len(current):
                    count = len(current) if isinstance(current, list) else 0
                    self.fail(here, f"index out of range: {format_path(parts)} has {count} "
                              f"item{'s' if count != 1 else ''} (in --set {item})")
                if last:
                    current[token] = value
                    return
                args = typing.get_args(stripped)
                annotation = args[token] if origin is tuple and len(args) > token else args[0]
            elif origin is dict:
                if not isinstance(current, dict):
                    self.fail(format_path(parts), "must be a mapping", current)
                if last:
                    current[token] = value
                    return
                current.setdefault(token, {})
                annotation = typing.get_args(stripped)[1]
            else:
                self.fail(format_path(parts), f"is a single value; it has no {token!r} "
                          f"(in --set {item})")
            parts.append(token)
            current = current[token]

    def _pick_model(self, annotation: Any, current: Any, parts: list[str | int],
                    token: str | int) -> type[BaseModel] | None:
        """The model an override descends into; for a union, chosen by the data's tag."""
        models = [m for m in _members(annotation) if _is_model(m)]
        if len(models) <= 1:
            return models[0] if models else None
        if isinstance(current, Mapping):
            for model in models:
                for name, values in _tag_fields(model).items():
                    if str(current.get(name)) in values:
                        return model
        tags = _tag_fields(models[0])
        if token in tags:
            return models[0]  # setting the tag itself: every member has that field
        name = next(iter(tags), "kind")
        self.fail(format_path([*parts, name]),
                  f"must be set (in the file or an earlier --set) before setting fields "
                  f"of {format_path(parts)}")

    # --- the whole load ---------------------------------------------------------------------

    def build(self, data: Any, overrides: Iterable[str], seed: int | None) -> Scenario:
        if data is None:
            self.fail("", "is empty; expected a mapping with name, topology, object_store, "
                      "workload and strategy")
        if not isinstance(data, Mapping):
            self.fail("", f"top level must be a mapping of scenario fields, got "
                      f"{type(data).__name__}")
        try:
            data = _plain(data)
        except _Recursive:
            self.fail("", "contains itself (a YAML alias used inside its own anchor)")
        data.pop("compare", None)  # variants for `geosim compare` (geosim.compare.variants)
        if isinstance(overrides, str):
            overrides = [overrides]
        for item in overrides:
            self.apply_override(data, item)
        if seed is not None:
            self.apply_override(data, f"simulation.seed={int(seed)}")
        workload = data.get("workload")
        if isinstance(workload, dict):
            workload.setdefault("driver", WorkloadSpec.model_fields["driver"].get_default())
            for kind in _OMB_MODELS:
                if kind in workload:
                    workload[kind] = self.resolve_ref(kind, workload[kind])
        try:
            scenario = Scenario.model_validate(data)
        except ValidationError as exc:
            raise from_validation_error(exc, file=self.source, data=data,
                                        model=Scenario) from None
        origins = dict(self.origins)
        if "workload.omb.producerRate" in self.overridden:
            origins.pop("workload.omb", None)  # the rate no longer comes from the OMB file
        check_scenario(scenario, source=self.source, origins=origins)
        return scenario


# --- public entry points ----------------------------------------------------------------------


def load_scenario(path: str | Path, overrides: Iterable[str] = (), *,
                  seed: int | None = None) -> Scenario:
    """Load, override, resolve and check a scenario file.

    ``overrides`` are ``--set`` items (``faults[0].at=5m``,
    ``workload.producer_config.linger.ms=5``); ``seed`` replaces ``simulation.seed``.
    OMB references are resolved against the scenario's folder (or the bundled copies for
    ``omb:`` names), so the result is self-contained. Raises :class:`ScenarioError`.
    """
    display = str(path)
    data = read_yaml(path, display)
    return _Build(display, Path(path).parent).build(data, overrides, seed)


def scenario_from_dict(data: Mapping[str, Any], *, source: str = _INLINE,
                       base_dir: str | Path | None = None, overrides: Iterable[str] = (),
                       seed: int | None = None) -> Scenario:
    """Build a checked Scenario from a dict (notebooks, tests, Hypothesis strategies).

    Same pipeline as :func:`load_scenario`; ``source`` names the dict in messages and
    ``base_dir`` anchors relative OMB paths (default: the working directory). ``data`` is
    not modified.
    """
    base = Path(base_dir) if base_dir is not None else None
    return _Build(source, base).build(data, overrides, seed)


def dump_scenario(scenario: Scenario) -> str:
    """The resolved scenario as YAML: canonical units, every default filled in.

    Written next to results, it records exactly what ran; loading it gives an equal
    Scenario.
    """
    body = yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False,
                          allow_unicode=True, default_flow_style=False, width=100)
    header = ("# geosim resolved scenario: every default filled in; durations in seconds,\n"
              "# sizes in bytes, rates in bytes/s. Reloads to the same scenario.\n")
    return header + body


def client_configs(scenario: Scenario, *, source: str = _INLINE,
                   base_dir: str | Path | None = None,
                   ) -> tuple[ProducerConfig, ConsumerConfig]:
    """The resolved Kafka producer and consumer settings of a scenario's workload.

    Accepts a Scenario built without the loader too (its driver may still be a
    reference string, resolved here).
    """
    driver = scenario.workload.driver
    driver_file = None
    if isinstance(driver, str):
        driver_file = driver
        base = Path(base_dir) if base_dir is not None else None
        driver = typing.cast(OmbDriver, _load_omb("driver", driver, base, source,
                                                  "workload.driver")[0])
    producer = resolve_producer_config(driver, scenario.workload.producer_config,
                                       driver_file=driver_file, scenario_file=source)
    consumer = resolve_consumer_config(driver, scenario.workload.consumer_config,
                                       driver_file=driver_file, scenario_file=source)
    return producer, consumer


# --- cross-field checks --------------------------------------------------------------------------

_UNIT_VALIDATORS = {
    meta.func
    for unit_type in (unit_types.Duration, unit_types.Size, unit_types.Rate)
    for meta in typing.get_args(unit_type)[1:]
    if isinstance(meta, BeforeValidator)
}


def _has_unit(info: FieldInfo) -> bool:
    """Whether a field holds a Duration, Size or Rate (possibly in a list or optional)."""
    def search(annotation: Any) -> bool:
        if typing.get_origin(annotation) is typing.Annotated:
            args = typing.get_args(annotation)
            if any(isinstance(m, BeforeValidator) and m.func in _UNIT_VALIDATORS
                   for m in args[1:]):
                return True
            return search(args[0])
        return any(search(arg) for arg in typing.get_args(annotation))
    return (any(isinstance(m, BeforeValidator) and m.func in _UNIT_VALIDATORS
                for m in info.metadata) or search(info.annotation))


def _shorten(names: list[str], limit: int = 12) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


class _Checker:
    """Cross-field checks on a validated Scenario; the first problem raises."""

    def __init__(self, scenario: Scenario, source: str, origins: Mapping[str, str]) -> None:
        self.s = scenario
        self.source = source
        self.origins = dict(origins)
        self.regions = {name: list(spec.zones) for name, spec in scenario.topology.regions.items()}
        self.zones: dict[str, str] = {}  # zone id -> region

    def fail(self, path: str, expected: str, value: Any = NO_VALUE) -> typing.NoReturn:
        raise ScenarioError(self.source, path, expected, value)

    # locations

    def region(self, name: Any, path: str) -> str:
        if name not in self.regions:
            self.fail(path, f"unknown region; expected one of: {_shorten(list(self.regions))}",
                      name)
        return name

    def _unknown_zone(self, name: Any, path: str, or_region: bool) -> typing.NoReturn:
        # A zone-like id whose region exists: say which zones that region has.
        for region, suffixes in self.regions.items():
            if isinstance(name, str) and name.startswith(f"{region}-"):
                ids = [f"{region}-{z}" for z in suffixes]
                self.fail(path, f"unknown zone of region {region} (its zones: "
                          f"{_shorten(ids)})", name)
        zones = _shorten(list(self.zones))
        if or_region:
            self.fail(path, f"unknown region or zone; expected a region "
                      f"({_shorten(list(self.regions))}) or a zone id ({zones})", name)
        self.fail(path, f"unknown zone; expected one of: {zones}", name)

    def zone(self, name: Any, path: str) -> str:
        if name in self.zones:
            return name
        if name in self.regions:
            self.fail(path, f"is a region; expected a zone id <region>-<zone> (one of: "
                      f"{_shorten([z for z in self.zones if self.zones[z] == name])})", name)
        self._unknown_zone(name, path, or_region=False)

    def location(self, name: Any, path: str) -> str:
        """'region' or 'zone' for a key that may be either."""
        if name in self.regions:
            return "region"
        if name in self.zones:
            return "zone"
        self._unknown_zone(name, path, or_region=True)

    def pair(self, pair: tuple[str, str], path: str) -> None:
        kinds = [self.location(end, f"{path}[{i}]") for i, end in enumerate(pair)]
        if kinds[0] != kinds[1]:
            self.fail(path, "must name two regions or two zones, not one of each", list(pair))
        if pair[0] == pair[1]:
            self.fail(path, "must name two different places", list(pair))

    def no_duplicates(self, names: list[str], path: str) -> None:
        seen: set[str] = set()
        for i, name in enumerate(names):
            if name in seen:
                self.fail(f"{path}[{i}]", "is listed twice", name)
            seen.add(name)

    def placement(self, weights: Mapping[str, float], path: str) -> None:
        for key, weight in weights.items():
            self.location(key, f"{path}.{key}")
            if not math.isfinite(weight):
                self.fail(f"{path}.{key}", "must be a finite number (a share)", weight)
            if weight < 0:
                self.fail(f"{path}.{key}", "must be >= 0 (a share)", weight)
        if weights and sum(weights.values()) <= 0:
            self.fail(path, "shares must sum to more than 0", dict(weights))

    # the checks, in file order

    def run(self) -> None:
        self.topology()
        self.object_store()
        self.metadata()
        self.workload()
        self.strategy()
        self.faults()
        self.simulation()
        self.cost()
        self.non_negative(self.s, [])

    def topology(self) -> None:
        for region, suffixes in self.regions.items():
            for i, suffix in enumerate(suffixes):
                zone_id = f"{region}-{suffix}"
                path = f"topology.regions.{region}.zones[{i}]"
                if zone_id in self.zones:
                    other = self.zones[zone_id]
                    self.fail(path, f"gives zone id {zone_id}, which region {other} already "
                              f"has" if other != region else "is listed twice", suffix)
                if zone_id in self.regions:
                    self.fail(path, f"gives zone id {zone_id}, which is also a region id",
                              suffix)
                self.zones[zone_id] = region
        seen: dict[frozenset, int] = {}
        for i, link in enumerate(self.s.topology.links):
            path = f"topology.links[{i}]"
            self.pair(link.between, f"{path}.between")
            key = frozenset(link.between)
            if key in seen:
                self.fail(f"{path}.between", f"duplicates topology.links[{seen[key]}]",
                          list(link.between))
            seen[key] = i
            if link.bandwidth is not None and link.bandwidth <= 0:
                self.fail(f"{path}.bandwidth", "must be > 0 (omit it for unlimited)",
                          link.bandwidth)

    def object_store(self) -> None:
        store = self.s.object_store
        for i, region in enumerate(store.regions):
            self.region(region, f"object_store.regions[{i}]")
        self.no_duplicates(store.regions, "object_store.regions")

    def metadata(self) -> None:
        meta = self.s.metadata
        preset = meta.preset
        implicit = "" if "preset" in meta.model_fields_set else " (the default preset)"
        for i, region in enumerate(meta.regions):
            self.region(region, f"metadata.regions[{i}]")
        self.no_duplicates(meta.regions, "metadata.regions")
        needs = {"spanner-multi-region": (3, "exactly 3 regions: two read-write regions, "
                                          "then the witness region"),
                 "spanner-dual-region": (2, "exactly 2 regions")}
        if preset in needs:
            count, text = needs[preset]
            if len(meta.regions) != count:
                self.fail("metadata.regions", f"preset {preset}{implicit} needs {text}",
                          list(meta.regions))
        elif preset in ("etcd", "kraft") and not meta.regions:
            self.fail("metadata.regions", f"preset {preset} needs at least 1 region",
                      list(meta.regions))
        if preset == "custom":
            if not meta.voters:
                self.fail("metadata.voters", "preset custom needs at least one voter")
            if meta.regions:
                self.fail("metadata.regions", "is not used by preset custom (place voters "
                          "with metadata.voters)", list(meta.regions))
        elif meta.voters:
            self.fail("metadata.voters", f"is only used by preset custom, not {preset}"
                      f"{implicit}")
        for i, voter in enumerate(meta.voters):
            self.region(voter.region, f"metadata.voters[{i}].region")
            if voter.zone is not None and voter.zone not in self.regions[voter.region]:
                self.fail(f"metadata.voters[{i}].zone",
                          f"must be a zone suffix of region {voter.region} (one of: "
                          f"{', '.join(self.regions[voter.region])})", voter.zone)
        if meta.leader_region is not None:
            self.region(meta.leader_region, "metadata.leader_region")
            allowed = ([v.region for v in meta.voters] if preset == "custom"
                       else list(meta.regions))
            if preset == "spanner-multi-region":
                allowed = allowed[:2]  # the witness region holds no leader-eligible replica
            if meta.leader_region not in allowed:
                self.fail("metadata.leader_region", f"must be one of the regions holding "
                          f"leader-eligible voters ({', '.join(allowed)})", meta.leader_region)

    def _omb_note(self, kind: str) -> str:
        origin = self.origins.get(f"workload.{kind}")
        return f" (value from {origin})" if origin else ""

    def workload(self) -> None:
        wl = self.s.workload
        self.placement(wl.producers, "workload.producers")
        self.placement(wl.consumers, "workload.consumers")
        omb = wl.omb
        if isinstance(omb, OmbWorkload):
            note = self._omb_note("omb")
            if omb.producerRate <= 0:
                self.fail("workload.omb.producerRate",
                          "must be > 0: producerRate 0 is OMB's maximum-rate discovery, which "
                          "geosim does not support; set a fixed rate in messages/s" + note,
                          omb.producerRate)
            for name in ("testDurationMinutes", "warmupDurationMinutes", "backlogDrainRatio",
                         "randomizedPayloadPoolSize", "consumerBacklogSizeGB"):
                value = getattr(omb, name)
                if value < 0:
                    self.fail(f"workload.omb.{name}", "must be >= 0" + note, value)
        if isinstance(wl.driver, OmbDriver):
            driver_file = self.origins.get("workload.driver")
            resolve_producer_config(wl.driver, wl.producer_config, driver_file=driver_file,
                                    scenario_file=self.source)
            resolve_consumer_config(wl.driver, wl.consumer_config, driver_file=driver_file,
                                    scenario_file=self.source)

    def strategy(self) -> None:
        strat = self.s.strategy
        for key, count in strat.brokers.items():
            self.location(key, f"strategy.brokers.{key}")
            if count < 0:
                self.fail(f"strategy.brokers.{key}", "must be >= 0", count)
        if strat.brokers and sum(strat.brokers.values()) <= 0:
            self.fail("strategy.brokers", "must place at least one broker", dict(strat.brokers))
        if strat.name != "diskless":
            self.kafka_strategy(strat)
            return
        if strat.flush_interval <= 0:
            self.fail("strategy.flush_interval", "must be > 0 (in seconds)",
                      strat.flush_interval)
        if strat.flush_bytes <= 0:
            self.fail("strategy.flush_bytes", "must be > 0 (in bytes)", strat.flush_bytes)
        self.writers(strat)
        if strat.write_quorum is not None:
            store = self.s.object_store
            if store.kind != "regional":
                self.fail("strategy.write_quorum", f"requires object_store.kind regional "
                          f"(one bucket per region), but object_store.kind is {store.kind}",
                          strat.write_quorum)
            if strat.write_quorum > len(store.regions):
                self.fail("strategy.write_quorum", f"must be <= the number of "
                          f"object_store.regions ({len(store.regions)})", strat.write_quorum)

    def writers(self, strat) -> None:
        """``brokers_per_writer`` must split every zone's brokers, and every broker crash,
        into whole writers."""
        from geosim.clients.workload import place_brokers

        per = strat.brokers_per_writer
        if per == 1:
            return
        counts = place_brokers(strat.brokers, {
            region: [f"{region}-{z}" for z in spec.zones]
            for region, spec in self.s.topology.regions.items()})
        if not strat.brokers:
            counts = {"every zone": 3}  # the default placement
        for zone, n in sorted(counts.items()):
            if n % per:
                self.fail("strategy.brokers_per_writer", f"must divide the broker count of "
                          f"every zone ({zone} has {n})", per)
        for i, fault in enumerate(self.s.faults):
            if isinstance(fault, BrokerCrash) and fault.count % per:
                self.fail(f"faults[{i}].count", f"must be a multiple of "
                          f"strategy.brokers_per_writer ({per}): writers crash whole",
                          fault.count)

    def kafka_strategy(self, strat) -> None:
        """Checks of the Kafka-broker strategies (stretch, observers)."""
        from geosim.kafka.config import BY_KEY, resolve_broker_config
        from geosim.scenario.omb import topic_config

        placements = [("replica_placement", strat.replica_placement)]
        if strat.name == "observers":
            placements.append(("observer_placement", strat.observer_placement))
        for field_name, placement in placements:
            for key, count in placement.items():
                self.location(key, f"strategy.{field_name}.{key}")
                if count < 0:
                    self.fail(f"strategy.{field_name}.{key}", "must be >= 0", count)
        if strat.append_interval <= 0:
            self.fail("strategy.append_interval", "must be > 0 (in seconds)",
                      strat.append_interval)
        driver = self.s.workload.driver
        topic = topic_config(driver) if isinstance(driver, OmbDriver) else {}
        try:
            config = resolve_broker_config(strat.config, topic)
        except KeyError as exc:
            known = ", ".join(sorted(BY_KEY))
            self.fail(f"strategy.config.{exc.args[0]}", f"is not a modelled broker or topic "
                      f"config (known: {known})", strat.config[exc.args[0]])
        except ValueError as exc:
            key, message = exc.args[0]
            self.fail(f"strategy.config.{key}", message,
                      strat.config.get(key, topic.get(key)))
        rf = sum(strat.replica_placement.values()) if strat.replica_placement else (
            strat.replication_factor or (driver.replicationFactor
                                         if isinstance(driver, OmbDriver) else 1))
        brokers = sum(strat.brokers.values()) if strat.brokers else None
        if brokers is not None and rf > brokers:
            self.fail("strategy.replication_factor", f"must be <= the number of brokers "
                      f"({brokers})", rf)
        if config.min_insync_replicas > rf:
            self.fail("strategy.config.min.insync.replicas", f"must be <= the replication "
                      f"factor ({rf}): no produce with acks=all could ever succeed",
                      config.min_insync_replicas)
        if strat.name in ("mirrormaker2", "cluster-linking"):
            self.cross_cluster(strat)

    def cross_cluster(self, strat) -> None:
        """Checks of the cross-cluster strategies (mirrormaker2, cluster-linking)."""
        from geosim.kafka.mirror_config import LINK_KEYS, MM2_KEYS, resolve_mirror_config

        try:
            resolve_mirror_config(strat.name, strat.mirror_config)
        except KeyError as exc:
            keys = LINK_KEYS if strat.name == "cluster-linking" else MM2_KEYS
            known = ", ".join(sorted(k.key for k in keys))
            self.fail(f"strategy.mirror_config.{exc.args[0]}", f"is not a modelled "
                      f"{strat.name} config (known: {known})",
                      strat.mirror_config[exc.args[0]])
        except ValueError as exc:
            key, message = exc.args[0]
            self.fail(f"strategy.mirror_config.{key}", message, strat.mirror_config.get(key))
        regions = self.s.topology.regions
        for i, region in enumerate(strat.clusters):
            self.region(region, f"strategy.clusters[{i}]")
        if strat.brokers:
            with_brokers = sorted({key if key in regions else key.rsplit("-", 1)[0]
                                   for key, n in strat.brokers.items() if n > 0})
        else:
            with_brokers = sorted(regions)
        clusters = strat.clusters or with_brokers
        for i, region in enumerate(clusters):
            if region not in with_brokers:
                self.fail(f"strategy.clusters[{i}]", "must be a region with brokers "
                          f"(strategy.brokers places them in {', '.join(with_brokers)})",
                          region)
        if len(clusters) < 2:
            self.fail("strategy.clusters", "must name at least two regions (one cluster "
                      "each) to replicate between", list(clusters))
        if strat.primary is not None and strat.primary not in clusters:
            self.fail("strategy.primary", f"must be one of the clusters "
                      f"({', '.join(clusters)})", strat.primary)
        seen = set()
        for i, flow in enumerate(strat.flows):
            for side in ("source", "target"):
                value = getattr(flow, side)
                if value not in clusters:
                    self.fail(f"strategy.flows[{i}].{side}", f"must be one of the clusters "
                              f"({', '.join(clusters)})", value)
            if flow.source == flow.target:
                self.fail(f"strategy.flows[{i}].target", "must differ from the source",
                          flow.target)
            if (flow.source, flow.target) in seen:
                self.fail(f"strategy.flows[{i}]", "is listed twice",
                          f"{flow.source}->{flow.target}")
            seen.add((flow.source, flow.target))
        fo = strat.failover
        for name in ("detection", "decision"):
            if getattr(fo, name) < 0:
                self.fail(f"strategy.failover.{name}", "must be >= 0 (in seconds)",
                          getattr(fo, name))
        if strat.migrate_at is not None and not (0 <= strat.migrate_at
                                                 < self.s.simulation.duration):
            self.fail("strategy.migrate_at", f"must be within the run (0 to "
                      f"{self.s.simulation.duration:g} s)", strat.migrate_at)

    def faults(self) -> None:
        duration = self.s.simulation.duration
        store = self.s.object_store
        for i, fault in enumerate(self.s.faults):
            path = f"faults[{i}]"
            if fault.at >= duration:
                self.fail(f"{path}.at", f"must be < simulation.duration ({duration:g} s): a "
                          f"fault must start while producers run", fault.at)
            if isinstance(fault, RegionOutage | RegionDestruction):
                self.region(fault.region, f"{path}.region")
            elif isinstance(fault, ZoneOutage | ClientCrash | BrokerCrash):
                self.zone(fault.zone, f"{path}.zone")
            elif isinstance(fault, Partition | Brownout):
                self.pair(fault.between, f"{path}.between")
                if isinstance(fault, Brownout) and fault.bandwidth is not None \
                        and fault.bandwidth <= 0:
                    self.fail(f"{path}.bandwidth", "must be > 0 (use a partition to cut a "
                              "link)", fault.bandwidth)
            elif isinstance(fault, ObjectStoreSlowdown) and fault.region is not None:
                self.region(fault.region, f"{path}.region")
                if fault.region not in store.regions:
                    self.fail(f"{path}.region", f"must be one of object_store.regions "
                              f"({', '.join(store.regions)})", fault.region)
            elif isinstance(fault, UncleanElection) and self.s.strategy.name == "diskless":
                self.fail(f"{path}.kind", "is an operator step of Kafka strategies (stretch, "
                          "observers); diskless has no partition leaders", fault.kind)
            elif isinstance(fault, ReplicationPause) and store.kind == "regional":
                self.fail(f"{path}.kind", "needs a dual-region or multi-region bucket; "
                          "object_store.kind is regional (nothing replicates)", fault.kind)

    def simulation(self) -> None:
        sim = self.s.simulation
        if sim.warmup >= sim.duration:
            self.fail("simulation.warmup", f"must be < simulation.duration "
                      f"({sim.duration:g} s)", sim.warmup)

    def cost(self) -> None:
        """Prices exist and are non-negative; deployment places exist (geosim.cost)."""
        from geosim.cost.prices import PriceError, load_price_book

        cost = self.s.cost
        provider = cost.provider or self.s.topology.provider
        for key in cost.prices:
            region = key.partition("@")[2]
            if region:
                self.region(region, f"cost.prices.{key}")
        if provider != "none":
            try:
                load_price_book(provider, cost.prices, override_source=self.source)
            except PriceError as exc:
                value = NO_VALUE if exc.value is None else exc.value
                self.fail(exc.path, exc.expected, value)
        elif cost.prices:
            self.fail("cost.provider", "must be set (gcp, aws or azure) to price "
                      "cost.prices: topology.provider is none")
        for i, group in enumerate(cost.deployment.instances):
            path = f"cost.deployment.instances[{i}]"
            for where, count in group.count.items():
                self.location(where, f"{path}.count.{where}")
                if count < 0:
                    self.fail(f"{path}.count.{where}", "must be >= 0", count)
            if (group.disk_type is None) != (group.disk_size is None):
                self.fail(f"{path}.disk_size" if group.disk_size is None
                          else f"{path}.disk_type", "disk_type and disk_size go together")

    def non_negative(self, model: BaseModel, parts: list[str | int]) -> None:
        """No duration, size or rate anywhere may be negative or NaN (YAML's ``.nan``)."""
        for name, info in type(model).model_fields.items():
            value = getattr(model, name)
            here = [*parts, name]
            if _has_unit(info):
                items = value if isinstance(value, list) else [value]
                for j, item in enumerate(items):
                    where = [*here, j] if isinstance(value, list) else here
                    if isinstance(item, float) and math.isnan(item):
                        self.fail(format_path(where), "must be a number", item)
                    if isinstance(item, int | float) and item < 0:
                        self.fail(format_path(where), "must be >= 0", item)
            if isinstance(value, BaseModel):
                self.non_negative(value, here)
            elif isinstance(value, list):
                for j, item in enumerate(value):
                    if isinstance(item, BaseModel):
                        self.non_negative(item, [*here, j])
            elif isinstance(value, dict):
                for key, item in value.items():
                    if isinstance(item, BaseModel):
                        self.non_negative(item, [*here, key])


def check_scenario(scenario: Scenario, *, source: str = _INLINE,
                   origins: Mapping[str, str] | None = None) -> None:
    """Cross-field checks the schema cannot express; raises the first ScenarioError.

    Every region and zone named anywhere exists; placements are valid shares; metadata
    presets have the regions they need; faults start while producers run; the diskless
    write quorum fits the buckets; the OMB rate is fixed and the Kafka client settings
    resolve; no duration, size or rate is negative. ``origins`` maps ``workload.omb`` /
    ``workload.driver`` to the file they were read from, for messages.
    """
    _Checker(scenario, source, origins or {}).run()

