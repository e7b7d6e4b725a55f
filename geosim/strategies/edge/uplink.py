"""A site's uplink as the replication sees it: how long a fetch response takes, and the
caught-up staleness.

The replication (a MirrorMaker 2 source task, or a cluster link's fetcher) keeps one
fetch in flight per connection to the site's brokers, as the cross-cluster engine's
flow does (:mod:`geosim.kafka.mirror_flow`): a response of at most
``consumer.fetch.max.bytes`` per connection takes the round trip, its bytes over the
link's rate and, past one TCP window per connection, a wait of up to a round trip per
further window (domain.md §2, :func:`geosim.world.network.window_delay`); on a lossy
path each lost request or response costs a ``consumer.request.timeout.ms``. Behind,
the fetcher is never idle: one full response per such cycle (:attr:`LinkNow.capacity`).
Caught up, each fetch takes what was produced during the previous cycle: see
:meth:`LinkNow.caught_up_lag`.
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
from geosim.world.network import window_delay, window_gap

#: z of the 99th percentile of a standard normal (lognormal fits to p50 and p99).
Z99 = 2.3263478740408408


@dataclass(frozen=True)
class LinkNow:
    """The uplink in one state: ``up``, ``slow`` (outside the windows, degraded) or
    ``down`` (no fetch gets through: ``budget`` 0)."""

    state: str
    rtt: float = 0.0
    bandwidth: float | None = None
    budget: int = 0                  # bytes one fetch returns at most (all connections)
    window_bytes: float | None = None  # TCP window x connections (None: no bound)
    retry_cost: float = 0.0          # expected request timeouts per cycle, in seconds

    @property
    def moves(self) -> bool:
        return self.budget > 0

    def cycle(self, size: float) -> float:
        """Seconds from a fetch request to its response of ``size`` bytes arriving."""
        out = self.rtt + self.retry_cost
        if self.bandwidth:
            out += size / self.bandwidth
        return out + window_delay(size, self.window_bytes, self.rtt, self.bandwidth)

    @property
    def capacity(self) -> float:
        """Bytes/s of a fetcher that is behind (full responses back to back)."""
        if not self.moves:
            return 0.0
        cycle = self.cycle(self.budget)
        return self.budget / cycle if cycle > 0 else math.inf

    def caught_up_lag(self, rate: float) -> float:
        """The mean staleness of a caught-up fetcher at produce rate ``rate``. Each
        fetch takes what was produced during the previous cycle, so the cycle settles
        where it carries its own data. With that data taking ``k`` TCP windows, each
        beyond the first waiting ``g = rtt - window / bandwidth`` (when positive:
        :func:`window_delay`), ``c_k = (rtt + retries + (k - 1) g) / (1 - rate /
        bandwidth)``, for the least ``k`` whose windows hold ``rate x c_k``. The newest
        copied record is then between half a round trip plus the data's transfer and
        that plus a cycle old: ``1.5 c - rtt / 2`` on average (one round trip on a fast
        link). Infinite when the link cannot keep up: its rate or, at one window per
        round trip, its windows."""
        base = self.rtt + self.retry_cost
        share = rate / self.bandwidth if self.bandwidth else 0.0
        if share >= 1:
            return math.inf
        window = self.window_bytes
        # equivalent: without a window k stays 1, where the gap is never counted
        gap = window_gap(window, self.rtt, self.bandwidth) if window else 0.0  # mutate: equivalent

        def cycle(k: int) -> float:
            return (base + (k - 1) * gap) / (1 - share)

        def fits(k: int) -> bool:
            return window is None or rate * cycle(k) <= k * window

        k = 1
        if not fits(1):
            assert window is not None
            # rate c_k <= k window holds from k >= rate (base - gap) / room on, a
            # quotient above 1 since c_1 does not fit (with gap 0 every k has the same
            # cycle: any k that fits gives the answer)
            room = window * (1 - share) - rate * gap
            if room <= 0:
                return math.inf
            k = math.ceil(rate * (base - gap) / room)
            # The quotient's rounding can carry it across one whole number either way.
            if fits(k - 1):
                k -= 1
            elif not fits(k):
                k += 1
        return 1.5 * cycle(k) - self.rtt / 2


DOWN = LinkNow("down")


def mean_rtt(dist: ConstantDist | NormalDist | LogNormalDist | EmpiricalDist) -> float:
    """The mean of an RTT distribution (a lognormal fitted to p50 and p99)."""
    if isinstance(dist, ConstantDist):
        return dist.value
    if isinstance(dist, NormalDist):
        return dist.mean
    if isinstance(dist, LogNormalDist):
        sigma = math.log(dist.p99 / dist.p50) / Z99
        return dist.p50 * math.exp(sigma * sigma / 2)
    return sum(dist.samples) / len(dist.samples)


def link_states(uplink: SiteUplink, fetch: MirrorConfig, connections: int,
                window: int | None) -> tuple[LinkNow, LinkNow]:
    """The uplink inside its windows and outside them."""
    budget = fetch.fetch_max_bytes * connections
    window_bytes = window * connections if window else None
    rtt = mean_rtt(uplink.rtt)
    up = LinkNow("up", rtt, uplink.bandwidth, budget, window_bytes)
    outside = uplink.schedule.outside if uplink.schedule is not None else "down"
    if not isinstance(outside, ScheduleOutside):
        return up, DOWN
    bandwidth = uplink.bandwidth
    if outside.bandwidth is not None:
        bandwidth = min(outside.bandwidth, bandwidth) if bandwidth else outside.bandwidth
    # A request or response is lost with q = 1 - (1 - loss)^2; each loss costs a request
    # timeout, q / (1 - q) of them per good cycle on average.
    fail = 1 - (1 - outside.loss) ** 2
    retry = fail / (1 - fail) * fetch.request_timeout
    return up, LinkNow("slow", rtt + 2 * outside.extra_latency, bandwidth, budget,
                       window_bytes, retry)


__all__ = ["DOWN", "LinkNow", "link_states", "mean_rtt"]
