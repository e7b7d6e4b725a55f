"""Object storage buckets: PUT/GET timing, async replication, outages (components.object_store).

Exact-timing tests run on the constant-RTT topology (inter-zone RTT 1 ms, so a zone
reaches its region's storage endpoint in 0.5 ms; us-west1 <-> us-west2 24 ms) with
constant PUT/GET latencies; distribution tests on the GCP topology with the schema's
default latency fits.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from geosim.components.object_store import REQUEST_BYTES, ObjectStore, StoredObject
from geosim.core.events import ObjectStored, ReadBlocked
from geosim.scenario import schema
from geosim.world.network import Network

PUT_S = 0.200
GET_S = 0.100
HOP = 0.0005  # one way, zone <-> its region's endpoint (constant topology)
HOUR = 3600.0
SIZE = 4 * 2**20


def make_store(network: Network, constant_latency: bool = True, **spec) -> ObjectStore:
    data = {"kind": "multi-region", "regions": ["us-west1", "us-west2"], **spec}
    if constant_latency:
        data.setdefault("put_latency", {"dist": "constant", "value": PUT_S})
        data.setdefault("get_latency", {"dist": "constant", "value": GET_S})
    return ObjectStore(network.ctx, network, schema.ObjectStoreSpec.model_validate(data))


class Outcomes:
    """Collects ``done(ok)`` callbacks with the simulated time they came at."""

    def __init__(self, env):
        self.env = env
        self.calls: list[tuple[float, bool]] = []

    def __call__(self, ok: bool) -> None:
        self.calls.append((self.env.now, ok))


def put_one(store: ObjectStore, zone: str = "us-west1-a", size: int = SIZE
            ) -> tuple[StoredObject, Outcomes]:
    region = store.network.topology.region_of(zone)
    obj = store.create(size, region)
    done = Outcomes(store.env)
    store.put(obj, zone, store.home_site(zone), done)
    return obj, done


def put_settled(store: ObjectStore, zone: str = "us-west1-a") -> StoredObject:
    """PUT an object and run one simulated second, so it is durable at home."""
    obj, done = put_one(store, zone)
    store.env.run(until=store.env.now + 1)
    assert done.calls and done.calls[0][1]
    return obj


@pytest.fixture
def store(constant_network) -> ObjectStore:
    return make_store(constant_network)


# --- PUT ---------------------------------------------------------------------------------

def test_put_completes_after_the_put_latency(store):
    obj, done = put_one(store)
    store.env.run(until=10)
    assert done.calls == [(pytest.approx(HOP + PUT_S + HOP), True)]
    # Durable in the home region when the service finished, before the response arrived.
    assert obj.copies["us-west1"] == pytest.approx(HOP + PUT_S)
    assert store.counters["object_puts"] == 1
    assert store.counters["object_put_bytes"] == SIZE
    assert store.network.bytes[("us-west1-a", "us-west1", "object_put")] == SIZE + REQUEST_BYTES
    assert store.network.bytes[("us-west1", "us-west1-a", "object_put")] == REQUEST_BYTES


def test_put_latency_follows_the_default_fit(network):
    store = make_store(network, constant_latency=False)
    assert store.service.name == "gcs-multi-region"
    dones = [put_one(store)[1] for _ in range(4000)]
    store.env.run(until=60)
    times = np.array([d.calls[0][0] for d in dones])
    assert all(d.calls[0][1] for d in dones)
    # gcs preset: F p50 60 ms / p99 300 ms, plus 4 MiB at 200 MiB/s (20 ms), plus
    # ~0.5 ms to the endpoint and back and the TCP-window bound (4 MiB over 4 MiB).
    assert np.median(times) == pytest.approx(0.0805, rel=0.04)
    assert np.quantile(times, 0.99) == pytest.approx(0.3205, rel=0.06)


def test_time_to_first_byte_plus_bytes_over_throughput(constant_network):
    """T = F + s / B: with a constant F, the size term is exactly s / B."""
    store = make_store(constant_network, put_throughput="100MiB/s",
                       get_throughput="50MiB/s")
    obj, done = put_one(store, size=8 * 2**20)
    store.env.run(until=10)
    assert done.calls == [(pytest.approx(2 * HOP + PUT_S + 0.08), True)]
    got = Outcomes(store.env)
    store.get(obj.object_id, 2 * 2**20, "us-west1-b", got)
    start = store.env.now
    store.env.run(until=start + 10)
    assert got.calls[0][0] - start == pytest.approx(2 * HOP + GET_S + 0.04, rel=0.01)


def test_ranged_gets_are_timed_as_one_range_and_counted_as_all(constant_network):
    store = make_store(constant_network, get_throughput="16MiB/s")
    obj = put_settled(store)
    got = Outcomes(store.env)
    start = store.env.now
    store.get(obj.object_id, 40 * 2**20, "us-west1-b", got, part_bytes=16 * 2**20)
    store.env.run(until=start + 10)
    # three ranges (16 + 16 + 8 MiB) on three connections: one range's time
    assert got.calls[0][0] - start == pytest.approx(2 * HOP + GET_S + 1.0, rel=0.01)
    assert store.counters["object_gets"] == 3
    assert store.counters["object_get_bytes"] == 40 * 2**20


def test_presets_follow_the_provider_and_the_service(constant_network):
    store = ObjectStore(constant_network.ctx, constant_network, schema.ObjectStoreSpec(
        kind="regional", regions=["us-west1"]), "aws")
    assert store.service.name == "s3-standard"
    assert store.service.get_ttfb.p50 == 0.025
    assert store.service.get_throughput.value == 85 * 2**20
    express = make_store(constant_network, kind="regional", regions=["us-west1"],
                         service="s3-express-one-zone", zones=["us-west1-a", "us-west1-b"])
    assert express.zonal and express.sites == ["us-west1-a", "us-west1-b"]


def test_zonal_bucket_read_from_another_zone_pays_the_inter_zone_round_trip(constant_network):
    store = make_store(constant_network, kind="regional", regions=["us-west1"],
                       service="s3-express-one-zone", zones=["us-west1-a"])
    obj, done = put_one(store, zone="us-west1-a")
    store.env.run(until=1)
    assert done.calls[0][1] and set(obj.copies) == {"us-west1-a"}
    same, other = Outcomes(store.env), Outcomes(store.env)
    store.get(obj.object_id, 1024, "us-west1-a", same)
    store.get(obj.object_id, 1024, "us-west1-b", other)
    store.env.run(until=2)
    assert other.calls[0][0] - same.calls[0][0] == pytest.approx(
        constant_network.topology.median_rtt("us-west1-a", "us-west1-b")
        - constant_network.topology.median_rtt("us-west1-a", "us-west1-a"), rel=0.05)
    assert store.counters["object_gets_cross_zone"] == 1
    # the object's bytes cross from the bucket's zone to the reader's
    assert constant_network.bytes[("us-west1-a", "us-west1-b", "object_get")] == 1024
    assert constant_network.bytes[("us-west1-b", "us-west1-a", "object_get")] == REQUEST_BYTES


def test_zonal_bucket_goes_down_with_its_zone(constant_network):
    store = make_store(constant_network, kind="regional", regions=["us-west1"],
                       service="s3-express-one-zone", zones=["us-west1-a"])
    obj = put_settled(store, zone="us-west1-a")
    constant_network.set_down("us-west1-a")
    assert store.source_for(obj.object_id, "us-west1-b") is None
    constant_network.set_down("us-west1-a", down=False)
    assert store.source_for(obj.object_id, "us-west1-b") == "us-west1-a"


def test_put_into_a_down_region_fails(store):
    store.fail_region("us-west1")
    obj, done = put_one(store)
    store.env.run(until=10)
    assert done.calls == [(0.0, False)]
    assert obj.copies == {}


def test_put_transfer_time_per_mib(constant_network):
    store = make_store(constant_network, transfer_time_per_mib=0.01)
    _, done = put_one(store, size=8 * 2**20)
    store.env.run(until=10)
    assert done.calls == [(pytest.approx(HOP + PUT_S + 0.08 + HOP), True)]


# --- asynchronous replication --------------------------------------------------------------

def replication_delays(store: ObjectStore, n: int) -> np.ndarray:
    objs = [put_one(store, size=1000)[0] for _ in range(n)]
    store.env.run(until=60)
    return np.array([t - obj.copies[obj.writer_region] for obj in objs
                     for region, t in obj.copies.items() if region != obj.writer_region])


def test_default_replication_honours_the_sla(network):
    # 99.9 % within 1 h, 100 % within 12 h (figures.md O1).
    store = make_store(network, regions=["us-west1", "us-west2", "us-west3"])
    delays = replication_delays(store, 25_000)
    assert len(delays) == 50_000 and delays.min() > 0
    assert delays.max() <= 12 * HOUR
    # Empirical 99.9 % quantile <= 1 h up to sampling error: the fraction within 1 h is
    # at least 99.9 % minus four binomial standard errors.
    within = float(np.mean(delays <= HOUR))
    assert within >= 0.999 - 4 * math.sqrt(0.999 * 0.001 / len(delays))
    assert np.median(delays) == pytest.approx(300.0, rel=0.05)  # assumed p50: 5 min


def test_turbo_replication_is_within_15_minutes(network):
    store = make_store(network, kind="dual-region", replication={"preset": "turbo"})
    delays = replication_delays(store, 10_000)
    assert len(delays) == 10_000
    assert delays.max() <= 15 * 60


def test_replication_bytes_cross_regions_once(store):
    for _ in range(3):
        put_one(store, size=1000)
    store.env.run(until=10)
    assert store.counters["object_replication_bytes"] == 3000
    assert store.network.bytes[("us-west1", "us-west2", "object_replication")] == 3000


def test_regional_bucket_never_replicates(constant_network):
    store = make_store(constant_network, kind="regional")
    objs = [put_one(store)[0] for _ in range(50)]
    store.env.run(until=13 * HOUR)
    assert all(set(obj.copies) == {"us-west1"} for obj in objs)
    assert store.counters["object_replication_bytes"] == 0
    assert not any(purpose == "object_replication" for _, _, purpose in store.network.bytes)
    # A reader elsewhere is always served from the writer's bucket.
    assert store.source_for(objs[0].object_id, "us-west2") == "us-west1"


def test_announce_emits_the_durable_copies(store):
    events = []
    store.ctx.recorder.subscribe(ObjectStored, events.append)
    obj, _ = put_one(store)
    store.env.run(until=1)
    store.announce(obj)
    assert len(events) == 1
    assert events[0].object_id == obj.object_id
    assert dict(events[0].copies) == obj.copies


# --- reads -------------------------------------------------------------------------------

def test_get_in_the_writer_region_is_local(store):
    obj, _ = put_one(store)
    store.env.run(until=1)
    got = Outcomes(store.env)
    store.get(obj.object_id, SIZE, "us-west1-b", got)
    store.env.run(until=2)
    assert got.calls == [(pytest.approx(1 + HOP + GET_S + HOP), True)]
    assert store.counters["object_gets"] == 1
    assert store.counters["object_gets_cross_region"] == 0


def test_get_before_replication_reads_through_from_the_source(store):
    obj, _ = put_one(store)
    store.env.run(until=1)
    assert obj.copies["us-west2"] > 1  # not yet replicated
    assert store.source_for(obj.object_id, "us-west2") == "us-west1"
    got = Outcomes(store.env)
    store.get(obj.object_id, SIZE, "us-west2-a", got)
    store.env.run(until=2)
    # The reader's region asks the source region and gets the data back (the 24 ms
    # RTT), plus the zone's request and response, plus the GET.
    assert got.calls == [(pytest.approx(1 + 0.024 + HOP + GET_S + HOP), True)]
    assert store.counters["object_gets_cross_region"] == 1
    assert store.network.bytes[("us-west1", "us-west2", "object_get")] == SIZE
    assert store.network.bytes[("us-west2", "us-west2-a", "object_get")] == SIZE


def test_get_after_replication_is_local(store):
    obj = put_settled(store)
    store.env.run(until=obj.copies["us-west2"] + 1)
    assert store.source_for(obj.object_id, "us-west2") == "us-west2"
    got = Outcomes(store.env)
    store.get(obj.object_id, SIZE, "us-west2-a", got)
    store.env.run(until=store.env.now + 1)
    assert got.calls and got.calls[0][1]
    assert store.counters["object_gets_cross_region"] == 0
    assert ("us-west1", "us-west2", "object_get") not in store.network.bytes


def test_fully_replicated_objects_are_forgotten_but_stay_readable(store):
    obj, _ = put_one(store)
    store.env.run(until=13 * HOUR)
    put_one(store)  # creating an object prunes the fully replicated ones
    assert store.tracked_objects == 1
    store.fail_region("us-west1")
    assert store.source_for(obj.object_id, "us-west2") == "us-west2"
    assert store.source_for(obj.object_id, "us-west1") == "us-west2"


# --- outage vs destruction ----------------------------------------------------------------

def test_outage_blocks_unreplicated_objects_until_recovery(store):
    blocked = []
    store.ctx.recorder.subscribe(ReadBlocked, blocked.append)
    replicated = put_settled(store)
    store.env.run(until=replicated.copies["us-west2"] + 1)
    pending = put_settled(store)
    due = pending.copies["us-west2"]
    assert due > store.env.now

    failed_at = store.env.now
    store.network.set_down("us-west1")
    store.fail_region("us-west1")
    assert store.source_for(pending.object_id, "us-west2") is None
    assert store.source_for(replicated.object_id, "us-west2") == "us-west2"
    got = Outcomes(store.env)
    store.get(pending.object_id, SIZE, "us-west2-a", got)
    waiter = store.when_readable(pending.object_id, "us-west2")
    store.env.run(until=due + 60)  # the copy was due meanwhile: it stalled instead
    assert got.calls == [(failed_at, False)]
    assert [(e.object_id, e.region) for e in blocked] == [(pending.object_id, "us-west2")]
    assert store.source_for(pending.object_id, "us-west2") is None
    assert not waiter.triggered

    recovery = store.env.now
    store.network.set_down("us-west1", False)
    store.recover_region("us-west1")
    assert waiter.triggered
    assert store.source_for(pending.object_id, "us-west2") is not None
    assert pending.copies["us-west2"] == pytest.approx(max(due, recovery))
    assert store.counters["objects_lost"] == 0


def test_short_outage_keeps_the_original_replication_time(store):
    obj, _ = put_one(store)
    store.env.run(until=1)
    due = obj.copies["us-west2"]
    store.fail_region("us-west1")
    assert obj.copies["us-west2"] == math.inf
    store.env.run(until=2)
    store.recover_region("us-west1")
    assert obj.copies["us-west2"] == due
    assert store.source_for(obj.object_id, "us-west2") == "us-west1"


def test_destruction_loses_unreplicated_objects_for_good(store):
    replicated = put_settled(store)
    store.env.run(until=replicated.copies["us-west2"] + 1)
    pending = [put_one(store)[0] for _ in range(3)]
    store.env.run(until=store.env.now + 1)
    assert all(obj.copies["us-west2"] > store.env.now for obj in pending)

    store.network.set_down("us-west1")
    store.fail_region("us-west1", destroy=True)
    assert store.counters["objects_lost"] == 3
    waiters = [store.when_readable(obj.object_id, "us-west2") for obj in pending]
    store.recover_region("us-west1")  # a destroyed region does not come back
    store.env.run(until=store.env.now + 13 * HOUR)
    for obj, waiter in zip(pending, waiters, strict=True):
        assert store.source_for(obj.object_id, "us-west2") is None
        assert store.source_for(obj.object_id, "us-west1") is None
        assert not waiter.triggered
    assert store.source_for(replicated.object_id, "us-west2") == "us-west2"
    assert store.counters["objects_lost"] == 3


def test_destroying_a_replica_region_loses_nothing(store):
    obj, _ = put_one(store)
    store.env.run(until=1)
    store.fail_region("us-west2", destroy=True)
    assert store.counters["objects_lost"] == 0
    assert store.source_for(obj.object_id, "us-west1") == "us-west1"
    store.env.run(until=13 * HOUR)
    assert obj.copies["us-west2"] == math.inf  # the copy never happens
    assert store.source_for(obj.object_id, "us-west1") == "us-west1"


def test_a_lost_object_is_counted_once(store):
    put_one(store)
    store.env.run(until=1)
    store.fail_region("us-west1", destroy=True)
    store.fail_region("us-west2", destroy=True)
    assert store.counters["objects_lost"] == 1


def test_resuming_replication_does_not_resurrect_lost_objects(store):
    obj, _ = put_one(store)
    store.env.run(until=1)
    store.fail_region("us-west1", destroy=True)
    assert store.counters["objects_lost"] == 1
    store.pause_replication(True)
    store.env.run(until=2)
    store.pause_replication(False)
    store.env.run(until=13 * HOUR)
    assert store.source_for(obj.object_id, "us-west2") is None


def test_resuming_replication_keeps_home_copies_readable(store):
    store.pause_replication(True)
    obj, done = put_one(store)
    store.env.run(until=10)
    assert done.calls[0][1]
    assert store.source_for(obj.object_id, "us-west1") == "us-west1"
    store.pause_replication(False)
    assert store.source_for(obj.object_id, "us-west1") == "us-west1"


def test_paused_replication_holds_copies_then_resumes(store):
    store.pause_replication(True)
    store.env.run(until=1)
    obj, _ = put_one(store)
    store.env.run(until=13 * HOUR)
    assert obj.copies["us-west2"] == math.inf
    assert store.source_for(obj.object_id, "us-west2") == "us-west1"
    resumed = store.env.now
    store.pause_replication(False)
    assert resumed < obj.copies["us-west2"] <= resumed + 12 * HOUR


def test_when_readable_fires_when_a_partition_heals(store):
    obj, _ = put_one(store)
    store.env.run(until=1)
    store.network.partition("us-west1", "us-west2")
    assert store.source_for(obj.object_id, "us-west2") is None
    waiter = store.when_readable(obj.object_id, "us-west2")
    store.wake_readers()
    assert not waiter.triggered
    store.network.partition("us-west1", "us-west2", active=False)
    store.wake_readers()
    assert waiter.triggered


def test_when_readable_fires_when_the_copy_lands(store):
    obj, _ = put_one(store)
    store.env.run(until=1)
    store.network.partition("us-west1", "us-west2")
    waiter = store.when_readable(obj.object_id, "us-west2")
    store.env.run(until=obj.copies["us-west2"] + 1)
    assert store.source_for(obj.object_id, "us-west2") == "us-west2"
    assert waiter.triggered


def test_when_readable_fires_when_a_copy_lands_in_another_region_the_reader_reaches(store):
    """A reader in us-west3 (no bucket there) cut off from us-west1, the only copy:
    it can read once the copy lands in us-west2, which it reaches."""
    obj, _ = put_one(store)
    store.env.run(until=1)
    store.network.partition("us-west1", "us-west3")
    assert store.source_for(obj.object_id, "us-west3") is None
    waiter = store.when_readable(obj.object_id, "us-west3")
    landing = obj.copies["us-west2"]
    store.env.run(until=landing)
    assert not waiter.triggered
    store.env.run(until=landing + 1e-9)
    assert waiter.triggered and store.source_for(obj.object_id, "us-west3") == "us-west2"


def test_slowdown_scales_service_time(store):
    store.set_slowdown("us-west1", 5.0)
    _, slow = put_one(store)
    store.env.run(until=10)
    store.set_slowdown("us-west1", None)
    _, fast = put_one(store)
    store.env.run(until=20)
    assert slow.calls[0][0] == pytest.approx(HOP + 5 * PUT_S + HOP)
    assert fast.calls[0][0] - 10 == pytest.approx(HOP + PUT_S + HOP)


def test_home_region_is_the_nearest_bucket_region(constant_network):
    store = make_store(constant_network)
    assert store.home_region("us-west2") == "us-west2"
    assert store.home_region("us-west3") == "us-west2"  # 13 ms vs 30 ms


def test_a_region_outage_takes_down_every_zonal_bucket_of_that_region(constant_network):
    store = make_store(constant_network, kind="regional", regions=["us-west1"],
                       service="s3-express-one-zone", zones=["us-west1-a", "us-west1-b"])
    obj = put_settled(store, zone="us-west1-a")
    assert store.source_for(obj.object_id, "us-west1-b") == "us-west1-a"
    store.fail_region("us-west1")
    assert store.source_for(obj.object_id, "us-west1-b") is None
    assert store.source_for(obj.object_id, "us-west1-a") is None


def test_a_destroyed_zone_loses_its_zonal_buckets_copies_for_good(constant_network):
    """destroy_zone on a zonal service: the only copy in that zone is lost (counted
    once) and the bucket does not come back with its region."""
    store = make_store(constant_network, kind="regional", regions=["us-west1"],
                       service="s3-express-one-zone", zones=["us-west1-a"])
    obj = put_settled(store, zone="us-west1-a")
    store.destroy_zone("us-west1-a")
    assert store.counters["objects_lost"] == 1
    assert math.isinf(obj.copies["us-west1-a"])
    store.recover_region("us-west1")
    assert store.source_for(obj.object_id, "us-west1-b") is None


def test_a_zonal_bucket_is_written_in_the_writers_zone_else_the_nearest_zone_first_by_name(
        constant_network):
    """``home_site`` of a zonal bucket: the writer's own zone when the bucket has it,
    else the nearest of its zones, ties (every inter-zone RTT is the same constant
    here) broken by name."""
    store = make_store(constant_network, kind="regional", regions=["us-west1"],
                       service="s3-express-one-zone", zones=["us-west1-c", "us-west1-b"])
    assert store.home_site("us-west1-c") == "us-west1-c"
    assert store.home_site("us-west1-b") == "us-west1-b"
    assert store.home_site("us-west1-a") == "us-west1-b"


def test_fully_replicated_objects_are_forgotten_when_the_table_has_doubled(store):
    """``_prune``'s documented schedule: at each create, the table is scanned when it
    holds at least twice what the last scan left (at least 1), and the scan forgets the
    objects whose every copy has landed. Worked by hand (a copy lands within 12 h; the
    home copy 0.2 s after a PUT):"""
    def put(n_after: int) -> None:
        put_one(store)
        assert store.tracked_objects == n_after

    put(1)
    store.env.run(until=13 * HOUR)   # 1 replicated
    put(1)                           # scan (1 >= 1): 1 forgotten; next scan at 1
    store.env.run(until=26 * HOUR)   # 2 replicated
    put(1)                           # scan (1 >= 1): 2 forgotten; next scan at 1
    store.env.run(until=26 * HOUR + 1)   # 3 at home, its copy not landed
    put(2)                           # scan (1 >= 1): 3 kept; next scan at 2
    put(3)                           # scan (2 >= 2): nothing; next scan at 4
    store.env.run(until=40 * HOUR)   # 3, 4, 5 replicated
    put(4)                           # 3 < 4: no scan
    put(2)                           # scan (4 >= 4): 3-5 forgotten, 6 kept; next at 2
    put(3)                           # scan (2 >= 2): nothing; next scan at 4


def test_forgetting_a_replicated_object_does_not_change_where_it_is_read_from(store):
    """Forgetting is meant to be invisible ("a forgotten object is readable from any
    live bucket region"). A reader in us-west3 (no bucket site) cut off from us-west2:
    a tracked, fully replicated object is read from us-west1 (reachable, 30 ms); once
    forgotten, the nearest live site was chosen without the reachability check, us-west2
    (13 ms, unreachable), so whether a read during a partition was blocked depended on
    when the table last doubled (found by the sixth mutation round, fixed since)."""
    obj, _ = put_one(store)
    store.env.run(until=13 * HOUR)
    store.network.partition("us-west3", "us-west2")
    tracked = store.source_for(obj.object_id, "us-west3")
    assert tracked == "us-west1"
    put_one(store)                           # the scan forgets obj
    assert store.tracked_objects == 1
    assert store.source_for(obj.object_id, "us-west3") == tracked
