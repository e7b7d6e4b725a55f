"""Kafka requests through the network seam (issue 14, item 1): produce requests and
their answers, replica fetches and the other traffic of a link share its delays,
losses and capacity, and a scenario-level interconnect caps several region pairs at once.

Each test runs ``scenarios/stretch-3-regions.yaml`` (one zone per region, RF 3 over the
three regions, ``acks=all``, ``min.insync.replicas=2``) on a short timeline.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from geosim.core.context import call_later
from geosim.core.events import PartitionChanged, ProduceAcked, ProduceRetried
from geosim.kafka.produce import NEVER_ARRIVED
from geosim.runner import build, run
from geosim.scenario.loader import load_scenario
from geosim.world.faults import FaultInjector

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "stretch-3-regions.yaml"
SHORT = ["simulation.duration=40s", "simulation.warmup=5s", "simulation.drain=10s"]
W1, W2 = "us-west1", "us-west2"


def load(*overrides: str):
    return load_scenario(SCENARIO, overrides=[*SHORT, *overrides])


def trace(sc, kinds):
    ctx, world, strategy = build(sc, sc.simulation.seed)
    events = []
    for kind in kinds:
        ctx.recorder.subscribe(kind, events.append)
    strategy.start()
    FaultInjector(world, strategy).start()
    ctx.env.run(until=sc.simulation.end)
    return events, strategy


def brownout(**fields) -> str:
    body = ", ".join(f"{k}: {v}" for k, v in fields.items())
    return f"faults=[{{kind: brownout, between: [{W1}, {W2}], {body}}}]"


def publish_p50_crossing(sc, since: float, until: float) -> float:
    """Median publish latency of rows acked in [since, until) in partitions led in
    us-west1 or us-west2 (their followers fetch across the us-west1 - us-west2 link)."""
    events, strategy = trace(sc, [ProduceAcked])
    crossing = {p.id for p in strategy.parts
                if strategy.brokers[p.leader].region in (W1, W2)}
    latencies = [row.acked_at - 0.5 * (row.send_first + row.send_last)
                 for ev in events for row in ev.rows
                 if since <= ev.t < until and row.partition in crossing]
    assert len(latencies) > 100
    return float(np.median(latencies))


def test_a_brownout_delays_publishes_whose_isr_crosses_it_by_twice_its_extra_latency():
    extra = 0.05
    base = publish_p50_crossing(load("faults=[]"), 10.0, 40.0)
    slow = publish_p50_crossing(load(brownout(extra_latency=f"{int(extra * 1000)}ms",
                                              at="0s", duration="1000s")), 10.0, 40.0)
    # the follower across the link hears of new data one trip late and reports it one
    # trip later: the high watermark, so the ack, moves at least 2 x extra later
    assert slow - base >= 2 * extra, (base, slow)


def test_loss_on_a_link_causes_retries_but_no_duplicates_with_idempotence():
    sc = load(brownout(loss=0.3, at="10s", duration="15s"))
    events, _ = trace(sc, [ProduceRetried])
    assert any(row for ev in events for row in ev.rows)
    # requests lost on the way fail at request.timeout.ms and are sent again
    assert any(ev.reason == NEVER_ARRIVED for ev in events)
    summary = run(sc).summary
    assert summary["checks"]["duplicates"] == 0
    assert summary["checks"]["duplicate_writes"] == 0
    assert summary["loss"]["lost_records"] == 0


def test_a_bandwidth_cap_below_the_replication_rate_shrinks_the_isr_after_the_lag_limit():
    # 50 kB/s across us-west1 - us-west2 from t=10s, far below what the followers there
    # must copy (about a third of 5 MB/s each way): they fall behind and leave the ISR
    # once replica.lag.time.max.ms (30 s, Kafka's default) has passed.
    sc = load(brownout(bandwidth=50000, at="10s", duration="1000s"),
              "simulation.duration=70s")
    events, strategy = trace(sc, [PartitionChanged])
    shrinks = [ev for ev in events if ev.reason == "isr shrink"]
    assert shrinks
    assert min(ev.t for ev in shrinks) >= 10 + 30
    led = {p.id: strategy.brokers[p.leader].region for p in strategy.parts}
    assert {led[ev.partition] for ev in shrinks} <= {W1, W2}


def interconnect(bandwidth: float) -> str:
    return (f"topology.interconnects=[{{name: gateway, bandwidth: {bandwidth}, "
            "between: [[us-west1, us-west2], [us-west1, us-west3]]}]")


def test_an_interconnect_counts_exactly_the_bytes_of_the_pairs_it_carries():
    result = run(load(interconnect(1e9), "faults=[]"))
    gate = result.summary["interconnects"]["gateway"]
    pairs = result.summary["bytes"]["cross_region"]["by_pair"]

    assert gate["forward"]["bytes"] == pairs["us-west1->us-west2"] + pairs["us-west1->us-west3"]
    assert gate["reverse"]["bytes"] == pairs["us-west2->us-west1"] + pairs["us-west3->us-west1"]
    assert 0 < gate["forward"]["mean_utilisation"] < 0.1
    series = result.report.timeseries
    mine = series[series["region"] == "gateway"]
    assert set(mine["metric"]) == {"utilisation_forward", "utilisation_reverse"}
    forward = mine[mine["metric"] == "utilisation_forward"]["value"].sum()
    assert abs(forward * 1e9 * 1.0 - gate["forward"]["bytes"]) < 1e-6 * gate["forward"]["bytes"]


def test_an_interconnect_below_the_demand_runs_full_and_bounds_the_throughput():
    free = run(load(interconnect(1e9), "faults=[]")).summary
    capped = run(load(interconnect(200000), "faults=[]")).summary
    gate = capped["interconnects"]["gateway"]
    for direction in ("forward", "reverse"):
        assert 0.99 <= gate[direction]["max_utilisation"] <= 1.0 + 1e-9
    # what crosses it (produce, replication, consume) waits: far fewer acks
    assert capped["records"]["acked"] < 0.2 * free["records"]["acked"]


def test_interconnect_errors_are_one_line():
    from geosim.scenario.errors import ScenarioError
    with pytest.raises(ScenarioError) as err:
        load("topology.interconnects=[{name: g, bandwidth: 1e9, between: [[us-west1, us-east9]]}]")
    assert "topology.interconnects[0].between[0]" in str(err.value)
    assert "\n" not in str(err.value)
    with pytest.raises(ScenarioError) as err:
        load("topology.interconnects=[{name: g, bandwidth: 1e9, between: [[us-west1, us-west2]]},"
             " {name: h, bandwidth: 1e9, between: [[us-west2, us-west1]]}]")
    assert "already carried by interconnect g" in str(err.value)


def test_a_fetch_whose_leader_zone_fell_on_the_way_is_retried_at_the_socket_timeout():
    """Mutation round seven (round six's open #24): a fetch request that arrives while
    its leader zone is down gets no answer; the follower sends the next one
    ``replica.socket.timeout.ms`` after the lost one left (the rest of the timeout
    after the trip), not later. With the timeout at 600 ms the trip (about 12 ms
    us-west1 -> us-west2) leaves less than a second of it. Hand-built state: at 10 s,
    us-west2's zone goes down for the network only (its brokers run on) from half way
    through one request's trip from us-west1's followers to 50 ms after its arrival;
    the next request of that fetch loop leaves exactly 0.6 s after the lost one."""
    timeout = 0.6
    sc = load("faults=[]", "strategy.config={min.insync.replicas: 2, "
              f"replica.socket.timeout.ms: {int(timeout * 1000)}}}")
    assert sc is not None
    ctx, _world, strategy = build(sc, sc.simulation.seed)
    cluster = strategy.engine
    env = ctx.env
    net = cluster.replication.net
    fz, lz = f"{W1}-a", f"{W2}-a"
    sent: list[tuple[float, float | None]] = []  # the fetch requests of the (lz, fz) loop
    delay = net.delay

    def spy(src, dst, size, purpose, **kw):
        d = delay(src, dst, size, purpose, **kw)
        caller = sys._getframe(1)
        if caller.f_code.co_name == "_fetch_loop" and src == fz and dst == lz \
                and caller.f_locals["pair"].leader_zone == lz:
            sent.append((env.now, d))  # a request (a response of the (fz, lz) loop
        return d                       # goes the same way, from its leader zone)

    net.delay = spy  # type: ignore[method-assign]
    strategy.start()
    env.run(until=10.0)
    before = len(sent)
    while len(sent) == before:
        env.step()
    t0, d = sent[-1]
    assert d is not None and 0 < d < 0.05

    def up() -> None:
        net.set_down(lz, False)
        cluster.connectivity_changed()

    call_later(env, d / 2, net.set_down, lz)
    call_later(env, d + 0.05, up)
    env.run(until=t0 + 2.0)
    assert sent[before][0] == t0
    # the next request leaves once the rest of the timeout after the trip has passed
    assert sent[before + 1][0] == pytest.approx(t0 + timeout, abs=1e-9)
    assert sent[before + 1][1] is not None
