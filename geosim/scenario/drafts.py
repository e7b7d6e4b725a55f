"""Drafts: scenario data being generated, and the helpers generators of its parts share.

A *draft* is the scenario dict drafted so far (what a scenario YAML file parses to); a
*draft strategy* is a Hypothesis strategy, or a function from the draft to one, for parts
that depend on earlier parts (a fault names a region of the drafted topology). The
generators of :mod:`geosim.testing.generators` and those the strategy plug-ins ship are
written with these.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Union

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

Draft = dict[str, Any]
#: A Hypothesis strategy, or a function from the scenario drafted so far to one.
DraftStrategy = Union[SearchStrategy, Callable[[Draft], SearchStrategy]]  # noqa: UP007
Bounds = tuple[int, int]


def resolve(part: DraftStrategy, draft: Draft) -> SearchStrategy:
    """The Hypothesis strategy of a draft strategy, given the scenario drafted so far."""
    if isinstance(part, SearchStrategy):
        return part
    return part(draft)


def ordered(bounds: Bounds, what: str) -> Bounds:
    """``bounds`` as (low, high); a ValueError naming ``what`` if low > high."""
    lo, hi = bounds
    if lo > hi:
        raise ValueError(f"{what}: lower bound {lo} > upper bound {hi}")
    return lo, hi


def regions_of(draft: Draft) -> list[str]:
    """Region ids of the drafted topology, in order."""
    return list(draft["topology"]["regions"])


def zones_of(draft: Draft, region: str | None = None) -> list[str]:
    """Zone ids of the drafted topology (of one region if given)."""
    regions = draft["topology"]["regions"]
    return [f"{r}-{z}" for r, spec in regions.items() if region in (None, r)
            for z in spec["zones"]]


def metadata_block(draw: Callable[[SearchStrategy], Any], preset: str, regions: list[str],
                   data_regions: list[str]) -> dict:
    """A metadata store of ``preset`` over the topology, read-write regions first."""
    if preset == "spanner-multi-region":
        rest = [r for r in regions if r not in data_regions[:2]]
        order = data_regions[:2] + rest
        witness = draw(st.sampled_from(order[2:]))
        return {"preset": preset, "regions": [order[0], order[1], witness]}
    if preset == "spanner-dual-region":
        return {"preset": preset, "regions": data_regions[:2]}
    return {"preset": preset, "regions": regions}
