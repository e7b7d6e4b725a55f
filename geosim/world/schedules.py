"""Link schedules: intermittent links (``topology.links[].schedule``).

A scheduled link is up during its windows and, outside them, cut (``outside: down``, a
partition of the path) or slow (a degradation: extra latency, a narrow bandwidth,
loss), as an edge site's uplink is when a ship leaves harbour. The scheduler acts
through the same network holds as the faults (:mod:`geosim.world.faults`), so a fault of
the same path composes with the schedule instead of ending it: a partition during an up
window cuts the link until the partition ends; a brownout outside the windows slows the
slow path further.
"""

from __future__ import annotations

from collections.abc import Callable

from geosim.scenario.sections import LinkSpec
from geosim.world.network import Degradation, Network

__all__ = ["LinkScheduler"]


class LinkScheduler:
    """Applies every scheduled link's windows over ``[0, horizon)``; ``changed`` is
    called after each change of connectivity (as the fault injector does)."""

    def __init__(self, env, network: Network, links: list[LinkSpec], horizon: float,
                 changed: Callable[[], None]):
        self.env = env
        self.network = network
        self.links = [link for link in links if link.schedule is not None]
        self.horizon = horizon
        self.changed = changed

    def start(self) -> None:
        for link in self.links:
            self.env.process(self._run(link))

    def _outside(self, link: LinkSpec, active: bool) -> None:
        schedule = link.schedule
        assert schedule is not None
        a, b = link.between
        if schedule.outside == "down":
            self.network.partition(a, b, active=active)
        else:
            slow = schedule.outside
            self.network.degrade(a, b, Degradation(slow.extra_latency, slow.bandwidth,
                                                   slow.loss), active=active)
        self.changed()

    def _run(self, link: LinkSpec):
        schedule = link.schedule
        assert schedule is not None
        outside = False
        for start, end in schedule.up_windows(self.horizon):
            if start > self.env.now:
                if not outside:
                    self._outside(link, True)
                    outside = True
                yield self.env.timeout(start - self.env.now)
            if outside:
                self._outside(link, False)
                outside = False
            if end >= self.horizon:
                return
            yield self.env.timeout(end - self.env.now)
            self._outside(link, True)
            outside = True
        if not outside:
            self._outside(link, True)
