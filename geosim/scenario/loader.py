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
import re
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from geosim.scenario.annotations import is_model, is_scalar_dict, members, strip, tag_fields
from geosim.scenario.checks import check_scenario
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
    OmbDriver,
    OmbWorkload,
    Scenario,
    WorkloadSpec,
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
                if is_scalar_dict(info.annotation):
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
            stripped = strip(annotation)
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
        models = [m for m in members(annotation) if is_model(m)]
        if len(models) <= 1:
            return models[0] if models else None
        if isinstance(current, Mapping):
            for model in models:
                for name, values in tag_fields(model).items():
                    if str(current.get(name)) in values:
                        return model
        tags = tag_fields(models[0])
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
