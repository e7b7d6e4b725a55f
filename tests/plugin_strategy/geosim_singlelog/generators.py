"""Hypothesis generator of ``single-log`` configurations."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from geosim.scenario.drafts import Draft, regions_of, zones_of


def generator(draft: Draft) -> SearchStrategy[dict]:
    """A home zone among the drafted topology's; clients in every region."""
    regions = regions_of(draft)

    @st.composite
    def build(draw) -> dict:
        home = draw(st.sampled_from(zones_of(draft)))
        return {"strategy": {"name": "single-log", "home": home},
                "object_store": {"kind": "regional", "regions": regions[:1]},
                "metadata": {"preset": "kraft", "regions": regions},
                "client_regions": regions}

    return build()


def single_log() -> Callable[[Draft], SearchStrategy[dict]]:
    """Draft strategy of ``single-log`` configurations (no bounds to set)."""
    return generator
