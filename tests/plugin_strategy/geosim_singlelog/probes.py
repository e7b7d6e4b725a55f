"""Coverage probe of ``single-log`` runs."""

from __future__ import annotations

from geosim.core.events import PartitionChanged, Recorder, RowsTruncated
from geosim.core.probes import Probe


class HomeProbe(Probe):
    """``home-offline``: the broker's partitions went offline; ``home-lost``: acknowledged
    rows went with a destroyed home zone."""

    def attach(self, recorder: Recorder, scenario: object) -> None:
        self.states: set[str] = set()
        recorder.subscribe(PartitionChanged, self._changed)
        recorder.subscribe(RowsTruncated, self._truncated)

    def _changed(self, event: PartitionChanged) -> None:
        if event.leader_region is None:
            self.states.add("home-offline")

    def _truncated(self, event: RowsTruncated) -> None:
        if any(row.acked_at >= 0 for row in event.rows):
            self.states.add("home-lost")

    def reached(self, summary: dict) -> set[str]:
        return set(self.states)
