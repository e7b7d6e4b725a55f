"""What the window engine (:mod:`geosim.kafka.window`) reads of a producer fleet and
writes back to it: the state a bulk engine needs to cut as
:meth:`~geosim.clients.producer.ProducerFleet.cut` does, the counts while it holds the
data path, and the rows standing for what it cut. A mixin of
:class:`~geosim.clients.producer.ProducerFleet`, kept apart from the fleet's own cuts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from geosim.core.events import Row

if TYPE_CHECKING:
    from geosim.clients.producer import ProducerFleet


class WindowCuts:
    """A producer fleet's side of the window engine's hand-over and hand-back."""

    def target_state(self: ProducerFleet, target: int) -> tuple[float, list[int], int, float | None,
                                                 int, float]:
        """What a bulk engine needs of ``target`` to cut as :meth:`cut` does: the
        fleet's share of the load for it, its partitions, the rotation's next index
        (its first point if no cut was made), the cursor (None: no cut yet), the request
        cap and the in-flight window (bytes the fleet may have sent to it unanswered)."""
        partitions = list(self._partitions.get(target, ()))
        return (self._share.get(target, 0.0), partitions,
                self._rotation.next_index(target, len(partitions)),
                self._cursor.get(target), self._request_cap.get(target, 0),
                float(self._window.get(target, 0)))

    def window_waits(self: ProducerFleet) -> frozenset[int]:
        """The partitions the fleet's cuts skip now: those waiting on a retry, on their
        own rows in flight to another target, or on word from an old leader
        (:meth:`~geosim.clients.producer.ProducerFleet._skipped`)."""
        return frozenset(self._skipped() or ())

    def window_free(self: ProducerFleet) -> frozenset[int]:
        """The partitions the fleet's cuts send to now (routed, and not skipped)."""
        routed: set[int] = set()
        for partitions in self._partitions.values():
            routed.update(partitions)
        return frozenset(routed - self.window_waits())

    def window_progress(self: ProducerFleet, taken: int) -> None:
        """The window engine has handed out ``taken`` records of this fleet in all (its
        rows answered as they go): the buffer and the counts follow, as after cuts."""
        self.taken = taken
        self._advance(self.env.now)
        self.report()

    def window_hold(self: ProducerFleet) -> None:
        """The window engine hands out this fleet's records from now on: a rewiring
        meanwhile (its routing follows new leaders) moves none of them to waiting
        chunks, the window's rows standing for them (:meth:`window_release`)."""
        self.held = True

    def window_end(self: ProducerFleet, target: int, cursor: float, rows: int) -> None:
        """The window engine cut ``rows`` rows for ``target``, up to ``cursor``."""
        if rows and target in self._cursor:
            count = len(self._partitions.get(target, ()))
            self._rotation.move(target, self._rotation.next_index(target, count) + rows)
            self._cursor[target] = cursor

    def window_release(self: ProducerFleet, covered: float, ended: set[int]) -> None:
        """The window engine handed out this fleet's records intended up to
        ``covered`` (its last send tick kept): the targets a rewiring added meanwhile
        start there, not at the instant the rewiring added them (what the fleet
        accepted in between is theirs: the window handed out none of it), and so do
        those the window cut nothing for (the targets in ``ended`` got their cursors
        from :meth:`window_end`); the fleet's cuts are its own again."""
        for target in self._cursor:
            if target not in ended:
                self._cursor[target] = covered
        self.held = False

    def window_row(self: ProducerFleet, partition: int, records: int, first: float, last: float,
                   acked_at: float) -> Row:
        """A row standing for the window engine's rows of ``partition`` (the next
        sequence number; answered at ``acked_at``)."""
        size = records * self.message_size
        row = Row(self.id, partition, self._seqs.next(partition), records, size,
                  int(size / self.compression_ratio), first, last)
        row.attempts = 1
        row.acked_at = acked_at
        return row

    @property
    def batch_records(self: ProducerFleet) -> int:
        """Records in one producer batch of the fleet (n x ``batch.size``)."""
        return self._batch_records()



__all__ = ["WindowCuts"]
