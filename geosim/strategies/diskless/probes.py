"""Coverage probes of diskless runs (for :mod:`geosim.testing`)."""

from __future__ import annotations

import math

from geosim.core.events import ObjectStored, Recorder, RegionState
from geosim.core.probes import Probe


class ReplicationWindowProbe(Probe):
    """A region fault while objects written in that region had no copy elsewhere yet.

    For each writer region, tracks the latest time until which some object written
    there has no copy in any other region (its earliest copy elsewhere; ``inf`` for a
    copy that will never be made, or is held by a paused replication).
    """

    def attach(self, recorder: Recorder, scenario: object) -> None:
        self.states: set[str] = set()
        self._exposed_until: dict[str, float] = {}
        self._wrote: set[str] = set()
        recorder.subscribe(ObjectStored, self._stored)
        recorder.subscribe(RegionState, self._region)

    def _stored(self, event: ObjectStored) -> None:
        region = event.writer_region
        self._wrote.add(region)
        elsewhere = min((t for r, t in event.copies if r != region), default=math.inf)
        if elsewhere > self._exposed_until.get(region, -math.inf):
            self._exposed_until[region] = elsewhere

    def _region(self, event: RegionState) -> None:
        if event.up:
            return
        if event.destroyed and event.region in self._wrote:
            self.states.add("writer-region-destroyed")
        if self._exposed_until.get(event.region, -math.inf) > event.t:
            self.states.add("destruction-in-replication-window" if event.destroyed
                            else "outage-in-replication-window")

    def reached(self, summary: dict) -> set[str]:
        return set(self.states)
