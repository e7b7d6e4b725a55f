"""Unit-carrying field types for the scenario schema.

Each type accepts a suffixed string (``"25ms"``, ``"1GiB"``, ``"10Gbps"``) or a bare
number in canonical units, and stores the canonical float/int. Every value must be finite
and within a physical bound (:data:`MAX_DURATION`, :data:`MAX_SIZE`, :data:`MAX_RATE`),
so that no input can make a run hang or overflow: a bound is far beyond anything a
deployment has, and fields narrow it further where their meaning does.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, PlainSerializer

from geosim.core import units
from geosim.scenario.errors import format_value

#: Longest duration of any field: a year (geosim simulates minutes to days).
MAX_DURATION = 366 * 86400.0
#: Largest size of any field: a pebibyte.
MAX_SIZE = 2**50
#: Fastest rate of any field: a petabyte per second (8 Pbit/s).
MAX_RATE = 1e15


def _wrap(parser, bound: float, what: str, limit: str):
    def validate(value: Any):
        try:
            parsed = parser(value)
        except units.UnitError as exc:
            raise ValueError(str(exc)) from None
        except (OverflowError, ValueError):  # an infinite or NaN size
            raise ValueError(f"must be a finite {what}, got {format_value(value)}") from None
        if not math.isfinite(parsed):
            raise ValueError(f"must be a finite {what}, got {format_value(value)}")
        if abs(parsed) > bound:
            raise ValueError(f"must be at most {limit} in magnitude, got {format_value(value)}")
        return parsed
    return validate


def _fmt_seconds(v: float):
    return v


Duration = Annotated[float, BeforeValidator(_wrap(units.parse_duration, MAX_DURATION,
                                                  "duration, in seconds", "366 days")),
                     PlainSerializer(_fmt_seconds, return_type=float),
                     Field(json_schema_extra={"unit": "duration (s)"})]
Size = Annotated[int, BeforeValidator(_wrap(units.parse_size, MAX_SIZE, "size, in bytes",
                                             "1 PiB")),
                 Field(json_schema_extra={"unit": "size (bytes)"})]
Rate = Annotated[float, BeforeValidator(_wrap(units.parse_rate, MAX_RATE,
                                              "rate, in bytes/s", "1 PB/s")),
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
