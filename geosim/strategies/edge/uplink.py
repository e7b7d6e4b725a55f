"""What a site's uplink carries: the replication's throughput bound and its lag.

The replication (a MirrorMaker 2 source task, or a cluster link's fetcher) keeps one
fetch in flight per connection to the site's brokers, as the cross-cluster engine's
flow does (:mod:`geosim.kafka.mirror_flow`): a response of at most
``consumer.fetch.max.bytes`` per connection takes the round trip, its bytes over the
link's rate, and, past one TCP window per connection, a round trip per window
(domain.md §2, :func:`geosim.kafka.wire.window_wait`). Behind, the fetcher is never
idle, so its throughput is one full response per such cycle, capped by the link
rate. Caught up, the newest record in the central copy is between a one-way delay
and a one-way delay plus a round trip old (it waited at the site for the next fetch
to arrive): the fluid model takes the mean, one round trip.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from geosim.kafka.mirror_config import MirrorConfig
from geosim.scenario.sections import (
    ConstantDist,
    EmpiricalDist,
    LogNormalDist,
    NormalDist,
    ScheduleOutside,
)
from geosim.strategies.edge.spec import SiteUplink


@dataclass(frozen=True)
class LinkNow:
    """The uplink in one state: ``up``, ``slow`` (outside the windows, degraded) or
    ``down``; ``capacity`` in bytes/s (0 when down), ``lag`` the caught-up staleness."""

    state: str
    capacity: float
    lag: float
    bandwidth: float | None


DOWN = LinkNow("down", 0.0, 0.0, None)


def mean_rtt(dist: ConstantDist | NormalDist | LogNormalDist | EmpiricalDist) -> float:
    """The mean of an RTT distribution (a lognormal fitted to p50 and p99)."""
    if isinstance(dist, ConstantDist):
        return dist.value
    if isinstance(dist, NormalDist):
        return dist.mean
    if isinstance(dist, LogNormalDist):
        sigma = math.log(dist.p99 / dist.p50) / 2.3263478740408408
        return dist.p50 * math.exp(sigma * sigma / 2)
    return sum(dist.samples) / len(dist.samples)


def fetch_capacity(rtt: float, bandwidth: float | None, fetch: MirrorConfig,
                   connections: int, window: int | None) -> float:
    """Bytes/s a fetcher that is behind moves: one response of ``fetch.max.bytes`` per
    connection per cycle (round trip + serialization + window round trips)."""
    size = float(fetch.fetch_max_bytes * connections)
    cycle = rtt
    if bandwidth:
        cycle += size / bandwidth
    if window and size > window * connections:
        cycle += rtt * size / (window * connections)
    if cycle <= 0:
        return bandwidth if bandwidth else math.inf
    return size / cycle


def link_states(uplink: SiteUplink, fetch: MirrorConfig, connections: int,
                window: int | None) -> tuple[LinkNow, LinkNow]:
    """The uplink inside its windows and outside them."""
    rtt = mean_rtt(uplink.rtt)
    up = LinkNow("up", fetch_capacity(rtt, uplink.bandwidth, fetch, connections, window),
                 rtt, uplink.bandwidth)
    outside = uplink.schedule.outside if uplink.schedule is not None else "down"
    if not isinstance(outside, ScheduleOutside):
        return up, DOWN
    slow_rtt = rtt + 2 * outside.extra_latency
    bandwidth = outside.bandwidth if outside.bandwidth is not None else uplink.bandwidth
    if outside.bandwidth is not None and uplink.bandwidth is not None:
        bandwidth = min(outside.bandwidth, uplink.bandwidth)
    capacity = fetch_capacity(slow_rtt, bandwidth, fetch, connections, window)
    if outside.loss > 0 and capacity > 0:
        # A lost request or response costs the fetch a request timeout; a cycle fails
        # with q = 1 - (1 - loss)^2, so q / (1 - q) timeouts per good cycle on average.
        size = fetch.fetch_max_bytes * connections
        fail = 1 - (1 - outside.loss) ** 2
        cycle = size / capacity + fail / (1 - fail) * fetch.request_timeout
        capacity = size / cycle
    return up, LinkNow("slow", capacity, slow_rtt, bandwidth)


__all__ = ["DOWN", "LinkNow", "fetch_capacity", "link_states", "mean_rtt"]
