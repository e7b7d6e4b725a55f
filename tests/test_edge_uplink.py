"""The edge uplink's closed forms (geosim.strategies.edge.uplink) at the values no
scenario reaches: a link that does not move, the TCP-window term of the caught-up lag,
and the mean of each RTT distribution. Each expected value is worked by hand from the
docstrings' formulas."""

from __future__ import annotations

import dataclasses
import math
import statistics
from types import SimpleNamespace

import numpy as np
import pytest

from geosim.kafka.mirror_config import MirrorConfig
from geosim.scenario.sections import (
    ConstantDist,
    EmpiricalDist,
    LogNormalDist,
    NormalDist,
    ScheduleOutside,
)
from geosim.strategies.edge.uplink import DOWN, Z99, LinkNow, link_states, mean_rtt


def test_a_link_that_does_not_move_carries_nothing():
    assert dataclasses.astuple(DOWN) == ("down", 0.0, None, 0, None, 0.0)
    assert not DOWN.moves and LinkNow("up", budget=1).moves
    with pytest.raises(dataclasses.FrozenInstanceError):  # DOWN is shared
        DOWN.budget = 1  # type: ignore[misc]
    assert DOWN.capacity == 0.0
    assert LinkNow("slow", rtt=0.5, bandwidth=1000.0, budget=0).capacity == 0.0
    # one that moves: budget / cycle, cycle = rtt + budget / bandwidth
    assert LinkNow("up", rtt=0.5, bandwidth=1000.0, budget=500).capacity == 500.0
    # a link of no delay and no rate bound moves a whole response at once
    assert LinkNow("up", budget=500).capacity == math.inf


@pytest.mark.parametrize("bandwidth, rate, expected", [
    (None, 100.0, 1.5 * 0.5 - 0.25),  # no rate bound: the cycle is the round trip
    (1000.0, 1000.0, math.inf),       # the link's whole rate
    (1000.0, 1500.0, math.inf),       # beyond it
])
def test_the_caught_up_lag_against_the_links_rate(bandwidth, rate, expected):
    link = LinkNow("up", rtt=0.5, bandwidth=bandwidth, budget=1000)
    assert link.caught_up_lag(rate) == expected


@pytest.mark.parametrize("rtt, window, retries, rate, expected", [
    # No rate bound, so each further window waits the whole round trip: g = rtt.
    # 100 B/s over c_1 = 0.25 + 0.25 = 0.5 s carry 50 B, one 50 B window exactly.
    (0.25, 50.0, 0.25, 100.0, 1.5 * 0.5 - 0.125),
    # room = 100 - 396 x 0.25 = 1 B: k = 396 x 0.25 / 1 = 99 windows, c_99 = 0.5 +
    # 98 x 0.25 = 25 s carrying 9,900 B = 99 x 100 exactly
    (0.25, 100.0, 0.25, 396.0, 1.5 * 25 - 0.125),
    # the quotient 1817 x 0.1 / 2.3 comes out 79.0000000000006, so its ceiling is 80;
    # c_79 = 0.2 + 78 x 0.1 = 8 s carries 14,536 B = 79 x 184: the search steps back
    (0.1, 184.0, 0.1, 1817.0, 1.5 * 8.0 - 0.05),
    # the quotient 760 x 0.2 / 1 comes out just under 152, so its ceiling is 152; in
    # decimals c_152 = 0.45 + 151 x 0.25 = 38.2 s would carry exactly 152 x 191 =
    # 29,032 B, but 0.2 s as a binary float is a hair above 0.2 and so is the load:
    # the search steps on to 153, c_153 = 38.45 s
    (0.25, 191.0, 0.2, 760.0, 1.5 * 38.45 - 0.125),
])
def test_the_least_number_of_windows_that_carry_a_cycle(rtt, window, retries, rate,
                                                        expected):
    link = LinkNow("up", rtt=rtt, budget=10**9, window_bytes=window, retry_cost=retries)
    assert link.caught_up_lag(rate) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("bandwidth, retries, rate", [
    # 100 B windows over a 0.25 s round trip move at most 400 B/s, below the 500 B/s
    # produced although the link's rate (1,000 B/s) would carry them: g = 0.25 - 0.1,
    # room = 100 x 0.5 - 500 x 0.15 < 0
    (1000.0, 0.0, 500.0),
    # exactly 400 B/s with no rate bound (g = 0.25): room = 100 - 400 x 0.25 = 0, and
    # the retries' 0.25 s a cycle are never made up
    (None, 0.25, 400.0),
])
def test_windows_that_cannot_keep_up_at_one_per_round_trip(bandwidth, retries, rate):
    link = LinkNow("up", rtt=0.25, bandwidth=bandwidth, budget=1000, window_bytes=100.0,
                   retry_cost=retries)
    assert link.caught_up_lag(rate) == math.inf


@pytest.mark.parametrize("window, expected", [
    # rtt 0.25 s, 1,000 B/s, retries 0.25 s, 100 B/s produced: share = 0.1, base = 0.5,
    # so c = 0.5 / 0.9 = 5/9 s carrying 500/9 B. Past the windows the data takes k of
    # them, each beyond the first waiting g = 0.25 - window / 1000:
    # c_k = (0.5 + (k - 1) g) / 0.9 for the least k with 100 c_k <= k window, that is
    # k >= 100 (0.5 - g) / room, room = 0.9 window - 100 g
    (40.0, 1.5 * 0.71 / 0.9 - 0.125),   # g 0.21, room 15, k = 2: c 0.789 (78.9 B <= 80)
    (35.0, 1.5 * 0.93 / 0.9 - 0.125),   # g 0.215, room 10, k = 3: c 1.033 (103.3 B <= 105;
                                        # k = 2: 79.4 B > 70)
    (20.0, math.inf),                   # g 0.23, room 18 - 23 < 0: cannot keep up
    (100.0, 1.5 * 5 / 9 - 0.125),       # 55.6 B fit one window
    (None, 1.5 * 5 / 9 - 0.125),        # no window bound
])
def test_the_caught_up_lag_past_the_tcp_windows(window, expected):
    link = LinkNow("up", rtt=0.25, bandwidth=1000.0, budget=1000, window_bytes=window,
                   retry_cost=0.25)
    assert link.caught_up_lag(100.0) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("window", [50.0, 80.0])
def test_windows_holding_the_links_bandwidth_delay_product_never_wait(window):
    # 200 B/s x 0.25 s = 50 B: a window of 50 B or more is sent in a round trip or more,
    # so the acknowledgements are back before it is out; the cycle's 100 B exceed the
    # window and still c = 0.5 / (1 - 1/2) = 1 s, 1.5 c - rtt / 2
    link = LinkNow("up", rtt=0.25, bandwidth=200.0, budget=1000, window_bytes=window,
                   retry_cost=0.25)
    assert link.caught_up_lag(100.0) == 1.375
    assert link.cycle(1000) == 0.25 + 0.25 + 5.0  # rtt, retries, 1,000 B over 200 B/s


def test_a_response_past_the_windows_waits_a_gap_per_further_window():
    # 300 B windows over 10,000 B/s take 0.03 s to send, so each further window waits
    # g = 0.25 - 0.03 = 0.22 s for the acknowledgements of the one before
    link = LinkNow("up", rtt=0.25, bandwidth=10_000.0, budget=1000, window_bytes=300.0)
    assert link.cycle(300) == pytest.approx(0.25 + 0.03)             # one window
    assert link.cycle(301) == pytest.approx(0.25 + 0.0301 + 0.22)    # a second
    assert link.cycle(900) == pytest.approx(0.25 + 0.09 + 2 * 0.22)  # three
    assert link.capacity == pytest.approx(1000 / (0.25 + 0.1 + 3 * 0.22))  # four


def test_the_mean_rtt_of_each_distribution():
    assert mean_rtt(ConstantDist(value=0.02)) == 0.02
    assert mean_rtt(NormalDist(dist="normal", mean=0.03, std=0.01)) == 0.03
    assert mean_rtt(EmpiricalDist(dist="empirical", samples=[0.01, 0.02, 0.06])) \
        == pytest.approx(0.03, rel=1e-15)
    # a lognormal with sigma = 0.5: p99 = p50 x exp(0.5 z99), mean = p50 x exp(1/8)
    z99 = statistics.NormalDist().inv_cdf(0.99)
    assert Z99 == pytest.approx(z99, rel=1e-15)
    p99 = 0.04 * math.exp(0.5 * z99)
    assert mean_rtt(LogNormalDist(dist="lognormal", p50=0.04, p99=p99)) \
        == pytest.approx(0.04 * math.exp(0.125), rel=1e-12)


def _lag_by_iteration(link: LinkNow, rate: float) -> float:
    """The caught-up cycle found by iterating it from its window-free value: each cycle
    carries what the previous one took to produce (an oracle of the closed form)."""
    share = rate / link.bandwidth
    base = link.rtt + link.retry_cost
    gap = max(link.rtt - link.window_bytes / link.bandwidth, 0.0)
    c = base / (1 - share)
    for _ in range(100_000):
        k = max(1, math.ceil(rate * c / link.window_bytes))
        after = (base + (k - 1) * gap) / (1 - share)
        if after == c:
            return 1.5 * c - link.rtt / 2
        c = after
    return math.inf


def test_the_caught_up_lag_is_the_fixed_point_of_the_cycle():
    rng = np.random.default_rng(19)
    cases = [(0.27602372576333034, 63912689.80109229, 1e5, 360245.6525988323 * 0.999, 0.0)]
    for _ in range(3000):
        rtt = float(rng.uniform(0.001, 1.0))
        bandwidth = float(10 ** rng.uniform(3, 9))
        window = float(10 ** rng.uniform(3, 7))
        retries = float(rng.choice([0.0, rng.uniform(0, 2)]))
        limit = min(bandwidth, window / rtt)  # the link's rate, one window per round trip
        cases.append((rtt, bandwidth, window, float(rng.uniform(0.05, 0.95)) * limit, retries))
    for rtt, bandwidth, window, rate, retries in cases:
        link = LinkNow("up", rtt=rtt, bandwidth=bandwidth, budget=10**9, window_bytes=window,
                       retry_cost=retries)
        expected = _lag_by_iteration(link, rate)
        assert math.isfinite(expected)
        assert link.caught_up_lag(rate) == pytest.approx(expected, rel=1e-9), \
            (rtt, bandwidth, window, rate, retries)


def uplink(outside, bandwidth=1000.0):
    """A site uplink of a 0.5 s round trip; ``outside``: what its schedule leaves
    outside the windows (None: no schedule)."""
    schedule = None if outside is None else SimpleNamespace(outside=outside)
    return SimpleNamespace(rtt=ConstantDist(value=0.5), bandwidth=bandwidth,
                           schedule=schedule)


FETCH = MirrorConfig(fetch_max_bytes=100, request_timeout=30.0)


@pytest.mark.parametrize("outside", [None, "down"])
def test_an_uplink_outside_its_windows_is_cut_unless_it_is_slow(outside):
    # 2 connections: a fetch returns 2 x 100 B, their windows 2 x 300 B
    up, off = link_states(uplink(outside), FETCH, 2, 300)
    assert up == LinkNow("up", 0.5, 1000.0, 200, 600)
    assert off is DOWN


@pytest.mark.parametrize("outside, bandwidth, expected", [
    # loss 0.5 each way: a cycle fails with q = 1 - 0.5^2 = 0.75, q / (1 - q) = 3
    # timeouts of 30 s per good cycle; the round trip gains twice the extra latency
    (ScheduleOutside(extra_latency=0.1, bandwidth=500.0, loss=0.5), 1000.0,
     LinkNow("slow", 0.7, 500.0, 200, None, 90.0)),
    # the slower of the two rates, whichever it is
    (ScheduleOutside(bandwidth=2000.0), 1000.0, LinkNow("slow", 0.5, 1000.0, 200)),
    (ScheduleOutside(bandwidth=2000.0), None, LinkNow("slow", 0.5, 2000.0, 200)),
    (ScheduleOutside(loss=0.2), None, LinkNow("slow", 0.5, None, 200, None,
                                              0.36 / 0.64 * 30.0)),
])
def test_a_slow_path_outside_the_windows(outside, bandwidth, expected):
    up, slow = link_states(uplink(outside, bandwidth), FETCH, 2, None)
    assert (up.bandwidth, up.window_bytes) == (bandwidth, None)
    assert dataclasses.astuple(slow)[:5] == dataclasses.astuple(expected)[:5]
    assert slow.retry_cost == pytest.approx(expected.retry_cost, rel=1e-12)
