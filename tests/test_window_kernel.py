"""The window engine's kernel (geosim.kafka.window.kernel) against the event engine.

The kernel computes a steady state's data path as arrays; the event engine runs it
event by event. Started from the same running cluster, they must agree on what the
producers' acknowledgements and the consumers' deliveries look like: the records
acknowledged and delivered, and the latency percentiles. The kernel draws from its own
streams, so the agreement is in distribution; the tolerance (3% at p50 and p90, 5% at
p99) is several times the differences measured on these cases (at most 0.6%)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from window_cases import SETTLE, T0, T1, TAIL, started

from geosim.core.distributions import Constant
from geosim.core.events import Delivered, ProduceAcked
from geosim.kafka.window.cycles import fetch_cycles
from geosim.kafka.window.kernel import run_window
from geosim.kafka.window.wiring import Draws, WindowRefused, Wiring
from geosim.metrics.histogram import LatencyHistogram
from geosim.world.network import Degradation


def _event_engine(ctx) -> tuple[LatencyHistogram, LatencyHistogram, int, int]:
    """The event engine from T0: the records sent in [T0 + SETTLE, T1), acknowledged
    and delivered, and their latencies."""
    pub, e2e = LatencyHistogram(), LatencyHistogram()
    counts = [0, 0]
    lo = T0 + SETTLE

    def acked(ev):
        for r in ev.rows:
            if lo <= r.send_last < T1:
                pub.add_uniform(r.acked_at - r.send_last, r.acked_at - r.send_first,
                                r.records)
                counts[0] += r.records

    def delivered(ev):
        for r in ev.rows:
            if lo <= r.send_last < T1:
                e2e.add_uniform(ev.t - r.send_last, ev.t - r.send_first, r.records)
                counts[1] += r.records

    ctx.recorder.subscribe(ProduceAcked, acked)
    ctx.recorder.subscribe(Delivered, delivered)
    ctx.env.run(until=T1 + TAIL)
    return pub, e2e, counts[0], counts[1]


@pytest.mark.parametrize("case", [
    ("stretch-3-regions",), ("stretch-2-regions",), ("observers-2dc",),
    ("stretch-last-replica",), ("stretch-topics",),  # the last with acks=1 fleets
    ("stretch-3-regions", "strategy.append_interval=50ms"),
])
def test_the_kernel_agrees_with_the_event_engine_on_a_steady_state(case):
    ctx, cluster = started(*case)
    wiring = Wiring.of(cluster)
    window = run_window(wiring, T0, T1, measure_from=T0 + SETTLE, tail=TAIL)
    pub, e2e, acked, delivered = _event_engine(ctx)
    assert acked > 0 and delivered > 0
    # the same records: the kernel's rows are the producers' cuts (a record or two of a
    # boundary row aside, the event engine's ticks being sums of floats)
    assert window.records_acked == pytest.approx(acked, rel=1e-3)
    assert window.records_delivered == pytest.approx(delivered, rel=1e-3)
    for ours, theirs in ((window.publish, pub), (window.end_to_end, e2e)):
        for q, tol in ((0.5, 0.03), (0.9, 0.03), (0.99, 0.05)):
            assert ours.quantile(q) == pytest.approx(theirs.quantile(q), rel=tol), (q, case)


def test_a_window_is_a_function_of_its_seed():
    _ctx, cluster = started("stretch-3-regions")
    wiring = Wiring.of(cluster)
    a = run_window(wiring, T0, T1, seed=3)
    b = run_window(wiring, T0, T1, seed=3)
    c = run_window(wiring, T0, T1, seed=4)
    assert np.array_equal(a.row_acked, b.row_acked)
    assert a.publish.counts.tolist() == b.publish.counts.tolist()
    assert a.bytes == b.bytes
    assert not np.array_equal(a.row_acked, c.row_acked)


@pytest.mark.parametrize("name", ["stretch-3-regions", "observers-2dc"])
def test_the_kernel_counts_the_bytes_the_event_engine_sends(name):
    """Produce, replication and consumption bytes of a window within 2% of what the
    event engine's network counted over the same time (both start with the same wiring;
    fetch requests and responses depend on how often the pairs cycle). In observers-2dc
    a zone holds three replicas of each partition, whose copies a fetch pair's
    responses each carry."""
    ctx, cluster = started(name)
    wiring = Wiring.of(cluster)
    before = dict(cluster.net.bytes)
    ctx.env.run(until=T1)
    after = cluster.net.bytes
    window = run_window(wiring, T0, T1, tail=0.0)
    for purpose in ("produce", "replicate", "consume"):
        theirs = sum(v - before.get(k, 0) for k, v in after.items() if k[2] == purpose)
        ours = sum(v for k, v in window.bytes.items() if k[2] == purpose)
        assert ours == pytest.approx(theirs, rel=0.02), purpose


def test_a_window_refuses_a_degraded_link():
    ctx, cluster = started("stretch-3-regions")
    cluster.net.degrade("us-west1", "us-west2", Degradation(extra_latency=0.01))
    with pytest.raises(WindowRefused, match="degraded"):
        Wiring.of(cluster)


# ---- the fetch cycle rule, on a hand-made pair --------------------------------------

class _Pair:
    """A wiring of one pair with a constant 10 ms round trip (5 ms each way)."""

    def __init__(self, wait_max=0.5, budget=10**9, window=None):
        self.wait_max = wait_max
        self.response_max_bytes = budget
        self.window = window
        self.rtt = {("a", "b"): Constant(0.010), ("b", "a"): Constant(0.010)}
        self.median_rtt = {("a", "b"): 0.010, ("b", "a"): 0.010}


def _run(pair, times, sizes, t_end, items=1):
    times = np.array(times, dtype=float)
    billed = {}

    def bill(src, dst, purpose, size):
        billed[(src, dst, purpose)] = billed.get((src, dst, purpose), 0) + size

    a, r, q, carried = fetch_cycles(pair, Draws(pair.rtt, 0), "a", "b", times,
                                    np.array(sizes, dtype=float), items, 1, 0.0, t_end,
                                    bill)
    return a, r, q, carried, billed


def test_a_fetch_with_nothing_new_waits_for_the_next_append():
    """The request leaves at 0 and reaches the leader at 5 ms; the append at 20 ms ends
    its wait, the response arrives at 25 ms with it, and the next request reaches the
    leader at 30 ms, when it waits again (nothing new) up to wait_max."""
    a, r, q, carried, _ = _run(_Pair(), [0.020], [100], 0.6)
    assert a[:2].tolist() == pytest.approx([0.005, 0.030])
    assert r[:2].tolist() == pytest.approx([0.020, 0.530])
    assert q[:2].tolist() == pytest.approx([0.025, 0.535])
    assert carried.tolist() == [0]


def test_a_fetch_that_finds_data_answers_at_once_with_all_of_it():
    """Appends at 1 ms and 3 ms are at the leader when the first request arrives (5 ms):
    it answers at once with both."""
    a, r, q, carried, billed = _run(_Pair(), [0.001, 0.003], [100, 50], 0.02)
    assert (a[0], r[0]) == (pytest.approx(0.005), pytest.approx(0.005))
    assert carried.tolist() == [0, 0]
    assert billed[("a", "b", "replicate")] >= 150


def test_a_long_poll_gives_up_after_wait_max():
    a, r, _q, carried, _ = _run(_Pair(wait_max=0.1), [], [], 0.3)
    assert r.tolist() == pytest.approx([a_ + 0.1 for a_ in a.tolist()])
    assert math.isclose(a[1] - a[0], 0.110)
    assert carried.tolist() == []


def test_a_response_that_would_pass_the_fetch_budget_refuses_the_window():
    """Budget 150 bytes: rows of 100 and 80 bytes appended before the first request
    arrives would make a response of 180, filled part of a row at a time in the fetch
    session's order (Replication._cut): without the pair's session (its items' order,
    tests/test_window_sessions.py) the fast path refuses it; 170 bytes over a 200-byte
    budget go."""
    with pytest.raises(WindowRefused, match="replica.fetch.response.max.bytes"):
        _run(_Pair(budget=150), [0.001, 0.002], [100, 80], 0.05, items=2)
    _a, _r, _q, carried, _ = _run(_Pair(budget=200), [0.001, 0.002], [100, 70], 0.05,
                                  items=2)
    assert carried.tolist() == [0, 0]


def test_a_response_larger_than_the_tcp_window_waits_a_round_trip_per_window():
    _a, r, q, _c, _ = _run(_Pair(window=100), [0.001], [350], 0.02)
    # 350 bytes over a 100-byte window: three windows after the first
    assert q[0] - r[0] > 0.005 + 0.02


def test_a_window_refuses_an_in_flight_window_that_would_bind():
    """A fleet whose unanswered bytes would not leave room for a tick's rows holds
    records back in its cut; the kernel does not model that and says so."""
    _ctx, cluster = started("stretch-3-regions")
    wiring = Wiring.of(cluster)
    wiring.targets[0].window = 1.0
    with pytest.raises(WindowRefused, match="in-flight window"):
        run_window(wiring, T0, T1)


def test_the_kernels_rotation_skips_partitions_as_the_fleets_does():
    """A skipped partition's turn goes to the next one not skipped, going round, and
    the rotation's index moves by one per row (Rotation.choose)."""
    from geosim.clients.partitioner import Rotation
    from geosim.kafka.window.sends import _free_at_or_after

    rng = np.random.default_rng(7)
    for _ in range(50):
        n = int(rng.integers(1, 12))
        partitions = [int(p) for p in rng.permutation(40)[:n]]
        skip = frozenset(p for p in partitions if rng.random() < 0.4)
        if len(skip) == n:
            continue
        rotation = Rotation(0)
        start = int(rng.integers(0, 3 * n))
        rotation.move(0, start)
        theirs = [rotation.choose(0, partitions, set(skip)) for _ in range(3 * n)]
        index = _free_at_or_after(partitions, skip)[(start + np.arange(3 * n)) % n]
        assert [partitions[i] for i in index] == theirs


def test_a_tick_with_a_partition_twice_is_a_request_from_each_repeat_on():
    """ProducerFleet.drain starts a new request at a row whose partition the request
    already holds; with skipped partitions a tick's rows may repeat one, in a row or,
    where the rotation comes round, apart ([11, 12, 11] for partitions [10, 11, 12]
    with 10 skipped, from index 1)."""
    from geosim.kafka.window.sends import _free_at_or_after, _request_starts

    rng = np.random.default_rng(11)
    for _ in range(300):
        n = int(rng.integers(1, 8))
        partitions = list(range(10, 10 + n))
        skip = frozenset(p for p in partitions if rng.random() < 0.4)
        if len(skip) == n:
            continue
        counts = rng.integers(0, n + 1, size=int(rng.integers(1, 5)))
        rows = int(counts.sum())
        if not rows:
            continue
        tick_of_row = np.repeat(np.arange(len(counts)), counts)
        start = int(rng.integers(0, n))
        index = _free_at_or_after(partitions, skip)[(start + np.arange(rows)) % n]
        partition = np.array(partitions)[index]
        expected, seen = [], set()
        for i in range(rows):
            first = i == 0 or tick_of_row[i] != tick_of_row[i - 1]
            if first or int(partition[i]) in seen:
                seen = set()
            expected.append(first or not seen)
            seen.add(int(partition[i]))
        assert _request_starts(partition, tick_of_row, index).tolist() == expected
    index = _free_at_or_after([10, 11, 12], frozenset({10}))[np.array([1, 2, 0])]
    assert np.array([10, 11, 12])[index].tolist() == [11, 12, 11]
    assert _request_starts(np.array([11, 12, 11]), np.zeros(3, dtype=np.int64),
                           index).tolist() == [True, False, True]
