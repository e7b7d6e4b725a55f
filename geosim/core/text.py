"""Figures as text for people: the summary table's cells and fixed-width tables.

A missing value (``None`` in a summary: not applicable, or never happened) prints as
``-``. Sizes and durations use :func:`geosim.core.units.format_bytes` and
:func:`~geosim.core.units.format_duration`. The summary table
(:mod:`geosim.output.table`) and the report sections strategies contribute to it
(:mod:`geosim.metrics.sections`) share these, so their lines look alike.
"""

from __future__ import annotations

from collections.abc import Sequence

from geosim.core.units import format_bytes, format_duration

MISSING = "-"


def duration_text(value: float | None) -> str:
    """A duration in seconds, or ``-``."""
    return MISSING if value is None else format_duration(float(value))


def bytes_text(value: float | None) -> str:
    """A size in bytes, or ``-``."""
    return MISSING if value is None else format_bytes(float(value))


def rate_text(value: float | None) -> str:
    """A rate in bytes per second, or ``-``."""
    return MISSING if value is None else format_bytes(float(value)) + "/s"


def count_text(value: float | None) -> str:
    """A count, rounded, with thousands separators, or ``-``."""
    return MISSING if value is None else f"{int(round(value)):,}"


def fixed_width(headers: Sequence[str], rows: Sequence[Sequence[str]], *, labels: int = 1,
                indent: str = "  ") -> list[str]:
    """Fixed-width columns: the first ``labels`` left-aligned, the others right-aligned."""
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        parts = [cell.ljust(width) if i < labels else cell.rjust(width)
                 for i, (cell, width) in enumerate(zip(cells, widths, strict=True))]
        return (indent + "  ".join(parts)).rstrip()
    return [line(headers), *(line(row) for row in rows)]


__all__ = ["MISSING", "bytes_text", "count_text", "duration_text", "fixed_width",
           "rate_text"]
