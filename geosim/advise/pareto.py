"""The Pareto front: designs no other design beats on every axis at once.

A design dominates another when it is no worse on each of (monthly cost, worst RPO,
chosen p99) and strictly better on one. Values are compared as measured, infinities
included (a design with no measured p99 during a failure is dominated by any with one,
all else equal).
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["dominates", "front"]


def dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    """``a`` is no worse than ``b`` on every axis and better on one (minimising)."""
    return all(x <= y for x, y in zip(a, b, strict=True)) and any(
        x < y for x, y in zip(a, b, strict=True))


def front(points: dict[str, Sequence[float]]) -> list[str]:
    """The keys of the non-dominated points, sorted by their first axis, then key."""
    keep = [key for key, point in points.items()
            if not any(dominates(other, point) for k, other in points.items() if k != key)]
    return sorted(keep, key=lambda k: (tuple(points[k]), k))
