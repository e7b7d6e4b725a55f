"""The Kafka engine's event estimate (geosim.kafka.estimate), term by term, on small
hand-built engines: every count, rate, duration and events-per-cycle worked by hand.

The estimate reads only a built engine's structures, so a duck-typed stand-in (brokers'
zones, partitions' leaders, producing fleets, fetch pairs, flows, groups and a table of
round trips) is enough; whole-scenario agreement is in ``tests/test_event_estimate.py``.
"""

from __future__ import annotations

from types import SimpleNamespace as NS

import pytest

from geosim.kafka.estimate import engine_estimate

AI = 0.01      # the send tick (append interval): 100 ticks a second
WAIT = 0.5     # replica.fetch.wait.max.ms
DURATION, END = 10.0, 15.0   # 10 s of production, 5 s of drain


class Net:
    """Symmetric median round trips between zones."""

    def __init__(self, rtts: dict[tuple[str, str], float]) -> None:
        self.rtts = {frozenset(k): v for k, v in rtts.items()}

    def rtt_estimate(self, a: str, b: str) -> float:
        return self.rtts[frozenset((a, b))]


def config(heartbeat: float = 2.0, lag: float = 30.0) -> NS:
    return NS(replica_fetch_wait_max=WAIT, broker_heartbeat_interval=heartbeat,
              replica_lag_time_max=lag)


def cluster(zones: list[str], leaders: list[int | None], fleets: list[float],
            pairs: dict[tuple[str, str], list[int]] | None = None, storage: object = None,
            **cfg: float) -> NS:
    """A cluster with one broker per entry of ``zones``, partitions led by ``leaders``
    (broker indices, None for leaderless), fleets producing ``fleets`` records/s."""
    return NS(send_tick=AI, storage=storage,
              brokers=[NS(zone=z) for z in zones],
              parts=[NS(leader=b) for b in leaders],
              producing=[NS(records_per_s=r) for r in fleets],
              replication=NS(pairs={k: NS(items=v) for k, v in (pairs or {}).items()}),
              config=config(**cfg))


def world() -> NS:
    return NS(scenario=NS(simulation=NS(duration=DURATION, end=END)))


def single(c: NS, rtts: dict[tuple[str, str], float] | None = None,
           groups: list[tuple[int, float]] = ()) -> NS:
    """A one-cluster engine: the cluster itself, with the world, network and groups."""
    c.world, c.net = world(), Net(rtts or {})
    c.groups = [NS(members=[object()] * n, settings=NS(auto_commit_interval=i))
                for n, i in groups]
    return c


def terms(engine: NS) -> dict[str, tuple[float, float, float, float]]:
    """Each term as (count, cycles per second, seconds, events per cycle)."""
    return {t.what: (t.count, t.per_second, t.seconds, t.per_cycle)
            for t in engine_estimate(engine).terms}


def assert_term(found: tuple[float, ...], expected: tuple[float, ...]) -> None:
    assert found == pytest.approx(expected, rel=1e-12)


SEND = "send clocks (clusters)"
REQUESTS = "(producer fleet, leader zone) request streams"
FETCH = "fetch loops (leader zone, follower zone)"
IDLE_FETCH = "idle fetch loops (long polls)"
FLOWS = "replication flows"
IDLE_FLOWS = "idle replication flows"
BEATS = "broker heartbeats"
PERIODIC = "periodic tasks (housekeeping, ISR checks, commits)"


def test_a_bare_cluster_has_only_its_clocks_heartbeats_and_periodic_tasks() -> None:
    """No producers, no fetch pairs, no groups. One send clock at 1/ai = 100/s over the
    15 s of the run; 2 brokers beating every 2 s (2 events); periodic: housekeeping and
    spare 2/s, plus the ISR check every 30/2 s counted twice, 2/15 /s."""
    found = terms(single(cluster(["a", "b"], [0, 1], [])))
    assert list(found) == [SEND, BEATS, PERIODIC]
    assert_term(found[SEND], (1, 100, 15, 1))
    assert_term(found[BEATS], (2, 0.5, 15, 2))
    assert_term(found[PERIODIC], (1, 2 + 2 / 15, 15, 1))


@pytest.mark.parametrize(("storage", "per_request"), [(None, 2), (object(), 3)],
                         ids=["local-log", "shared-storage"])
def test_request_streams_per_fleet_and_leader_zone(storage, per_request) -> None:
    """Leaders: brokers 0 and 1 in zone a, 2 in b, one leaderless partition (not
    counted): shares 2/3 and 1/3. A 30 records/s fleet sends min(100, 20) and
    min(100, 10); a 1000 records/s fleet is capped at one request a tick, 100 and 100.
    4 streams, (20 + 10 + 100 + 100) / 4 = 57.5 a second over the 10 s of production;
    a request is 2 events, 3 when the append waits for shared storage."""
    c = cluster(["a", "a", "b"], [0, 1, 2, None], [30, 1000], storage=storage)
    assert_term(terms(single(c))[REQUESTS], (4, 57.5, 10, per_request))


@pytest.mark.parametrize(("rtt", "per_second", "per_cycle", "idle"), [
    (0.04, 25, 2, 1 / 0.54),        # round trip longer than the tick: 1/rtt, 2 events
    (0.01, 100, 2, 1 / 0.51),       # equal to the tick: still a round trip (>=)
    (0.002, 100, 3, 1 / 0.502),     # shorter: one long poll per tick, 3 events
    (0.0, 100, 3, 1 / (0.5 + 1e-6)),  # no delay at all: the round trip taken as 1 us
], ids=["rtt-over-tick", "rtt-at-tick", "rtt-under-tick", "rtt-zero"])
def test_one_fetch_loop_cycles_per_round_trip_or_per_tick(rtt, per_second, per_cycle,
                                                          idle) -> None:
    """One (leader zone a, follower zone b) pair with a replica: busy for the 10 s of
    production, then in the 5 s drain one long poll per round trip plus 0.5 s."""
    c = cluster(["a", "b"], [0], [], pairs={("a", "b"): [0]})
    found = terms(single(c, {("a", "b"): rtt}))
    assert_term(found[FETCH], (1, per_second, 10, per_cycle))
    assert_term(found[IDLE_FETCH], (1, idle, 5, 4))


def test_fetch_loops_average_their_rates_and_weight_events_by_cycles() -> None:
    """Pairs a->b (rtt 40 ms: 25 cycles/s of 2 events) and a->c (2 ms: 100 cycles/s of
    3 events); b->c holds no replica and is no loop. 2 loops at (25 + 100) / 2 = 62.5
    cycles/s, (50 + 300) / 125 = 2.8 events a cycle; idle (1/0.54 + 1/0.502) / 2."""
    c = cluster(["a", "b", "c"], [0], [],
                pairs={("a", "b"): [0], ("a", "c"): [0], ("b", "c"): []})
    found = terms(single(c, {("a", "b"): 0.04, ("a", "c"): 0.002, ("b", "c"): 0.03}))
    assert_term(found[FETCH], (2, 62.5, 10, 2.8))
    assert_term(found[IDLE_FETCH], (2, (1 / 0.54 + 1 / 0.502) / 2, 5, 4))


def test_commit_loops_of_groups_add_a_timer_and_a_commit_per_member() -> None:
    """A 3-member group committing every 5 s: (1 + 3) / 5 = 0.8 a second; an empty group
    every 1 s: its timer alone, 1 a second. With the cluster's 2 + 2/15."""
    engine = single(cluster(["a"], [0], []), groups=[(3, 5.0), (0, 1.0)])
    assert_term(terms(engine)[PERIODIC], (1, 2 + 2 / 15 + 0.8 + 1, 15, 1))


def cross() -> NS:
    """Two clusters and two flows. east: one broker in e1 leading one partition, a 50
    records/s fleet, shared storage; west: brokers in w1 and w2, no producers, ISR check
    every 20/2 s, heartbeats every 4 s (the estimate takes the first cluster's). No fetch
    pairs. Flow into w1 from east's zones e1 (60 ms) and e2 (80 ms, the farthest); flow
    into x1 from west's w1 (4 ms, the farthest, under the tick) and w2 (3 ms)."""
    east = cluster(["e1", "e2"], [0], [50], storage=object())
    west = cluster(["w1", "w2"], [0, 1], [], heartbeat=4.0, lag=20.0)
    east.zones, west.zones = ["e1", "e2"], ["w1", "w2"]
    flows = [NS(zone="w1", source=east, cfg=NS(fetch_max_wait=0.42)),
             NS(zone="x1", source=west, cfg=NS(fetch_max_wait=0.496))]
    net = Net({("e1", "w1"): 0.06, ("e2", "w1"): 0.08, ("x1", "w1"): 0.004,
               ("x1", "w2"): 0.003})
    return NS(world=world(), net=net, clusters={"east": east, "west": west},
              flows=flows, groups=[])


def test_a_cross_cluster_engine_counts_every_cluster() -> None:
    """Two send clocks; requests only from east (1 stream at min(100, 50), 3 events);
    4 brokers at east's 2 s; periodic 2 x 2 housekeeping, ISR checks 2/15 (east, every
    15 s) and 2/10 (west)."""
    found = terms(cross())
    assert list(found) == [SEND, REQUESTS, FLOWS, IDLE_FLOWS, BEATS, PERIODIC]
    assert_term(found[SEND], (2, 100, 15, 1))
    assert_term(found[REQUESTS], (1, 50, 10, 3))
    assert_term(found[BEATS], (4, 0.5, 15, 2))
    assert_term(found[PERIODIC], (1, 4 + 2 / 15 + 2 / 10, 15, 1))


def test_flows_cycle_per_round_trip_to_their_farthest_source_zone_or_per_tick() -> None:
    """Into w1: 1 / max(80 ms, 10 ms) = 12.5; into x1: 1 / max(4 ms, 10 ms) = 100; mean
    56.25 cycles/s of 4 events over the production. Drain: 1 / (0.08 + 0.42) = 2 and
    1 / (0.004 + 0.496) = 2, mean 2 cycles/s of 3 events over 5 s."""
    found = terms(cross())
    assert_term(found[FLOWS], (2, 56.25, 10, 4))
    assert_term(found[IDLE_FLOWS], (2, 2, 5, 3))
