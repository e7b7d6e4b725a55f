"""Where a run's windows may run (:func:`spans`): between its warmup, its faults and
the end of production, less the margins that keep each fault meeting the event
engine's own pipes. :class:`~geosim.kafka.window.mode.WindowMode` runs its windows
inside them."""

from __future__ import annotations

#: Event mode before each fault (s): the producers, fetch loops and groups run their
#: own pipes again for this long before a disturbance meets them.
MARGIN = 5.0
#: The shortest window worth a hand-over (s).
MIN_WINDOW = 5.0
#: How long before the warmup's end and the end of production a window ends (s): the
#: bill reads the network's counters at both, and the window's hand-back, which adds its
#: bytes to them, must come first (at the same instant, the read would).
BEFORE_BILL_READ = 0.05


def spans(warmup: float, faults: list[tuple[float, float]], production_end: float,
          before_fault: float = MARGIN, *, from_start: bool = False,
          inside: bool = False, margins: list[float] | None = None,
          ) -> list[tuple[float, float]]:
    """Where windows may run: from the warmup's end, and from each fault's end, to
    ``before_fault`` before the next fault starts or ``BEFORE_BILL_READ`` before
    production ends (a fault whose end equals its start lasts to the end of
    production). ``margins``: each fault's own margin before its start instead of
    ``before_fault``.

    ``from_start``: from the start of the run, the warmup's end a bound with a margin
    of ``BEFORE_BILL_READ`` (the bill reads the network's counters there, and a
    window's bytes join them at its hand-back).

    ``inside``: inside a fault too, from its start to ``MARGIN`` before its end: the
    cluster a zone or region outage leaves (its leaders moved, its ISRs shrunk, its
    groups rebalanced) is a steady state once it settles, which the caller's quiet
    check waits for. A fault's end stops nothing (the returning brokers and clients
    meet the event engine's own pipes), so it needs only ``MARGIN``."""
    if margins is None:
        margins = [before_fault] * len(faults)
    busy = sorted((a, b if b > a else production_end, m)
                  for (a, b), m in zip(faults, margins, strict=True))
    # (instant, the margin before it, where the next span may start)
    # the end of production stops only the producers' cuts, which the send clock
    # makes again after a hand-back: only the bill's read there bounds a window
    bounds = [(production_end, BEFORE_BILL_READ, production_end)]
    if from_start:
        bounds.append((warmup, BEFORE_BILL_READ, warmup))
    for a, b, margin in busy:
        bounds.append((a, margin, a if inside else b))
        if inside and b < production_end:
            bounds.append((b, MARGIN, b))
    out: list[tuple[float, float]] = []
    lo = 0.0 if from_start else warmup
    for at, margin, resume in sorted(bounds, key=lambda x: (x[0], -x[1])):
        if at > lo and at - margin - lo >= MIN_WINDOW:
            out.append((lo, at - margin))
        lo = max(lo, resume)
    return out


__all__ = ["BEFORE_BILL_READ", "MARGIN", "MIN_WINDOW", "spans"]
