"""The result of folding a run's events: :class:`MetricsReport` and its parts.

Units: seconds, records, bytes (uncompressed unless a name says otherwise) and
bytes per second. ``None`` means "not applicable / never happened" (a region
without producers has no RTO; a recovery that never came is ``None``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from geosim.metrics.histogram import LatencyHistogram
from geosim.metrics.partitions import PartitionReport
from geosim.metrics.sections import SectionReport


@dataclass
class RegionLoss:
    """Acknowledged data lost, attributed to the region that wrote it."""

    records: int = 0
    bytes: int = 0
    rpo_seconds: float = 0.0


@dataclass
class LossReport:
    """Acknowledged records whose every copy was destroyed (domain.md §7).

    ``rpo_seconds`` is the largest, over destructions, of fault start minus the
    earliest ack time among the rows lost in it (0 if nothing was lost).
    ``untracked_records`` counts acknowledged records the fold could not attribute
    to a stored object (rows without ``object_id``, or acks for objects never
    stored or already pruned): their loss is not evaluated here.
    """

    records: int = 0
    bytes: int = 0
    rpo_seconds: float = 0.0
    by_region: dict[str, RegionLoss] = field(default_factory=dict)
    untracked_records: int = 0


def loss_report(lost: Mapping[str, RegionLoss], untracked_records: int = 0) -> LossReport:
    """A fold's :class:`LossReport` from its losses by writer region (copied, in region
    order): their sums and the largest RPO."""
    by_region = {region: RegionLoss(v.records, v.bytes, v.rpo_seconds)
                 for region, v in sorted(lost.items())}
    return LossReport(
        records=sum(v.records for v in by_region.values()),
        bytes=sum(v.bytes for v in by_region.values()),
        rpo_seconds=max((v.rpo_seconds for v in by_region.values()), default=0.0),
        by_region=by_region,
        untracked_records=untracked_records,
    )


def with_losses(loss: LossReport, added: Sequence[Mapping[str, RegionLoss]]) -> LossReport:
    """``loss`` with other folds' losses by writer region added (records and bytes
    summed, the largest RPO kept)."""
    by_region = {region: RegionLoss(v.records, v.bytes, v.rpo_seconds)
                 for region, v in loss.by_region.items()}
    for losses in added:
        for region, more in losses.items():
            mine = by_region.setdefault(region, RegionLoss())
            mine.records += more.records
            mine.bytes += more.bytes
            mine.rpo_seconds = max(mine.rpo_seconds, more.rpo_seconds)
    return loss_report(by_region, loss.untracked_records)


@dataclass
class RegionUnavailability:
    records: int = 0
    bytes: int = 0
    max_seconds: float = 0.0


@dataclass
class UnavailabilityReport:
    """Acknowledged records that were unreadable for a while, but not lost.

    ``intervals`` is the union of the unreadability intervals of every such
    record, ``(start, end)`` in seconds, sorted; an interval still open at the end
    of the run ends at ``t_end`` and its records are also counted in
    ``open_records``. ``max_seconds`` is the longest single unreadability of any
    record.
    """

    records: int = 0
    bytes: int = 0
    intervals: list[tuple[float, float]] = field(default_factory=list)
    max_seconds: float = 0.0
    open_records: int = 0
    by_region: dict[str, RegionUnavailability] = field(default_factory=dict)


@dataclass
class Recovery:
    """Recovery of one region's producers or consumers after the first fault.

    ``first_success``: seconds from the fault start to the first ack (delivery) in
    the region of a row sent at or after the fault start. ``rate_recovered``:
    seconds from the fault start until the region's acked (delivered) byte rate,
    averaged over 5-bin windows, is within 10 % of ``baseline_bytes_per_s`` for 5
    consecutive windows; 0 if it never fell below 90 % of it (see
    :mod:`geosim.metrics.recovery`). ``longest_gap``: longest time between consecutive
    successes after warmup, including the time from the last success to the end of
    production (producers only; ``None`` for consumers).
    """

    first_success: float | None = None
    rate_recovered: float | None = None
    baseline_bytes_per_s: float | None = None
    longest_gap: float | None = None


@dataclass
class CheckReport:
    """Jepsen-style anomaly counts (domain.md §7).

    ``duplicates``: records delivered again to a group, outside a rebalance.
    ``redelivered_after_rebalance``: records delivered again after a rebalance of
    the group (expected with committed offsets). ``skips``: records a group's
    offsets jumped over. ``reorders``: acked rows whose (seq, offset) order
    contradicts an earlier ack of the same (fleet, partition). ``duplicate_writes``:
    records of a (fleet, partition, seq) acked at a second, different offset.
    """

    duplicates: int = 0
    skips: int = 0
    reorders: int = 0
    duplicate_writes: int = 0
    redelivered_after_rebalance: int = 0


@dataclass
class TrafficClass:
    """Bytes of one class (cross-region or inter-zone)."""

    total: int = 0
    by_purpose: dict[str, int] = field(default_factory=dict)
    by_pair: dict[str, int] = field(default_factory=dict)
    rate: float = 0.0


@dataclass
class TrafficReport:
    cross_region: TrafficClass = field(default_factory=TrafficClass)
    inter_zone: TrafficClass = field(default_factory=TrafficClass)


@dataclass
class MetricsReport:
    """Everything the metrics fold computed for one run."""

    regions: list[str]
    t_end: float
    warmup: float
    production_end: float
    bin_width: float
    fault_windows: list[tuple[float, float]]
    phase_bounds: tuple[float, float, float, float]
    histograms: dict[tuple[str, str, str], LatencyHistogram]
    totals: dict[str, dict[str, int]]
    loss: LossReport
    unavailable: UnavailabilityReport
    rto: dict[str, dict[str, Recovery]]
    checks: CheckReport
    traffic: TrafficReport
    counters: dict
    timeseries: pd.DataFrame
    partitions: PartitionReport | None = None  # strategies with partition replicas
    mirror: Any = None  # geosim.metrics.mirror.MirrorReport (cross-cluster strategies)
    # topology.interconnects: name -> bandwidth and, per direction, bytes and utilisation
    interconnects: dict = field(default_factory=dict)
    # A max-rate run (workload.max_rate): the controller's rates, and the acked rate
    # over the measured window (warmup to the end of production); empty otherwise.
    max_rate: dict = field(default_factory=dict)
    # Declared topics (workload.topics): name -> counts, loss, bytes and histograms by
    # (kind, phase) (geosim.metrics.topics); empty otherwise.
    topics: dict = field(default_factory=dict)
    # The strategy's report sections (geosim.metrics.sections) that had something to
    # report, by name (the summary.json key); empty for strategies without any.
    sections: dict[str, SectionReport] = field(default_factory=dict)

    def latency(self, kind: str, region: str = "all", phase: str = "before") -> LatencyHistogram:
        """The histogram of ``kind`` (``publish``/``e2e``) for a region (or ``all``)
        and phase; an empty histogram if nothing was recorded."""
        return self.histograms.get((kind, region, phase)) or LatencyHistogram()
