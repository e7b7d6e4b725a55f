"""The edge model's pre-run event estimate, counted from its site classes.

Identical sites are simulated once per class, and a class steps only when its fluid
state changes by itself or from outside: a scheduled uplink window opening or closing,
a retention check that deletes something (every ``log.retention.check.interval.ms`` at
most), the end of production, a fetch response while a backlog is copied. Each step is
one timer. The estimate counts, per class, its uplink windows' two edges, the retention
checks over the run and a few steps of its own (start, end of production, end); a class
copying a backlog after a cut steps once per fetch round trip until caught up, which
the pre-run estimate does not count (the in-run projection of :mod:`geosim.budget`
still guards such a run).
"""

from __future__ import annotations

from typing import Any

from geosim.core.estimate import EventEstimate, EventTerm, per_second

#: Steps of a class besides windows and retention checks (start, production end, end...).
CLASS_STEPS = 8


def edge_estimate(model: Any) -> EventEstimate:
    """The event estimate of a built :class:`~geosim.strategies.edge.model.EdgeStrategy`."""
    sim = model.world.scenario.simulation
    classes = model.classes
    steps = sum(2 * len(c.windows) + sim.end * per_second(c.fluid.config.check_interval)
                + CLASS_STEPS
                for c in classes)
    return EventEstimate((
        EventTerm("site classes", len(classes), steps / max(len(classes), 1) / sim.end,
                  sim.end, 1, "simulation.duration + drain"),
    ))


__all__ = ["edge_estimate"]
