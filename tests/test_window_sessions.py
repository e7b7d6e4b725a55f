"""The kernel's per-item fetch model (geosim.kafka.window.cycles.session_cycles): a
response that would pass replica.fetch.response.max.bytes per connection is filled in
the fetch session's order, as the event engine's Replication._cut fills it.

Held to the fast path where no response is cut (the same cycles, draw for draw), to
hand-made cuts, to Kafka's caught-up rule, and to the event engine on a steady state
where a third of the responses are cut."""

from __future__ import annotations

import numpy as np
import pytest
from window_cases import SETTLE, T0, T1, TAIL, started

from geosim.core.distributions import Constant, LogNormal
from geosim.kafka.replication import Replication
from geosim.kafka.window import cycles
from geosim.kafka.window.cycles import Delays, fetch_cycles, session_cycles
from geosim.kafka.window.kernel import run_window
from geosim.kafka.window.wiring import Draws, Session, WindowRefused, Wiring
from geosim.kafka.wire import FETCH_REQUEST_BYTES


class _Pair:
    """A wiring of one pair ("a" leads, "b" follows)."""

    def __init__(self, rtt, budget=10**9, window=None, lag_max=30.0):
        self.wait_max = 0.5
        self.response_max_bytes = budget
        self.window = window
        self.lag_max = lag_max
        self.rtt = {("a", "b"): rtt, ("b", "a"): rtt}
        self.median_rtt = {("a", "b"): rtt.median(), ("b", "a"): rtt.median()}


def _session(pids, stamps=None, held=None):
    n = len(pids)
    return Session(np.array(pids, dtype=np.int64),
                   np.array(stamps if stamps is not None else [-1.0] * n, dtype=float),
                   0, np.array(held if held is not None else [0.0] * n, dtype=float),
                   np.ones(n, dtype=bool), np.zeros(n), np.arange(n),
                   np.zeros(n, dtype=bool), np.zeros(n, dtype=bool), np.arange(n),
                   np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64), np.zeros(n))


def _bill():
    billed: dict = {}

    def bill(src, dst, purpose, size):
        billed[(src, dst, purpose)] = billed.get((src, dst, purpose), 0) + size
    return billed, bill


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_item_by_item_model_makes_the_fast_paths_cycles_when_nothing_is_cut(seed):
    """Rows of four partitions (one with two followers in the zone) at random times and
    sizes: with a budget no response reaches, both models give the same request
    arrivals, departures, response arrivals, carrying cycles and bytes."""
    rng = np.random.default_rng(seed)
    m = 400
    times = np.sort(rng.uniform(0.0, 2.0, m))
    pid = rng.integers(0, 4, m)
    size = rng.integers(100, 5000, m).astype(float)
    pids = [0, 1, 2, 3, 3]
    copies = np.bincount(pids, minlength=4)[pid]
    pair = _Pair(LogNormal(0.010, 0.030), window=20_000)
    fast_billed, bill = _bill()
    fast = fetch_cycles(pair, Draws(pair.rtt, seed), "a", "b", times, size * copies,
                        len(pids), 1, 0.0, 2.5, bill)
    item_billed, bill = _bill()
    item = session_cycles(pair, Delays(Draws(pair.rtt, seed), "a", "b"), "a", "b", times,
                          pid, size * copies, _session(pids), 1, 0.0, 2.5, bill)
    for ours, theirs in zip(item, fast, strict=True):
        assert np.array_equal(ours, theirs)
    assert item_billed == fast_billed


def _cut_run(stamps, budget=150):
    """Rows of 100 bytes (partition 0) and 80 (partition 1) at 1 and 2 ms, each
    partition one item; a constant 10 ms round trip: the first request reaches the
    leader at 5 ms and finds both."""
    pair = _Pair(Constant(0.010), budget=budget)
    billed, bill = _bill()
    a, r, q, carried = session_cycles(
        pair, Delays(Draws(pair.rtt, 0), "a", "b"), "a", "b", np.array([0.001, 0.002]),
        np.array([0, 1]), np.array([100.0, 80.0]), _session([0, 1], stamps), 1, 0.0,
        0.05, bill)
    return a, r, q, carried, billed


def test_a_cut_response_serves_the_items_in_the_sessions_order_part_of_a_row_at_a_time():
    # equal stamps: the item order; partition 0 takes its 100 bytes, partition 1 the
    # budget's last 50 of its 80 (a part: its row is not yet at the follower) and the
    # next response its last 30
    _a, r, _q, carried, billed = _cut_run([-1.0, -1.0])
    assert carried.tolist() == [0, 1]
    assert r[1] == pytest.approx(r[0] + 0.010)  # it still had data: answered at once
    # served longest ago first: partition 1 takes its 80, partition 0 the last 70
    _a, _r, _q, carried, _ = _cut_run([3.0, 2.0])
    assert carried.tolist() == [1, 0]
    # each row's bytes move once (the responses' headers aside)
    assert billed[("a", "b", "replicate")] - FETCH_REQUEST_BYTES * len(r) == 180


def test_a_cut_moves_the_items_that_got_data_to_the_sessions_end():
    """Three partitions with a row of 100 bytes each before the first request, and
    another each at 30 ms; a 150-byte budget, a 10 ms round trip.

    - Response 0: 0 takes its row, 1 half of its row (0 then 1 move to the end).
    - Response 1: 2 first (never served), its whole row; then 0 (nothing new); then the
      rest of 1's row.
    - Response 2 (after the long poll ends at 30 ms): 0 first (served in response 0),
      its new row; then 2, half of its new row.
    - Response 3: 1's new row, then the rest of 2's."""
    pair = _Pair(Constant(0.010), budget=150)
    _billed, bill = _bill()
    times = np.array([0.001, 0.001, 0.001, 0.030, 0.030, 0.030])
    _a, _r, _q, carried = session_cycles(
        pair, Delays(Draws(pair.rtt, 0), "a", "b"), "a", "b", times,
        np.array([0, 1, 2, 0, 1, 2]), np.full(6, 100.0), _session([0, 1, 2]), 1, 0.0,
        0.2, bill)
    assert carried.tolist() == [0, 1, 1, 2, 3, 3]


def test_no_item_takes_more_than_one_connections_budget():
    """Two connections of 150 bytes: a response holds 300 bytes, and at most 150 of one
    partition (it is fetched over one connection). Partition 0's 200-byte row and
    partition 1's 50-byte row before the first request: the first response brings 150
    of row 0 and all of row 1, the next the rest of row 0. The fast path sees a
    response within the 300 bytes but carrying more than 150 of one item, and hands
    the pair to the per-item model, whose cycles it then returns."""
    pair = _Pair(Constant(0.010), budget=150)
    times, pid, size = np.array([0.001, 0.002]), np.array([0, 1]), np.array([200.0, 50.0])
    _billed, bill = _bill()
    item = session_cycles(pair, Delays(Draws(pair.rtt, 0), "a", "b"), "a", "b", times,
                          pid, size, _session([0, 1]), 2, 0.0, 0.1, bill)
    assert item[3].tolist() == [1, 0]
    _billed, bill = _bill()
    fast = fetch_cycles(pair, Draws(pair.rtt, 0), "a", "b", times, size, 2, 2, 0.0, 0.1,
                        bill, session=_session([0, 1]), row_pid=pid)
    for ours, theirs in zip(fast, item, strict=True):
        assert np.array_equal(ours, theirs)
    # without the session the fast path cannot split the response: it refuses
    with pytest.raises(WindowRefused, match="more of a partition"):
        fetch_cycles(pair, Draws(pair.rtt, 0), "a", "b", times, size, 2, 2, 0.0, 0.1,
                     bill)


def test_an_isr_follower_falling_behind_for_half_the_lag_time_refuses_the_window():
    """A row of 1,000 bytes every 10 ms over a 100-byte budget per 10 ms cycle: the
    follower never reaches the leader's log end; after replica.lag.time.max.ms / 2 the
    ISR check could drop it, which the kernel does not model."""
    pair = _Pair(Constant(0.010), budget=100, lag_max=1.0)
    _billed, bill = _bill()
    times = np.arange(0.0, 2.0, 0.010)
    with pytest.raises(WindowRefused, match="caught up"):
        session_cycles(pair, Delays(Draws(pair.rtt, 0), "a", "b"), "a", "b", times,
                       np.zeros(len(times), dtype=np.int64), np.full(len(times), 1000.0),
                       _session([0]), 1, 0.0, 2.0, bill)


#: stretch-3-regions with replica.fetch.response.max.bytes at 27,000 B (54,000 B per
#: response over its two broker pairs): about a third of the cross-region responses
#: are cut, and the followers keep up.
TIGHT = "strategy.config={replica.fetch.response.max.bytes: 27000, min.insync.replicas: 2}"


def test_the_kernel_agrees_with_the_event_engine_where_responses_are_cut(monkeypatch):
    from test_window_kernel import _event_engine

    used = []
    real = cycles.session_cycles
    monkeypatch.setattr(cycles, "session_cycles",
                        lambda *a, **k: used.append(a[2:4]) or real(*a, **k))
    _ctx, cluster = started("stretch-3-regions", TIGHT)
    window = run_window(Wiring.of(cluster), T0, T1, measure_from=T0 + SETTLE, tail=TAIL)
    assert used  # some pair's responses were cut
    cuts = []
    real_cut = Replication._cut
    monkeypatch.setattr(Replication, "_cut",
                        lambda self, *a: cuts.append(1) or real_cut(self, *a))
    ctx, _cluster = started("stretch-3-regions", TIGHT)
    pub, e2e, acked, delivered = _event_engine(ctx)
    assert len(cuts) > 100
    assert window.records_acked == pytest.approx(acked, rel=1e-3)
    assert window.records_delivered == pytest.approx(delivered, rel=1e-3)
    for ours, theirs in ((window.publish, pub), (window.end_to_end, e2e)):
        for q, tol in ((0.5, 0.03), (0.9, 0.03), (0.99, 0.05)):
            assert ours.quantile(q) == pytest.approx(theirs.quantile(q), rel=tol), q


def test_a_rows_commit_waits_for_its_isr_follower_not_one_catching_up_beside_it():
    """One zone holds two followers of a partition (stretch-2-regions' one-zone regions):
    one in the ISR, one 50 KB behind. A 100-byte row reaches the ISR follower in the
    first response; the one catching up takes the rest of the 1,000-byte budget each
    cycle and holds the row only some 50 cycles later. The row is at the zone, for its
    commit, with the first."""
    pair = _Pair(Constant(0.010), budget=1000)
    _billed, bill = _bill()
    ses = _session([0, 0], held=[0.0, -50_000.0])
    ses.in_isr[1] = False
    ses.behind[1] = True
    _a, _r, _q, carried = session_cycles(
        pair, Delays(Draws(pair.rtt, 0), "a", "b"), "a", "b", np.array([0.001]),
        np.array([0]), np.array([200.0]), ses, 1, 0.0, 1.0, bill, tracks={})
    assert carried.tolist() == [0]
