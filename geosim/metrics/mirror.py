"""Replication flows between clusters: lag over time, failovers and failbacks.

A fold over :class:`~geosim.core.events.MirrorLag`, :class:`~geosim.core.events.FailedOver`
and :class:`~geosim.core.events.FailedBack` (cross-cluster strategies, domain.md §5, §7):

- **Translation** per flow: consumer offsets cannot be translated before the flow's
  first checkpoint (or offset sync); the report gives that time.
- **Lag** per flow: the sampled age of the oldest source row not yet acknowledged in the
  target (seconds) and the bytes behind; the report keeps the maximum and the mean
  over samples before the first fault, and the samples as a time series.
- **Failovers**: for each switch of clients, the RPO (acknowledged data the target never
  received, and its age when the source became unreachable), the consumer offsets
  translated or reset, the records reprocessed and the bound the checkpoint cadence
  allows, and the records skipped.
- **Failbacks**: what the returning cluster held that the new active cluster did not.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from geosim.core.events import FailedBack, FailedOver, MirrorLag, TranslationAvailable


@dataclass
class FlowLag:
    max_seconds: float = 0.0
    max_bytes: int = 0
    mean_seconds_before_fault: float = 0.0
    translation_from: float | None = None   # first checkpoint / offset sync
    samples: list[tuple[float, float, int]] = field(default_factory=list)  # (t, s, bytes)


@dataclass
class MirrorReport:
    flows: dict[str, FlowLag]
    failovers: list[dict]
    failbacks: list[dict]

    def to_dict(self) -> dict:
        return {
            "flows": {name: {"max_lag_seconds": f.max_seconds, "max_lag_bytes": f.max_bytes,
                             "mean_lag_seconds_before_fault": f.mean_seconds_before_fault,
                             "translation_unavailable_until": f.translation_from}
                      for name, f in sorted(self.flows.items())},
            "failovers": self.failovers,
            "failbacks": self.failbacks,
        }


class MirrorFold:
    """Collects the cross-cluster events of a run (nothing for other strategies)."""

    def __init__(self, first_fault: float | None):
        self._first_fault = math.inf if first_fault is None else first_fault
        self._flows: dict[str, FlowLag] = {}
        self._before: dict[str, list[float]] = {}
        self._failovers: list[dict] = []
        self._failbacks: list[dict] = []
        self.active = False

    def on_lag(self, ev: MirrorLag) -> None:
        self.active = True
        flow = self._flow(ev.flow)
        flow.samples.append((ev.t, ev.seconds, ev.bytes))
        flow.max_seconds = max(flow.max_seconds, ev.seconds)
        flow.max_bytes = max(flow.max_bytes, ev.bytes)
        if ev.t < self._first_fault:
            acc = self._before[ev.flow]
            acc[0] += ev.seconds
            acc[1] += 1

    def _flow(self, name: str) -> FlowLag:
        flow = self._flows.get(name)
        if flow is None:
            flow = self._flows[name] = FlowLag()
            self._before[name] = [0.0, 0]
        return flow

    def on_translation(self, ev: TranslationAvailable) -> None:
        self.active = True
        flow = self._flow(ev.flow)
        if flow.translation_from is None:
            flow.translation_from = ev.t

    def on_failover(self, ev: FailedOver) -> None:
        self.active = True
        row = asdict(ev)
        row["t"] = ev.t
        self._failovers.append(row)

    def on_failback(self, ev: FailedBack) -> None:
        self.active = True
        row = asdict(ev)
        row["t"] = ev.t
        self._failbacks.append(row)

    def series(self, nbins: int, bin_width: float) -> list[tuple[str, str, np.ndarray]]:
        """(flow, ``replication_lag``, the largest lag sample in each bin, s; NaN where
        the flow was not sampled, as after it stopped at a failover)."""
        out = []
        for name, flow in sorted(self._flows.items()):
            if not flow.samples:
                continue
            values = np.full(nbins, np.nan)
            for t, seconds, _bytes in flow.samples:
                b = min(int(t / bin_width - 1e-9), nbins - 1)
                if np.isnan(values[b]) or seconds > values[b]:
                    values[b] = seconds
            out.append((name, "replication_lag", values))
        return out

    def finalize(self) -> MirrorReport | None:
        if not self.active:
            return None
        for name, flow in self._flows.items():
            total, n = self._before[name]
            flow.mean_seconds_before_fault = total / n if n else 0.0
        return MirrorReport(dict(sorted(self._flows.items())), list(self._failovers),
                            list(self._failbacks))


__all__ = ["FlowLag", "MirrorFold", "MirrorReport"]
