"""Closed-form expectations the tests hold the simulator to (exact oracles, issue 19).

Each function states a result that can be derived from a scenario's parameters without
simulating, with the derivation in its docstring.
"""

from __future__ import annotations

import math

from scipy.stats import norm


def lognormal_mean_below(p50: float, p999: float, cap: float, window: float) -> float:
    """E[min(D, window)] for D lognormal through ``p50`` and ``p999``, truncated at ``cap``.

    The asynchronous-replication oracle: records acknowledged at a constant rate r over
    the ``window`` seconds before a region is destroyed, each in an object whose copy to
    another region takes D, are lost when D exceeds the time left to the destruction.
    Integrating over acknowledgement times, the expected loss is
    r * integral_0^W P(D > t) dt = r * E[min(D, W)].
    """
    sigma = math.log(p999 / p50) / norm.ppf(0.999)
    mu = math.log(p50)
    bound = min(window, cap)
    z = (math.log(bound) - mu) / sigma
    return math.exp(mu + sigma**2 / 2) * norm.cdf(z - sigma) + bound * (1 - norm.cdf(z))


def next_check(start: float, period: float, after: float) -> float:
    """The first tick of a periodic task (ticks at ``start + k * period``, k >= 1)
    strictly after ``after``."""
    return start + (math.floor((after - start) / period) + 1) * period


def unuploaded_acked(uploads, acks, zone: str, lost_at: float, reopened_at: float,
                     ) -> set[tuple[int, int]]:
    """The acknowledged rows a zonal WAL takes with its zone: (partition, offset) pairs.

    A shared-storage leader acknowledges a row once its WAL holds it, and the row is in
    object storage once an upload covering its offset committed. When the zone holding
    the WAL is destroyed at ``lost_at``, a partition led there keeps exactly its rows
    below the end of its last upload committed by then (``uploads``: (time, partition,
    end offset, zone) of each commit, the zone its leader's); every row acknowledged at
    or above it is lost. Its partitions take no write between ``lost_at`` and
    ``reopened_at`` (they are offline), so an acknowledgement of such an offset before
    ``reopened_at`` (``acks``: (time, partition, offset) of each acknowledged row) is of a
    row the WAL held at ``lost_at``.
    """
    last: dict[int, tuple[int, str]] = {}
    for t, partition, end, where in uploads:
        if t <= lost_at:
            last[partition] = (end, where)
    led_there = {p: end for p, (end, where) in last.items() if where == zone}
    return {(partition, offset) for t, partition, offset in acks
            if t < reopened_at and partition in led_there and offset >= led_there[partition]}


__all__ = ["lognormal_mean_below", "next_check", "unuploaded_acked"]
