"""The edge uplink's closed forms (geosim.strategies.edge.uplink) at the values no
scenario reaches: a link that does not move, the TCP-window term of the caught-up lag,
and the mean of each RTT distribution. Each expected value is worked by hand from the
docstrings' formulas."""

from __future__ import annotations

import math

import pytest

from geosim.scenario.sections import ConstantDist, EmpiricalDist, LogNormalDist, NormalDist
from geosim.strategies.edge.uplink import DOWN, Z99, LinkNow, mean_rtt


def test_a_link_that_does_not_move_carries_nothing():
    assert DOWN.capacity == 0.0
    assert LinkNow("slow", rtt=0.5, bandwidth=1000.0, budget=0).capacity == 0.0
    # one that moves: budget / cycle, cycle = rtt + budget / bandwidth
    assert LinkNow("up", rtt=0.5, bandwidth=1000.0, budget=500).capacity == 500.0


@pytest.mark.parametrize("window, expected", [
    # share = 100 / 200 = 1/2, base = rtt + retries = 0.5, so c = 0.5 / (1/2) = 1 s and
    # the cycle's data, 100 B/s x 1 s = 100 B, exceeds the windows: the data takes k
    # windows, c = (0.5 + (k - 1) 0.25) / (1/2), for the least k with 100 c <= k window:
    # k >= 100 (0.5 - 0.25) / room, room = window / 2 - 100 x 0.25
    (80.0, 2.125),     # room 15, k = 2: c = 1.5 (150 B <= 160), 1.5 c - rtt / 2 = 2.25 - 1/8
    (70.0, 2.875),     # room 10, k = 3: c = 2 (200 B <= 210; k = 2: 150 > 140)
    (60.0, 4.375),     # room 5, k = 5: c = 3 (300 B <= 300 exactly; k = 4: 250 > 240)
    (50.0, math.inf),  # room 0 exactly: at one window per round trip it cannot keep up
    (40.0, math.inf),  # room < 0
    (100.0, 1.375),    # 100 B is not more than the windows: 1.5 x 1 - 1/8
    (None, 1.375),     # no window bound
])
def test_the_caught_up_lag_past_the_tcp_windows(window, expected):
    link = LinkNow("up", rtt=0.25, bandwidth=200.0, budget=1000, window_bytes=window,
                   retry_cost=0.25)
    assert link.caught_up_lag(100.0) == expected


def test_a_response_past_the_windows_costs_a_round_trip_per_further_window():
    link = LinkNow("up", rtt=0.25, bandwidth=1000.0, budget=1000, window_bytes=300.0)
    assert link.cycle(300) == 0.25 + 0.3            # one window: the round trip
    assert link.cycle(301) == 0.25 + 0.301 + 0.25   # a second window: one more
    assert link.cycle(900) == 0.25 + 0.9 + 0.5      # three windows
    assert link.capacity == 1000 / (0.25 + 1.0 + 0.75)  # 1,000 B: four windows


def test_the_mean_rtt_of_each_distribution():
    assert mean_rtt(ConstantDist(value=0.02)) == 0.02
    assert mean_rtt(NormalDist(dist="normal", mean=0.03, std=0.01)) == 0.03
    assert mean_rtt(EmpiricalDist(dist="empirical", samples=[0.01, 0.02, 0.06])) \
        == pytest.approx(0.03, rel=1e-15)
    # a lognormal with sigma = 0.5: p99 = p50 x exp(0.5 x Z99), mean = p50 x exp(1/8)
    p99 = 0.04 * math.exp(0.5 * Z99)
    assert mean_rtt(LogNormalDist(dist="lognormal", p50=0.04, p99=p99)) \
        == pytest.approx(0.04 * math.exp(0.125), rel=1e-12)
