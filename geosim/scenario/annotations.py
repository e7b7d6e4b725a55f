"""Reading the schema's type annotations: what a field holds, seen through its wrappers.

Both the ``--set`` engine (:mod:`geosim.scenario.overrides`, which walks the schema to
find the field a path names) and the pydantic error translation
(:mod:`geosim.scenario.errors`, which walks an error location) need the same answers:
the type under ``Annotated[...]`` and ``Optional``, the members of a union, whether a
type is a model, and which ``Literal`` fields tag the members of a discriminated union.
"""

from __future__ import annotations

import types
import typing
from typing import Any, Literal

from pydantic import BaseModel

__all__ = ["is_model", "is_scalar_dict", "members", "model_tags", "strip", "tag_fields",
           "union_tags"]


def strip(annotation: Any) -> Any:
    """Remove ``Annotated[...]`` wrappers and ``None`` from optionals (pydantic adds no
    location item for either)."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        kept = [m for m in typing.get_args(annotation) if m is not type(None)]
        if len(kept) == 1:
            return strip(kept[0])
    return annotation


def members(annotation: Any) -> list[Any]:
    """The stripped members of a union (``None`` left out), or ``[annotation]``."""
    annotation = strip(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [strip(m) for m in typing.get_args(annotation) if m is not type(None)]
    return [annotation]


def is_model(annotation: Any) -> bool:
    """Whether ``annotation`` is a pydantic model class."""
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def is_scalar_dict(annotation: Any) -> bool:
    """dict[str, scalar]: Kafka configs, placements, broker counts."""
    annotation = strip(annotation)
    if typing.get_origin(annotation) is not dict:
        return False
    args = typing.get_args(annotation)
    return len(args) == 2 and not any(is_model(m) for m in members(args[1]))


def tag_fields(model: type[BaseModel]) -> dict[str, set[str]]:
    """The model's single-valued ``Literal`` fields (its discriminator tags) by field name,
    each with its value as a string: ``{"kind": {"region-outage"}}``."""
    out = {}
    for name, info in model.model_fields.items():
        literal = strip(info.annotation)
        if typing.get_origin(literal) is Literal and len(typing.get_args(literal)) == 1:
            out[name] = {str(v) for v in typing.get_args(literal)}
    return out


def model_tags(model: type[BaseModel]) -> set[str]:
    """Values of the model's single-valued ``Literal`` fields (its discriminator tags)."""
    return set().union(*tag_fields(model).values())


def union_tags(annotation: Any, discriminator: str) -> list[str]:
    """The allowed values of ``discriminator`` across a union of models."""
    tags: list[str] = []
    for member in members(annotation):
        if is_model(member) and discriminator in member.model_fields:
            literal = strip(member.model_fields[discriminator].annotation)
            tags.extend(str(v) for v in typing.get_args(literal))
    return tags
