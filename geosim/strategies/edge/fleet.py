"""The fleet: site templates expanded into sites, and sites into classes.

Two sites of one template whose schedules have the same offset are the same fluid
system (the model draws nothing at run time), so they are simulated once, as a class
with a multiplicity: exact, not an approximation. Offsets come from the template's
``uplink.phase``: none, a stagger of ``step`` per site (modulo the schedule's period),
or drawn per site from the run's seed (stream ``edge.phase.<template>``), rounded down
to ``quantum``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from geosim.scenario.sections import LinkSchedule
from geosim.strategies.edge.spec import SiteTemplate


@dataclass(frozen=True)
class SiteClass:
    """Sites of one template with the same schedule offset (seconds)."""

    template_index: int
    template: SiteTemplate
    offset: float
    sites: tuple[str, ...]


def site_names(template: SiteTemplate) -> list[str]:
    """``<name>-1`` ... ``<name>-<count>`` (not zero-padded, so that a site keeps its
    name when the count changes, as in a sweep of fleet sizes)."""
    return [f"{template.name}-{i + 1}" for i in range(template.count)]


def offsets(template: SiteTemplate, rng: Callable[[str], np.random.Generator]) -> list[float]:
    """Each site's schedule offset (seconds), in site order."""
    schedule = template.uplink.schedule
    phase = template.uplink.phase
    n = template.count
    if schedule is None or phase.offset == "none":
        return [0.0] * n
    period = schedule.every
    if phase.offset == "stagger":
        raw = [i * phase.step for i in range(n)]
        return [r % period if period else r for r in raw]
    span = period if period else phase.quantum * n
    draws = rng(f"edge.phase.{template.name}").random(n)
    return [math.floor(float(u) * span / phase.quantum) * phase.quantum for u in draws]


def site_classes(templates: list[SiteTemplate],
                 rng: Callable[[str], np.random.Generator]) -> list[SiteClass]:
    """The classes of the fleet: per template, one per distinct offset, in order of
    first appearance (so a class's index does not depend on dict order)."""
    out: list[SiteClass] = []
    for index, template in enumerate(templates):
        groups: dict[float, list[str]] = {}
        for name, offset in zip(site_names(template), offsets(template, rng), strict=True):
            groups.setdefault(offset, []).append(name)
        for offset, names in groups.items():
            out.append(SiteClass(index, template, offset, tuple(names)))
    return out


def up_windows(schedule: LinkSchedule | None, offset: float,
               end: float) -> list[tuple[float, float]]:
    """The up windows over ``[0, end)`` of ``schedule`` shifted by ``offset``: periodic
    windows keep their period (a window shifted past 0 wraps in from before 0);
    listed windows move by ``offset``. No schedule: always up. Offset 0 is the schedule
    itself (``LinkSchedule.up_windows``)."""
    if schedule is None:
        return [(0.0, math.inf)]
    if schedule.windows:
        return [(a + offset, b + offset) for a, b in schedule.windows if a + offset < end]
    if offset == 0:
        return schedule.up_windows(end)
    every, up_for = schedule.every, schedule.up_for
    assert every is not None and up_for is not None
    start = (schedule.first_up + offset) % every
    if start > 0:
        start -= every
    out = []
    while start < end:
        if start + up_for > 0:
            out.append((max(start, 0.0), start + up_for))
        start += every
    return out


__all__ = ["SiteClass", "offsets", "site_classes", "site_names", "up_windows"]
