"""Object storage, exact cases (components.object_store): request envelopes and shares,
the GET's size, slowdown and transfer terms, zonal reads, failed trips, outages that
come and go, and pauses of replication.

Same set-up as ``test_object_store.py``: the constant-RTT topology (a zone reaches its
region's storage endpoint in ``HOP`` = 0.5 ms, us-west1 <-> us-west2 24 ms) and constant
PUT/GET service times (200 ms / 100 ms), so each expected time is a sum of those terms.
A drawn replication delay is read from the object before the step under test, never
recomputed.
"""

from __future__ import annotations

import math

import pytest
from test_object_store import GET_S, HOP, PUT_S, SIZE, Outcomes, make_store, put_one

from geosim.components.object_store import ObjectStore
from geosim.core.events import ObjectStored
from geosim.world.network import Network

MIB = 2**20


@pytest.fixture
def store(constant_network: Network) -> ObjectStore:
    return make_store(constant_network)


def run_for(store: ObjectStore, seconds: float) -> None:
    store.env.run(until=store.env.now + seconds)


# --- identifiers, envelopes and shares ---------------------------------------------------

def test_objects_are_numbered_from_zero_in_creation_order(store):
    # -1 is what shared storage reads as "an object never tracked", so ids start at 0
    # and count up by one per create.
    assert [store.create(1000, "us-west1").object_id for _ in range(3)] == [0, 1, 2]


def test_every_request_carries_a_one_kib_envelope_each_way(store):
    """REQUEST_BYTES: the module's assumed request/response envelope, 1 KiB per request
    and per direction; a PUT of 2 requests sends its bytes plus 2 KiB and gets 2 KiB
    back; a GET of 3 requests asks with 3 KiB and gets the object back."""
    obj, done = put_one(store, size=8000)
    pair = store.create(8000, "us-west1")
    store.put(pair, "us-west1-a", "us-west1", done, requests=2)
    run_for(store, 1)
    bytes_ = store.network.bytes
    # the first object's PUT (1 request) plus the second's (2 requests)
    assert bytes_[("us-west1-a", "us-west1", "object_put")] == 2 * 8000 + 3 * 1024
    assert bytes_[("us-west1", "us-west1-a", "object_put")] == 3 * 1024
    assert store.counters["object_puts"] == 3
    got = Outcomes(store.env)
    store.get(obj.object_id, 8000, "us-west1-b", got, requests=3)
    run_for(store, 1)
    assert store.network.bytes[("us-west1-b", "us-west1", "object_get")] == 3 * 1024
    assert store.network.bytes[("us-west1", "us-west1-b", "object_get")] == 8000
    assert store.counters["object_gets"] == 3


def test_a_put_of_several_requests_takes_the_time_of_its_share(constant_network):
    # 8 MiB as 4 requests: each moves 2 MiB at 100 MiB/s, 20 ms, after the 200 ms F.
    store = make_store(constant_network, put_throughput="100MiB/s")
    obj = store.create(8 * MIB, "us-west1")
    done = Outcomes(store.env)
    store.put(obj, "us-west1-a", "us-west1", done, requests=4)
    store.env.run(until=10)
    assert done.calls == [(pytest.approx(HOP + PUT_S + 0.02 + HOP), True)]
    assert obj.copies["us-west1"] == pytest.approx(HOP + PUT_S + 0.02)


def test_a_get_of_several_requests_takes_the_time_of_its_share(constant_network):
    # 4 MiB as 2 requests: each moves 2 MiB at 50 MiB/s, 40 ms, after the 100 ms F.
    store = make_store(constant_network, get_throughput="50MiB/s")
    obj, _ = put_one(store)
    store.env.run(until=1)
    got = Outcomes(store.env)
    store.get(obj.object_id, 4 * MIB, "us-west1-b", got, requests=2)
    store.env.run(until=2)
    assert got.calls == [(pytest.approx(1 + HOP + GET_S + 0.04 + HOP), True)]


def test_get_transfer_time_per_mib(constant_network):
    # 8 MiB at 10 ms per MiB: 80 ms after the 100 ms F.
    store = make_store(constant_network, transfer_time_per_mib=0.01)
    obj, _ = put_one(store, size=8 * MIB)
    store.env.run(until=1)
    got = Outcomes(store.env)
    store.get(obj.object_id, 8 * MIB, "us-west1-b", got)
    store.env.run(until=2)
    assert got.calls == [(pytest.approx(1 + HOP + GET_S + 0.08 + HOP), True)]


# --- slowdowns ---------------------------------------------------------------------------

def test_a_get_is_slowed_by_its_source_regions_factor(store):
    """A slowdown scales the service time of the region serving the read: x5 on
    us-west1 scales a local read there and a read-through from it into us-west2 (the
    24 ms hop is not scaled); a region with no factor and no default keeps x1."""
    obj, _ = put_one(store)
    store.env.run(until=1)
    store.set_slowdown("us-west1", 5.0)
    local, through = Outcomes(store.env), Outcomes(store.env)
    store.get(obj.object_id, SIZE, "us-west1-b", local)
    store.get(obj.object_id, SIZE, "us-west2-a", through)
    store.env.run(until=2)
    assert local.calls == [(pytest.approx(1 + HOP + 5 * GET_S + HOP), True)]
    assert through.calls == [(pytest.approx(1 + 0.024 + HOP + 5 * GET_S + HOP), True)]
    store.set_slowdown("us-west1", None)
    store.set_slowdown("us-west2", 5.0)
    _, put = put_one(store)
    store.env.run(until=3)
    assert put.calls == [(pytest.approx(2 + HOP + PUT_S + HOP), True)]


# --- zonal buckets -----------------------------------------------------------------------

def test_a_zonal_reader_is_served_by_its_own_zones_copy(constant_network):
    """An object PUT into both zonal buckets (a write quorum over zones): each bucket
    zone reads its own copy (not cross-zone); a reader in the third zone reads the
    nearest, us-west1-a by name at equal RTTs, and each of its 3 requests counts as a
    cross-zone GET."""
    store = make_store(constant_network, kind="regional", regions=["us-west1"],
                       service="s3-express-one-zone", zones=["us-west1-a", "us-west1-b"])
    obj = store.create(1024, "us-west1")
    done = Outcomes(store.env)
    for zone in store.sites:
        store.put(obj, "us-west1-a", zone, done)
    store.env.run(until=1)
    assert [ok for _, ok in done.calls] == [True, True]
    assert store.source_for(obj.object_id, "us-west1-a") == "us-west1-a"
    assert store.source_for(obj.object_id, "us-west1-b") == "us-west1-b"
    assert store.source_for(obj.object_id, "us-west1-c") == "us-west1-a"
    got = Outcomes(store.env)
    store.get(obj.object_id, 1024, "us-west1-a", got)
    store.get(obj.object_id, 1024, "us-west1-b", got)
    assert store.counters["object_gets_cross_zone"] == 0
    store.get(obj.object_id, 1024, "us-west1-c", got, requests=3)
    assert store.counters["object_gets_cross_zone"] == 3


def test_destroying_a_zone_without_a_bucket_changes_nothing(constant_network):
    store = make_store(constant_network, kind="regional", regions=["us-west1"],
                       service="s3-express-one-zone", zones=["us-west1-a"])
    obj, _ = put_one(store, zone="us-west1-a")
    store.env.run(until=1)
    store.destroy_zone("us-west1-b")
    # durable half a same-zone round trip (0.2 ms) after the request left, plus F
    assert obj.copies == {"us-west1-a": pytest.approx(0.0001 + PUT_S)}
    assert store.counters["objects_lost"] == 0
    assert store.source_for(obj.object_id, "us-west1-b") == "us-west1-a"


# --- failures on the way -----------------------------------------------------------------

def test_a_put_whose_region_fails_before_it_completes_fails(store):
    # The region fails at 0.1 s; the PUT would complete at 0.5 + 200 + 0.5 ms: it
    # fails then, with no copy and nothing to replicate.
    obj, done = put_one(store)
    store.env.run(until=0.1)
    store.fail_region("us-west1")
    store.env.run(until=10)
    assert done.calls == [(pytest.approx(HOP + PUT_S + HOP), False)]
    assert obj.copies == {}
    assert store.counters["object_replication_bytes"] == 0


def test_a_get_whose_reader_zone_is_down_fails_after_its_delay(store):
    # The local copy is chosen, but the zone cannot reach its region's endpoint.
    obj, _ = put_one(store)
    store.env.run(until=1)
    store.network.set_down("us-west1-b")
    got = Outcomes(store.env)
    store.get(obj.object_id, SIZE, "us-west1-b", got, after=0.5)
    store.env.run(until=2)
    assert got.calls == [(1.5, False)]


def test_a_read_through_whose_replies_cannot_come_back_fails_after_its_delay(store):
    """A one-way partition from us-west1 to us-west2: the reader's region can still ask
    (the source is chosen), but the bytes cannot return, so the read-through fails."""
    obj, _ = put_one(store)
    store.env.run(until=1)
    store.network.partition("us-west1", "us-west2", one_way=True)
    assert store.source_for(obj.object_id, "us-west2-a") == "us-west1"
    got = Outcomes(store.env)
    store.get(obj.object_id, SIZE, "us-west2-a", got, after=0.5)
    store.env.run(until=2)
    assert got.calls == [(1.5, False)]


def test_the_providers_read_through_is_not_window_bound(make_network, constant_topology_spec):
    """With a 1 MiB TCP window, a 4 MiB GET's client connection (zone to endpoint,
    1 ms RTT, no link bandwidth) waits 3 more windows, 3 ms; the provider's own
    transfer between regions (24 ms) is not a client connection and waits none."""
    network: Network = make_network(constant_topology_spec(tcp_window="1MiB"))
    store = make_store(network)
    obj, _ = put_one(store)
    store.env.run(until=1)
    got = Outcomes(store.env)
    store.get(obj.object_id, 4 * MIB, "us-west2-a", got)
    store.env.run(until=2)
    assert got.calls == [(pytest.approx(1 + 0.024 + 2 * HOP + 3 * 2 * HOP + GET_S), True)]


# --- replication ---------------------------------------------------------------------------

def test_a_second_put_of_an_object_copies_only_where_a_copy_is_missing(store):
    """A PUT retried into the home region: us-west2 already has its copy scheduled, so
    it keeps its time and its bytes cross the regions once."""
    obj, done = put_one(store, size=1000)
    store.env.run(until=1)
    due = obj.copies["us-west2"]
    store.put(obj, "us-west1-a", "us-west1", done)
    store.env.run(until=2)
    assert [ok for _, ok in done.calls] == [True, True]
    assert obj.copies == {"us-west1": pytest.approx(1 + HOP + PUT_S), "us-west2": due}
    assert store.counters["object_replication_bytes"] == 1000
    assert store.network.bytes[("us-west1", "us-west2", "object_replication")] == 1000


def test_a_zone_reader_is_woken_when_its_regions_copy_lands(store):
    # Cut off from the source, a reader in a zone of us-west2 waits for the us-west2
    # copy and is woken when it lands (copies["us-west2"]).
    obj, _ = put_one(store)
    store.env.run(until=1)
    store.network.partition("us-west1", "us-west2")
    waiter = store.when_readable(obj.object_id, "us-west2-a")
    woken = []
    waiter.callbacks.append(lambda _e: woken.append(store.env.now))
    store.env.run(until=obj.copies["us-west2"] + 1)
    assert woken == [pytest.approx(obj.copies["us-west2"])]


# --- outages that come and go ------------------------------------------------------------

def test_an_outage_of_the_writer_region_keeps_the_copies_already_made(store):
    """Only copies still due stall: a fully replicated (still tracked) object keeps both
    copies' times, and us-west2 reads its own."""
    obj, _ = put_one(store)
    store.env.run(until=1)
    copies = dict(obj.copies)
    store.env.run(until=copies["us-west2"] + 1)
    store.fail_region("us-west1")
    assert obj.copies == copies
    assert store.source_for(obj.object_id, "us-west2") == "us-west2"


def test_recovery_resumes_only_the_recovered_regions_copies(store):
    """Writers in both regions, both regions out: recovering us-west1 resumes the copy
    us-west1 owes (to its original time, still to come); the copy us-west2 owes stays
    stalled."""
    west1, _ = put_one(store, zone="us-west1-a")
    west2, _ = put_one(store, zone="us-west2-a")
    store.env.run(until=1)
    due = west1.copies["us-west2"]
    assert due > 1 and west2.copies["us-west1"] > 1
    store.fail_region("us-west1")
    store.fail_region("us-west2")
    store.recover_region("us-west1")
    assert west1.copies["us-west2"] == due
    assert west2.copies["us-west1"] == math.inf


def stalled_then_landed(store):
    """An object whose us-west2 copy stalled in a us-west1 outage and landed at the
    recovery, past its due time (``max(due, now)`` = now); returns it and that time."""
    obj, _ = put_one(store)
    store.env.run(until=1)
    store.fail_region("us-west1")
    store.env.run(until=obj.copies["us-west1"] + 13 * 3600)  # past any due time
    store.recover_region("us-west1")
    assert obj.copies["us-west2"] == store.env.now
    return obj, store.env.now


def test_a_copy_landed_at_the_instant_of_a_new_outage_stays(store):
    obj, landed = stalled_then_landed(store)
    store.fail_region("us-west1")  # at the same instant: the copy exists, nothing owed
    assert obj.copies["us-west2"] == landed
    assert store.source_for(obj.object_id, "us-west2") == "us-west2"


def test_a_reader_of_a_lost_object_schedules_nothing(store):
    # Every copy is gone for good: no landing to wait for, so the run ends where it is.
    obj, _ = put_one(store)
    store.env.run(until=1)
    store.fail_region("us-west1", destroy=True)
    waiter = store.when_readable(obj.object_id, "us-west2")
    store.env.run()
    assert store.env.now == 1
    assert not waiter.triggered


# --- pauses of replication ---------------------------------------------------------------

def test_a_copy_due_during_a_pause_is_late_by_the_pauses_length(store):
    obj, _ = put_one(store)
    store.env.run(until=1)
    due = obj.copies["us-west2"]
    assert due > 50  # the drawn delay (p50 5 min) falls after the pause
    store.pause_replication(True)
    store.env.run(until=50)
    store.pause_replication(False)
    assert obj.copies["us-west2"] == pytest.approx(due + 49)
    assert obj.copies["us-west1"] == pytest.approx(HOP + PUT_S)


@pytest.mark.parametrize("created_during", [False, True], ids=["quiet", "pruned"])
def test_a_copy_in_flight_at_a_pause_is_not_made_during_it(store, created_during):
    """The copy to us-west2 is due at ``due`` (drawn, past 50 s); replication pauses at
    1 s. At ``due + 10`` a reader in us-west2 is still served from us-west1, however
    often the table was pruned meanwhile (a create at ``due + 5`` prunes objects whose
    every copy landed); the resume at ``due + 20`` makes it land as late as the pause
    was long."""
    obj, _ = put_one(store)
    store.env.run(until=1)
    due = obj.copies["us-west2"]
    assert due > 50
    store.pause_replication(True)
    store.env.run(until=due + 5)
    if created_during:
        store.create(SIZE, "us-west1")
    store.env.run(until=due + 10)
    assert store.source_for(obj.object_id, "us-west2") == "us-west1"
    store.env.run(until=due + 20)
    store.pause_replication(False)
    assert obj.copies["us-west2"] == pytest.approx(due + (due + 20 - 1))


@pytest.mark.parametrize("destroyed", ["us-west2", "us-west1"], ids=["target", "source"])
def test_a_held_copy_is_never_made_once_its_target_or_source_is_destroyed(store, destroyed):
    """The copy to us-west2, in flight at the pause (1 s), is held; destroying its
    target or its source during the pause leaves it unmade at the resume."""
    obj, _ = put_one(store)
    store.env.run(until=1)
    assert obj.copies["us-west2"] > 10
    store.pause_replication(True)
    store.env.run(until=2)
    store.fail_region(destroyed, destroy=True)
    store.env.run(until=10)
    store.pause_replication(False)
    assert math.isinf(obj.copies["us-west2"])


def test_a_held_copy_whose_writer_region_is_out_at_the_resume_waits_for_its_recovery(store):
    """Held at the pause (1 s) with ``due - 1`` seconds left; us-west1 (the writer) is
    out from 2 s; the resume at 10 s gives the copy its time, 10 + (due - 1), which the
    recovery at 20 s keeps (it is later)."""
    obj, _ = put_one(store)
    store.env.run(until=1)
    due = obj.copies["us-west2"]
    assert due > 20
    store.pause_replication(True)
    store.env.run(until=2)
    store.fail_region("us-west1")
    store.env.run(until=10)
    store.pause_replication(False)
    assert math.isinf(obj.copies["us-west2"])
    store.env.run(until=20)
    store.recover_region("us-west1")
    assert obj.copies["us-west2"] == pytest.approx(10 + (due - 1))


def test_a_copy_stalled_by_an_outage_and_recovered_during_a_pause_waits_for_the_resume(
        store):
    """us-west1 (the writer) fails at 1 s, stalling the copy due at ``due``;
    replication pauses at 2 s; us-west1 recovers at 3 s, during the pause: the copy
    waits for the resume at 60 s and then has its ``due - 3`` seconds left."""
    obj, _ = put_one(store)
    store.env.run(until=1)
    due = obj.copies["us-west2"]
    assert due > 60
    store.fail_region("us-west1")
    store.env.run(until=2)
    store.pause_replication(True)
    store.env.run(until=3)
    store.recover_region("us-west1")
    store.env.run(until=due + 1)
    assert math.isinf(obj.copies["us-west2"])
    store.env.run(until=due + 60)
    store.pause_replication(False)
    assert obj.copies["us-west2"] == pytest.approx(due + 60 + (due - 3))


def test_a_copy_landed_as_the_pause_began_keeps_its_time(store):
    obj, landed = stalled_then_landed(store)
    store.pause_replication(True)
    run_for(store, 10)
    store.pause_replication(False)
    assert obj.copies["us-west2"] == landed


def test_resuming_announces_only_the_objects_whose_copies_moved(store):
    """us-west1 out: its object's copy is stalled (inf) and stays so; the copy us-west2
    owes us-west1 is still due, so the pause delays it and it is announced."""
    events = []
    store.ctx.recorder.subscribe(ObjectStored, events.append)
    west1, _ = put_one(store, zone="us-west1-a")
    west2, _ = put_one(store, zone="us-west2-a")
    store.env.run(until=1)
    assert west2.copies["us-west1"] > 3  # still due when the pause ends
    store.fail_region("us-west1")
    store.pause_replication(True)
    store.env.run(until=3)
    store.pause_replication(False)
    assert west1.copies["us-west2"] == math.inf
    assert [e.object_id for e in events] == [west2.object_id]


def test_resuming_skips_released_objects_and_destroyed_regions(constant_network):
    """Written during a pause: a released object is not copied; a copy into a region
    destroyed meanwhile never happens; the copy into the live region is made (drawn from
    now) and announced."""
    store = make_store(constant_network, regions=["us-west1", "us-west2", "us-west3"],
                       replication={"paused": True})
    events = []
    store.ctx.recorder.subscribe(ObjectStored, events.append)
    released, _ = put_one(store)
    kept, _ = put_one(store)
    store.env.run(until=1)
    store.release(released.object_id)
    store.fail_region("us-west3", destroy=True)
    store.pause_replication(False)
    assert kept.copies["us-west3"] == math.inf
    assert 1 < kept.copies["us-west2"] < math.inf
    assert [e.object_id for e in events] == [kept.object_id]


def test_resuming_does_not_copy_from_a_destroyed_source(store):
    store.pause_replication(True)
    obj, _ = put_one(store)
    store.env.run(until=1)
    store.fail_region("us-west1", destroy=True)
    store.pause_replication(False)
    assert obj.copies == {"us-west1": math.inf, "us-west2": math.inf}
    assert store.source_for(obj.object_id, "us-west2") is None
