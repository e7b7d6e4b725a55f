"""Judging runs against the objectives: measures, margins, the binding constraint.

Pure functions of ``summary.json`` dicts (docs/summary.md), so the verdict of a design
can be recomputed from its stored runs, and the same checker serves the property search
(:mod:`geosim.advise.robustness`) as a :class:`~geosim.testing.claims.Claim`.

A *measure* is one limited quantity of one design: the monthly bill and the steady-state
p99s (from the fault-free runs), and per failure the RPO in records, bytes and seconds,
the RTO per role and the p99s of records sent during the failure. Its value per seed is
the worst over what it covers (regions, and for a failure its runs); the design's value
is the worst over seeds, and the spread is the range over seeds. A missing value (no
record acknowledged during the failure, a region whose producers never came back) counts
as infinite: the objective is not met.

The margin of a measure is ``limit - value``; the *normalised* margin divides it by the
limit, or by the measure's floor when the limit is 0 (1 record, 1 KiB, 1 s, $1), so
that margins of different units compare. The binding constraint is the measure with the
smallest normalised margin: the one that fails first as the load or the failure grows,
or the worst violation of an infeasible design.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from geosim.advise.objectives import Failure, Limits

__all__ = ["INF", "Measure", "failure_values", "margin", "measures", "steady_values",
           "violations"]

INF = math.inf

#: Scale of a zero limit, per unit, for normalised margins.
FLOORS = {"records": 1.0, "bytes": 1024.0, "s": 1.0, "USD/month": 1.0}

#: (field of Limits, measure name, unit) of the steady-state measures.
STEADY = (("budget", "cost", "USD/month"),
          ("publish_p99_steady", "publish_p99.steady", "s"),
          ("e2e_p99_steady", "e2e_p99.steady", "s"))
#: The same for each failure (the measure is named ``<name>@<failure>``).
PER_FAILURE = (("rpo_records", "rpo.records", "records"),
               ("rpo_bytes", "rpo.bytes", "bytes"),
               ("rpo_seconds", "rpo.seconds", "s"),
               ("rto_producers", "rto.producers", "s"),
               ("rto_consumers", "rto.consumers", "s"),
               ("publish_p99_during", "publish_p99.during", "s"),
               ("e2e_p99_during", "e2e_p99.during", "s"))


def _number(value: Any) -> float:
    return INF if value is None else float(value)


def steady_values(summary: Mapping[str, Any]) -> dict[str, float]:
    """Cost and steady-state p99s of a fault-free run (phase ``before`` is all of it)."""
    cost = summary.get("cost") or {}
    latency = summary["latency"]
    return {"cost": _number(cost.get("total_usd_per_month")),
            "publish_p99.steady": _number(latency["publish"]["all"]["before"]["p99"]),
            "e2e_p99.steady": _number(latency["e2e"]["all"]["before"]["p99"])}


def _down_regions(summary: Mapping[str, Any]) -> set[str]:
    return {f["target"] for f in summary.get("faults", [])
            if f["kind"] in ("region-outage", "region-destruction")}


def rto_value(summary: Mapping[str, Any], role: str, limits: Limits) -> float:
    """The worst RTO (``limits.rto_measure``) of ``role`` over the regions it covers:
    ``limits.rto_regions``, else every region with a pre-fault rate of that role that
    no region fault of the run took down."""
    rto = summary.get("rto") or {}
    if limits.rto_regions is not None:
        regions = list(limits.rto_regions)
    else:
        down = _down_regions(summary)
        regions = [r for r, roles in rto.items() if r not in down
                   and (roles.get(role) or {}).get("baseline_bytes_per_s")]
    worst = 0.0
    for region in regions:
        entry = (rto.get(region) or {}).get(role) or {}
        worst = max(worst, _number(entry.get(limits.rto_measure)))
    return worst


def failure_values(summary: Mapping[str, Any], limits: Limits) -> dict[str, float]:
    """The per-failure measures of one run (names without the ``@failure`` suffix)."""
    loss = summary["loss"]
    latency = summary["latency"]
    return {"rpo.records": float(loss["lost_records"]),
            "rpo.bytes": float(loss["lost_bytes"]),
            "rpo.seconds": float(loss["rpo_seconds"]),
            "rto.producers": rto_value(summary, "producers", limits),
            "rto.consumers": rto_value(summary, "consumers", limits),
            "publish_p99.during": _number(latency["publish"]["all"]["during"]["p99"]),
            "e2e_p99.during": _number(latency["e2e"]["all"]["during"]["p99"])}


@dataclass
class Measure:
    """One limited quantity of a design: its values by seed and its limit."""

    name: str
    unit: str
    limit: float | None
    by_seed: dict[int, float] = field(default_factory=dict)

    @property
    def value(self) -> float:
        """The worst over seeds."""
        return max(self.by_seed.values()) if self.by_seed else INF

    @property
    def spread(self) -> tuple[float, float]:
        values = list(self.by_seed.values())
        return (min(values), max(values)) if values else (INF, INF)

    @property
    def margin(self) -> float | None:
        return None if self.limit is None else self.limit - self.value

    @property
    def normalised(self) -> float | None:
        return None if self.limit is None else margin(self.value, self.limit, self.unit)

    @property
    def met(self) -> bool:
        return self.limit is None or self.value <= self.limit


def margin(value: float, limit: float, unit: str) -> float:
    """``(limit - value) / scale``: positive when met, negative when violated."""
    scale = limit if limit > 0 else FLOORS[unit]
    if math.isinf(value):
        return -INF
    return (limit - value) / scale


def measures(steady: Mapping[int, Mapping[str, Any]],
             failures: Mapping[str, Mapping[int, Mapping[str, Any]]],
             limits: Limits, failure_specs: Sequence[Failure]) -> list[Measure]:
    """Every measure of a design from its summaries: ``steady[seed]`` and
    ``failures[failure name][seed]``. Measures without a limit are kept (reported)."""
    out = []
    values = {seed: steady_values(s) for seed, s in steady.items()}
    for attr, name, unit in STEADY:
        out.append(Measure(name, unit, getattr(limits, attr),
                           {seed: v[name] for seed, v in values.items()}))
    for spec in failure_specs:
        runs = failures.get(spec.name, {})
        per_seed = {seed: failure_values(s, spec.limits) for seed, s in runs.items()}
        for attr, name, unit in PER_FAILURE:
            out.append(Measure(f"{name}@{spec.name}", unit, getattr(spec.limits, attr),
                               {seed: v[name] for seed, v in per_seed.items()}))
    return out


def violations(found: Sequence[Measure]) -> list[tuple[Measure, float]]:
    """The limited measures that are not met, most violated first, with their
    normalised margins."""
    bad = [(m, m.normalised) for m in found if m.limit is not None and not m.met]
    return sorted(((m, n) for m, n in bad if n is not None), key=lambda p: p[1])


def binding(found: Sequence[Measure]) -> Measure | None:
    """The limited measure with the smallest normalised margin. A zero limit met exactly
    (no record lost, where none may be) has margin 0 but says nothing about what fails
    first; such measures bind only when every limited measure is one."""
    limited = [m for m in found if m.limit is not None]
    informative = [m for m in limited if not (m.limit == 0 and m.value == 0)]
    pool = informative or limited
    return min(pool, key=lambda m: (m.normalised, m.name)) if pool else None
