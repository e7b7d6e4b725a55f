"""The one error type a user can cause by writing a scenario.

A :class:`ScenarioError` names the file, the dotted field path, the offending value and
what was expected, and prints as ONE line, so the command line can show it without a
traceback and a notebook user can read it at a glance::

    scenarios/x.yaml: strategy.min_insync_replicas: must be <= replication_factor (3), got 4

Field paths use dots for mapping keys and ``[i]`` for list items
(``faults[1].duration``, ``workload.producer_config.linger.ms``).
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

__all__ = ["NO_VALUE", "ScenarioError", "format_path", "format_value",
           "from_validation_error"]


class _NoValue:
    """Marks an error that has no single offending value (a missing field, say)."""

    def __repr__(self) -> str:
        return "NO_VALUE"

    def __reduce__(self) -> str:
        # Unpickles to the module's singleton, so ``value is NO_VALUE`` survives processes.
        return "NO_VALUE"


NO_VALUE: Any = _NoValue()

# Long values (a whole mapping, a long list) are cut so the message stays one readable line.
_MAX_VALUE_CHARS = 80


def format_value(value: Any) -> str:
    """Short one-line rendering of a user-supplied value for an error message."""
    # YAML spells booleans and null in lower case; show them as the user wrote them.
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif value is None:
        text = "null"
    else:
        text = repr(value)
    text = " ".join(text.split())
    if len(text) > _MAX_VALUE_CHARS:
        text = text[: _MAX_VALUE_CHARS - 3] + "..."
    return text


def format_path(parts: list[str | int] | tuple[str | int, ...]) -> str:
    """``('faults', 1, 'duration')`` -> ``'faults[1].duration'``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


class ScenarioError(Exception):
    """A scenario (or a file it refers to) says something geosim cannot accept.

    Attributes:
        file: the file at fault, as the user named it (``scenarios/x.yaml``,
            ``omb:workloads/simple-workload.yaml``) or ``<inline>`` for a dict.
        path: dotted field path inside that file (``""`` if the file as a whole is bad).
        value: the offending value, or :data:`NO_VALUE`.
        expected: what would have been accepted, phrased to follow the path
            (``"must be > 0"``, ``"unknown field; expected one of: a, b"``).
        line, column: 1-based position for YAML syntax errors, else ``None``.
    """

    def __init__(self, file: str, path: str, expected: str, value: Any = NO_VALUE, *,
                 line: int | None = None, column: int | None = None) -> None:
        self.file = str(file)
        self.path = path
        self.value = value
        self.expected = expected
        self.line = line
        self.column = column
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """The single-line form: ``file: path: expected, got value``."""
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        parts = [where]
        if self.path:
            parts.append(self.path)
        text = self.expected
        if self.value is not NO_VALUE:
            text += f", got {format_value(self.value)}"
        parts.append(text)
        return _one_line(": ".join(parts))

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):
        # Keeps the error picklable (multiprocessing sweeps re-raise it in the parent).
        return (_rebuild, (self.file, self.path, self.expected, self.value, self.line,
                           self.column))


def _rebuild(file, path, expected, value, line, column) -> ScenarioError:
    return ScenarioError(file, path, expected, value, line=line, column=column)


# --- pydantic ValidationError -> ScenarioError -------------------------------------------------
#
# Pydantic reports a location such as ('faults', 1, 'region-outage', 'duration') or
# ('workload', 'omb', 'OmbWorkload', 'foo'): the items that are not keys or indices of the
# input are the union branch it tried (a discriminator tag or a type name). We walk the
# location along the input data and the model's annotations at the same time, drop those
# tags, and keep track of the model and field reached, to phrase what was expected.

_MISSING: Any = object()

_TYPE_WORDS = {
    "str": "a string", "int": "an integer", "float": "a number", "bool": "a boolean",
    "list": "a list", "dict": "a mapping", "tuple": "a list",
}

_SIMPLE = {
    "int_type": "must be an integer", "int_parsing": "must be an integer",
    "int_from_float": "must be a whole number", "float_type": "must be a number",
    "float_parsing": "must be a number", "bool_type": "must be true or false",
    "bool_parsing": "must be true or false", "string_type": "must be a string",
    "model_type": "must be a mapping", "model_attributes_type": "must be a mapping",
    "dict_type": "must be a mapping", "list_type": "must be a list",
    "tuple_type": "must be a list", "set_type": "must be a list",
    "none_required": "must be null", "finite_number": "must be a finite number",
}

_BOUNDS = {"greater_than": ("gt", ">"), "greater_than_equal": ("ge", ">="),
           "less_than": ("lt", "<"), "less_than_equal": ("le", "<=")}

_UNIT_WORDS = {"s": "seconds", "duration (s)": "seconds", "bytes": "bytes",
               "size (bytes)": "bytes", "bytes/s": "bytes/s", "rate (bytes/s)": "bytes/s"}


def _strip(annotation: Any) -> Any:
    """Remove ``Annotated[...]`` wrappers and ``None`` from optionals (pydantic adds no
    location item for either)."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [m for m in typing.get_args(annotation) if m is not type(None)]
        if len(members) == 1:
            return _strip(members[0])
    return annotation


def _members(annotation: Any) -> list[Any]:
    annotation = _strip(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [_strip(m) for m in typing.get_args(annotation) if m is not type(None)]
    return [annotation]


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def model_tags(model: type[BaseModel]) -> set[str]:
    """Values of the model's single-valued ``Literal`` fields (its discriminator tags)."""
    tags = set()
    for info in model.model_fields.values():
        annotation = _strip(info.annotation)
        if typing.get_origin(annotation) is Literal and len(typing.get_args(annotation)) == 1:
            tags.add(str(typing.get_args(annotation)[0]))
    return tags


def _choose_member(annotation: Any, tag: Any) -> Any:
    """The union member pydantic named ``tag``, or None."""
    for member in _members(annotation):
        if _is_model(member) and (tag == member.__name__ or str(tag) in model_tags(member)):
            return member
        if getattr(member, "__name__", None) == tag or str(member) == tag:
            return member
    return None


def union_tags(annotation: Any, discriminator: str) -> list[str]:
    """The allowed values of ``discriminator`` across a union of models."""
    tags: list[str] = []
    for member in _members(annotation):
        if _is_model(member) and discriminator in member.model_fields:
            literal = _strip(member.model_fields[discriminator].annotation)
            tags.extend(str(v) for v in typing.get_args(literal))
    return tags


def _field(model: type[BaseModel], name: Any) -> FieldInfo | None:
    info = model.model_fields.get(name) if isinstance(name, str) else None
    if info is None:
        for candidate in model.model_fields.values():
            if candidate.alias is not None and candidate.alias == name:
                return candidate
    return info


def _element(annotation: Any, index: int) -> Any:
    annotation = _strip(annotation)
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is tuple and args and args[-1] is not Ellipsis:
        return args[index] if index < len(args) else None
    return args[0] if args else None


@dataclass
class _Where:
    """What walking one pydantic error location found."""

    parts: list[str | int] = field(default_factory=list)
    annotation: Any = None       # annotation at the end of the location
    info: FieldInfo | None = None  # field reached last
    owner: type[BaseModel] | None = None  # model whose field was reached last
    unknown: bool = False        # last item is not a field of ``owner``
    tag_last: bool = False       # last item was a union tag (a branch mismatch)
    tag: Any = None


def _walk(loc: tuple, data: Any, model: type[BaseModel], err_type: str) -> _Where:
    where = _Where(annotation=model)
    current = data
    for position, item in enumerate(loc):
        last = position == len(loc) - 1
        annotation = where.annotation
        where.tag_last = False
        structural = (isinstance(current, Mapping) and item in current) or (
            isinstance(current, list | tuple) and isinstance(item, int))
        if not structural and not (last and err_type == "missing"):
            # A union branch tag: it names the member pydantic tried.
            where.annotation = _choose_member(annotation, item)
            where.tag_last, where.tag = True, item
            continue
        where.parts.append(item)
        if isinstance(current, Mapping):
            current = current.get(item, _MISSING)
        elif isinstance(current, list | tuple):
            current = current[item] if 0 <= item < len(current) else _MISSING
        else:
            current = _MISSING
        stripped = _strip(annotation)
        origin = typing.get_origin(stripped)
        if _is_model(stripped):
            info = _field(stripped, item)
            where.owner, where.info, where.unknown = stripped, info, info is None
            where.annotation = info.annotation if info is not None else None
        elif origin in (dict, Mapping) or stripped is dict:
            args = typing.get_args(stripped)
            where.annotation = args[1] if len(args) == 2 else None
        elif origin in (list, tuple) and isinstance(item, int):
            where.annotation = _element(stripped, item)
        else:
            where.annotation = None
    return where


def _unit(info: FieldInfo | None) -> str:
    extra = info.json_schema_extra if info is not None else None
    unit = extra.get("unit") if isinstance(extra, dict) else None
    return _UNIT_WORDS.get(str(unit), "") if unit else ""


def _branch_word(tag: Any) -> str:
    return _TYPE_WORDS.get(str(tag), f"a mapping of {tag} fields")


def _number(value: Any) -> str:
    """``0.0`` -> ``0``: bounds read better without a spurious decimal."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _translate(err: Mapping[str, Any], where: _Where) -> tuple[str, str, Any]:
    """(path, expected, value) for one pydantic error."""
    err_type = err["type"]
    ctx = err.get("ctx") or {}
    value = err.get("input", NO_VALUE)
    parts = list(where.parts)
    if err_type == "extra_forbidden":
        names = list(where.owner.model_fields) if where.owner is not None else []
        expected = "unknown field"
        if names:
            expected += f"; expected one of: {', '.join(names)}"
        return format_path(parts), expected, NO_VALUE
    if err_type == "missing":
        return format_path(parts), "required field is missing", NO_VALUE
    if err_type in ("union_tag_invalid", "union_tag_not_found"):
        discriminator = str(ctx.get("discriminator", "")).strip("'\"")
        parts.append(discriminator)
        tags = ", ".join(repr(tag) for tag in union_tags(where.annotation, discriminator))
        if err_type == "union_tag_invalid":
            return (format_path(parts), f"must be one of {tags}",
                    ctx.get("tag", NO_VALUE))
        return (format_path(parts), f"required field is missing; expected one of "
                f"{tags}", NO_VALUE)
    if err_type == "literal_error":
        return format_path(parts), f"must be one of {ctx.get('expected')}", value
    if err_type in ("value_error", "assertion_error"):
        # Our validators' messages (units, model checks) already quote the value.
        message = str(err.get("msg", ""))
        for prefix in ("Value error, ", "Assertion failed, "):
            message = message.removeprefix(prefix)
        return format_path(parts), message, NO_VALUE
    if err_type in _BOUNDS:
        key, op = _BOUNDS[err_type]
        unit = _unit(where.info)
        expected = f"must be {op} {_number(ctx.get(key))}" + (f" (in {unit})" if unit else "")
        return format_path(parts), expected, value
    if err_type in ("too_short", "too_long"):
        bound = ctx.get("min_length" if err_type == "too_short" else "max_length")
        word = "at least" if err_type == "too_short" else "at most"
        noun = "item" if bound == 1 else "items"
        return format_path(parts), f"must have {word} {bound} {noun}", value
    if err_type == "string_pattern_mismatch":
        return format_path(parts), f"must match the pattern {ctx.get('pattern')}", value
    if err_type in _SIMPLE:
        return format_path(parts), _SIMPLE[err_type], value
    message = str(err.get("msg", "invalid value"))
    return format_path(parts), message[:1].lower() + message[1:], value


def from_validation_error(exc: ValidationError, *, file: str, data: Any,
                          model: type[BaseModel]) -> ScenarioError:
    """Translate pydantic's first meaningful error into the one-line ScenarioError.

    ``data`` is what was validated (used to tell keys from union tags) and ``model`` the
    model it was validated against. Errors that only say "this value is not the other
    branch of a union" are skipped in favour of a real error in the branch that fits; if
    every error is such a mismatch, they are merged into "must be a or b".
    """
    errors = exc.errors(include_url=False)
    analysed = [(err, _walk(tuple(err["loc"]), data, model, err["type"])) for err in errors]
    mismatch = {"string_type", "int_type", "int_parsing", "float_type", "float_parsing",
                "bool_type", "bool_parsing", "model_type", "model_attributes_type",
                "dict_type", "list_type", "tuple_type", "none_required", "is_instance_of"}
    real = [(err, where) for err, where in analysed
            if not (where.tag_last and err["type"] in mismatch)]
    if real:
        err, where = real[0]
        path, expected, value = _translate(err, where)
        return ScenarioError(file, path, expected, value)
    err, where = analysed[0]
    same = [w for _, w in analysed if w.parts == where.parts]
    words = list(dict.fromkeys(_branch_word(w.tag) for w in same))
    expected = "must be " + (", ".join(words[:-1]) + " or " + words[-1]
                             if len(words) > 1 else words[0])
    return ScenarioError(file, format_path(where.parts), expected, err.get("input", NO_VALUE))
