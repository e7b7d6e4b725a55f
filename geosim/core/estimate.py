"""A pre-run estimate of a simulation's size: the events it will schedule.

Every strategy's model schedules its events from a few periodic mechanisms (a send
clock per broker zone, a fetch loop per pair of zones, a flush timer per zone, ...). An
:class:`EventEstimate` lists them as :class:`EventTerm` s, each the product of a
structural count read off the built (not started) model, a cycle rate, the simulated
seconds the mechanism runs, and the SimPy events one cycle schedules. Each strategy
estimates its own engine (:meth:`geosim.strategies.base.Strategy.estimate_events`); the
budget (:mod:`geosim.budget`) turns the total into wall time. The formulas and the
measured agreement are in ``docs/budgets.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

from geosim.core.units import format_duration

#: Shortest period a term assumes for a loop (s), a guard against division by zero: the
#: model's own loops are never shorter than a round trip (a consumer committing after
#: every poll with ``fetch.max.wait.ms`` 0 commits once per same-zone round trip).
MIN_PERIOD = 1e-6


def per_second(period: float) -> float:
    """Cycles per simulated second of a loop repeating every ``period`` seconds."""
    return 1.0 / max(period, MIN_PERIOD)


@dataclass(frozen=True)
class EventTerm:
    """``count`` instances of a mechanism, each cycling ``per_second`` times a simulated
    second for ``seconds``, scheduling ``per_cycle`` SimPy events a cycle."""

    what: str          # e.g. "fetch loops (leader zone, follower zone)"
    count: float
    per_second: float
    seconds: float
    per_cycle: float
    phase: str = "simulation.duration"   # the field the seconds come from

    @property
    def events(self) -> float:
        return self.count * self.per_second * self.seconds * self.per_cycle

    def describe(self) -> str:
        count = f"{self.count:,.0f}" if self.count >= 1 else f"{self.count:.3g}"
        return (f"{count} {self.what} x {self.per_second:,.3g} cycles/s x "
                f"{self.per_cycle:.2g} events over {format_duration(self.seconds)} "
                f"({self.phase})")


@dataclass(frozen=True)
class EventEstimate:
    """The terms of a model's event count; ``total`` is their sum."""

    terms: tuple[EventTerm, ...]

    @property
    def total(self) -> float:
        return sum(t.events for t in self.terms)

    def driver(self) -> EventTerm | None:
        """The term with the most events: what to shrink first."""
        return max(self.terms, key=lambda t: t.events, default=None)


__all__ = ["MIN_PERIOD", "EventEstimate", "EventTerm", "per_second"]
