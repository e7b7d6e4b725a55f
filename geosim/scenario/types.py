"""Unit-carrying field types for the scenario schema.

Each type accepts a suffixed string (``"25ms"``, ``"1GiB"``, ``"10Gbps"``) or a bare
number in canonical units, and stores the canonical float/int.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, PlainSerializer

from geosim.core import units


def _wrap(parser):
    def validate(value: Any):
        try:
            return parser(value)
        except units.UnitError as exc:
            raise ValueError(str(exc)) from None
    return validate


def _fmt_seconds(v: float):
    return v


Duration = Annotated[float, BeforeValidator(_wrap(units.parse_duration)),
                     PlainSerializer(_fmt_seconds, return_type=float),
                     Field(json_schema_extra={"unit": "duration (s)"})]
Size = Annotated[int, BeforeValidator(_wrap(units.parse_size)),
                 Field(json_schema_extra={"unit": "size (bytes)"})]
Rate = Annotated[float, BeforeValidator(_wrap(units.parse_rate)),
                 Field(json_schema_extra={"unit": "rate (bytes/s)"})]


def described(default: Any, description: str, *, source: str | None = None,
              unit: str | None = None, **kwargs) -> Any:
    """A field with a description, the source of its default and its unit."""
    extra: dict[str, Any] = {}
    if source:
        extra["source"] = source
    if unit:
        extra["unit"] = unit
    return Field(default, description=description, json_schema_extra=extra or None, **kwargs)
