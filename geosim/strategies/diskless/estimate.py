"""The diskless model's pre-run event estimate, counted from its built writers.

The model schedules no event per produce request (a writer's flush period is computed
from its fleets' inflow). Its events are:

* **flush timers**: one per zone with writers (its writers flush together), every flush
  period (``strategy.flush_interval``, or sooner if ``strategy.flush_bytes`` fill
  first, from the inflow at build time) for the whole run;
* **objects**: while producers run, each writer writes one object a flush period; an
  object schedules about :data:`OBJECT_EVENTS` events (the PUT and its reply, the
  commit's round trip to the metadata store, the acknowledgement, the consumers' read);
* **periodic tasks**: each consumer group's commit loop every
  ``auto.commit.interval.ms`` (a timer and the commit), and the producers' retry sweep
  once a second.

Measured on the bundled diskless scenarios (``tests/test_event_estimate.py``): 5 to 6
events an object.
"""

from __future__ import annotations

from typing import Any

from geosim.clients.producer import RETRY_SWEEP
from geosim.core.estimate import EventEstimate, EventTerm, per_second

#: SimPy events of one object: PUT, reply, commit round trip, ack, consumers' read.
OBJECT_EVENTS = 6


def diskless_estimate(model: Any) -> EventEstimate:
    """The event estimate of a built :class:`~geosim.strategies.diskless.model.DisklessStrategy`."""
    sim = model.world.scenario.simulation
    zones = model.writers_by_zone
    clock = sum(per_second(ws[0].flush_period()) for ws in zones.values()) / max(len(zones), 1)
    writes = sum(len(ws) * per_second(ws[0].flush_period()) for ws in zones.values())
    writers = len(model.writers)
    periodic = per_second(RETRY_SWEEP) + sum(2 * per_second(g.settings.auto_commit_interval)
                                          for g in model.groups)
    return EventEstimate((
        EventTerm("flush timers (zones with writers)", len(zones), clock, sim.end, 1,
                  "simulation.duration + drain"),
        EventTerm("writers' objects", writers, writes / max(writers, 1), sim.duration,
                  OBJECT_EVENTS),
        EventTerm("periodic tasks (commits, retry sweep)", 1, periodic, sim.end, 1,
                  "simulation.duration + drain"),
    ))


__all__ = ["OBJECT_EVENTS", "diskless_estimate"]
