"""The diskless model's own work (geosim.strategies.diskless.model), step by step on a
SimPy clock: routing, the flush period and clock, PUT quorums, the ordered commits and
what a crash does to them, acknowledgements, reference counting of objects, the partial
reads of an object and when a zone's groups hear of it.

The strategy is built into a world of recording stand-ins (object store, metadata store,
network, topology, producer fleets, consumer groups), so every PUT, GET, commit and ack
it issues is seen with its arguments, and every outcome is the test's to decide.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from geosim.clients.producer import OUT_OF_ORDER
from geosim.core.context import Context
from geosim.core.events import ObjectCommitted, Row
from geosim.strategies.diskless.model import DisklessStrategy
from geosim.strategies.diskless.spec import DisklessSpec

A, B, C = "us-west1-a", "us-west1-b", "us-west2-a"  # C is in another region
SAME_ZONE_RTT, INTER_ZONE_RTT = 0.0002, 0.001


# --- the recording world -----------------------------------------------------------------

class Topology:
    def zones(self) -> list[str]:
        return [A, B, C]

    def region_of(self, zone: str) -> str:
        return zone[:-2]

    def link(self, a: str, b: str):
        rtt = SAME_ZONE_RTT if a == b else INTER_ZONE_RTT
        return SimpleNamespace(rtt=SimpleNamespace(median=lambda: rtt))


class Store:
    """Object ids from 0; PUT and GET outcomes are left to the test."""

    def __init__(self, env, sites=("us-west1",)):
        self.env = env
        self.sites = list(sites)
        self.created: list[tuple[int, str]] = []       # (size, writer region)
        self.puts: list[tuple[int, str, str, int]] = []  # (object, zone, site, requests)
        self.put_done: list = []
        self.gets: list[tuple] = []   # (object, size, zone, after, requests, part_bytes)
        self.get_done: list = []
        self.released: list[int] = []
        self.announced: list[int] = []
        self.waiters: dict[tuple[int, str], object] = {}

    def create(self, size: int, writer_region: str):
        self.created.append((size, writer_region))
        return SimpleNamespace(object_id=len(self.created) - 1, size=size)

    def home_site(self, zone: str) -> str:
        return zone[:-2]

    def put(self, obj, zone, site, done, *, requests):
        self.puts.append((obj.object_id, zone, site, requests))
        self.put_done.append(done)

    def release(self, object_id: int) -> None:
        self.released.append(object_id)

    def announce(self, obj) -> None:
        self.announced.append(obj.object_id)

    def get(self, object_id, size, zone, done, *, after, requests, part_bytes):
        self.gets.append((object_id, size, zone, after, requests, part_bytes))
        self.get_done.append(done)

    def when_readable(self, object_id: int, zone: str):
        event = self.env.event()
        self.waiters[object_id, zone] = event
        return event


class Metadata:
    def __init__(self, read_latency: float | None = 0.005):
        self.latency = read_latency
        self.commits: list[tuple[str, int, int]] = []  # (zone, bytes, requests)
        self.commit_done: list = []
        self.reads: list[tuple[str, int]] = []

    def commit(self, zone, size, done, *, requests=1):
        self.commits.append((zone, size, requests))
        self.commit_done.append(done)

    def read_latency(self, zone: str, requests: int = 1):
        self.reads.append((zone, requests))
        return self.latency


class Network:
    """Delays in the order of the messages (None: lost), then 2 ms each."""

    def __init__(self, delays: list[float | None]):
        self.delays = list(delays)
        self.sent: list[tuple[str, str, int, str]] = []

    def delay(self, src, dst, nbytes, purpose):
        self.sent.append((src, dst, nbytes, purpose))
        return self.delays.pop(0) if self.delays else 0.002


class Fleet:
    pending_retries = 0

    def __init__(self, fleet_id: int, zone: str, rate: float = 0.0):
        self.id, self.zone, self.rate, self.alive = fleet_id, zone, rate, True
        self.routes: list[tuple[dict, int]] = []
        self.cuts: list[tuple[int, float, float, int]] = []
        self.queue: dict[int, list[Row]] = {}   # rows the next cut hands each writer
        self.acks: list[tuple[list[Row], float]] = []
        self.failures: list[tuple[list[Row], str, bool]] = []

    def compressed_rate_per_broker(self) -> float:
        return self.rate

    def route(self, table, *, connections):
        self.routes.append((table, connections))

    def cut(self, broker, now, one_way, split):
        self.cuts.append((broker, now, one_way, split))
        return self.queue.pop(broker, [])

    def acked(self, rows, at):
        self.acks.append((rows, at))

    def failed(self, rows, reason, *, written_maybe):
        self.failures.append((rows, reason, written_maybe))

    def crash(self) -> None:
        self.alive = False

    def restart(self) -> None:
        self.alive = True


class Group:
    """A consumer group whose owners the test sets: partition -> zone (None: unowned)."""

    members = ()

    def __init__(self, owners: dict[int, str | None]):
        self.owners = owners
        self.generation = 0
        self.appended_rows: list[tuple[int, int]] = []   # (partition, object)
        self.readies: list[tuple[float, list[int]]] = []

    def owner_zone(self, partition: int) -> str | None:
        return self.owners.get(partition)

    def appended(self, row: Row, object_id: int) -> None:
        self.appended_rows.append((row.partition, object_id))

    def ready(self, partitions) -> None:
        self.readies.append((self.env.now, list(partitions)))

    def run_commits(self):
        yield self.env.timeout(0)


def diskless(*, brokers=None, fleets=(A,), groups=(), partitions=4, sites=("us-west1",),
             read_latency: float | None = 0.005, ack_delays=None, rates=None, **spec):
    """A diskless strategy over the recording world; ``spec``: strategy keys."""
    brokers = brokers or {A: 1}
    ctx = Context(seed=1)
    fleet_objs = [Fleet(i, zone, (rates or {}).get(i, 0.0)) for i, zone in enumerate(fleets)]
    for group in groups:
        group.env = ctx.env
    hooks: dict = {}   # the groups' hooks into the strategy: is_ready, request, release
    workload = SimpleNamespace(broker_counts=brokers, partitions=partitions,
                               make_fleets=lambda _ctx: fleet_objs,
                               make_groups=lambda _ctx, **h: hooks.update(h) or list(groups))
    world = SimpleNamespace(
        ctx=ctx, topology=Topology(), workload=workload,
        scenario=SimpleNamespace(strategy=DisklessSpec.model_validate(
            {"brokers": {"us-west1": 1}, **spec})),
        object_store=Store(ctx.env, sites), metadata=Metadata(read_latency),
        network=Network(ack_delays or []), hooks=hooks)
    return DisklessStrategy(world)


def request(strategy, object_id: int, partition: int, zone: str) -> None:
    """A group in ``zone`` needs the object for ``partition`` (its request hook)."""
    strategy.world.hooks["request"](SimpleNamespace(object_id=object_id,
                                                    partition=partition), zone)


def passed(strategy, object_id: int, times: int = 1) -> None:
    """Groups committed past ``times`` rows of the object (their release hook)."""
    for _ in range(times):
        strategy.world.hooks["release"](object_id)


def row(partition=0, seq=0, *, fleet=0, records=10, nbytes=100) -> Row:
    return Row(fleet, partition, seq, records, 2 * nbytes, nbytes, 0.0, 0.0)


def flush(strategy, rows=None, writer_index=0):
    """The writer's flush cuts ``rows`` (default: one) from their fleets."""
    for r in [row()] if rows is None else rows:
        strategy.fleets[r.fleet].queue.setdefault(writer_index, []).append(r)
    strategy.writers[writer_index].flush()


def written(strategy, *rows, ok=True):
    """Flush ``rows`` and complete the PUT; the commit is then issued."""
    flush(strategy, rows=list(rows) or None)
    strategy.world.object_store.put_done[-1](ok)


# --- building and routing ----------------------------------------------------------------

def test_a_zones_brokers_become_writers_of_brokers_per_writer_in_zone_order():
    s = diskless(brokers={A: 4, C: 2}, fleets=(A, C), brokers_per_writer=2)
    assert [(w.index, w.zone, w.region, w.brokers) for w in s.writers] == [
        (0, A, "us-west1", 2), (1, A, "us-west1", 2), (2, C, "us-west2", 2)]
    assert [w.index for w in s.writers_by_zone[A]] == [0, 1]
    assert s.counters() == {"flushes": 0, "flush_failures": 0,
                            "rows_rejected_out_of_order": 0}


def test_producers_without_a_broker_in_their_zone_are_refused():
    with pytest.raises(ValueError, match=f"producers in zone {B} have no zone-local broker"):
        diskless(brokers={A: 1}, fleets=(A, B))


def test_a_clients_one_way_trip_is_half_the_same_zone_round_trip():
    assert diskless().client_one_way == pytest.approx(SAME_ZONE_RTT / 2)  # 0.1 ms


def test_partitions_go_round_robin_over_the_zones_live_writers():
    """5 partitions over writers 0 and 1 of zone A: 0, 2, 4 and 1, 3; each producer
    connects to the 2 x 2 brokers they stand for. Zone C's fleet sees only writer 2."""
    s = diskless(brokers={A: 4, C: 2}, fleets=(A, C), partitions=5, brokers_per_writer=2)
    assert s.fleets[0].routes == [({0: [0, 2, 4], 1: [1, 3]}, 4)]
    assert s.fleets[1].routes == [({2: [0, 1, 2, 3, 4]}, 2)]
    assert [[f.id for f in w.fleets] for w in s.writers] == [[0], [0], [1]]


def test_a_broker_crash_takes_its_writers_out_of_the_routing_until_they_restart():
    """Crashing 2 brokers of zone A at 2 per writer is writer 0: writer 1 leads all."""
    s = diskless(brokers={A: 4}, partitions=3, brokers_per_writer=2)
    s.crash_brokers(A, 2, up=False)
    assert [w.alive for w in s.writers] == [False, True]
    assert s.fleets[0].routes[-1] == ({1: [0, 1, 2]}, 2)
    s.crash_brokers(A, 2, up=True)
    assert s.fleets[0].routes[-1] == ({0: [0, 2], 1: [1]}, 4)


def test_a_zone_outage_stops_its_writers_and_producers_and_empties_its_cache():
    s = diskless(brokers={A: 1, B: 1}, fleets=(A, B))
    s.caches[A].add(7, 100)
    s.caches[B].add(8, 100)
    s.zone_state(A, up=False)
    assert [w.alive for w in s.writers] == [False, True]
    assert [f.alive for f in s.fleets] == [False, True]
    assert not s.caches[A].holds(7) and s.caches[B].holds(8)
    assert s.fleets[0].routes[-1] == ({}, 0)
    s.caches[A].add(9, 100)
    s.zone_state(A, up=True)
    assert s.writers[0].alive and s.fleets[0].alive and s.caches[A].holds(9)
    assert s.fleets[0].routes[-1] == ({0: [0, 1, 2, 3]}, 1)


# --- the flush period and clock ----------------------------------------------------------

@pytest.mark.parametrize("rates, flush_interval, flush_bytes, per_writer, period", [
    # flush_bytes x brokers / inflow: 1000 x 2 / (10,000 + 6,000) = 0.125 s
    ({0: 10_000.0, 1: 6_000.0}, 0.25, 1000, 2, 0.125),
    # 2000 / 4000 = 0.5 s: the interval comes first
    ({0: 4_000.0}, 0.25, 1000, 2, 0.25),
    # no inflow: the interval
    ({}, 0.25, 1000, 2, 0.25),
    # a trickle below 1 byte/s still fills 1 byte in 2 s, before a 10 s interval
    ({0: 0.5}, 10.0, 1, 1, 2.0),
])
def test_a_writer_flushes_every_interval_or_once_flush_bytes_arrive(
        rates, flush_interval, flush_bytes, per_writer, period):
    s = diskless(brokers={A: per_writer}, fleets=(A, A), rates=rates,
                 flush_interval=flush_interval, flush_bytes=flush_bytes,
                 brokers_per_writer=per_writer)
    assert s.writers[0].flush_period() == pytest.approx(period)


def test_the_flush_period_ignores_dead_fleets_and_is_kept_until_rerouted():
    s = diskless(fleets=(A, A), rates={0: 10_000.0, 1: 10_000.0}, flush_bytes=1000)
    s.fleets[1].alive = False
    writer = s.writers[0]
    assert writer.flush_period() == pytest.approx(0.1)       # 1000 / 10,000
    s.fleets[0].rate = 20_000.0
    assert writer.flush_period() == pytest.approx(0.1)       # cached
    writer.rerouted()
    assert writer.flush_period() == pytest.approx(0.05)


def test_a_zones_clock_flushes_its_live_writers_at_each_period():
    """Zone A's two writers flush at 0.1 s and 0.2 s (1000 B at 10,000 B/s); with
    writer 0 down only writer 1 cuts; zone C's writer at its own 0.25 s interval."""
    s = diskless(brokers={A: 2, C: 1}, fleets=(A, C), rates={0: 10_000.0},
                 flush_bytes=1000)
    s.start()
    s.env.run(until=0.21)
    assert s.fleets[0].cuts == [(0, 0.1, 0.0001, 1), (1, 0.1, 0.0001, 1),
                                (0, 0.2, 0.0001, 1), (1, 0.2, 0.0001, 1)]
    s.writers[0].crash()
    s.env.run(until=0.31)
    assert [c[:2] for c in s.fleets[0].cuts[4:]] == [(1, pytest.approx(0.3))]
    assert [c[:2] for c in s.fleets[1].cuts] == [(2, 0.25)]


def test_a_zone_with_no_live_writer_waits_a_flush_interval_and_cuts_nothing():
    s = diskless(brokers={A: 1}, rates={0: 10_000.0}, flush_bytes=1000)
    s.writers[0].crash()
    s.start()
    s.env.run(until=1.0)
    assert s.fleets[0].cuts == []


# --- flushes and PUTs --------------------------------------------------------------------

def test_a_flush_with_nothing_to_cut_writes_no_object():
    s = diskless()
    flush(s, [])
    assert s.world.object_store.created == [] and s.counters()["flushes"] == 0


def test_a_flush_writes_every_fleets_rows_as_one_object_put_by_each_broker():
    """Rows of 100 and 250 bytes from two fleets: one object of 350 bytes, PUT to the
    writer's home bucket as 3 requests, 3 flushes counted."""
    s = diskless(brokers={A: 3}, fleets=(A, A), brokers_per_writer=3)
    flush(s, [row(0, nbytes=100), row(1, fleet=1, nbytes=250)])
    assert [c[0] for f in s.fleets for c in f.cuts] == [0, 0]
    store = s.world.object_store
    assert store.created == [(350, "us-west1")]
    assert store.puts == [(0, A, "us-west1", 3)]
    assert s.counters()["flushes"] == 3


def test_a_retried_row_keeps_its_earlier_object_and_the_new_object_holds_a_copy():
    """Object 0's row is retried into object 1: the original still names object 0 (the
    copy names 1); a fresh row is placed as it is."""
    s = diskless()
    flush(s)                              # object 0, never completed
    retried, fresh = row(0), row(1)
    retried.object_id = 0
    written(s, retried, fresh)            # object 1
    assert retried.object_id == 0 and fresh.object_id == 1
    s.world.metadata.commit_done[0](True)
    acked = s.fleets[0].acks[0][0]
    assert [(r.partition, r.object_id) for r in acked] == [(0, 1), (1, 1)]
    assert acked[0] is not retried and acked[1] is fresh


@pytest.mark.parametrize("outcomes, committed_after, failed_after", [
    # write_quorum 2 of 3 buckets: the commit follows the second success...
    ([True, True, True], 2, None),
    ([False, True, True], 3, None),
    ([True, False, True], 3, None),
    # ...and the flush fails at the second failure (2 > 3 - 2), once
    ([False, False, True], None, 2),
    ([True, False, False], None, 3),
])
def test_a_quorum_flush_commits_at_k_puts_and_fails_when_k_can_no_longer_be_reached(
        outcomes, committed_after, failed_after):
    s = diskless(sites=("us-west1", "us-west2", "us-west3"), write_quorum=2)
    flush(s)
    store, metadata = s.world.object_store, s.world.metadata
    assert [p[2] for p in store.puts] == ["us-west1", "us-west2", "us-west3"]
    commits, failures = [], []
    for done, ok in zip(store.put_done, outcomes, strict=True):
        done(ok)
        commits.append(len(metadata.commits))
        failures.append(s.counters()["flush_failures"])
    assert commits == [int(committed_after is not None and k >= committed_after)
                       for k in (1, 2, 3)]
    assert failures == [int(failed_after is not None and k >= failed_after)
                        for k in (1, 2, 3)]
    if committed_after is not None:   # committed once, acked once
        metadata.commit_done[0](True)
        assert len(metadata.commits) == 1 and len(s.fleets[0].acks) == 1


def test_a_failed_put_fails_the_rows_as_not_written_and_releases_the_object():
    s = diskless(brokers={A: 2}, brokers_per_writer=2)
    written(s, row(0), row(1), ok=False)
    assert s.counters()["flush_failures"] == 2
    assert s.world.object_store.released == [0] and s.world.metadata.commits == []
    [(rows, reason, maybe)] = s.fleets[0].failures
    assert [r.partition for r in rows] == [0, 1]
    assert (reason, maybe) == ("object PUT failed", False)


def test_a_single_bucket_put_commits_at_its_success():
    s = diskless()
    written(s)
    assert len(s.world.metadata.commits) == 1 and s.counters()["flush_failures"] == 0


# --- commits, in flush order -------------------------------------------------------------

def test_a_commit_writes_128_bytes_a_row_and_256_a_broker_as_one_request_each():
    """3 rows by a writer of 2 brokers: 3 x 128 + 2 x 256 = 896 bytes, 2 requests."""
    s = diskless(brokers={A: 2}, brokers_per_writer=2)
    written(s, row(0), row(1), row(2))
    assert s.world.metadata.commits == [(A, 896, 2)]


def test_a_writers_commits_run_one_at_a_time_in_flush_order():
    s = diskless()
    written(s, row(0, 0))
    written(s, row(0, 1))
    metadata = s.world.metadata
    assert len(metadata.commits) == 1          # the second waits for the first
    metadata.commit_done[0](True)
    assert len(metadata.commits) == 2
    metadata.commit_done[1](True)
    written(s, row(0, 2))                      # the queue is idle again: at once
    assert len(metadata.commits) == 3


def test_a_committed_flush_is_acked_at_the_acks_arrival_with_offsets_assigned():
    """Two fleets of zone A: each fleet's rows in one ack of 128 bytes, arriving 2 ms
    and 3 ms after the commit at 5 s."""
    s = diskless(fleets=(A, A), ack_delays=[0.002, 0.003])
    s.env.run(until=5.0)
    written(s, row(0, records=10), row(0, 1, records=5), row(1, fleet=1))
    s.world.metadata.commit_done[0](True)
    [(rows_a, at_a)] = s.fleets[0].acks
    [(rows_b, at_b)] = s.fleets[1].acks
    assert [(r.partition, r.offset) for r in rows_a] == [(0, 0), (0, 10)]
    assert [(r.partition, r.offset) for r in rows_b] == [(1, 0)]
    assert (at_a, at_b) == (pytest.approx(5.002), pytest.approx(5.003))
    assert s.world.network.sent == [(A, A, 128, "ack"), (A, A, 128, "ack")]


def test_an_ack_lost_on_the_way_fails_the_rows_as_maybe_written():
    s = diskless(fleets=(A, A), ack_delays=[0.002, None])
    written(s, row(0), row(1, fleet=1))
    s.world.metadata.commit_done[0](True)
    assert len(s.fleets[0].acks) == 1 and s.fleets[1].acks == []
    [(rows, reason, maybe)] = s.fleets[1].failures
    assert ([r.partition for r in rows], reason, maybe) == ([1], "ack lost", True)


def test_a_failed_commit_fails_the_rows_as_maybe_written_and_frees_the_queue():
    s = diskless()
    written(s, row(0))
    written(s, row(1))
    s.world.metadata.commit_done[0](False)
    [(rows, reason, maybe)] = s.fleets[0].failures
    assert ([r.partition for r in rows], reason, maybe) == ([0], "metadata commit failed",
                                                            True)
    assert s.fleets[0].acks == [] and len(s.world.metadata.commits) == 2


@pytest.mark.parametrize("restart", [False, True])
def test_a_flush_of_a_crashed_broker_fails_at_its_commit_turn_without_a_commit(restart):
    """A flush of epoch 0 reaches its commit turn after the crash (and restart): it
    fails as not written and the next flush's commit goes ahead."""
    s = diskless()
    flush(s, [row(0)])
    s.writers[0].crash()
    if restart:
        s.writers[0].restart()
    s.world.object_store.put_done[0](True)
    [(rows, reason, maybe)] = s.fleets[0].failures
    assert ([r.partition for r in rows], reason, maybe) == ([0], "broker crashed", False)
    assert s.world.metadata.commits == []
    s.writers[0].restart()
    written(s, row(1))
    assert len(s.world.metadata.commits) == 1


@pytest.mark.parametrize("restart", [False, True])
def test_a_commit_that_lands_after_its_broker_crashed_is_in_the_log_but_not_acked(restart):
    """Rows: (p0, seq 0) new, (p1, seq 1) out of order, (p2, seq 0) a retry of a row
    committed (at offset 0) before. The commit lands after the crash: the new row has
    offset 0 and its object is announced, all three fail as maybe written (the producer
    cannot know), and the log's refusal of (p1, seq 1) is counted."""
    s = diskless(groups=[Group({0: A})])
    earlier = row(2, 0)
    written(s, earlier)
    s.world.metadata.commit_done[0](True)
    written(s, row(0, 0), row(1, 1), earlier)
    s.writers[0].crash()
    if restart:
        s.writers[0].restart()
    s.world.metadata.commit_done[1](True)
    assert s.world.object_store.announced == [0, 1] and len(s.fleets[0].acks) == 1
    [(rows, reason, maybe)] = s.fleets[0].failures
    assert [(r.partition, r.offset) for r in rows] == [(0, 0), (1, -1), (2, 0)]
    assert (reason, maybe) == ("broker crashed before acknowledging", True)
    assert s.counters()["rows_rejected_out_of_order"] == 1


def test_out_of_order_rows_are_refused_and_duplicates_acked_without_a_new_offset():
    """(p0, seq 0) committed; then (p0, seq 0) again, (p1, seq 0) and (p2, seq 1): the
    repeat is acked with its offset 0, p1 appended, p2 refused as out of order."""
    s = diskless()
    earlier = row(0, 0)
    written(s, earlier)
    s.world.metadata.commit_done[0](True)
    written(s, earlier, row(1, 0), row(2, 1))
    s.world.metadata.commit_done[1](True)
    rows, _at = s.fleets[0].acks[1]
    assert [(r.partition, r.offset) for r in rows] == [(1, 0), (0, 0)]
    [(refused, reason, maybe)] = s.fleets[0].failures
    assert ([r.partition for r in refused], reason, maybe) == ([2], OUT_OF_ORDER, False)
    assert s.counters()["rows_rejected_out_of_order"] == 1


def test_an_object_whose_rows_were_all_duplicates_is_released_unannounced():
    s = diskless(groups=[Group({0: A})])
    earlier = row(0, 0)
    written(s, earlier)
    s.world.metadata.commit_done[0](True)
    written(s, earlier)
    s.world.metadata.commit_done[1](True)
    store = s.world.object_store
    assert store.announced == [0] and store.released == [1]
    assert len(s.fleets[0].acks) == 2


# --- committed objects: groups, references, reads ----------------------------------------

def test_a_committed_object_is_announced_recorded_and_held_in_the_writers_zone():
    s = diskless(brokers={A: 1}, groups=[Group({0: A})])
    seen: list[ObjectCommitted] = []
    s.ctx.recorder.subscribe(ObjectCommitted, seen.append)
    s.env.run(until=2.0)
    written(s, row(0, nbytes=300))
    s.world.metadata.commit_done[0](True)
    assert s.world.object_store.announced == [0]
    assert [(e.t, e.object_id, e.region, [r.partition for r in e.rows]) for e in seen] \
        == [(2.0, 0, "us-west1", [0])]
    assert s.caches[A].holds(0) and s.caches[A].used == 300


def test_an_object_nobody_consumes_is_released_at_its_commit():
    s = diskless()
    written(s)
    s.world.metadata.commit_done[0](True)
    assert s.world.object_store.released == [0] and s.world.object_store.gets == []


def test_each_groups_rows_join_its_log_and_hold_the_object_until_all_are_passed():
    """2 groups x 3 rows: the object is released at the 6th commit past one of them."""
    groups = [Group({0: A, 1: A, 2: A}), Group({})]
    s = diskless(groups=groups)
    written(s, row(0), row(1), row(2))
    s.world.metadata.commit_done[0](True)
    assert groups[0].appended_rows == groups[1].appended_rows == [(0, 0), (1, 0), (2, 0)]
    store = s.world.object_store
    passed(s, 0, 5)
    assert store.released == []
    passed(s, 0)
    assert store.released == [0]


def test_an_object_released_while_a_zone_fetches_it_goes_once_the_fetch_lands():
    """Zone C fetches object 0 for group 0; the group passes its only row meanwhile: the
    object stays until the GET is done, then is released and forgotten."""
    group = Group({0: C})
    s = diskless(groups=[group], notify_via_leader=False)
    written(s, row(0))
    s.world.metadata.commit_done[0](True)
    store = s.world.object_store
    assert [g[:3] for g in store.gets] == [(0, 100, C)]
    passed(s, 0)
    assert store.released == []
    store.get_done[0](True)
    assert store.released == [0]
    request(s, 0, 0, C)   # forgotten, and whole in C: no GET, no group hears of it again
    assert group.readies == [(0.0, [0])] and len(store.gets) == 1


def test_a_fetch_that_lands_while_the_object_is_still_referenced_keeps_it():
    s = diskless(groups=[Group({0: C})], notify_via_leader=False)
    written(s, row(0))
    s.world.metadata.commit_done[0](True)
    s.world.object_store.get_done[0](True)
    assert s.world.object_store.released == [] and s.caches[C].holds(0)


def test_each_zone_reads_the_byte_ranges_of_the_partitions_its_owners_read():
    """Object of 1000 bytes: p0 100 + 100 (two rows), p1 200, p2 600, by a writer of 2
    brokers. Zone B owns p0 (group 0) and p1 (group 1): 400 of 1000 bytes, ceil(2 x 0.4)
    = 1 request, after its 5 ms metadata read of 1 request. Zone C owns p2: 600 bytes,
    ceil(1.2) = 2 requests. Zone A wrote it and p1 has no owner in group 0."""
    groups = [Group({0: B, 2: C}), Group({1: B, 3: None})]
    s = diskless(brokers={A: 2}, brokers_per_writer=2, groups=groups)
    written(s, row(0, 0, nbytes=100), row(0, 1, nbytes=100), row(1, nbytes=200),
            row(2, nbytes=600))
    s.world.metadata.commit_done[0](True)
    store = s.world.object_store
    assert s.world.metadata.reads == [(B, 1), (C, 2)]
    assert store.gets == [(0, 400, B, 0.005, 1, 16 * 2**20), (0, 600, C, 0.005, 2, 16 * 2**20)]
    store.get_done[0](True)
    assert s.caches[B].partitions_held(0) == {0, 1}
    assert groups[0].readies == [(0.0, [0, 0])] and groups[1].readies == [(0.0, [1])]


@pytest.mark.parametrize("notify_via_leader, latency, after", [
    (True, 0.005, 0.005), (True, None, 0.0), (False, 0.005, 0.0)])
def test_a_zone_hears_of_an_object_after_a_metadata_read_if_brokers_ask_the_leader(
        notify_via_leader, latency, after):
    """None: the metadata store is unreachable, no wait counted."""
    s = diskless(groups=[Group({0: B})], notify_via_leader=notify_via_leader,
                 read_latency=latency)
    written(s)
    s.world.metadata.commit_done[0](True)
    assert s.world.object_store.gets[0][3] == after


def test_the_writers_zone_hears_of_its_own_object_after_the_metadata_read():
    group = Group({0: A})
    s = diskless(groups=[group])
    s.env.run(until=1.0)
    written(s)
    s.world.metadata.commit_done[0](True)
    assert group.readies == [] and s.world.object_store.gets == []
    s.env.run(until=2.0)
    assert group.readies == [(pytest.approx(1.005), [0])]


def test_the_writers_zone_hears_at_once_without_a_metadata_read():
    group = Group({0: A})
    s = diskless(groups=[group], notify_via_leader=False)
    written(s)
    s.world.metadata.commit_done[0](True)
    assert group.readies == [(0.0, [0])]


def test_a_failed_get_is_retried_after_the_backoff_once_a_copy_is_readable():
    s = diskless(groups=[Group({0: C})], notify_via_leader=False)
    written(s)
    s.world.metadata.commit_done[0](True)
    store = s.world.object_store
    store.get_done[0](False)
    assert len(store.gets) == 1 and 0 in s.caches[C].fetching
    store.waiters[0, C].succeed()
    s.env.run(until=1.0)
    assert [g[3] for g in store.gets] == [0.0, 0.1]


# --- the read path: requests and readiness -----------------------------------------------

def committed_4(groups):
    """Object 0 of 4 rows of 100 bytes (p0..p3) committed by zone A's writer, each zone
    hearing of it at once."""
    s = diskless(groups=groups, notify_via_leader=False)
    written(s, row(0), row(1), row(2), row(3))
    s.world.metadata.commit_done[0](True)
    return s


def test_a_request_reads_the_rows_partition_and_what_the_zones_owners_read():
    """Group 0 owned p0 in C at the commit, and C read it (100 of 400 bytes). Now the
    group owns p1 in C and p2 in B, and asks for p3 (unowned) in C: C reads p1 and p3,
    200 of 400 bytes, at once, and can then serve them."""
    group = Group({0: C})
    s = committed_4([group])
    store = s.world.object_store
    assert store.gets == [(0, 100, C, 0.0, 1, 16 * 2**20)]
    store.get_done[0](True)
    group.owners = {1: C, 2: B}
    request(s, 0, 3, C)
    assert store.gets[1:] == [(0, 200, C, 0.0, 1, 16 * 2**20)]
    store.get_done[1](True)
    assert s.caches[C].partitions_held(0) == {0, 1, 3}
    is_ready = s.world.hooks["is_ready"]
    assert [is_ready(SimpleNamespace(object_id=0, partition=p), C) for p in range(4)] \
        == [True, True, False, True]


def test_a_request_for_an_object_the_zone_holds_or_fetches_reads_nothing():
    """A wrote object 0 (whole there); C's GET for group 0 is under way."""
    s = committed_4([Group({0: C})])
    request(s, 0, 0, A)
    request(s, 0, 1, C)
    assert [g[2] for g in s.world.object_store.gets] == [C]


def test_a_request_for_a_forgotten_object_reads_it_whole():
    """Nothing known of object 5: a GET of size 0 (the store knows it) by every
    broker of the writer, at once; a second request while it runs issues none."""
    s = diskless(brokers={A: 3}, brokers_per_writer=3)
    request(s, 5, 1, B)
    request(s, 5, 2, B)
    assert s.world.object_store.gets == [(5, 0, B, 0.0, 3, 16 * 2**20)]
    assert s.caches[B].fetching == {5}


def test_a_forgotten_object_that_lands_tells_no_group():
    group = Group({1: B})
    s = diskless(groups=[group])
    request(s, 5, 1, B)
    s.world.object_store.get_done[0](True)
    assert s.caches[B].holds(5) and group.readies == []


@pytest.mark.parametrize("per_writer, nbytes, owned, expected", [
    # 100 of 1000 bytes: ceil(3 x 0.1) = 1 request
    (3, (100, 300, 600), {0}, (100, 1, {0})),
    # 0.6: ceil(1.8) = 2 requests; 0.9: ceil(2.7) = 3
    (3, (100, 300, 600), {2}, (600, 2, {2})),
    (3, (100, 300, 600), {1, 2}, (900, 3, {1, 2})),
    # all of it: the whole object (every broker's), no partition list
    (3, (100, 300, 600), {0, 1, 2}, (1000, 3, None)),
    # 3 x 1/3 is exactly 1 request; 10 x 0.3 is 3 (3.0000000000000004 in floats)
    (3, (100, 200), {0}, (100, 1, {0})),
    (10, (300, 700), {0}, (300, 3, {0})),
    # a 1-byte share is 1 byte
    (1, (1, 999), {0}, (1, 1, {0})),
])
def test_a_zone_reads_its_partitions_bytes_in_as_many_broker_objects_as_they_fill(
        per_writer, nbytes, owned, expected):
    """One row per partition of the given bytes; zone B owns ``owned``."""
    s = diskless(brokers={A: per_writer}, brokers_per_writer=per_writer,
                 groups=[Group(dict.fromkeys(owned, B))], notify_via_leader=False)
    written(s, *(row(p, nbytes=n) for p, n in enumerate(nbytes)))
    s.world.metadata.commit_done[0](True)
    store = s.world.object_store
    [(_object, size, _zone, _after, requests, _range)] = store.gets
    store.get_done[0](True)
    part = s.caches[B].partitions_held(0)
    assert (size, requests, part) == (expected[0], expected[1],
                                      None if expected[2] is None else frozenset(expected[2]))


def test_groups_hear_of_a_ready_object_as_its_owners_stood_at_the_commit():
    """Group 0 owns p0 and p2 in C, group 1 nothing there: only group 0 is told when
    C's GET (the second: zones in order, B first) lands."""
    groups = [Group({0: C, 2: C}), Group({1: B})]
    s = committed_4(groups)
    assert [g[2] for g in s.world.object_store.gets] == [B, C]
    s.world.object_store.get_done[1](True)
    assert groups[0].readies == [(0.0, [0, 2])] and groups[1].readies == []


def test_after_a_rebalance_every_group_is_asked_for_its_owners_in_the_zone():
    """Generation moved: group 1 now owns p1 and p3 in C, group 0 nothing there."""
    groups = [Group({0: C}), Group({1: B})]
    s = committed_4(groups)
    groups[0].owners, groups[1].owners = {0: B}, {1: C, 3: C}
    groups[1].generation = 1
    s.world.object_store.get_done[1](True)    # C's
    assert groups[0].readies == [(0.0, [])] and groups[1].readies == [(0.0, [1, 3])]
