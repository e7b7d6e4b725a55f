"""Replication in a Kafka cluster (geosim.kafka.replication), by hand: follower fetch
loops, the caught-up rule, ISR shrink and expansion, the high watermark and
min.insync.replicas.

Most tests use ``scenarios/stretch-3-regions.yaml`` with one broker per region (broker 0
in us-west1-a, 1 in us-west2-a, 2 in us-west3-a; partition k's replicas are a rotation
of them, its leader broker ``k % 3``) and constant round trips: us-west1 - us-west2
30 ms, us-west1 - us-west3 60 ms, us-west2 - us-west3 40 ms, so every one-way trip is
half of that, whatever the size (the links have no bandwidth, and no response here
passes the 4 MiB TCP window unless a test says so). The cluster is built, not
started; a test starts what it exercises (the fetch loops, the append events) with the
producers stopped, and writes rows itself through the mirror path
(``ProducePath.append_mirrored``), whose answers come back to a sink of the test with no
network hop: an ``acks=all`` row is acknowledged the instant the HW passes it.
"""

from __future__ import annotations

import pytest
from test_kafka_cluster import cluster_of

from geosim.core.events import Row
from geosim.kafka.replication import Replication
from geosim.kafka.wire import CONTROLLER_RECORD_BYTES, FETCH_PARTITION_BYTES, FETCH_REQUEST_BYTES

W1, W2, W3 = "us-west1-a", "us-west2-a", "us-west3-a"
LINKS = ("topology.links=[{between: [us-west1, us-west2], rtt: {dist: constant, value: 30ms}},"
         "{between: [us-west1, us-west3], rtt: {dist: constant, value: 60ms}},"
         "{between: [us-west2, us-west3], rtt: {dist: constant, value: 40ms}}]")
ONE_EACH = "strategy.brokers={us-west1: 1, us-west2: 1, us-west3: 1}"


class Sink:
    """Where the cluster answers the test's rows (a mirror flow's sink)."""

    def __init__(self, env):
        self.env = env
        self.answers: list[tuple] = []

    def acked(self, row: Row) -> None:
        self.answers.append(("acked", self.env.now, row.offset))

    def failed(self, row: Row, reason: str) -> None:
        self.answers.append(("failed", self.env.now, row.offset, reason))


def small(*overrides: str, scenario: str = "stretch-3-regions", brokers: str = ONE_EACH,
          events: list | None = None):
    """The cluster (see the module docstring), its producers stopped, its append events
    armed (``ProducePath.start``), a sink for the test's rows."""
    c = cluster_of(scenario, LINKS, brokers, *overrides, events=events)
    for fleet in c.fleets:
        fleet.crash()
    c.produce.start()
    sink = Sink(c.env)
    c.mirror_sinks.append(sink)
    return c, sink


def write(c, pid: int, records: int, nbytes: int) -> Row:
    """``records`` records of ``nbytes`` bytes appended to partition ``pid`` now."""
    row = Row(0, pid, 0, records, nbytes, nbytes, c.env.now, c.env.now, mirror=0)
    assert c.produce.append_mirrored([row]) == []
    return row


def readable_log(monkeypatch, c) -> list[tuple[float, int, int, int]]:
    """Every (time, partition, replica, offset it serves up to) the cluster reports as
    readable further (a leader's HW advance, a follower learning a higher HW)."""
    seen: list[tuple[float, int, int, int]] = []
    original = c.reads.readable_changed

    def record(p, r):
        seen.append((c.env.now, p.id, r, p.readable(r)))
        original(p, r)

    monkeypatch.setattr(c.reads, "readable_changed", record)
    return seen


def held_commits(monkeypatch, c) -> list[tuple[str, int, object]]:
    """The controller commits the cluster asks for, held: (zone, bytes, done); the test
    answers them by calling ``done(ok)``."""
    commits: list[tuple[str, int, object]] = []
    monkeypatch.setattr(c.metadata, "commit",
                        lambda zone, size, done: commits.append((zone, size, done)))
    return commits


def approx(rows):
    """Rows of times and values, the times computed in floating point."""
    return [pytest.approx(r) for r in rows]


# ================================================================== fetch round trips

def test_an_append_is_committed_when_the_farthest_isr_member_reports_it(monkeypatch):
    """p0 is led in us-west1 (broker 0); its followers are broker 1 (us-west2, 15 ms
    away) and broker 2 (us-west3, 30 ms away). Ten records appended at 0:
    broker 1's fetch arrives at 0.015 and brings them back at 0.030; its next fetch
    reports LEO 10 at 0.045. Broker 2's arrives at 0.030, is back at 0.060, reports at
    0.090: the HW (the smallest LEO in the ISR) becomes 10 at 0.090, and the row is
    acknowledged then. Each follower's fetch after its report finds no data and waits
    replica.fetch.wait.max.ms at the leader: broker 1 learns the HW at
    0.045 + 0.5 + 0.015 = 0.56, broker 2 at 0.090 + 0.5 + 0.030 = 0.62."""
    c, sink = small()
    seen = readable_log(monkeypatch, c)
    c.replication.start()
    write(c, 0, 10, 1000)
    c.env.run(until=0.7)
    assert seen == approx([(0.090, 0, 0, 10), (0.56, 0, 1, 10), (0.62, 0, 2, 10)])
    assert sink.answers == [("acked", pytest.approx(0.090), 0)]
    p = c.parts[0]
    assert p.leo == {0: 10, 1: 10, 2: 10} and p.view == {1: 10, 2: 10}
    # caught up at the last fetch that reached the leader's LEO: each follower's third,
    # sent when the HW came: broker 1's arrives at 0.56 + 0.015, broker 2's at 0.62 + 0.030
    c.replication.settle()
    assert p.caught_up == pytest.approx({0: 0.0, 1: 0.575, 2: 0.65})


def test_fetch_requests_and_responses_weigh_their_headers_partitions_and_data():
    """Bytes on the wire of the fetch loop of us-west2-a from us-west1-a (2 items: p0
    and p3, both led by broker 0, both followed by broker 1): each request is 64 + 32 x 2
    bytes; the first response carries p0's 1000 bytes plus its 64-byte header, the one
    after the long poll only a header. Requests leave at 0, 0.030 and 0.560 (see the
    test above): 3 x 128 = 384 bytes by 0.7 s, and responses 1064 + 64 = 1128. The
    other direction (us-west1-a fetching p1 and p4 from broker 1) adds its own request
    at 0 and after its first long poll (at 0.515 + 0.015 = 0.53) to us-west2-a, and one
    empty response at 0.515 to us-west1-a."""
    c, _sink = small()
    c.replication.start()
    write(c, 0, 10, 1000)
    c.env.run(until=0.7)
    request = FETCH_REQUEST_BYTES + FETCH_PARTITION_BYTES * 2
    assert request == 128
    sent = c.net.bytes
    assert sent[(W2, W1, "replicate")] == 3 * request + FETCH_REQUEST_BYTES
    assert sent[(W1, W2, "replicate")] == 1000 + FETCH_REQUEST_BYTES + FETCH_REQUEST_BYTES \
        + 2 * request


def test_a_long_poll_ends_at_the_next_append_or_at_replica_fetch_wait_max(monkeypatch):
    """Only us-west2-a's follower fetches and p0's ISR is {0, 1} (broker 2 left it).
    Its first fetch arrives at 0.015 and finds nothing: it waits at the leader (until
    0.515 at most). Ten records are appended at 0.1: the fetch answers at once and the
    data reach us-west2-a at 0.115; the next fetch reports them at 0.130, the HW
    becomes 10 and the row is acknowledged. That fetch finds nothing new and waits the
    whole 0.5 s (the poll timer set for the first poll, 0.515, waits again until this
    poll's deadline 0.630): broker 1 learns the HW at 0.645."""
    c, sink = small()
    seen = readable_log(monkeypatch, c)
    c.parts[0].isr = {0, 1}
    pair = c.replication.pairs[(W1, W2)]
    c.env.process(c.replication._fetch_loop(pair))

    def later():
        yield c.env.timeout(0.1)
        write(c, 0, 10, 1000)

    c.env.process(later())
    c.env.run(until=0.7)
    assert seen == approx([(0.130, 0, 0, 10), (0.645, 0, 1, 10)])
    assert sink.answers == [("acked", pytest.approx(0.130), 0)]


def test_a_long_poll_ends_only_at_an_append_to_one_of_its_own_partitions():
    """Kafka's DelayedFetch completes when the partitions of its own request have new
    data (``fetch.min.bytes`` = 1), not at any append of the leader's broker. RF 2: us-
    west1-a leads p0 (follower in us-west2-a) and p3 (follower in us-west3-a); only
    us-west2-a's fetch loop runs. Its first fetch arrives at 0.015 and waits. p3's
    append at 0.1 leaves it waiting; p0's at 0.12 ends it, and p0's data reach
    us-west2-a at 0.135 (an end at 0.1 would have sent an empty response, and p0 would
    have waited for the next request, at 0.130, reaching us-west2-a at 0.145)."""
    c, _sink = small("strategy.replication_factor=2",
                     "strategy.config={min.insync.replicas: 1}")
    pair = c.replication.pairs[(W1, W2)]
    assert [(p.id, r) for p, r in pair.items] == [(0, 1)]
    assert c.parts[3].replicas == [0, 2]
    c.env.process(c.replication._fetch_loop(pair))
    arrivals: list[float] = []
    original = c.replication._on_fetch_request

    def counted(request, fetch_pair):
        arrivals.append(c.env.now)
        return original(request, fetch_pair)
    c.replication._on_fetch_request = counted
    c.env.run(until=0.1)
    write(c, 3, 10, 1000)
    c.env.run(until=0.12)
    write(c, 0, 10, 1000)
    c.env.run(until=0.1349)
    assert c.parts[0].leo[1] == 0
    c.env.run(until=0.1351)
    assert c.parts[0].leo[1] == 10
    assert arrivals == [pytest.approx(0.015)]


def test_a_response_stops_at_replica_fetch_response_max_bytes_per_broker_pair():
    """Two brokers per zone: the fetch loop of us-west2-a from us-west1-a carries p0
    (leader 0, follower 2) and p3 (leader 1, follower 3), 2 broker pairs, so a
    response holds 2 x 1500 = 3000 bytes, and at most 1500 of one partition (it is
    fetched over one of the connections). p0's 1500 bytes and p3's 1500 fill it
    exactly: both reach us-west2-a at 0.030. Then p0 gets a 4000-byte row and p3 1000
    bytes: the leader fills the response in the fetch session's order (p0 first), p0
    takes 1500 bytes of its row (its follower holds them, its LEO still 15) and p3 its
    1000; each later response brings 1500 more of p0's row, the last the rest. Before
    the per-partition bound, p0 took 3000 bytes and p3 waited a round trip."""
    c, _sink = small("strategy.config={min.insync.replicas: 2, "
                     "replica.fetch.response.max.bytes: 1500}",
                     brokers="strategy.brokers={us-west1: 2, us-west2: 2, us-west3: 2}")
    pair = c.replication.pairs[(W1, W2)]
    assert [(p.id, r) for p, r in pair.items] == [(0, 2), (3, 3)] and pair.connections == 2
    p0, p3 = c.parts[0], c.parts[3]
    write(c, 0, 15, 1500)
    write(c, 3, 15, 1500)
    c.env.process(c.replication._fetch_loop(pair))
    c.env.run(until=0.031)
    assert (p0.leo[2], p3.leo[3]) == (15, 15)
    # the second request (sent at 0.030) reports both; nothing new: it long-polls
    c.env.run(until=0.1)
    write(c, 0, 40, 4000)
    write(c, 3, 10, 1000)
    # the append ends the poll at 0.1: 1500 of p0's 4000 bytes and p3's 1000 reach
    # us-west2-a at 0.115; the next requests arrive at 0.130 and 0.160
    c.env.run(until=0.116)
    assert (p0.leo[2], p3.leo[3]) == (15, 25)
    assert p0.held_partial(2, 15) == 1500
    c.env.run(until=0.146)
    assert p0.leo[2] == 15 and p0.held_partial(2, 15) == 3000
    c.env.run(until=0.176)
    assert p0.leo[2] == 55
    assert p0.held_partial(2, 55) == 0


def test_a_response_fills_the_pairs_budget_in_the_sessions_order():
    """One broker per zone: the loop of us-west2-a from us-west1-a carries p0 and p3
    over one connection, 1500 bytes a response. p0's 1000 bytes and p3's 1000 pass it:
    p0, first in the session, takes its 1000 and p3 the budget's last 500 (a part of its
    row, its LEO still 0); the next response brings p3's other 500."""
    c, _sink = small("strategy.config={min.insync.replicas: 2, "
                     "replica.fetch.response.max.bytes: 1500}")
    pair = c.replication.pairs[(W1, W2)]
    assert pair.connections == 1 and [p.id for p, _r in pair.items] == [0, 3]
    (p0, r0), (p3, r3) = pair.items
    write(c, 0, 10, 1000)
    write(c, 3, 10, 1000)
    c.env.process(c.replication._fetch_loop(pair))
    c.env.run(until=0.031)
    assert (p0.leo[r0], p3.leo[r3]) == (10, 0)
    assert p3.held_partial(r3, 0) == 500
    c.env.run(until=0.061)
    assert p3.leo[r3] == 10 and p3.held_partial(r3, 10) == 0


def test_a_response_beyond_the_tcp_windows_waits_a_round_trip_per_extra_window(monkeypatch):
    """9 MiB for p0 through one connection of a 4 MiB window: ceil(9 / 4) = 3 windows,
    the first riding the response's own trip and each other one waiting a whole round
    trip (30 ms; the link has no bandwidth): broker 1's fetch arrives at 0.015, the data
    at 0.015 + 0.015 + 2 x 0.030 = 0.090; its next fetch reports them at 0.105, the HW
    moves then (p0's ISR is {0, 1})."""
    c, sink = small()
    seen = readable_log(monkeypatch, c)
    c.parts[0].isr = {0, 1}
    write(c, 0, 9 * 1024, 9 * 1024 * 1024)
    c.env.process(c.replication._fetch_loop(c.replication.pairs[(W1, W2)]))
    c.env.run(until=0.2)
    assert seen[0] == pytest.approx((0.105, 0, 0, 9 * 1024))
    assert sink.answers == [("acked", pytest.approx(0.105), 0)]


def test_cross_region_replication_bytes_count_by_topic():
    """stretch-topics: payments are p0-p5, logs p6-p11. p0 (payments, led in us-west1)
    and p6 (logs) each send their data once to each follower region: 1000 bytes to
    us-west2 and 1000 to us-west3 under payments, 300 + 300 under logs."""
    c, _sink = small(scenario="stretch-topics")
    assert c.parts[6].leader == 0
    c.replication.start()
    write(c, 0, 10, 1000)
    write(c, 6, 3, 300)
    c.env.run(until=0.7)
    counters = c.counters()
    assert counters["topic_replication_cross_region_bytes.payments"] == 2 * 1000
    assert counters["topic_replication_cross_region_bytes.logs"] == 2 * 300


# ================================================================ the bulk handling

def test_caught_up_items_turn_quiet_and_an_append_heats_them_again():
    """After the first round trips of an idle cluster every item is a caught-up ISR
    member that knows the HW: quiet (the pair's hot set empties). An append to p0
    heats p0's items in both of its follower zones, and no other."""
    c, _sink = small()
    c.replication.start()
    c.env.run(until=0.1)
    pairs = c.replication.pairs
    assert {key: pair.hot for key, pair in pairs.items()} == {key: set() for key in pairs}
    write(c, 0, 10, 1000)
    assert {key: pair.hot for key, pair in pairs.items() if pair.hot} == {
        (W1, W2): {0}, (W1, W3): {0}}


def test_the_detailed_reference_keeps_every_item_hot(monkeypatch):
    """``Replication.detailed`` handles every item of every request: none turns quiet
    (each pair of the one-broker-per-zone cluster has 2 items)."""
    monkeypatch.setattr(Replication, "detailed", True)
    c, _sink = small()
    c.replication.start()
    c.env.run(until=0.1)
    assert all(pair.hot == {0, 1} for pair in c.replication.pairs.values())


def test_a_disturbance_heats_every_item_and_writes_the_quiet_ones_times_first():
    """Idle, every item is quiet after the first round trips; the last request of the
    us-west2-a fetch loop from us-west1-a arrived at 0.015 + 0.5 + 0.015 + 0.015 = 0.545
    (its first fetch found nothing and waited 0.5 s). A disturbance (an ISR, leader or
    wiring change) turns every item hot, its caught-up and last-fetch times written as
    of that arrival."""
    c, _sink = small()
    c.replication.start()
    c.env.run(until=0.6)
    pair = c.replication.pairs[(W1, W2)]
    assert pair.hot == set() and pair.quiet_arrival == pytest.approx(0.545)
    p0, p3 = c.parts[0], c.parts[3]
    p0.caught_up[1] = p3.caught_up[1] = -1.0     # stale values the disturbance rewrites
    generation = c.replication.generation
    c.replication.disturb()
    assert c.replication.generation == generation + 1
    assert all(pair.hot == {0, 1} for pair in c.replication.pairs.values())
    assert (p0.caught_up[1], p3.caught_up[1]) == pytest.approx((0.545, 0.545))
    assert (p0.last_fetch_time[1], p3.last_fetch_time[1]) == pytest.approx((0.545, 0.545))


# ===================================== the caught-up rule and the high watermark

def fetch(c, p, r: int, offset: int, at: float) -> bool:
    """Follower ``r``, holding ``p`` up to ``offset``, fetches from there; the fetch
    reaches the leader at ``at`` (handled alone: no fetch pair). Returns whether the
    leader had data for it."""
    c.env.run(until=at)
    p.leo[r] = offset
    return c.replication._on_fetch_request([(0, p, r, offset, p.epoch)], None)


def test_a_follower_is_caught_up_when_it_reaches_the_leaders_leo_now_or_at_its_last_fetch():
    """Kafka's Replica.updateFetchState on p0's follower 1 (the leader's LEO: 10 from
    0.5 s, 15 from 1.5 s)."""
    c, _sink = small()
    p = c.parts[0]
    c.env.run(until=0.5)
    write(c, 0, 10, 1000)
    # behind the leader, and no earlier fetch: not caught up (still the start, 0)
    assert fetch(c, p, 1, 0, at=1.0) is True
    assert (p.caught_up[1], p.last_fetch_leo[1], p.last_fetch_time[1]) == (0.0, 10, 1.0)
    assert p.view[1] == 0
    c.env.run(until=1.5)
    write(c, 0, 5, 500)
    # behind the leader now (15) but at its LEO of the previous fetch (10): caught up
    # as of that fetch, 1.0
    assert fetch(c, p, 1, 10, at=2.0) is True
    assert (p.caught_up[1], p.last_fetch_leo[1], p.last_fetch_time[1]) == (1.0, 15, 2.0)
    # no progress, below the leader's LEO at the previous fetch (15): unchanged
    assert fetch(c, p, 1, 10, at=3.0) is True
    assert (p.caught_up[1], p.last_fetch_time[1]) == (1.0, 3.0)
    # reaching the leader's LEO: caught up now, and nothing for it
    assert fetch(c, p, 1, 15, at=4.0) is False
    assert (p.caught_up[1], p.view[1]) == (4.0, 15)
    # a caught-up ISR member fetching again with nothing new: caught up now
    assert fetch(c, p, 1, 15, at=5.0) is False
    assert (p.caught_up[1], p.last_fetch_leo[1], p.last_fetch_time[1]) == (5.0, 15, 5.0)


def test_a_fetch_of_another_epoch_or_without_a_leader_changes_nothing():
    """A fetch sent under an older leader epoch still tells whether the leader has
    data (p0 holds 10 records, broker 1 none) but updates nothing; with no leader
    there is nothing to tell."""
    c, _sink = small()
    p = c.parts[0]
    write(c, 0, 10, 1000)
    c.env.run(until=1.0)
    # sent under epoch -1: the leader still says it has data, but records nothing
    assert c.replication._on_fetch_request([(0, p, 1, 10, p.epoch - 1)], None) is True
    assert p.view == {} and p.last_fetch_time == {} and p.caught_up[1] == 0.0
    p.leader = None
    assert c.replication._on_fetch_request([(0, p, 1, 0, p.epoch)], None) is False
    assert p.view == {} and p.last_fetch_time == {}


def test_only_an_isr_members_progress_moves_the_hw_to_the_smallest_leo_in_the_isr(monkeypatch):
    """Two rows (offsets 0-10 and 10-15) wait for the HW. Follower 1 at 15 and follower 2
    at 10: the HW is 10, the first row (ending at 10) is acknowledged by broker 0's zone,
    the second waits; follower 2 at 15 acknowledges it."""
    c, _sink = small()
    acks: list = []
    monkeypatch.setattr(c.produce, "ack", lambda zone, rows: acks.append(
        (c.env.now, zone, [r.offset for r in rows])))
    p = c.parts[0]
    write(c, 0, 10, 1000)
    write(c, 0, 5, 500)
    assert fetch(c, p, 1, 15, at=1.0) is False
    assert p.hw == 0 and acks == []           # follower 2 (at 0) holds it
    assert fetch(c, p, 2, 10, at=2.0) is True
    assert p.hw == 10 and acks == [(2.0, W1, [0])]
    assert fetch(c, p, 2, 15, at=3.0) is False
    assert p.hw == 15 and acks == [(2.0, W1, [0]), (3.0, W1, [10])]


@pytest.mark.parametrize("elr", [True, False])
def test_the_hw_moves_only_while_the_isr_has_min_insync_replicas(elr):
    """p0's ISR is {0} (min.insync.replicas 2): the leader's LEO (10) is the smallest in
    the ISR, yet the HW stays, with ELR (KIP-966) and without (Kafka's
    ``Partition.maybeIncrementLeaderHW`` returns while ``isUnderMinIsr``, KAFKA-15583).
    Back at two members it moves."""
    c, _sink = small("strategy.config={min.insync.replicas: 2, "
                     f"eligible.leader.replicas.enable: {str(elr).lower()}}}")
    p = c.parts[0]
    write(c, 0, 10, 1000)
    p.isr = {0}
    c.replication.advance_hw(p)
    assert p.hw == 0
    p.isr = {0, 1}
    p.view[1] = 10
    c.replication.advance_hw(p)
    assert p.hw == 10


# ======================================================================== the ISR

def test_a_follower_rejoins_the_isr_when_its_fetch_reaches_the_hw(monkeypatch):
    """p0's ISR is {0, 1} and its HW 10. Broker 2 fetching from 5 stays out; from 10
    (the HW) it asks to join: one AlterPartition commit of one record from the leader's
    zone. Refused, it stays out and asks again at its next fetch; once committed it is
    in the ISR, caught up as of the commit, counted and announced; a fenced broker does
    not ask."""
    events: list = []
    c, _sink = small(events=events)
    commits = held_commits(monkeypatch, c)
    p = c.parts[0]
    write(c, 0, 10, 1000)
    p.isr = {0, 1}
    fetch(c, p, 1, 10, at=0.5)
    assert p.hw == 10
    fetch(c, p, 2, 5, at=1.0)
    assert commits == []
    fetch(c, p, 2, 10, at=2.0)
    assert [(zone, size) for zone, size, _done in commits] == [(W1, CONTROLLER_RECORD_BYTES)]
    commits[0][2](False)           # refused: it stays out, and its next fetch asks again
    assert p.isr == {0, 1} and c.counters_["isr_change_failures"] == 1
    fetch(c, p, 2, 10, at=2.2)
    assert [(zone, size) for zone, size, _done in commits] == [
        (W1, CONTROLLER_RECORD_BYTES)] * 2
    c.env.run(until=2.5)
    commits[1][2](True)
    assert p.isr == {0, 1, 2} and p.caught_up[2] == 2.5
    assert c.counters_["isr_expansions"] == 1
    assert [(e.t, e.partition, e.isr_size, e.under_min_isr, e.reason) for e in events] == [
        (2.5, 0, 3, False, "isr expand")]
    # fenced: never asks
    p.isr = {0, 1}
    c.brokers[2].fenced = True
    fetch(c, p, 2, 10, at=3.0)
    assert len(commits) == 2


def test_an_isr_change_the_controller_refuses_or_that_an_election_overtook_changes_nothing(
        monkeypatch):
    c, _sink = small()
    commits = held_commits(monkeypatch, c)
    p0, p3 = c.parts[0], c.parts[3]
    c.replication._alter_isr([(p0, 2), (p3, 2)], add=False)
    # both led in us-west1-a: one commit of two records
    assert [(zone, size) for zone, size, _done in commits] == [(W1, 2 * CONTROLLER_RECORD_BYTES)]
    commits[0][2](False)
    assert p0.isr == p3.isr == {0, 1, 2} and c.counters_["isr_change_failures"] == 1
    c.replication._alter_isr([(p0, 2), (p3, 2)], add=False)
    p3.epoch += 1                    # a new leader epoch before the commit lands
    commits[1][2](True)
    assert p0.isr == {0, 1} and p3.isr == {0, 1, 2}
    assert c.counters_["isr_shrinks"] == 1
    # adding a member already there, or removing the leader: nothing
    c.replication._alter_isr([(p0, 1)], add=True)
    c.replication._alter_isr([(p0, 0)], add=False)
    commits[2][2](True)
    commits[3][2](True)
    assert p0.isr == {0, 1} and c.counters_["isr_expansions"] == 0
    assert c.counters_["isr_shrinks"] == 1


def test_followers_not_caught_up_for_replica_lag_time_max_leave_the_isr(monkeypatch):
    """replica.lag.time.max.ms 1000: the check runs every 0.5 s. us-west1 and us-west3
    are cut apart from the start, so broker 2 (us-west3) never catches up on p0 and p3
    (led by broker 0), nor broker 0 on p2 and p5 (led by broker 2): caught up last at
    0. At 1.0 they have lagged exactly the limit, not more: at 1.5 both leaders' zones
    ask, one commit each of two records. Every other follower fetches across a live
    link at least every 0.53 s and stays. Ten records appended to p0 at 0 are on broker
    1 at 0.045 but held back by broker 2 until its removal commits (at 1.7 here): then
    the HW moves and the row is acknowledged."""
    events: list = []
    c, sink = small("strategy.config={min.insync.replicas: 2, replica.lag.time.max.ms: 1000}",
                    events=events)
    commits: list = []
    asked: list = []
    monkeypatch.setattr(c.metadata, "commit", lambda zone, size, done: (
        commits.append((zone, size, done)), asked.append(c.env.now)))
    c.net.partition("us-west1", "us-west3")
    c.replication.start()
    c.env.process(c.replication.run_isr_expiration())
    write(c, 0, 10, 1000)
    c.env.run(until=1.6)
    assert asked == [1.5, 1.5]
    assert [(zone, size) for zone, size, _done in commits] == [
        (W1, 2 * CONTROLLER_RECORD_BYTES), (W3, 2 * CONTROLLER_RECORD_BYTES)]
    assert c.parts[0].hw == 0 and sink.answers == []
    c.env.run(until=1.7)
    commits[0][2](True)
    commits[1][2](True)
    assert [sorted(p.isr) for p in c.parts] == [[0, 1], [0, 1, 2], [1, 2], [0, 1], [0, 1, 2],
                                                 [1, 2]]
    assert c.parts[0].hw == 10 and sink.answers == [("acked", 1.7, 0)]
    assert c.counters_["isr_shrinks"] == 4
    assert [(e.partition, e.isr_size, e.reason) for e in events if e.t > 0] == [
        (0, 2, "isr shrink"), (3, 2, "isr shrink"), (2, 2, "isr shrink"), (5, 2, "isr shrink")]


def test_a_partition_without_a_live_leader_shrinks_nothing(monkeypatch):
    """replica.lag.time.max.ms 1000 and no fetch at all: at the check at 1.5 s every
    follower has lagged 1.5 s. p0 is offline (no leader) and broker 1, leader of p1 and
    p4, is down: only p2 and p5 (broker 2, us-west3-a: followers 0 and 1 each) and p3
    (broker 0, us-west1-a: followers 2 and 1) ask, by zone in the order of their first
    partition (p2, then p3)."""
    c, _sink = small("strategy.config={min.insync.replicas: 2, replica.lag.time.max.ms: 1000}")
    commits = held_commits(monkeypatch, c)
    c.parts[0].leader = None
    c.brokers[1].alive = False
    c.env.process(c.replication.run_isr_expiration())
    c.env.run(until=1.6)
    assert [(zone, size) for zone, size, _done in commits] == [
        (W3, 4 * CONTROLLER_RECORD_BYTES), (W1, 2 * CONTROLLER_RECORD_BYTES)]


@pytest.mark.parametrize(("changes", "eligible"), [
    ([[1, 2]], {1, 2}), ([[1], [2]], {2})])
@pytest.mark.parametrize("rejoins", [2, 1])
def test_with_elr_a_replica_removed_below_min_insync_replicas_stays_eligible(
        monkeypatch, rejoins, changes, eligible):
    """min.insync.replicas 2, ELR on, p0's ISR {0, 1, 2}. Kafka's
    ``PartitionChangeBuilder.maybePopulateTargetElr``: a change that leaves the ISR
    under min ISR makes the old ISR and ELR, less the new ISR, eligible. One change
    removing 1 and 2 makes both eligible; removing 1 then 2 leaves {0, 2} (not under:
    the ELR stays empty) then {0}: only 2. A replica that rejoins the ISR leaves the
    ELR; and once the ISR is back at two members KIP-966's controller empties the ELR,
    whichever rejoins. Without ELR nothing is eligible."""
    c, _sink = small("strategy.config={min.insync.replicas: 2, "
                     "eligible.leader.replicas.enable: true}")
    commits = held_commits(monkeypatch, c)
    p = c.parts[0]
    for change in changes:
        c.replication._alter_isr([(p, r) for r in change], add=False)
        commits[-1][2](True)
    assert p.isr == {0} and p.elr == eligible
    c.replication._alter_isr([(p, rejoins)], add=True)
    commits[-1][2](True)
    assert p.isr == {0, rejoins} and p.elr == set()
    off, _sink = small()
    commits = held_commits(monkeypatch, off)
    q = off.parts[0]
    for change in changes:
        off.replication._alter_isr([(q, r) for r in change], add=False)
        commits[-1][2](True)
    assert q.isr == {0} and q.elr == set()


@pytest.mark.parametrize(("elr"), [False, True])
def test_acks_waiting_when_the_isr_shrinks_below_min_insync_replicas_wait_for_it(
        monkeypatch, elr):
    """p0's row of 10 records is on broker 1 (reported) but not on 2. Removing broker 2
    leaves {0, 1}: with min.insync.replicas 2 that is exactly enough, the HW moves to 10
    and the leader's zone acknowledges the row. With 3 the ISR is under it and the HW
    stays, with or without ELR (Kafka's ``Partition.maybeIncrementLeaderHW``,
    KAFKA-15583): the row waits, and is acknowledged once broker 2 is back in the ISR."""
    config = f"eligible.leader.replicas.enable: {str(elr).lower()}"
    answers: dict[int, list] = {}
    for min_isr in (2, 3):
        c, _sink = small(f"strategy.config={{min.insync.replicas: {min_isr}, {config}}}")
        commits = held_commits(monkeypatch, c)
        seen = answers[min_isr] = []
        monkeypatch.setattr(c.produce, "ack", lambda zone, rows, seen=seen: seen.append(
            (zone, [r.offset for r in rows])))
        monkeypatch.setattr(c.produce, "fail", lambda rows, reason, *, written_maybe,
                            seen=seen: seen.append(("fail", reason)))
        p = c.parts[0]
        write(c, 0, 10, 1000)
        fetch(c, p, 1, 10, at=1.0)
        c.replication._alter_isr([(p, 2)], add=False)
        commits[0][2](True)
        if min_isr == 3:
            assert p.hw == 0 and seen == [] and len(p.pending) == 1
            fetch(c, p, 2, 10, at=1.5)   # caught up: the leader asks to add it back
            commits[1][2](True)
            assert p.isr == {0, 1, 2}
        assert p.hw == 10
    assert answers == {2: [(W1, [0])], 3: [(W1, [0])]}


# ======================================================================= observers

def observers(policy: str):
    """observers-2dc: brokers 0-2 in us-west1-a, 3-5 in us-west2-a; p0's sync replicas
    [0, 1, 3, 4] (leader 0), its observers [2, 5], min.insync.replicas 3."""
    c, _sink = small(f"strategy.observer_promotion_policy={policy}", scenario="observers-2dc",
                     brokers="strategy.brokers={us-west1: 3, us-west2: 3}")
    p = c.parts[0]
    assert (p.replicas, p.observer_replicas, p.min_isr) == ([0, 1, 3, 4], [2, 5], 3)
    return c, p


@pytest.mark.parametrize(("policy", "isr", "joins"), [
    ("under-min-isr", {0, 1}, True),              # 2 < min.insync.replicas 3
    ("under-min-isr", {0, 1, 3}, False),          # 3: not under
    ("under-replicated", {0, 1, 3}, True),        # 3 of the 4 sync replicas
    ("under-replicated", {0, 1, 3, 4}, False),
    ("under-replicated", {0, 1, 3, 4, 2}, False),  # the other observer does not count
    ("leader-is-observer", {0}, False),           # only an unclean election promotes
])
def test_a_caught_up_observer_joins_the_isr_as_its_promotion_policy_says(
        monkeypatch, policy, isr, joins):
    c, p = observers(policy)
    commits = held_commits(monkeypatch, c)
    p.isr = set(isr)
    fetch(c, p, 5, 0, at=1.0)                     # at the HW (0)
    assert len(commits) == joins
    if joins:
        commits[0][2](True)
        assert p.isr == isr | {5} and c.counters_["observer_promotions"] == 1


@pytest.mark.parametrize(("policy", "isrs", "demoted"), [
    # p0, p1 and p3: observers 2 and 5, 0 and 3, 2 and 5; sync replicas 4
    ("under-min-isr", [{0, 1, 3, 2, 5}, {1, 2, 4, 0}, {0, 1, 2}], [(0, 2), (0, 5), (1, 0)]),
    ("under-replicated", [{0, 1, 3, 4, 2}, {1, 2, 4, 0}, {0, 1, 2}], [(0, 2)]),
])
def test_observers_leave_the_isr_once_the_sync_replicas_are_enough_again(
        monkeypatch, policy, isrs, demoted):
    """At the first ISR check (replica.lag.time.max.ms / 2 = 15 s; nobody has lagged 30
    s yet), each leader demotes the observers in its ISR if its sync replicas in the ISR
    reach min.insync.replicas (3; under-min-isr) or all the sync replicas (4;
    under-replicated). p1's sync members {1, 2, 4} are exactly 3."""
    c, _p = observers(policy)
    commits = held_commits(monkeypatch, c)
    parts = [c.parts[0], c.parts[1], c.parts[3]]
    for p, isr in zip(parts, isrs, strict=True):
        p.isr = set(isr)
    c.env.process(c.replication.run_isr_expiration())
    c.env.run(until=15.0)
    assert commits == []
    c.env.run(until=15.001)
    # p0, p1 and p3 are led by brokers 0, 1 and 0, all in us-west1-a: one commit
    assert [(zone, size) for zone, size, _d in commits] == [
        (W1, len(demoted) * CONTROLLER_RECORD_BYTES)]
    commits[0][2](True)
    for p, isr in zip(parts, isrs, strict=True):
        assert p.isr == isr - {o for pid, o in demoted if pid == p.id}


# ============================================================== outages and losses

def test_a_fetch_loop_parks_while_its_zone_is_down_and_resumes_when_woken():
    """us-west3-a's network is down from 0 to 1 s (its brokers keep running): the
    fetch loops from and to it park instead of sending. Ten records appended to p0 at
    0 reach broker 1 (and are reported at 0.045) but not broker 2: the HW waits for it.
    At 1 s the zone is back and the parked loops are woken: broker 2's fetch arrives at
    1.030, its data are back at 1.060, its next fetch reports them at 1.090: the HW
    moves then."""
    c, sink = small()
    c.net.set_down(W3)
    c.replication.start()
    write(c, 0, 10, 1000)
    c.env.run(until=1.0)
    assert c.parts[0].leo == {0: 10, 1: 10, 2: 0}
    c.net.set_down(W3, False)
    c.connectivity_changed()
    c.env.run(until=1.2)
    assert sink.answers == [("acked", pytest.approx(1.090), 0)]


def test_without_append_events_a_fetch_waits_the_whole_replica_fetch_wait_max(monkeypatch):
    """The produce path not started, no append ends a long poll: p0's ISR is {0, 1};
    broker 1's first fetch arrives at 0.015 and waits until 0.515 though ten records
    are appended at 0.1; they reach us-west2-a at 0.530 and are reported at 0.545."""
    c = cluster_of("stretch-3-regions", LINKS, ONE_EACH)
    seen = readable_log(monkeypatch, c)
    c.parts[0].isr = {0, 1}
    c.env.process(c.replication._fetch_loop(c.replication.pairs[(W1, W2)]))
    c.env.run(until=0.1)
    c.parts[0].append(Row(0, 0, 0, 10, 1000, 1000, 0.1, 0.1, offset=0), 0.1)
    c.replication.touch(c.parts[0])
    c.env.run(until=0.6)
    assert seen == approx([(0.545, 0, 0, 10)])


@pytest.mark.parametrize(("socket_timeout", "acked"), [
    # the request reached a dead zone at 0.015: retried at 0 + 30 s, reported at
    # 30 + 0.015 + 0.015 + 0.015 (data back at 30.030, the next fetch at 30.045)
    ("30000", 30.045),
    # a 10 ms socket timeout has passed at the arrival (15 ms): the loop retries at
    # once, finds the zone down and parks until woken at 1 s: reported at 1.045
    ("10", 1.045),
])
def test_a_request_lost_to_an_outage_at_the_leader_is_retried_after_the_socket_timeout(
        socket_timeout, acked):
    """p0's ISR is {0, 1}, ten records at 0; us-west1-a (the leader's zone) goes down at
    0.01 while broker 1's first fetch is on its way, and comes back at 1 s."""
    c, sink = small("strategy.config={min.insync.replicas: 2, "
                    f"replica.socket.timeout.ms: {socket_timeout}}}")
    c.parts[0].isr = {0, 1}
    write(c, 0, 10, 1000)
    c.env.process(c.replication._fetch_loop(c.replication.pairs[(W1, W2)]))
    c.env.run(until=0.01)
    c.net.set_down(W1)
    c.env.run(until=1.0)
    c.net.set_down(W1, False)
    c.connectivity_changed()
    c.env.run(until=31.0)
    assert sink.answers == [("acked", pytest.approx(acked), 0)]


@pytest.mark.parametrize(("change", "p3_leo"), [("epoch", 4), ("dead", 0)])
def test_a_response_for_a_new_epoch_or_a_dead_follower_is_dropped(change, p3_leo):
    """Broker 1's first fetch of p0 (ten records at 0) and p3 (four) is answered at
    0.015 and lands at 0.030. If p0's epoch changed meanwhile, p0's LEO on broker 1
    stays 0 and p3's becomes 4; if broker 1 stopped, both stay 0."""
    c, _sink = small()
    p0 = c.parts[0]
    write(c, 0, 10, 1000)
    write(c, 3, 4, 400)
    c.env.process(c.replication._fetch_loop(c.replication.pairs[(W1, W2)]))
    c.env.run(until=0.02)
    if change == "epoch":
        p0.epoch += 1
    else:
        c.brokers[1].alive = False
    c.env.run(until=0.031)
    assert (p0.leo[1], c.parts[3].leo[1]) == (0, p3_leo)


# ===================================== quiet items, and requests answered as sent

@pytest.mark.parametrize("change", [None, "hw unknown", "out of the isr", "log cut",
                                    "leader moved", "view ahead", "behind"])
def test_a_request_finds_an_item_quiet_only_if_nothing_could_change_for_it(
        monkeypatch, change):
    """The us-west2-a loop from us-west1-a: items 0 (p0) and 1 (p3), both followed by
    broker 1. Both partitions hold 10 records, committed (HW 10), broker 1 has them all,
    has reported them and knows the HW: a request from offset 10 finds both quiet (the
    edge of every condition). ``change`` breaks one condition for p3, which stays hot:
    the follower knows an older HW; it left the ISR; its log was cut to 5 since it
    sent; p3's leader is now broker 2 (another zone); the leader saw it further (12);
    it fetches from 8, behind."""
    c, _sink = small()
    held_commits(monkeypatch, c)
    pair = c.replication.pairs[(W1, W2)]
    parts = [c.parts[0], c.parts[3]]
    for p in parts:
        write(c, p.id, 10, 1000)
        p.leo = {0: 10, 1: 10, 2: 10}
        p.view = {1: 10, 2: 10}
        p.hw = 10
        p.follower_hw[1] = 10
    p3 = parts[1]
    offset = 10
    if change == "hw unknown":
        p3.follower_hw[1] = 9
    elif change == "out of the isr":
        p3.isr.discard(1)
    elif change == "log cut":
        p3.leo[1] = 5
    elif change == "leader moved":
        p3.leader = 2
    elif change == "view ahead":
        p3.view[1] = 12
    elif change == "behind":
        offset = p3.leo[1] = p3.view[1] = 8
    c.env.run(until=1.0)
    request = [(0, parts[0], 1, 10, 0), (1, p3, 1, offset, 0)]
    c.replication._on_fetch_request(request, None)      # without the pair: no change
    assert pair.hot == {0, 1}
    c.replication._on_fetch_request(request, pair)
    assert pair.hot == ({1} if change else set()) and pair.quiet_arrival == 1.0
    assert pair.snapshot[0] == (10, 0)


def test_a_response_lists_the_items_as_sent_after_an_election_during_its_long_poll(
        monkeypatch):
    """observers-2dc (see ``observers``): the us-west2-a loop's first request reaches
    us-west1-a at 0.015 and long-polls. At 0.1 p0's leader moves from broker 0 to
    broker 1 (same zone, a new epoch) and ten records are appended there, which ends the
    poll. The response answers the request as sent, under p0's old epoch: nothing for
    p0, so it weighs only its 64-byte header. The next request (sent when the response
    lands, 0.115) gets them: brokers 3, 4 and 5 have them at 0.145 (1000 bytes each)."""
    c, p = observers("under-min-isr")
    held_commits(monkeypatch, c)
    c.env.process(c.replication._fetch_loop(c.replication.pairs[(W1, W2)]))
    c.env.run(until=0.1)
    c.brokers[0].fenced = True
    assert c.controller.elect(p, "test") and p.leader == 1 and p.epoch == 1
    c.rewire()
    write(c, 0, 10, 1000)
    c.env.run(until=0.116)
    assert p.leo[3] == 0
    c.env.run(until=0.146)
    assert (p.leo[3], p.leo[4], p.leo[5]) == (10, 10, 10)
    assert c.net.bytes[(W1, W2, "replicate")] == FETCH_REQUEST_BYTES + (
        3 * 1000 + FETCH_REQUEST_BYTES)


def test_a_response_past_its_byte_budget_still_carries_a_higher_hw(monkeypatch):
    """One broker per zone, 1500 bytes a response; p0 and p3 have ISR {0, 1}. p3's ten
    records reach broker 1 at 0.030 and are reported at 0.045: p3's HW becomes 10.
    p0 got a 4000-byte row at 0.040, so that request is answered at once with 1500
    bytes of it (the budget) and, though the budget is spent, with p3's new HW (no
    data): broker 1 learns it at 0.060. The next two requests take 1500 and 1000 more
    bytes (answered at 0.075 and 0.105), broker 1 has the row at 0.120 and reports it
    at 0.135 (p0's HW: 40); that request finds nothing new and waits 0.5 s: broker 1
    learns p0's HW at 0.650."""
    c, _sink = small("strategy.config={min.insync.replicas: 2, "
                     "replica.fetch.response.max.bytes: 1500}")
    seen = readable_log(monkeypatch, c)
    c.parts[0].isr = {0, 1}
    c.parts[3].isr = {0, 1}
    write(c, 3, 10, 1000)
    c.env.process(c.replication._fetch_loop(c.replication.pairs[(W1, W2)]))
    c.env.run(until=0.04)
    write(c, 0, 40, 4000)
    c.env.run(until=0.7)
    assert seen == approx([(0.045, 3, 0, 10), (0.060, 3, 1, 10), (0.135, 0, 0, 40),
                           (0.650, 0, 1, 40)])


def test_an_item_quiet_when_its_request_came_carries_an_hw_that_moved_during_the_poll(
        monkeypatch):
    """Ten records on p0 at 0. Broker 1 (us-west2-a) has them at 0.030 and reports
    them at 0.045; that request finds nothing new and waits until 0.545, and p0's item
    turns quiet (the HW is still 0: broker 2 has not fetched). The next request
    arrives at 0.575 with p0's item quiet and long-polls until 1.075. us-west3-a's loop
    only starts at 0.5: broker 2 has the data at 0.560 and reports them at 0.590, when
    the HW moves to 10, which turns p0's item in us-west2-a's waiting request hot
    again: its response (1.075) carries the HW to broker 1 at 1.090. Broker 2's own
    request after its report waits until 1.090: it learns the HW at 1.120."""
    c, _sink = small()
    seen = readable_log(monkeypatch, c)
    pairs = c.replication.pairs
    c.env.process(c.replication._fetch_loop(pairs[(W1, W2)]))
    write(c, 0, 10, 1000)
    c.env.run(until=0.5)
    c.env.process(c.replication._fetch_loop(pairs[(W1, W3)]))
    c.env.run(until=1.2)
    assert seen == approx([(0.590, 0, 0, 10), (1.090, 0, 1, 10), (1.120, 0, 2, 10)])


def test_a_request_sent_whole_answers_as_sent_even_if_items_turned_hot_during_its_poll(
        monkeypatch):
    """observers-2dc, only the us-west2-a loop: ten records on p0 at 0 reach brokers 3,
    4 and 5 at 0.030. A disturbance at 0.02 makes the next request (sent at 0.030) list
    every item as it is; it reports them at 0.045, finds nothing new, turns p0's items
    of brokers 3 and 4 quiet (the HW is 0: broker 1 has not fetched) and waits until
    0.545. Broker 1 reports at 0.1: the HW moves to 10 (the row is acknowledged), which
    heats those items. At 0.2 p0's leader moves to broker 1 (same zone, epoch 1). The
    response at 0.545 answers the request as sent, under epoch 0: nothing for p0. The
    next request (0.575) reports the followers' LEOs to the new leader; its HW (10) is
    news for them, and that request waits its 0.5 s: they learn it at 1.090."""
    c, p = observers("under-min-isr")
    held_commits(monkeypatch, c)
    sink = c.mirror_sinks[0]
    seen = readable_log(monkeypatch, c)
    c.env.process(c.replication._fetch_loop(c.replication.pairs[(W1, W2)]))
    write(c, 0, 10, 1000)
    c.env.run(until=0.02)
    c.replication.disturb()
    fetch(c, p, 1, 10, at=0.1)
    assert sink.answers == [("acked", 0.1, 0)]
    c.env.run(until=0.2)
    c.brokers[0].fenced = True
    assert c.controller.elect(p, "test") and (p.leader, p.epoch, p.hw) == (1, 1, 10)
    c.rewire()
    c.env.run(until=1.2)
    assert seen == approx([(0.1, 0, 0, 10), (1.090, 0, 3, 10), (1.090, 0, 4, 10),
                           (1.090, 0, 5, 10)])


# ========================================================================= wiring

def test_a_fetch_loop_stands_for_its_broker_pairs_and_at_least_one_connection():
    """Two brokers per zone: each (leader zone, follower zone) loop fetches for 2 broker
    pairs, before and after a rewiring; one broker per zone: 1. A loop whose follower
    zone was destroyed keeps no item and counts one connection."""
    two, _sink = small(brokers="strategy.brokers={us-west1: 2, us-west2: 2, us-west3: 2}")
    assert {pair.connections for pair in two.replication.pairs.values()} == {2}
    two.rewire()
    assert {pair.connections for pair in two.replication.pairs.values()} == {2}
    one, _sink = small()
    assert {pair.connections for pair in one.replication.pairs.values()} == {1}
    one.rewire()
    assert {pair.connections for pair in one.replication.pairs.values()} == {1}
    one.zone_state(W3, up=False, destroyed=True)
    pairs = one.replication.pairs
    assert [(pairs[key].items, pairs[key].connections) for key in ((W1, W3), (W2, W3))] == [
        ([], 1), ([], 1)]
    # each partition is watched by its items: p0 by (us-west1-a, us-west2-a)'s first
    assert [(pair.leader_zone, pair.follower_zone, i)
            for pair, i in one.replication.watchers[0]] == [(W1, W2, 0)]


def test_a_follower_that_stops_forgets_the_part_of_a_row_it_held():
    """The part of a row a cut response brought is in the follower's memory only: a
    crash forgets it, so once back the follower fetches the whole row again (Kafka's
    follower keeps no partial batch at all)."""
    from geosim.kafka.faults import crash_brokers

    c, _sink = small("strategy.config={min.insync.replicas: 2, "
                     "replica.fetch.response.max.bytes: 1500}",
                     brokers="strategy.brokers={us-west1: 2, us-west2: 2, us-west3: 2}")
    p0 = c.parts[0]
    c.replication.start()
    c.env.run(until=0.05)
    write(c, 0, 40, 4000)  # one 4000-byte row; 1500 bytes of it a response
    c.env.run(until=0.066)
    assert (p0.leo[2], p0.held_partial(2, 0)) == (0, 1500)
    crash_brokers(c, W2, 1, up=False)  # broker 2, p0's follower in us-west2-a
    assert p0.held_partial(2, 0) == 0


def test_a_cut_response_to_a_request_sent_before_a_rewiring_keeps_the_sessions_order():
    """The pair's items are reset (a rewiring, the same items and leaders) while a
    request is on its way: the cut response it gets fills in the session's order as the
    request was sent, and the items it served move to the end of the new list's order
    in the order they were served."""
    c, _sink = small("strategy.config={min.insync.replicas: 2, "
                     "replica.fetch.response.max.bytes: 1500}",
                     brokers="strategy.brokers={us-west1: 2, us-west2: 2, us-west3: 2}")
    pair = c.replication.pairs[(W1, W2)]
    old = list(pair.items)
    (p0, r0), (p1, r1) = old
    pair.served[:] = [5.0, 3.0]  # the second item was served longer ago: it comes first
    pair.responses = 6
    write(c, p0.id, 40, 4000)  # both past the 3000-byte budget: the response is cut
    write(c, p1.id, 40, 4000)
    c.env.process(c.replication._fetch_loop(pair))
    c.env.run(until=0.005)  # the request is on its way (it arrives at 0.015)
    pair.reset(list(old), pair.connections)
    assert pair.served == [1.0, 0.0]  # the order survives the reset
    c.env.run(until=0.016)  # the response left: it moved the items it served to the end
    assert pair.served[0] > pair.served[1] > 1.0
    c.env.run(until=0.045)  # it arrived: each item took one connection's 1500 bytes
    assert p1.held_partial(r1, 0) == 1500 and p0.held_partial(r0, 0) == 1500


def test_a_rewiring_keeps_the_fetch_sessions_order():
    """A new wiring keeps the session's order of the items whose follower fetches from
    the same leader as before (Kafka's fetch session per leader broker keeps it), and
    puts those whose leader moved after them: new to that leader's session, they join
    its end."""
    c, _sink = small(brokers="strategy.brokers={us-west1: 2, us-west2: 2, us-west3: 2}")
    pair = c.replication.pairs[(W1, W2)]
    items = list(pair.items)
    assert len(items) == 2
    pair.served[:] = [5.0, 3.0]  # the second item was served longer ago
    pair.reset(list(items), pair.connections)
    assert pair.served == [1.0, 0.0]
    pair.served[:] = [0.0, 1.0]
    p0 = items[0][0]
    others = [r for r in p0.all_replicas if r != p0.leader and r != items[0][1]]
    p0.leader = others[0]  # the first item's leader moved
    pair.reset(list(items), pair.connections)
    assert pair.served == [1.0, 0.0]
    assert pair.responses == 2  # the next response's stamps follow every rank
