"""Unions of time intervals (unavailability windows, offline partitions)."""

from __future__ import annotations

from collections.abc import Iterable


def union_keyed(items: Iterable[tuple[tuple[str, float], float]]) -> list[tuple[float, float]]:
    """Union of keyed ``((writer, start), end)`` intervals."""
    return union_intervals((start, end) for (_, start), end in items)


def union_intervals(spans: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """Union of ``(start, end)`` intervals, sorted and merged where they touch."""
    spans = sorted(spans)
    out: list[tuple[float, float]] = []
    for start, end in spans:
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(end, out[-1][1]))
        else:
            out.append((start, end))
    return out


__all__ = ["union_intervals", "union_keyed"]
