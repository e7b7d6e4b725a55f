"""Kafka requests through the network seam (issue 14, item 1): produce requests and
their answers, replica fetches and the other traffic of a link share its delays,
losses and capacity, and a scenario-level interconnect caps several region pairs at once.

Each test runs ``scenarios/stretch-3-regions.yaml`` (one zone per region, RF 3 over the
three regions, ``acks=all``, ``min.insync.replicas=2``) on a short timeline.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

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
    import pytest

    from geosim.scenario.errors import ScenarioError
    with pytest.raises(ScenarioError) as err:
        load("topology.interconnects=[{name: g, bandwidth: 1e9, between: [[us-west1, us-east9]]}]")
    assert "topology.interconnects[0].between[0]" in str(err.value)
    assert "\n" not in str(err.value)
    with pytest.raises(ScenarioError) as err:
        load("topology.interconnects=[{name: g, bandwidth: 1e9, between: [[us-west1, us-west2]]},"
             " {name: h, bandwidth: 1e9, between: [[us-west2, us-west1]]}]")
    assert "already carried by interconnect g" in str(err.value)
