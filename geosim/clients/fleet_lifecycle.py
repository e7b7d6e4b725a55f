"""A producer fleet's crash and restart (its application process dies and comes back
as new producer instances): what the buffers lose, the counts, the cursors, a new
epoch. A mixin of :class:`~geosim.clients.producer.ProducerFleet`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from geosim.clients.producer import ProducerFleet


class FleetLifecycle:
    """A producer fleet's crash and restart."""

    def crash(self: ProducerFleet) -> None:
        """The fleet's producers die: unsent data is gone, pending retries end ``info``;
        the application offers nothing until :meth:`restart`."""
        now = self.env.now
        self._advance(now)
        self.alive = False
        self.load.set_rate(now, 0.0)
        # Records in the buffers that no request carried die with the producers: never
        # written, they end as failed sends (the application's process is gone).
        buffer = self.buffer
        due = min(now, self.load.stop)
        if due > buffer.accepted_upto:
            # Sends blocked in send() for want of buffer memory never return either.
            blocked = buffer.offered(due) - int(self.load.records(buffer.accepted_upto))
            buffer.failed += max(blocked, 0)
            buffer.accepted_upto = due
        accepted = buffer.accepted()
        self.dropped += max(accepted - self.taken, 0)
        self.taken = max(self.taken, accepted)
        self._orphans.clear()
        self._waiting.clear()
        self._orphan_fraction = 0.0
        if self._uncovered_from is not None:
            self._uncovered_from = self.buffer.accepted_upto
        self.report()
        for broker in self._cursor:
            self._cursor[broker] = max(self._cursor[broker], self.buffer.accepted_upto)
        self.expire_retries()

    def restart(self: ProducerFleet) -> None:
        """The producers come back as new producer instances (a new epoch)."""
        now = self.env.now
        self.alive = True
        self.load.set_rate(now, self.records_per_s)
        self.buffer.accepted_upto = max(self.buffer.accepted_upto, now)
        self._seqs.bump()
        self._moves.clear()   # new instances: fresh metadata and connections
        for broker in self._cursor:
            self._cursor[broker] = max(now, self._cursor[broker])
        if self._uncovered_from is not None:
            # Nothing was offered while the producers were down: what waits for a
            # target starts now.
            self._uncovered_from = max(self._uncovered_from, now)


__all__ = ["FleetLifecycle"]
