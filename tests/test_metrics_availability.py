"""ObjectAvailability (the diskless loss and unavailability fold) on hand-built facts,
with exact records, bytes and intervals, and the forms it keeps objects in (memory).

``tests/test_metrics_collector.py`` holds the fold to a per-object reference over random
histories (records, RPO, intervals); these cases pin what that reference does not see:
bytes, counted bytes moving from unavailable to lost, copies due exactly at a region
event, and when an object leaves its individual form.
"""

from __future__ import annotations

import math

import pytest

from geosim.core.events import ObjectCommitted, ObjectStored, RegionState, Row
from geosim.metrics.availability import ObjectAvailability

INF = math.inf


class Fold:
    """An ObjectAvailability over regions a, b, c and helpers to feed it."""

    def __init__(self, *, faults=(), ack_grace=300.0, sweep_interval=5.0):
        self.fold = ObjectAvailability("abc", fault_starts=faults, ack_grace=ack_grace,
                                       sweep_interval=sweep_interval)

    def store(self, t, oid, writer, copies, rows=((100, 1000),), *, ack_at=None):
        """Store object ``oid`` with ``copies`` {region: copy time} and commit its rows
        ((records, bytes) each); acknowledge them all at ``ack_at`` if given."""
        made = tuple(Row(fleet=1, partition=0, seq=oid * 100 + k, records=n,
                         bytes_uncompressed=b, bytes_compressed=b // 2, send_first=t,
                         send_last=t, offset=0, object_id=oid)
                     for k, (n, b) in enumerate(rows))
        self.fold.on_stored(ObjectStored(t=t, object_id=oid, writer_region=writer, size=1,
                                         copies=tuple(copies.items())))
        self.fold.on_committed(ObjectCommitted(t=t, object_id=oid, region=writer,
                                               rows=made))
        if ack_at is not None:
            for row in made:
                self.fold.on_ack(ack_at, row)
        return made

    def down(self, t, region):
        self.fold.on_region_state(RegionState(t=t, region=region, up=False))

    def up(self, t, region):
        self.fold.on_region_state(RegionState(t=t, region=region, up=True))

    def destroy(self, t, region):
        self.fold.on_region_state(RegionState(t=t, region=region, up=False, destroyed=True))

    def finish(self, t_end=100.0):
        return self.fold.finalize(t_end)


def test_a_group_sums_bytes_and_loses_them_with_its_records():
    """Two objects of a, no asynchronous copy: one group (a, {a}) of 150 records and
    1,700 bytes; a down at 10 s makes them unavailable, a destroyed at 20 s loses them
    and withdraws them from the unavailable counts."""
    f = Fold(faults=(10.0,))
    f.store(0.0, 0, "a", {"a": 0.0}, ack_at=0.1)
    f.store(1.0, 1, "a", {"a": 1.0}, rows=((50, 700),), ack_at=1.1)
    assert (f.fold.open_objects, f.fold.groups) == (0, 1)
    f.down(10.0, "a")
    loss, unavailable = f.finish(15.0)
    assert (unavailable.records, unavailable.bytes, loss.records) == (150, 1700, 0)
    f.destroy(20.0, "a")
    loss, unavailable = f.finish(30.0)
    assert (loss.records, loss.bytes, loss.by_region["a"].bytes) == (150, 1700, 1700)
    assert (unavailable.records, unavailable.bytes) == (0, 0)
    # RPO from the fault's start (10 s) back to the oldest ack (0.1 s)
    assert loss.rpo_seconds == 10.0 - 0.1


def test_counted_bytes_follow_an_object_from_its_cohort_to_its_group():
    """Object 0 of a (100 records, 1,000 bytes) waits for its copy to b (due 5 s) in a
    cohort; a goes down at 2 s, so it is counted unavailable then and its copy blocks
    at 5 s; a comes back at 8 s, the copy is made, and the object joins the group
    (a, {a, b}) with its counted records and bytes. Destroying a and b then loses it
    and withdraws what was counted: nothing is left unavailable."""
    f = Fold()
    f.store(0.0, 0, "a", {"a": 0.0, "b": 5.0}, ack_at=0.1)
    assert (f.fold.open_objects, f.fold.cohort_objects) == (0, 1)
    f.down(2.0, "a")
    f.down(6.0, "c")                       # an event after the copy's due time
    assert (f.fold.open_objects, f.fold.cohort_objects) == (1, 0)   # unpacked: blocked
    f.up(8.0, "a")
    f.up(9.0, "c")                         # advances past the rescheduled settle
    assert (f.fold.open_objects, f.fold.groups) == (0, 1)
    loss, unavailable = f.finish(10.0)
    assert (unavailable.records, unavailable.bytes) == (100, 1000)
    assert unavailable.intervals == [(2.0, 8.0)]
    f.destroy(20.0, "a")
    f.destroy(21.0, "b")
    loss, unavailable = f.finish(30.0)
    assert (loss.records, loss.bytes) == (100, 1000)
    assert (unavailable.records, unavailable.bytes) == (0, 0)
    # the interval that ended before the loss stays in the union
    assert unavailable.intervals == [(2.0, 8.0)]


def test_a_copy_due_at_a_region_event_is_decided_under_the_states_before_it():
    """Cohort path (object 0 acknowledged) and per-object path (object 1, one of its
    two rows never acknowledged): each has a copy to b due at exactly 10 s, when b goes
    down. The copies are made under the states before that event, so destroying a at
    20 s loses nothing: both live on in b (unavailable while b is down)."""
    f = Fold()
    f.store(0.0, 0, "a", {"a": 0.0, "b": 10.0}, ack_at=0.1)
    rows = f.store(0.0, 1, "a", {"a": 0.0, "b": 10.0}, rows=((50, 500), (1, 10)))
    f.fold.on_ack(0.1, rows[0])
    assert (f.fold.cohort_objects, f.fold.open_objects) == (1, 1)
    f.down(10.0, "b")
    f.destroy(20.0, "a")
    loss, unavailable = f.finish(30.0)
    assert loss.records == 0
    assert (unavailable.records, unavailable.bytes) == (150, 1500)
    assert unavailable.intervals == [(20.0, 30.0)] and unavailable.open_records == 150


def test_pending_copies_are_taken_in_time_order_whatever_order_they_come_in():
    """An object awaiting an ack (so decided per object) lists its copy to c (due 8 s)
    before its copy to b (due 5 s): at a's destruction at 6 s the copy to b has been
    made, and the object survives in b."""
    f = Fold()
    rows = f.store(0.0, 0, "a", {"a": 0.0, "c": 8.0, "b": 5.0}, rows=((100, 1000), (1, 10)))
    f.fold.on_ack(0.1, rows[0])
    f.destroy(6.0, "a")
    loss, _unavailable = f.finish(30.0)
    assert loss.records == 0


def test_rows_acknowledged_while_unreadable_are_counted_and_withdrawn_when_lost():
    """Object 0's first row is acknowledged at 0.1 s, a goes down at 1 s (the object,
    awaiting its second row, becomes unavailable: 100 records, 1,000 bytes), the
    second row's ack arrives at 2 s (counted unavailable too: 50, 500). Destroying a
    loses all 150 and withdraws them from the unavailable counts."""
    f = Fold(faults=(1.0,))
    rows = f.store(0.0, 0, "a", {"a": 0.0}, rows=((100, 1000), (50, 500)))
    f.fold.on_ack(0.1, rows[0])
    f.down(1.0, "a")
    f.fold.on_ack(2.0, rows[1])
    _loss, unavailable = f.finish(2.5)
    assert (unavailable.records, unavailable.bytes) == (150, 1500)
    f.destroy(3.0, "a")
    loss, unavailable = f.finish(4.0)
    assert (loss.records, loss.bytes, loss.rpo_seconds) == (150, 1500, 1.0 - 0.1)
    assert (unavailable.records, unavailable.bytes) == (0, 0)


@pytest.mark.parametrize("c_down_first", [True, False])
def test_groups_merged_by_a_destruction_add_their_records_bytes_and_counted_parts(
        c_down_first):
    """Group (a, {a, b}) holds object 0 (100 records, 1,000 bytes), group (a, {a, b,
    c}) object 1 (50, 700). a and b down at 10 and 11 s make the first unavailable; c
    down at 11.5 s (if ``c_down_first``) the second. Destroying c at 12 s merges the
    second into the first: 150 records, 1,700 bytes, all counted unavailable (the
    second's now, if it was readable until then). Destroying a and b loses them all
    (RPO 21 - 0.1 s: no fault windows given, each loss is its own)."""
    f = Fold()
    f.store(0.0, 0, "a", {"a": 0.0, "b": 0.0}, ack_at=0.1)
    f.store(1.0, 1, "a", {"a": 1.0, "b": 1.0, "c": 1.0}, rows=((50, 700),), ack_at=1.1)
    assert f.fold.groups == 2
    f.down(10.0, "a")
    f.down(11.0, "b")
    if c_down_first:
        f.down(11.5, "c")
    f.destroy(12.0, "c")
    assert f.fold.groups == 1
    _loss, unavailable = f.finish(15.0)
    assert (unavailable.records, unavailable.bytes) == (150, 1700)
    f.destroy(20.0, "a")
    f.destroy(21.0, "b")
    loss, unavailable = f.finish(30.0)
    assert (loss.records, loss.bytes, loss.rpo_seconds) == (150, 1700, 21.0 - 0.1)
    assert (unavailable.records, unavailable.bytes) == (0, 0)


@pytest.mark.parametrize(("b_down", "lost"), [(4.0, 0), (2.0, 100)])
def test_a_copy_timed_before_the_store_exists_if_its_region_was_up_then(b_down, lost):
    """The store is recorded at 5 s with a copy to b timed 3 s. If b went down after
    (4 s), the copy exists and a's destruction at 6 s loses nothing; if before (2 s),
    it is blocked, and the destruction loses the object."""
    f = Fold()
    f.down(b_down, "b")
    f.store(5.0, 0, "a", {"a": 5.0, "b": 3.0}, ack_at=5.1)
    f.destroy(6.0, "a")
    loss, unavailable = f.finish(10.0)
    assert (loss.records, unavailable.records) == (lost, 100 - lost)


# --- the forms an object is held in (memory) ----------------------------------------

def test_objects_whose_acks_never_all_come_are_released_after_the_ack_grace():
    """Two objects each wait for a second row's ack that never comes; the ack grace
    (10 s) releases each at the first event at or after 10 and 11 s, into one group.
    An ack arriving after that finds no object: it is untracked."""
    f = Fold(ack_grace=10.0)
    late = [f.store(t, oid, "a", {"a": t}, rows=((100, 1000), (1, 10)))
            for t, oid in ((0.0, 0), (1.0, 1))]
    for rows in late:
        f.fold.on_ack(0.1 + rows[0].send_first, rows[0])
    f.down(10.5, "c")
    assert f.fold.open_objects == 1                 # object 1's grace ends at 11 s
    f.down(12.0, "b")
    assert (f.fold.open_objects, f.fold.groups) == (0, 1)
    for rows in late:
        f.fold.on_ack(13.0, rows[1])
    loss, _unavailable = f.finish(20.0)
    assert loss.untracked_records == 2


def test_an_object_nothing_was_acknowledged_of_is_dropped_at_its_release():
    """No row of object 0 is ever acknowledged: at the end of its ack grace it is
    forgotten, though its copy to b is still pending (its fate does not matter)."""
    f = Fold(ack_grace=10.0)
    f.store(0.0, 0, "a", {"a": 0.0, "b": 50.0})
    f.down(12.0, "c")
    assert (f.fold.open_objects, f.fold.cohort_objects, f.fold.groups) == (0, 0, 0)


def test_acks_before_the_commit_release_the_object_at_the_commit():
    """The producer's ack can be recorded before the object's commit: the commit then
    finds every row acknowledged and releases the object into its group."""
    f = Fold()
    row = Row(fleet=1, partition=0, seq=0, records=100, bytes_uncompressed=1000,
              bytes_compressed=500, send_first=0.0, send_last=0.0, offset=0, object_id=0)
    f.fold.on_stored(ObjectStored(t=0.0, object_id=0, writer_region="a", size=1,
                                  copies=(("a", 0.0),)))
    f.fold.on_ack(0.1, row)
    assert f.fold.open_objects == 1
    f.fold.on_committed(ObjectCommitted(t=0.2, object_id=0, region="a", rows=(row,)))
    assert (f.fold.open_objects, f.fold.groups) == (0, 1)


def test_an_object_released_while_unreadable_is_folded_once_its_blocked_copy_is_made():
    """Object 0 (a, copy to b due 5 s) is released at 2 s while a is down (so kept
    individually, its settle scheduled at 5 s); at 6 s its copy is blocked (no source
    up); a's recovery at 8 s makes it and schedules the fold, done at the next event."""
    f = Fold()
    rows = f.store(0.0, 0, "a", {"a": 0.0, "b": 5.0}, rows=((100, 1000), (50, 500)))
    f.fold.on_ack(0.1, rows[0])
    f.down(1.0, "a")
    f.fold.on_ack(2.0, rows[1])
    f.down(6.0, "c")
    assert (f.fold.open_objects, f.fold.groups) == (1, 0)
    f.up(8.0, "a")
    f.up(9.0, "c")
    assert (f.fold.open_objects, f.fold.groups) == (0, 1)
    loss, unavailable = f.finish(10.0)
    assert (unavailable.records, unavailable.bytes, unavailable.intervals) == (
        150, 1500, [(1.0, 8.0)])


def test_a_settle_scheduled_for_an_object_lost_before_it_is_skipped():
    """As above, but a is destroyed at 3 s, before the settle due at 5 s: the object is
    lost (and forgotten), and its stale settle at the next event does nothing."""
    f = Fold()
    rows = f.store(0.0, 0, "a", {"a": 0.0, "b": 5.0}, rows=((100, 1000), (50, 500)))
    f.fold.on_ack(0.1, rows[0])
    f.down(1.0, "a")
    f.fold.on_ack(2.0, rows[1])
    f.destroy(3.0, "a")
    f.down(6.0, "c")
    assert f.fold.open_objects == 0
    loss, unavailable = f.finish(10.0)
    assert (loss.records, loss.bytes, unavailable.records) == (150, 1500, 0)


def test_objects_split_out_of_a_cohort_get_ids_of_their_own():
    """Objects 10, 11 and 12 wait in one cohort for their copy to b (due 5 s); a goes
    down at 4 s, so at 6 s the three copies are blocked and each object is split out
    under an id of its own, beside object 0, still waiting for an ack."""
    f = Fold()
    for oid in (10, 11, 12):
        f.store(0.0, oid, "a", {"a": 0.0, "b": 5.0}, ack_at=0.1)
    rows = f.store(0.0, 0, "a", {"a": 0.0}, rows=((100, 1000), (1, 10)))
    f.fold.on_ack(0.1, rows[0])
    assert (f.fold.cohort_objects, f.fold.open_objects) == (3, 1)
    f.down(4.0, "a")
    f.down(6.0, "c")
    assert (f.fold.cohort_objects, f.fold.open_objects) == (0, 4)


def test_an_unacknowledged_object_whose_blocked_copy_is_made_waits_for_its_acks():
    """Object 0 has acknowledged one of its two rows when its copy to b (due 5 s) is
    blocked by b's outage (4 to 6 s). b's recovery makes the copy, but the object still
    awaits its second row, so it stays tracked: the ack at 7 s counts, and destroying
    every region loses all 150 records, none untracked."""
    f = Fold()
    rows = f.store(0.0, 0, "a", {"a": 0.0, "b": 5.0}, rows=((100, 1000), (50, 500)))
    f.fold.on_ack(0.1, rows[0])
    f.down(4.0, "b")
    f.down(5.5, "c")                  # the copy, due at 5 s, is blocked
    f.up(6.0, "b")
    f.up(6.5, "c")
    f.fold.on_ack(7.0, rows[1])
    f.destroy(8.0, "a")
    f.destroy(9.0, "b")
    loss, _unavailable = f.finish(10.0)
    assert (loss.records, loss.bytes, loss.untracked_records) == (150, 1500, 0)


def test_a_cohort_regrouped_by_a_destruction_keeps_the_start_of_its_unreadability():
    """Object 0 of a has copies in a and b and a pending one to c (due 50 s); a and b
    go down at 4 s (unreadable from then on); b is destroyed at 6 s, so the object
    waits on in a cohort of a alone, still unreadable since 4 s, until a returns at
    8 s: one interval, 4 to 8 s."""
    f = Fold()
    f.store(0.0, 0, "a", {"a": 0.0, "b": 0.0, "c": 50.0}, ack_at=0.1)
    assert f.fold.cohort_objects == 1
    f.down(4.0, "a")
    f.down(4.0, "b")
    f.destroy(6.0, "b")
    f.up(8.0, "a")
    loss, unavailable = f.finish(10.0)
    assert (loss.records, unavailable.records) == (0, 100)
    assert unavailable.intervals == [(4.0, 8.0)]


def test_every_expired_object_is_released_across_compactions_of_the_expiry_list():
    """10,000 objects, each awaiting a second ack, expire one every 0.01 s; the expiry
    list drops its consumed head past 4,096 entries. Every object is released."""
    f = Fold(ack_grace=1.0)
    for oid in range(10_000):
        t = oid * 0.01
        rows = f.store(t, oid, "a", {"a": t}, rows=((1, 10), (1, 10)))
        f.fold.on_ack(t, rows[0])
    f.down(200.0, "c")
    assert (f.fold.open_objects, f.fold.groups) == (0, 1)


def test_a_released_object_readable_through_a_later_copy_waits_in_a_cohort():
    """Object 0 of a, with copies in a and b and one due in c at 50 s; a goes down at
    1 s, before its ack (2 s): readable through b, it waits in a cohort."""
    f = Fold()
    rows = f.store(0.0, 0, "a", {"a": 0.0, "b": 0.0, "c": 50.0})
    f.down(1.0, "a")
    f.fold.on_ack(2.0, rows[0])
    assert (f.fold.cohort_objects, f.fold.open_objects) == (1, 0)


def test_cohorts_merged_by_a_destruction_keep_the_earliest_unreadability():
    """Cohort (a, {a}) (object 0) is unreadable from a's outage at 3 s, cohort (a, {a,
    b}) (object 1) from b's at 5 s; destroying b at 6 s merges the second into the
    first, unreadable since 3 s, until a returns at 8 s."""
    f = Fold()
    f.store(0.0, 0, "a", {"a": 0.0, "c": 50.0}, ack_at=0.1)
    f.store(0.0, 1, "a", {"a": 0.0, "b": 0.0, "c": 50.0}, ack_at=0.1)
    assert (f.fold.cohorts, f.fold.cohort_objects) == (2, 2)
    f.down(3.0, "a")
    f.down(5.0, "b")
    f.destroy(6.0, "b")
    assert (f.fold.cohorts, f.fold.cohort_objects) == (1, 2)
    assert f.finish(7.0)[1].open_records == 200          # records, not bytes
    f.up(8.0, "a")
    _loss, unavailable = f.finish(10.0)
    assert unavailable.records == 200 and unavailable.intervals == [(3.0, 8.0)]


@pytest.mark.parametrize(("a_returns", "lost"), [(False, 100), (True, 0)])
def test_a_blocked_copy_waits_for_its_source_as_well_as_its_destination(a_returns, lost):
    """Object 0's copy to b (due 5 s) is blocked: b is down from 2 s, a (its only
    source) from 3 s. b's return at 6 s does not make it (no source up); a's return at
    7 s does. Destroying a at 8 s then loses the object only if a had not returned."""
    f = Fold()
    f.store(0.0, 0, "a", {"a": 0.0, "b": 5.0}, ack_at=0.1)
    f.down(2.0, "b")
    f.down(3.0, "a")
    f.down(5.5, "c")
    f.up(6.0, "b")
    if a_returns:
        f.up(7.0, "a")
    f.destroy(8.0, "a")
    loss, _unavailable = f.finish(10.0)
    assert loss.records == lost


def test_an_object_unreadable_twice_is_counted_once_with_both_intervals():
    """Object 0 awaits its second ack (so it is kept individually); a is down from 1 to
    2 s and from 3 to 4 s: 100 records unavailable, two intervals."""
    f = Fold()
    rows = f.store(0.0, 0, "a", {"a": 0.0}, rows=((100, 1000), (1, 10)))
    f.fold.on_ack(0.1, rows[0])
    for start in (1.0, 3.0):
        f.down(start, "a")
        f.up(start + 1.0, "a")
    _loss, unavailable = f.finish(10.0)
    assert (unavailable.records, unavailable.bytes) == (100, 1000)
    assert unavailable.intervals == [(1.0, 2.0), (3.0, 4.0)]


@pytest.mark.parametrize("path", ["made", "blocked", "destroyed"])
@pytest.mark.parametrize(("c_down", "lost"), [(True, 100), (False, 0)])
def test_a_cohorts_later_copy_keeps_its_own_due_time_when_the_first_is_decided(
        path, c_down, lost):
    """Object 0 of a waits in a cohort for copies to b (due 5 s, or 30 s when b is
    destroyed) and c (due 20 s). At 6 s b's copy is made ("made"), blocked by b's
    outage from 4 s ("blocked"), or b is destroyed ("destroyed"); c's copy stays due at
    20 s. If c goes down at 15 s, before it, destroying a and b at 25 and 26 s loses the
    object; otherwise the copy in c keeps it."""
    f = Fold()
    f.store(0.0, 0, "a", {"a": 0.0, "b": 30.0 if path == "destroyed" else 5.0,
                          "c": 20.0}, ack_at=0.1)
    if path == "blocked":
        f.down(4.0, "b")
    if path == "destroyed":
        f.destroy(6.0, "b")
    else:
        f.down(6.0, "d")                 # a region event: b's due copy is decided
    f.down(7.0, "d2")                    # and again, before c's copy is due
    if c_down:
        f.down(15.0, "c")
    f.destroy(25.0, "a")
    if path != "destroyed":
        f.destroy(26.0, "b")
    loss, _unavailable = f.finish(30.0)
    assert loss.records == lost


@pytest.mark.parametrize(("down_before", "lost"), [
    ((), 0),              # a's return makes both copies: c keeps the object
    (("c",), 100),        # only the copy to b is made, and b is destroyed
    (("b", "c"), 100),    # neither: no copy goes into a region still down
])
def test_a_recovery_makes_every_blocked_copy_whose_region_is_up(down_before, lost):
    """Object 0's copies to b and c (due 5 s) are blocked by a's outage from 3 s (and by
    their own regions' outages from 2 s, for those ``down_before``); a's return at 6 s
    makes the copies into regions that are up. Destroying a and b at 7 and 8 s then
    loses the object unless c holds it."""
    f = Fold()
    f.store(0.0, 0, "a", {"a": 0.0, "b": 5.0, "c": 5.0}, ack_at=0.1)
    for region in down_before:
        f.down(2.0, region)
    f.down(3.0, "a")
    f.down(5.5, "d")
    f.up(6.0, "a")
    f.destroy(7.0, "a")
    f.destroy(8.0, "b")
    loss, _unavailable = f.finish(10.0)
    assert loss.records == lost


def test_an_object_folded_while_unreadable_keeps_its_intervals_start():
    """a down at 1 s, object 0's ack at 2 s: released then, it is folded into a new,
    unreadable group (a, {a}) that keeps the start of its unreadability (1 s)."""
    f = Fold()
    rows = f.store(0.0, 0, "a", {"a": 0.0})
    f.down(1.0, "a")
    f.fold.on_ack(2.0, rows[0])
    assert (f.fold.open_objects, f.fold.groups) == (0, 1)
    f.up(3.0, "a")
    _loss, unavailable = f.finish(10.0)
    assert unavailable.intervals == [(1.0, 3.0)]
