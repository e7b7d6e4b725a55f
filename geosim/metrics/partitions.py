"""Partition leadership over time, and the parts of a leader failover (Kafka strategies).

From :class:`PartitionChanged` and :class:`BrokerFenced` events:

- **Offline windows**: ``(partition, start, end)`` for every interval without a leader
  (``end`` None if still offline at the end of the run).
- **Series** per time bin (the state at the end of the bin): offline partitions,
  partitions whose ISR is below ``min.insync.replicas``, the mean ISR size, and
  leaders per region.
- **Failover parts** after the first fault: *detection* (fault start to the first
  broker fenced), *election* (that fencing to the first leader elected because its
  leader was fenced), *client* (that election to the first acknowledgement of a row
  of a partition that changed leader, sent after the fault: producers noticed the
  new leader, refreshed metadata and retried). ``None`` where it did not happen.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from geosim.core.events import (
    BrokerFenced,
    ClientsAttached,
    FaultStarted,
    PartitionChanged,
    ProduceAcked,
)
from geosim.metrics.phases import sent_from


@dataclass
class Failover:
    detection_seconds: float | None = None
    election_seconds: float | None = None
    client_seconds: float | None = None


@dataclass
class PartitionReport:
    partitions: int
    offline_windows: list[tuple[int, float, float | None]]
    failover: Failover
    leader_changes: int


class PartitionTimeline:
    """Fold of partition events; see the module docstring."""

    def __init__(self) -> None:
        self._leader: dict[int, str | None] = {}
        self._under: dict[int, bool] = {}
        self._changes: list[tuple[float, int, str | None, bool, int]] = []
        self._offline_since: dict[int, float] = {}
        self._windows: list[tuple[int, float, float | None]] = []
        self._fault: float | None = None
        self._fenced: float | None = None
        self._elected: float | None = None
        self._moved: set[int] = set()
        self._client: float | None = None
        self.leader_changes = 0
        # fleet -> run-wide number of its cluster's partition 0 (cross-cluster runs;
        # rows carry their cluster's own partition numbers, events the run-wide ones)
        self._base: dict[int, int] = {}

    def on_clients(self, ev: ClientsAttached) -> None:
        for fleet in ev.fleets:
            self._base[fleet] = ev.partition_base

    def on_fault(self, ev: FaultStarted) -> None:
        if self._fault is None:
            self._fault = ev.t

    def on_fenced(self, ev: BrokerFenced) -> None:
        if ev.fenced and self._fault is not None and self._fenced is None:
            self._fenced = ev.t

    def on_partition(self, ev: PartitionChanged) -> None:
        p = ev.partition
        before = self._leader.get(p, "?")
        if before != "?" and before != ev.leader_region:
            self.leader_changes += 1
        self._leader[p] = ev.leader_region
        self._under[p] = ev.under_min_isr
        self._changes.append((ev.t, p, ev.leader_region, ev.under_min_isr, ev.isr_size))
        if ev.leader_region is None:
            self._offline_since.setdefault(p, ev.t)
        elif p in self._offline_since:
            self._windows.append((p, self._offline_since.pop(p), ev.t))
        if ev.reason in ("leader fenced", "offline partition", "unclean election") \
                and ev.leader_region is not None and self._fenced is not None:
            if self._elected is None:
                self._elected = ev.t
            self._moved.add(p)

    def on_acked(self, ev: ProduceAcked) -> None:
        fault = self._fault  # set whenever a partition moved
        if self._client is not None or not self._moved or fault is None:
            return
        base = self._base.get(ev.fleet, 0)
        for row in ev.rows:
            if base + row.partition in self._moved and sent_from(row, fault):
                self._client = ev.t
                return

    def series(self, regions: list[str], nbins: int, bin_width: float
               ) -> list[tuple[str, str, np.ndarray]]:
        """(region, metric, values per bin): state at the end of each bin."""
        if not self._changes:
            return []
        leader: dict[int, str | None] = {}
        under: dict[int, bool] = {}
        counts: dict[str | None, int] = {}
        isr: dict[int, int] = {}
        nunder = 0
        isr_total = 0
        offline = np.zeros(nbins)
        below = np.zeros(nbins)
        isr_mean = np.zeros(nbins)
        leaders = {r: np.zeros(nbins) for r in regions}
        # (a window's hand-back reports the ISR changes it made at their own times)
        changes = sorted(self._changes, key=lambda ch: ch[0])
        i = 0
        for b in range(nbins):
            end = (b + 1) * bin_width
            while i < len(changes) and changes[i][0] < end:
                _t, p, region, u, size = changes[i]
                if p in leader:
                    counts[leader[p]] -= 1
                    nunder -= under[p]
                    isr_total -= isr[p]
                leader[p] = region
                under[p] = u
                isr[p] = size
                isr_total += size
                counts[region] = counts.get(region, 0) + 1
                nunder += u
                i += 1
            offline[b] = counts.get(None, 0)
            below[b] = nunder
            isr_mean[b] = isr_total / len(isr) if isr else 0.0
            for r in regions:
                leaders[r][b] = counts.get(r, 0)
        out = [("all", "offline_partitions", offline), ("all", "under_min_isr_partitions", below),
               ("all", "isr_size_mean", isr_mean)]
        out += [(r, "leaders", leaders[r]) for r in regions]
        return out

    def report(self) -> PartitionReport | None:
        if not self._changes:
            return None
        windows = sorted(self._windows + [(p, s, None) for p, s in self._offline_since.items()],
                         key=lambda w: (w[1], w[0]))
        failover = Failover()
        if self._fault is not None and self._fenced is not None:
            failover.detection_seconds = self._fenced - self._fault
            if self._elected is not None:
                failover.election_seconds = self._elected - self._fenced
                if self._client is not None:
                    failover.client_seconds = self._client - self._elected
        return PartitionReport(partitions=len(self._leader), offline_windows=windows,
                               failover=failover, leader_changes=self.leader_changes)


__all__ = ["Failover", "PartitionReport", "PartitionTimeline"]
