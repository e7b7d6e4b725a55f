"""The edge model's events: the fluid state of each class of identical sites.

The model (:mod:`geosim.strategies.edge.model`) emits them through the context's
recorder like any typed event (:mod:`geosim.core.events`); the section's fold
(:mod:`geosim.strategies.edge.report`) integrates them. Between two states of a class
every quantity moves linearly, so the fold integrates exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

from geosim.core.events import Event


@dataclass(slots=True)
class EdgeClassDeclared(Event):
    """A class of identical edge sites: same template, same schedule phase, so one
    fluid state stands for all of them (``sites`` lists their names). Byte figures of
    the class's :class:`EdgeState` events are per site, on the wire and on disk
    (compressed); ``record_bytes`` converts them to records. A site failure splits a
    class: ``parent`` is the class the sites left (-1 for a class declared at start),
    whose history they share until ``t``. ``region``: the template's region, where
    the sites' producers write; ``message_bytes``: a record's uncompressed size."""
    cls: int
    template: str
    sites: tuple[str, ...]
    produce_rate: float       # bytes/s per site while it produces
    record_bytes: float       # bytes per record
    parent: int = -1
    region: str = ""
    message_bytes: float = 0.0


@dataclass(slots=True)
class EdgeState(Event):
    """The state of one edge site class from ``t`` until its next EdgeState: every
    quantity moves linearly at the rate given (a fluid), so a fold can integrate it
    exactly. Bytes per site. ``newest`` is the produce time of the newest record the
    central copy holds (its age is the staleness); ``caught_up``: replication has
    nothing left but what is in flight; ``link``: ``up``, ``slow`` or ``down`` (down
    also while the central cluster is unreachable); ``bandwidth``: the link rate now
    (None: unlimited); ``replicated`` counts bytes in the central copy (a fetch
    response's as it lands; ``copy_rate`` its rate), ``throughput`` the rate at which
    bytes cross the link now."""
    cls: int
    link: str
    alive: bool
    caught_up: bool
    backlog: float
    backlog_rate: float
    newest: float
    newest_rate: float
    replicated: float
    throughput: float
    bandwidth: float | None
    lost_retention: float
    lost_failure: float
    copy_rate: float = 0.0    # d replicated / dt (a response's bytes count as it lands)


__all__ = ["EdgeClassDeclared", "EdgeState"]
