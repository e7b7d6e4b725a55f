"""Shared storage (geosim.kafka.shared_storage), event by event, on a SimPy clock against
a recording stand-in for its cluster and object store: the block and object WALs, the
upload and its backlog, a broker's stop and its WAL's destruction, the WAL failover
(one broker at a time, the reopen on the brokers leading the fewest) and catch-up reads.

The stand-in's numbers: region ``r``, zones ``r-a``, ``r-b``, ``r-c``; brokers 0 and 1
in ``r-a``, 2 in ``r-b``, 3 in ``r-c``; run-wide partition ids start at 100. Every
object-store request answers after 1.0 s (a test may plan outcomes and delays, in
order); every controller commit after 0.5 s. A block WAL write takes 0.5 s (p50 = p99:
no spread), an upload runs every 5 s or at 1000 bytes waiting, a volume attaches in
10 s and reads 100 bytes/s. The stand-in's replication records the HW advances it is
asked for and moves nothing (so a partition's HW stays 0 unless a test sets it).
"""

from __future__ import annotations

from collections import defaultdict
from itertools import count
from types import SimpleNamespace

import pytest

from geosim.core.context import Context, call_later
from geosim.core.distributions import LogNormal
from geosim.core.events import Row, WalUploaded
from geosim.kafka.broker import Broker
from geosim.kafka.partition import PartitionState
from geosim.kafka.placement import BrokerInfo
from geosim.kafka.shared_storage import FAILOVER_TICK, RETRY, SharedStorage
from geosim.kafka.storage_spec import SharedStorageSpec
from geosim.kafka.wire import CONTROLLER_RECORD_BYTES

ZONES = ["r-a", "r-b", "r-c"]
BROKER_ZONES = ["r-a", "r-a", "r-b", "r-c"]
BASE = 100
MOVED = "shared storage: reopened on another broker"


class Store:
    """The object store: records each PUT and GET, answers each after a planned
    (delay, ok), else (1.0, True)."""

    def __init__(self, env, zonal: bool = False, home: dict[str, str] | None = None):
        self.env = env
        self.zonal = zonal
        self.home = home or {}
        self.plans: list[tuple[float, bool]] = []
        self.log: list[tuple] = []
        self.released: list[int] = []
        self._ids = count()

    def create(self, size, region):
        return SimpleNamespace(object_id=next(self._ids), size=size, region=region)

    def release(self, object_id):
        self.released.append(object_id)

    def home_site(self, zone):
        return f"bucket@{zone}"

    def home_region(self, region):
        return self.home.get(region, region)

    def put(self, obj, zone, site, done):
        self.log.append(("put", self.env.now, obj.size, obj.region, zone, site))
        self._answer(done)

    def get(self, object_id, size, zone, done):
        self.log.append(("get", self.env.now, object_id, size, zone))
        self._answer(done)

    def _answer(self, done):
        delay, ok = self.plans.pop(0) if self.plans else (1.0, True)
        call_later(self.env, delay, done, ok)


class Cluster:
    """The cluster: brokers, partitions (partition i led by ``leaders[i]``, its only
    replica), and recording stand-ins for replication, the controller and metadata."""

    def __init__(self, leaders):
        self.ctx = Context(seed=0)
        self.env = self.ctx.env
        self.brokers = [Broker(BrokerInfo(i, z, "r", "r"), 0.0)
                        for i, z in enumerate(BROKER_ZONES)]
        self.parts = [PartitionState(i, [b]) for i, b in enumerate(leaders)]
        self.partitions_n = len(self.parts)
        self.partition_base = BASE
        self.zones = ZONES
        self.counters_: defaultdict[str, int] = defaultdict(int)
        self.holds: list = []
        self.calls: list[tuple] = []
        self.down: set[str] = set()
        self.metadata_up = True
        self.commit_plans: list[bool] = []
        self.net = SimpleNamespace(is_down=lambda name: name in self.down)
        self.replication = SimpleNamespace(advance_hw=self._advance_hw)
        self.metadata = SimpleNamespace(available=lambda: self.metadata_up,
                                        commit=self._commit)
        self.controller = SimpleNamespace(leader_zone="r-c", elect=self._elect)
        # the group coordinators (no groups here): tests/test_kafka_coordinator.py
        self.reopened: list[tuple[int, int]] = []
        self.coordinators = SimpleNamespace(
            reopened=lambda b, target: self.reopened.append((b, target)))

    def _advance_hw(self, p):
        self.calls.append(("advance_hw", self.env.now, p.id))

    def _commit(self, zone, size, done):
        self.calls.append(("commit", self.env.now, zone, size))
        ok = self.commit_plans.pop(0) if self.commit_plans else True
        call_later(self.env, 0.5, done, ok)

    def _elect(self, p, reason):
        self.calls.append(("elect", self.env.now, p.id, list(p.replicas), reason))
        p.leader = p.replicas[0]
        p.epoch += 1

    def truncate(self, p, offset, cause):
        self.calls.append(("truncate", self.env.now, p.id, offset, cause))
        p.truncate(offset)

    def rewire(self):
        self.calls.append(("rewire", self.env.now))

    def of(self, kind):
        return [c for c in self.calls if c[0] == kind]


def make(wal="block", leaders=(0, 0, 1, 2), *, zonal=False, home=None, **spec):
    c = Cluster(leaders)
    store = Store(c.env, zonal, home)
    fields = dict(wal=wal, wal_write_p50=0.5, wal_write_p99=0.5, wal_batch_interval=0.25,
                  wal_batch_bytes=10**6, volume_attach=10.0, volume_throughput=100,
                  wal_lost_decision=60.0,
                  config={"s3.wal.upload.interval.ms": 5000, "s3.wal.upload.threshold": 1000})
    fields.update(spec)
    return c, store, SharedStorage(c, SharedStorageSpec(**fields), store, "ss")


def append(c, s, *writes):
    """The leaders append one row per (partition, records, bytes) at their log ends, now
    (the LEO stays at the WAL's durable end, as the produce path leaves it); the rows
    go to the WAL in one call."""
    rows = []
    for pid, records, size in writes:
        p = c.parts[pid]
        row = Row(0, pid, 0, records, size, size, c.env.now, c.env.now, offset=p.log_end)
        durable = p.leo[p.leader]
        p.append(row, c.env.now)
        p.leo[p.leader] = durable
        rows.append(row)
    s.appended(rows)
    return rows


def run(c, until):
    """Run the clock to ``until``, events at ``until`` included."""
    c.env.run(until=until)
    while c.env.peek() == until:
        c.env.step()


def uploads(c):
    found = []
    c.ctx.recorder.subscribe(WalUploaded, lambda ev: found.append((ev.t, ev.partition,
                                                                   ev.end, ev.zone)))
    return found


def crash(c, s, b, *, destroyed=False, zone_down=None):
    """Broker ``b`` stops (its zone down first if given); the fault layer's call."""
    c.brokers[b].alive = False
    if zone_down:
        c.down.add(zone_down)
    s.broker_stopped(b, destroyed)


def fence(c, b):
    """The controller fences ``b``: its partitions (it is their only replica) go
    offline."""
    c.brokers[b].fenced = True
    for p in c.parts:
        if p.leader == b:
            p.leader = None


# ============================================================================ state

def test_a_new_storage_has_nothing_uploaded_or_cached_and_holds_the_log_at_zero():
    c, _store, s = make()
    assert s.uploaded == [0, 0, 0, 0] and s.cached_from == [0, 0, 0, 0]
    assert [c.holds[0](pid) for pid in range(4)] == [0, 0, 0, 0]


@pytest.mark.parametrize("wal, zonal_store, zonal", [
    ("block", False, True), ("block", True, True), ("object", False, False),
    ("object", True, True)])
def test_a_wal_is_zonal_on_a_block_volume_or_in_a_zonal_bucket(wal, zonal_store, zonal):
    assert make(wal, zonal=zonal_store)[2].zonal is zonal


# ======================================================================== block WAL

def test_a_block_write_per_broker_makes_its_rows_durable_after_the_write():
    # At 0: p0 (broker 0) 10 records; durable at 0.5 (not 1.0: the broker's previous
    # write "ended" at 0). At 1.0: p0 and p1 (broker 0) and p2 (broker 1) in one call:
    # two writes (one per broker), durable at 1.5 (1.0 + 0.5): the LEOs go to the rows'
    # ends (offset + records) and each partition's HW is advanced once.
    c, _store, s = make()
    append(c, s, (0, 10, 100))
    run(c, 0.49)
    assert c.parts[0].leo == {0: 0}
    run(c, 0.5)
    assert c.parts[0].leo == {0: 10} and c.of("advance_hw") == [("advance_hw", 0.5, 0)]
    run(c, 1.0)
    append(c, s, (0, 5, 50), (1, 7, 70), (2, 3, 30))
    run(c, 1.49)
    assert [p.leo for p in c.parts[:3]] == [{0: 10}, {0: 0}, {1: 0}]
    run(c, 1.5)
    assert [p.leo for p in c.parts[:3]] == [{0: 15}, {0: 7}, {1: 3}]
    assert c.of("advance_hw")[1:] == [("advance_hw", 1.5, 0), ("advance_hw", 1.5, 1),
                                      ("advance_hw", 1.5, 2)]
    assert c.counters_["wal_writes"] == 3


def test_a_brokers_block_writes_complete_in_order(monkeypatch):
    # Draws 2.0, 0.5, 0.5: broker 0's write at 0 ends at 2.0, so its write at 0.1 (0.6)
    # ends at 2.0 too; broker 1's write at 0.1 ends at 0.6.
    c, _store, s = make()
    monkeypatch.setattr(s, "_write", iter([2.0, 0.5, 0.5]).__next__)
    append(c, s, (0, 10, 100))
    run(c, 0.1)
    append(c, s, (1, 10, 100), (2, 10, 100))
    run(c, 3.0)
    assert c.of("advance_hw") == [("advance_hw", 0.6, 2), ("advance_hw", 2.0, 0),
                                  ("advance_hw", 2.0, 1)]


def test_a_block_write_takes_a_draw_of_the_wal_lognormal_from_the_storages_stream():
    # p50 1 ms, p99 5 ms: the write at 0 is durable at the first draw of the stream
    # "<name>.wal" of the run's seed (0): not the median (the spread is used).
    c, _store, s = make(wal_write_p50=0.001, wal_write_p99=0.005)
    draw = LogNormal(0.001, 0.005).sampler(Context(seed=0).rng("ss.wal"))()
    assert draw != 0.001
    append(c, s, (0, 10, 100))
    run(c, 1.0)
    assert c.of("advance_hw") == [("advance_hw", draw, 0)]


@pytest.mark.parametrize("change", ["re-elected", "offline", "crashed"])
def test_a_write_completing_after_a_leadership_change_or_a_crash_moves_nothing(change):
    # p0's write (at 0, durable at 0.5) lands after p0 was re-elected on broker 0 (a
    # new epoch), went offline (no leader), or broker 0 crashed: its LEO stays 0.
    c, _store, s = make()
    append(c, s, (0, 10, 100))
    p = c.parts[0]
    if change == "re-elected":
        p.epoch += 1
    elif change == "offline":
        p.leader = None
    else:
        c.brokers[0].alive = False
    run(c, 1.0)
    assert p.leo == {0: 0} and c.of("advance_hw") == []


def test_a_write_landing_after_a_cut_moves_the_leo_to_the_log_end_only():
    # p0's rows 0-10 and 10-20 are written at 0; at 0.2 the log is cut at 10: the LEO
    # becomes 10 at 0.5, not 20.
    c, _store, s = make()
    append(c, s, (0, 10, 100), (0, 10, 100))
    run(c, 0.2)
    c.parts[0].truncate(10)
    run(c, 1.0)
    assert c.parts[0].leo == {0: 10}


# ======================================================================= object WAL

def test_an_object_wal_writes_what_a_broker_buffered_every_batch_interval():
    # p0 100 B and p2 40 B at 0.1; at 0.25 each broker PUTs one object of its buffer
    # (its zone, the zone's home bucket site), durable at 1.25; p1 60 B at 0.3 goes in
    # broker 0's next object, at 0.5 (durable 1.5).
    c, store, s = make("object")
    s.start()
    run(c, 0.1)
    append(c, s, (0, 10, 100), (2, 4, 40))
    run(c, 0.3)
    append(c, s, (1, 6, 60))
    run(c, 1.6)
    assert store.log == [("put", 0.25, 100, "r", "r-a", "bucket@r-a"),
                         ("put", 0.25, 40, "r", "r-a", "bucket@r-a"),
                         ("put", 0.5, 60, "r", "r-a", "bucket@r-a")]
    assert c.counters_["wal_objects"] == 3 and c.counters_["wal_writes"] == 0
    assert c.of("advance_hw") == [("advance_hw", 1.25, 0), ("advance_hw", 1.25, 2),
                                  ("advance_hw", 1.5, 1)]
    assert [p.leo for p in c.parts[:3]] == [{0: 10}, {0: 6}, {1: 4}]
    assert store.released == [0, 1, 2]


def test_a_block_wal_writes_no_objects():
    c, store, s = make()
    s.start()
    append(c, s, (0, 10, 100))
    run(c, 1.0)
    assert store.log == [] and c.counters_["wal_objects"] == 0


def test_a_failed_wal_object_is_written_again_ahead_of_what_came_since():
    # wal_batch_bytes 100, a 10 s interval: p0's 100 B at 0 are PUT at once (the batch
    # is full at exactly 100 B), and the PUT fails at 1.0; p1's 50 B at 0.5 wait. The
    # failed rows go back to the head of the buffer: at 1.0 + RETRY one object of 150 B,
    # durable at 3.0, p0's HW advanced before p1's.
    c, store, s = make("object", wal_batch_bytes=100, wal_batch_interval=10.0)
    store.plans = [(1.0, False)]
    s.start()
    append(c, s, (0, 10, 100))
    run(c, 0.5)
    append(c, s, (1, 5, 50))
    run(c, 3.5)
    assert store.log == [("put", 0.0, 100, "r", "r-a", "bucket@r-a"),
                         ("put", 1.0 + RETRY, 150, "r", "r-a", "bucket@r-a")]
    assert c.of("advance_hw") == [("advance_hw", 3.0, 0), ("advance_hw", 3.0, 1)]


def test_a_stopped_brokers_buffer_is_dropped_and_its_next_object_holds_only_new_rows():
    # p0's 100 B buffered at 0.1, broker 0 crashes at 0.2 (not destroyed): nothing is
    # written; back at 1.0, p0's next 30 B make an object of 30 B at 1.25.
    c, store, s = make("object")
    s.start()
    run(c, 0.1)
    append(c, s, (0, 10, 100))
    run(c, 0.2)
    crash(c, s, 0)
    run(c, 1.0)
    assert store.log == []
    c.brokers[0].alive = True
    append(c, s, (0, 3, 30))
    run(c, 1.3)
    assert store.log == [("put", 1.25, 30, "r", "r-a", "bucket@r-a")]


# =========================================================================== upload

def test_every_upload_interval_a_broker_uploads_its_durable_rows_once():
    # p0 100 B and p1 200 B (broker 0) durable at 0.5: at 5.0 one PUT of 300 B; at 6.0
    # both are in object storage up to 10 (WalUploaded, run-wide ids, the zone), and
    # the log is held there. At 10.0 nothing new: no PUT.
    c, store, s = make()
    found = uploads(c)
    s.start()
    append(c, s, (0, 10, 100), (1, 10, 200))
    run(c, 12.0)
    assert store.log == [("put", 5.0, 300, "r", "r-a", "bucket@r-a")]
    assert found == [(6.0, 100, 10, "r-a"), (6.0, 101, 10, "r-a")]
    assert s.uploaded == [10, 10, 0, 0] and c.holds[0](1) == 10
    assert c.counters_["wal_uploads"] == 1 and store.released == [0]


def test_an_upload_takes_only_the_bytes_above_the_uploaded_offsets():
    # p0: 100 B uploaded at 5.0 (committed 6.0), then 70 B more: the PUT at 10.0 is 70 B.
    c, store, s = make()
    found = uploads(c)
    s.start()
    append(c, s, (0, 10, 100))
    run(c, 7.0)
    append(c, s, (0, 4, 70))
    run(c, 12.0)
    assert [entry[:3] for entry in store.log] == [("put", 5.0, 100), ("put", 10.0, 70)]
    assert found == [(6.0, 100, 10, "r-a"), (11.0, 100, 14, "r-a")]


def test_a_wal_uploads_once_its_backlog_reaches_the_threshold_counted_from_zero():
    # Threshold 1000 B: 1000 B durable at 0.5 are uploaded at once (PUT 0.5-1.5, the
    # backlog back to 0); 999 B more (durable 2.5) wait; 1 B more (durable 3.5) makes
    # 1000: uploaded at 3.5.
    c, store, s = make()
    s.start()
    append(c, s, (0, 10, 1000))
    run(c, 2.0)
    append(c, s, (0, 10, 999))
    run(c, 3.0)
    append(c, s, (0, 1, 1))
    run(c, 4.0)
    assert [entry[:3] for entry in store.log] == [("put", 0.5, 1000), ("put", 3.5, 1000)]


def test_an_upload_with_nothing_to_upload_clears_the_backlog():
    # p0's 500 B are durable at 0.5 (backlog 500) and p0 is offline from 1.0: the tick
    # at 5.0 finds nothing broker 0 leads to upload and the backlog goes to 0, so broker
    # 0's next 999 B (as leader again, durable at 6.5) stay below the threshold.
    c, store, s = make()
    s.start()
    append(c, s, (0, 10, 500))
    run(c, 1.0)
    c.parts[0].leader = None
    run(c, 5.5)
    c.parts[0].leader = 0
    append(c, s, (0, 10, 999))
    run(c, 7.0)
    assert store.log == []


def test_bytes_made_durable_during_an_upload_stay_in_the_backlog():
    # Threshold 1000: 1000 B durable at 0.5, uploaded 0.5-1.5; 600 B durable at 1.1
    # meanwhile (no second upload while one runs): backlog 600 after the commit; 300 B
    # (durable 2.5) make 900, 100 B (durable 3.5) make 1000: an upload of 1000 B.
    c, store, s = make()
    s.start()
    append(c, s, (0, 10, 1000))
    run(c, 0.6)
    append(c, s, (0, 10, 600))
    run(c, 2.0)
    append(c, s, (0, 10, 300))
    run(c, 3.0)
    append(c, s, (0, 10, 100))
    run(c, 4.0)
    assert [entry[:3] for entry in store.log] == [("put", 0.5, 1000), ("put", 3.5, 1000)]


@pytest.mark.parametrize("stopped", ["crashed", "fenced"])
def test_a_crashed_or_fenced_broker_does_not_upload(stopped):
    c, store, s = make()
    s.start()
    append(c, s, (0, 10, 100))
    run(c, 1.0)
    if stopped == "crashed":
        crash(c, s, 0)
    else:
        c.brokers[0].fenced = True
    run(c, 6.0)
    assert store.log == [] and s.uploaded == [0, 0, 0, 0]


@pytest.mark.parametrize("during", ["failed", "crashed", "fenced"])
def test_an_upload_commits_nothing_if_it_failed_or_its_broker_stopped_meanwhile(during):
    # p0's 100 B are PUT at 5.0; the PUT fails, or broker 0 crashes or is fenced at
    # 5.5: nothing is uploaded at 6.0. A failed upload is tried again at the next tick
    # (10.0) and commits at 11.0.
    c, store, s = make()
    found = uploads(c)
    if during == "failed":
        store.plans = [(1.0, False)]
    s.start()
    append(c, s, (0, 10, 100))
    run(c, 5.5)
    if during == "crashed":
        c.brokers[0].alive = False
    elif during == "fenced":
        c.brokers[0].fenced = True
    run(c, 12.0)
    if during == "failed":
        assert [entry[:2] for entry in store.log] == [("put", 5.0), ("put", 10.0)]
        assert found == [(11.0, 100, 10, "r-a")]
    else:
        assert [entry[:2] for entry in store.log] == [("put", 5.0)]
        assert found == []


def test_a_broker_uploads_one_at_a_time_and_again_after_a_restart():
    # Threshold 1000: a PUT at 0.5 (1000 B) runs until 1.5; 1000 B more durable at 1.0
    # do not start a second one. Broker 0 crashes at 2.0 (nothing in flight) and is
    # back at 3.0: the tick at 5.0 uploads the 1000 B left.
    c, store, s = make()
    s.start()
    append(c, s, (0, 10, 1000))
    run(c, 0.5)
    append(c, s, (0, 10, 1000))
    run(c, 2.0)
    crash(c, s, 0)
    run(c, 3.0)
    c.brokers[0].alive = True
    run(c, 6.0)
    assert [entry[:3] for entry in store.log] == [("put", 0.5, 1000), ("put", 5.0, 1000)]


def test_an_upload_commits_no_further_than_a_cut_made_while_it_ran():
    # p0 0-20 uploaded from 5.0; the log is cut at 10 at 5.5: uploaded up to 10.
    c, _store, s = make()
    found = uploads(c)
    s.start()
    append(c, s, (0, 10, 100), (0, 10, 100))
    run(c, 5.5)
    c.parts[0].truncate(10)
    run(c, 6.5)
    assert found == [(6.0, 100, 10, "r-a")] and s.uploaded[0] == 10


# =========================================================================== faults

def test_a_crash_loses_nothing_and_keeps_the_durable_end():
    c, _store, s = make()
    append(c, s, (0, 10, 100))
    run(c, 1.0)
    crash(c, s, 0)
    assert c.of("truncate") == [] and c.parts[0].leo == {0: 10} and c.parts[0].log_end == 10


@pytest.mark.parametrize("wal, zonal, region_down, home, cut", [
    # a block volume goes with its zone: its partitions keep what was uploaded
    ("block", False, False, None, "upload"),
    # a regional object WAL outlives its zone
    ("object", False, False, None, None),
    # a zonal bucket goes with the zone
    ("object", True, False, None, "upload"),
    # the region goes and the bucket with it: everything
    ("object", False, True, None, "bucket"),
    # the region goes, the bucket is in another region: what was uploaded stays
    ("object", False, True, {"r": "s"}, "upload"),
])
def test_a_destroyed_wal_takes_the_rows_above_what_its_bucket_kept(wal, zonal, region_down,
                                                                   home, cut):
    # p0 (broker 0): 10 records uploaded at 5.0 (committed 6.0), 5 more appended at 6.5
    # and durable by 8.0 (7.0 on a block volume, 7.75 in an object); p2 (broker 1)
    # untouched. Broker 0 destroyed at 8.0.
    c, _store, s = make(wal, zonal=zonal, home=home)
    s.start()
    append(c, s, (0, 10, 100))
    run(c, 6.5)
    append(c, s, (0, 5, 50), (2, 5, 50))
    run(c, 8.0)
    crash(c, s, 0, destroyed=True, zone_down="r" if region_down else "r-a")
    p = c.parts[0]
    if cut is None:
        assert c.of("truncate") == [] and p.leo == {0: 15} and s.uploaded[0] == 10
    elif cut == "upload":
        assert c.of("truncate") == [
            ("truncate", 8.0, 0, 10, "shared storage: WAL destroyed before its upload")]
        assert p.leo == {0: 10} and p.log_end == 10 and s.uploaded[0] == 10
    else:
        assert c.of("truncate") == [("truncate", 8.0, 0, 0, "shared storage: bucket destroyed")]
        assert p.leo == {0: 0} and s.uploaded[0] == 0
    assert c.parts[2].leo == {1: 5} and c.parts[2].log_end == 5


# ========================================================================= failover

def test_a_block_wal_is_recovered_on_a_broker_of_its_zone_and_reopened_without_copy():
    # Broker 1 leads p0 (100 B durable), p1 (200 B) and p2 (0 B); fenced at 2.5. The
    # failover tick at 3.0 starts the recovery on broker 0 (zone r-a): attach 10 s and
    # read 300 B at 100 B/s (3 s): 16.0; the 300 B not uploaded are PUT (16.0-17.0)
    # and committed (p2 has nothing above 0: no event); one controller commit from the
    # reader's zone for 3 partitions (17.0-17.5). Live brokers 0, 2 and 3 lead 0, 1
    # and 1 partitions: p0 -> 0, p1 -> 0 (tie at 1 with 2 and 3: lowest id), p2 -> 2.
    c, store, s = make(leaders=(1, 1, 1, 2, 3))
    found = uploads(c)
    s.start()
    append(c, s, (0, 10, 100), (1, 10, 200))
    run(c, 1.0)
    crash(c, s, 1)
    run(c, 2.5)
    fence(c, 1)
    run(c, 16.9)
    assert s.uploaded[:3] == [0, 0, 0] and c.counters_["wal_failovers"] == 1
    run(c, 18.0)
    assert store.log == [("put", 16.0, 300, "r", "r-a", "bucket@r-a")]
    assert found == [(17.0, 100, 10, "r-a"), (17.0, 101, 10, "r-a")]
    assert c.of("commit") == [("commit", 17.0, "r-a", 3 * CONTROLLER_RECORD_BYTES)]
    assert c.of("elect") == [("elect", 17.5, 0, [0], MOVED), ("elect", 17.5, 1, [0], MOVED),
                             ("elect", 17.5, 2, [2], MOVED)]
    assert c.of("rewire") == [("rewire", 17.5)]
    assert [p.leader for p in c.parts[:3]] == [0, 0, 2]
    assert c.counters_["partitions_moved"] == 3


def test_a_reopened_partition_starts_on_its_new_broker_at_the_durable_end():
    # p0's 10 records (100 B) durable on broker 1, HW 4 (set by hand: the stand-in's
    # does not move); fenced at 2.5, recovered from 3.0 (attach 10 s, read 1 s, PUT
    # 1 s), moved to broker 0 at 15.5: the new leader's LEO is 10, its follower HW the
    # HW (4), caught up now, its cache starting at 10.
    c, _store, s = make(leaders=(1, 2, 3))
    s.start()
    append(c, s, (0, 10, 100))
    run(c, 1.0)
    p = c.parts[0]
    p.hw = 4
    crash(c, s, 1)
    run(c, 2.5)
    fence(c, 1)
    run(c, 15.4)
    assert (p.replicas, p.leader) == ([1], None)
    run(c, 16.0)
    assert (p.replicas, p.isr, p.leader, p.epoch) == ([0], {0}, 0, 1)
    assert (p.leo, p.follower_hw, p.caught_up) == ({0: 10}, {0: 4}, {0: 15.5})
    assert s.cached_from == [10, 0, 0]


def test_an_object_wal_is_read_back_by_the_first_live_broker_and_its_rest_uploaded():
    # Broker 1's p0: 60 B durable at 1.25 and uploaded from 5.0 (committed 6.0), 40 B
    # appended at 5.1 (durable 6.25). Zone r-a is lost at 7.0 (brokers 0 and 1 with it,
    # fenced at 7.5), but the bucket is regional. Tick 8.0: broker 2 (r-b) GETs the
    # 40 B (8.0-9.0), PUTs them (9.0-10.0), commits from r-b 10.0-10.5; p0 opens on
    # broker 2 (it and broker 3 lead one partition each: the lower id).
    c, store, s = make("object", leaders=(1, 2, 3))
    s.start()
    append(c, s, (0, 6, 60))
    run(c, 5.1)
    append(c, s, (0, 4, 40))
    run(c, 7.0)
    crash(c, s, 0, zone_down="r-a")
    crash(c, s, 1)
    run(c, 7.5)
    fence(c, 0)
    fence(c, 1)
    assert s.uploaded[0] == 6
    del store.log[:]
    run(c, 11.0)
    assert store.log == [("get", 8.0, -1, 40, "r-b"),
                         ("put", 9.0, 40, "r", "r-b", "bucket@r-b")]
    assert c.of("commit") == [("commit", 10.0, "r-b", CONTROLLER_RECORD_BYTES)]
    assert c.parts[0].leader == 2 and s.uploaded[0] == 10


def test_a_wal_all_uploaded_is_reopened_without_a_read_or_an_upload():
    # p0's 100 B uploaded by 6.0; broker 1 fenced at 7.5: at 8.0 no GET, no PUT, no
    # upload event, one commit (8.0-8.5).
    c, store, s = make("object", leaders=(1, 2, 3))
    found = uploads(c)
    s.start()
    append(c, s, (0, 10, 100))
    run(c, 7.0)
    crash(c, s, 1)
    run(c, 7.5)
    fence(c, 1)
    del store.log[:], found[:]
    run(c, 9.0)
    assert store.log == [] and found == []
    assert c.of("commit") == [("commit", 8.0, "r-a", CONTROLLER_RECORD_BYTES)]
    assert c.parts[0].leader == 0


@pytest.mark.parametrize("zonal, zone_down, recovered", [
    (True, False, True), (True, True, False), (False, True, True)])
def test_an_object_wal_in_a_zonal_bucket_is_not_read_while_its_zone_is_down(
        zonal, zone_down, recovered):
    c, _store, s = make("object", leaders=(1, 2, 3), zonal=zonal)
    s.start()
    crash(c, s, 1, zone_down="r-a" if zone_down else None)
    fence(c, 1)
    run(c, 5.0)
    assert c.counters_["wal_failovers"] == (1 if recovered else 0)


@pytest.mark.parametrize("alive, fenced, recovered", [
    (True, False, True), (False, False, False), (True, True, False)])
def test_a_block_wal_is_recovered_only_by_a_live_unfenced_broker_of_its_zone(
        alive, fenced, recovered):
    # Broker 1's only zone peer is broker 0 (brokers 2 and 3 are live elsewhere).
    c, _store, s = make(leaders=(1, 2, 3))
    s.start()
    c.brokers[0].alive, c.brokers[0].fenced = alive, fenced
    crash(c, s, 1)
    fence(c, 1)
    run(c, 5.0)
    assert c.counters_["wal_failovers"] == (1 if recovered else 0)


def test_a_fenced_broker_without_offline_partitions_is_not_recovered():
    # Object WAL: broker 0 (leading nothing) and broker 1 (p0 offline) fenced at 0.5;
    # the tick at 1.0 recovers broker 1 on broker 2 (the first live one): one failover.
    c, store, s = make("object", leaders=(1, 2, 3))
    s.start()
    append(c, s, (0, 10, 100))
    run(c, 0.5)
    c.brokers[0].alive = False
    fence(c, 0)
    crash(c, s, 1)
    fence(c, 1)
    run(c, 3.0)
    assert c.counters_["wal_failovers"] == 1
    assert c.of("commit") == [("commit", 1.0, "r-b", CONTROLLER_RECORD_BYTES)]
    assert c.parts[0].leader == 2


def test_one_wal_is_recovered_at_a_time_and_only_while_the_controller_is_available():
    # Object WAL: p0 (broker 1) and p1 (broker 2) 100 B each, durable at 1.25; both
    # brokers crash and are fenced at 1.5, the controller unavailable until 2.5. Tick
    # 3.0: broker 1's recovery on broker 0 (GET 3.0-4.0, PUT 4.0-5.0, commit 5.0-5.5;
    # the ticks at 4.0 and 5.0 start nothing); tick 6.0: broker 2's (commit 8.0-8.5).
    c, store, s = make("object", leaders=(1, 2, 3))
    c.metadata_up = False
    s.start()
    append(c, s, (0, 10, 100), (1, 10, 100))
    run(c, 1.5)
    for b in (1, 2):
        crash(c, s, b)
        fence(c, b)
    run(c, 2.5)
    c.metadata_up = True
    run(c, 9.0)
    assert [entry[:2] for entry in store.log if entry[0] == "get"] == [
        ("get", 3 * FAILOVER_TICK), ("get", 6 * FAILOVER_TICK)]
    # one partition each (p1 is offline too at 5.0, but not broker 1's)
    assert c.of("commit") == [("commit", 5.0, "r-a", CONTROLLER_RECORD_BYTES),
                              ("commit", 8.0, "r-a", CONTROLLER_RECORD_BYTES)]
    assert [p.leader for p in c.parts] == [0, 0, 3]


@pytest.mark.parametrize("upset", ["put fails", "reader dies", "broker returns"])
def test_a_recovery_that_fails_or_loses_its_reader_or_broker_reopens_nothing(upset):
    # Block WAL, broker 1's p0 (100 B) fenced at 0.5: attach and read 1.0-12.0, PUT
    # 12.0-13.0. The PUT fails, or the reader (broker 0) dies, or broker 1 is unfenced
    # at 12.5: no commit. A failed PUT is tried again from the next tick after 13.0.
    c, store, s = make(leaders=(1, 2, 3))
    s.start()
    append(c, s, (0, 10, 100))
    run(c, 0.5)
    crash(c, s, 1)
    fence(c, 1)
    if upset == "put fails":
        store.plans = [(1.0, False)]
    run(c, 12.5)
    if upset == "reader dies":
        c.brokers[0].alive = False
    elif upset == "broker returns":
        c.brokers[1].fenced = False
    run(c, 14.5)
    assert c.of("commit") == [] and s.uploaded[0] == 0
    assert c.counters_["wal_failovers"] == (2 if upset == "put fails" else 1)


def test_a_failed_reopen_commit_is_counted_and_the_failover_runs_again():
    # Object WAL, nothing durable, broker 1 fenced at 0.5: the commit at 1.0 fails (at
    # 1.5); the tick at 2.0 tries again and it lands at 2.5.
    c, _store, s = make("object", leaders=(1, 2, 3))
    c.commit_plans = [False]
    s.start()
    crash(c, s, 1)
    fence(c, 1)
    run(c, 3.0)
    assert [call[1] for call in c.of("commit")] == [1.0, 2.0]
    assert c.counters_["controller_commit_failures"] == 1
    assert c.parts[0].leader == 0


def test_a_partition_its_broker_leads_again_when_the_reopen_lands_stays():
    # Object WAL, broker 1 leads p0 and p1, fenced at 0.5; commit 1.0-1.5. At 1.2 the
    # broker is back and leads p1 again: only p0 moves (to broker 0).
    c, _store, s = make("object", leaders=(1, 1, 2, 3))
    s.start()
    crash(c, s, 1)
    fence(c, 1)
    run(c, 1.2)
    c.parts[1].leader = 1
    run(c, 2.0)
    assert [(p.replicas, p.leader) for p in c.parts[:2]] == [([0], 0), ([1], 1)]
    assert c.counters_["partitions_moved"] == 1


def test_a_reopen_landing_when_no_broker_is_live_moves_nothing():
    c, _store, s = make("object", leaders=(1, 2, 3))
    s.start()
    crash(c, s, 1)
    fence(c, 1)
    run(c, 1.2)
    for b in (0, 2, 3):
        c.brokers[b].alive = False
    run(c, 2.0)
    assert c.parts[0].leader is None and c.of("rewire") == []


@pytest.mark.parametrize("leader_zone, start", [("r-c", "r-c"), (None, "r-a")])
def test_a_destroyed_wal_is_reopened_at_what_was_uploaded_after_the_decision_delay(
        leader_zone, start):
    # Block WAL, decision 4.5 s: broker 1 (p0: 100 B uploaded by 6.0, 50 B more) is
    # destroyed with its zone at 6.5 and fenced: at 11.0 (6.5 + 4.5 exactly) its
    # partition reopens, with no read, from the controller's zone (or the first zone),
    # at the uploaded 10. Broker 0 is gone with the zone: p0 goes to broker 2.
    c, store, s = make(leaders=(1, 2, 3), wal_lost_decision=4.5)
    c.controller.leader_zone = leader_zone
    s.start()
    append(c, s, (0, 10, 100))
    run(c, 5.5)
    append(c, s, (0, 5, 50))
    run(c, 6.5)
    c.brokers[0].alive = False
    fence(c, 0)
    crash(c, s, 1, destroyed=True, zone_down="r-a")
    fence(c, 1)
    run(c, 12.0)
    assert c.of("commit") == [("commit", 11.0, start, CONTROLLER_RECORD_BYTES)]
    assert [entry[0] for entry in store.log] == ["put"]  # the upload at 5.0 only
    p = c.parts[0]
    assert (p.replicas, p.leader, p.leo, p.log_end) == ([2], 2, {2: 10}, 10)
    assert c.counters_["wal_failovers"] == 0


# ============================================================================ reads

def moved(rows=((10, 100), (10, 100)), cached_from=20, **kw):
    """Partition 0 holds ``rows`` (records, bytes) and opened on its leader at
    ``cached_from``."""
    c, store, s = make(**kw)
    for records, size in rows:
        p = c.parts[0]
        p.append(Row(0, 0, 0, records, size, size, 0.0, 0.0, offset=p.log_end), 0.0)
    s.cached_from[0] = cached_from
    return c, store, s


def test_a_read_below_the_cache_gets_the_missing_range_once_per_zone():
    # Cache from 20; a consumer in r-b at 0: one GET of 200 B into the leader's zone
    # r-c; a second read while it runs waits (True) without a GET; when it lands (1.0)
    # the read runs again, and then the cache serves r-b (False) at 0 and at 20; r-a
    # has its own GET.
    c, store, s = moved()
    again = []
    p = c.parts[0]
    assert s.catch_up(p, 0, "r-b", "r-c", lambda: again.append(c.env.now)) is True
    assert s.catch_up(p, 20, "r-b", "r-c", lambda: again.append(-1)) is False
    assert s.catch_up(p, 10, "r-b", "r-c", lambda: again.append(-1)) is True
    assert store.log == [("get", 0.0, -1, 200, "r-c")]
    run(c, 2.0)
    assert again == [1.0]
    assert s.catch_up(p, 0, "r-b", "r-c", lambda: again.append(-1)) is False
    assert s.catch_up(p, 0, "r-a", "r-c", lambda: again.append(-1)) is True
    assert store.log[1:] == [("get", 2.0, -1, 200, "r-c")]
    assert c.counters_["catch_up_reads"] == 2 and again == [1.0]


def test_a_read_at_the_cache_start_is_served_by_the_cache_even_while_a_get_runs():
    c, store, s = moved()
    p = c.parts[0]
    assert s.catch_up(p, 10, "r-b", "r-c", lambda: None) is True
    assert s.catch_up(p, 20, "r-b", "r-c", lambda: None) is False


def test_a_zone_caught_up_to_an_older_cache_start_reads_again():
    # r-b got the range below 10; the partition moved again, its cache now from 20: a
    # read at 0 GETs again (bytes 0-20).
    c, store, s = moved(cached_from=10)
    p = c.parts[0]
    s.catch_up(p, 0, "r-b", "r-c", lambda: None)
    run(c, 2.0)
    s.cached_from[0] = 20
    assert s.catch_up(p, 0, "r-b", "r-c", lambda: None) is True
    assert [entry[3] for entry in store.log] == [100, 200]


def test_a_failed_catch_up_read_runs_the_read_again_after_the_retry_delay():
    c, store, s = moved()
    store.plans = [(1.0, False)]
    again = []
    p = c.parts[0]
    s.catch_up(p, 0, "r-b", "r-c", lambda: again.append(c.env.now))
    run(c, 1.5)
    assert again == []
    run(c, 3.0)
    assert again == [1.0 + RETRY]
    assert s.catch_up(p, 0, "r-b", "r-c", lambda: None) is True
    assert [entry[1] for entry in store.log] == [0.0, 3.0]


@pytest.mark.parametrize("rows, prune, fetched", [
    # a one-byte row below the cache start is read
    (((10, 1), (10, 1)), 0, True),
    # the rows below the cache start were pruned: nothing to read, the cache serves
    (((10, 100), (10, 100)), 20, False),
])
def test_a_read_gets_only_a_range_that_has_bytes(rows, prune, fetched):
    c, store, s = moved(rows=rows, cached_from=10)
    p = c.parts[0]
    p.prune(prune)
    assert s.catch_up(p, 0, "r-b", "r-c", lambda: None) is fetched
    assert len(store.log) == (1 if fetched else 0)
