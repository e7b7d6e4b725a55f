"""The ``--set`` override engine: ``key=value`` edits of a raw scenario dict.

An override names a field by its path in the schema (``faults[0].at=5m``,
``workload.producer_config.linger.ms=5``, ``strategy.config.min.insync.replicas=2``) and
gives the value as YAML. :class:`Overrides` walks the path through the raw dict and the
schema's annotations together, so an unknown field, a list without an index or an index
out of range is a one-line :class:`~geosim.scenario.errors.ScenarioError` naming the
override, before any validation. It edits the dict the build pipeline
(:mod:`geosim.scenario.loader`) validates afterwards; the values themselves are checked
there, as if the file had said them.
"""

from __future__ import annotations

import copy
import re
import typing
from collections.abc import Callable, Mapping
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from geosim.scenario.annotations import is_model, is_scalar_dict, members, strip, tag_fields
from geosim.scenario.errors import NO_VALUE, ScenarioError, format_path
from geosim.scenario.omb_files import OMB_MODELS
from geosim.scenario.schema import Scenario, WorkloadSpec
from geosim.scenario.yamlfile import parse_value

__all__ = ["Overrides", "RecursiveData", "plain_copy"]

_TOKEN = re.compile(r"\[(\d+)\]|([^.\[\]=\s][^.\[\]=]*)")


def _next_token(key: str, pos: int) -> tuple[str | int, int] | None:
    if pos and key.startswith(".", pos):
        pos += 1
    match = _TOKEN.match(key, pos)
    if match is None:
        return None
    token: str | int = int(match.group(1)) if match.group(1) is not None else match.group(2)
    return (token.strip() if isinstance(token, str) else token), match.end()


def _starting_value(info: FieldInfo) -> Any:
    """Starting value for a field an override descends into but the file left out."""
    default = info.get_default(call_default_factory=True)
    if default is PydanticUndefined or default is None:
        return {}
    if isinstance(default, BaseModel):
        return default.model_dump()
    return copy.deepcopy(default)


class RecursiveData(ValueError):
    """The input contains itself (a YAML alias inside its own anchor: ``&a [*a]``)."""


def plain_copy(data: Any, _open: frozenset[int] = frozenset()) -> Any:
    """Deep copy as plain dicts and lists (models dumped, tuples listed) so overrides can
    edit it and pydantic's error locations line up with it.

    Raises :class:`RecursiveData` if ``data`` contains itself.
    """
    if isinstance(data, BaseModel):
        return plain_copy(data.model_dump(), _open)
    if isinstance(data, Mapping | list | tuple):
        if id(data) in _open:
            raise RecursiveData
        inner = _open | {id(data)}
        if isinstance(data, Mapping):
            return {k: plain_copy(v, inner) for k, v in data.items()}
        return [plain_copy(v, inner) for v in data]
    return data


class Overrides:
    """Applies ``--set`` items to the raw dict of one scenario.

    ``source`` names the scenario in messages. ``resolve_ref(kind, ref)`` turns an OMB
    reference (``kind`` ``"omb"`` or ``"driver"``) into its parsed model, for an override
    that descends into a referenced OMB file. :attr:`overridden` collects the paths of
    the model fields set, so the pipeline knows which values no longer come from a file.
    """

    def __init__(self, source: str, resolve_ref: Callable[[str, Any], Any]) -> None:
        self.source = source
        self.resolve_ref = resolve_ref
        self.overridden: set[str] = set()

    def fail(self, path: str, expected: str, value: Any = NO_VALUE) -> typing.NoReturn:
        raise ScenarioError(self.source, path, expected, value)

    def apply(self, data: dict, item: str) -> None:
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
            value = parse_value(raw)
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
                if model is WorkloadSpec and token in OMB_MODELS and token in current:
                    # Descending into a referenced OMB file: load it, then edit its fields.
                    current[token] = plain_copy(self.resolve_ref(token, current[token]))
                elif model is WorkloadSpec and token == "driver":
                    current[token] = plain_copy(self.resolve_ref(token, info.get_default()))
                if current.get(token) is None:
                    current[token] = _starting_value(info)
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
