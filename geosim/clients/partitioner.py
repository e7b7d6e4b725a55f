"""Which partition a producer fleet's next row goes to.

A fleet rotates round-robin over each target's partitions, so it covers them evenly.
Fleets are out of phase with each other: without keys, Kafka's built-in partitioner
picks each new sticky partition at random (``BuiltInPartitioner.nextPartition``), so
independent producers do not write the same partition at the same moment
(docs/architecture.md, "Fleets are out of phase").
"""

from __future__ import annotations

#: Fleet ``i`` starts its rotations at the fraction ``frac(i x GOLDEN)`` of a target's
#: partitions: the golden-ratio sequence keeps any number of fleets spread apart without
#: a random stream.
GOLDEN = 0.6180339887498949


class Rotation:
    """One fleet's round-robin position over each target's partitions."""

    __slots__ = ("_stagger", "_next")

    def __init__(self, fleet_id: int):
        self._stagger = (fleet_id * GOLDEN) % 1.0
        self._next: dict[int, int] = {}

    def begin(self, target: int, count: int, split: int) -> None:
        """Before a cut for ``target`` (``count`` partitions, ``split`` rows a cut): the
        first cut starts at the fleet's own point, a whole number of cuts in, so that a
        diskless writer of k brokers, cutting k rows at once, starts where its k brokers
        would."""
        if target not in self._next:
            self._next[target] = split * int(self._stagger * count / split)

    def next_index(self, target: int, count: int, split: int = 1) -> int:
        """The index the next cut for ``target`` starts at (:meth:`begin`'s first point
        if none was made yet), without beginning one."""
        k = self._next.get(target)
        return split * int(self._stagger * count / split) if k is None else k

    def move(self, target: int, index: int) -> None:
        """The next cut for ``target`` starts at ``index`` (a bulk engine cut the rows
        before it)."""
        self._next[target] = index

    def choose(self, target: int, partitions: list[int],
               blocked: set[int] | None) -> int | None:
        """The partition of the next row for ``target``: the next of ``partitions`` in
        turn, skipping those in ``blocked`` (waiting on a retry); None if all are."""
        k = self._next[target]
        n = len(partitions)
        partition = partitions[k % n]
        if blocked and partition in blocked:
            partition = next((q for i in range(1, n + 1)
                              if (q := partitions[(k + i) % n]) not in blocked), None)
            if partition is None:
                return None
        self._next[target] = k + 1
        return partition


__all__ = ["GOLDEN", "Rotation"]
