"""The edge uplink's closed forms (geosim.strategies.edge.uplink) at the values no
scenario reaches: a link that does not move, the TCP-window term of the caught-up lag,
and the mean of each RTT distribution. Each expected value is worked by hand from the
docstrings' formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest

from geosim.scenario.sections import ConstantDist, EmpiricalDist, LogNormalDist, NormalDist
from geosim.strategies.edge.uplink import DOWN, Z99, LinkNow, mean_rtt


def test_a_link_that_does_not_move_carries_nothing():
    assert DOWN.capacity == 0.0
    assert LinkNow("slow", rtt=0.5, bandwidth=1000.0, budget=0).capacity == 0.0
    # one that moves: budget / cycle, cycle = rtt + budget / bandwidth
    assert LinkNow("up", rtt=0.5, bandwidth=1000.0, budget=500).capacity == 500.0


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
    # a lognormal with sigma = 0.5: p99 = p50 x exp(0.5 x Z99), mean = p50 x exp(1/8)
    p99 = 0.04 * math.exp(0.5 * Z99)
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
