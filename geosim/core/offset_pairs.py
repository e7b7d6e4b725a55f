"""Offsets mapped through a flow's copy pairs (upstream end, downstream end), newest
last: what MirrorMaker 2's offset translation and the mirror fold's images read."""

from __future__ import annotations

from collections.abc import Sequence


def map_offset(pairs: Sequence[tuple[int, int]], offset: int, *,
               backward: bool = False) -> int:
    """The downstream end of the newest pair whose upstream end is at or below
    ``offset`` (``backward``: the upstream end of the newest pair whose downstream end
    is); 0 if none. Never ahead of the true position: records past the pair are read
    again."""
    key, value = (1, 0) if backward else (0, 1)
    for pair in reversed(pairs):
        if pair[key] <= offset:
            return pair[value]
    return 0


__all__ = ["map_offset"]
