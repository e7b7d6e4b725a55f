"""Replica placement, worked by hand: the rack-alternating order, rack-aware replica
lists with Kafka's shifting follower start, explicit counts per location (with and
without excluded brokers) and the layouts of declared topics."""

from types import SimpleNamespace

import pytest

from geosim.kafka.placement import (
    BrokerInfo,
    TopicLayout,
    by_location,
    rack_alternating,
    rack_aware,
    topic_layouts,
)

# Racks of unequal size, listed out of id order: a = {2, 3}, b = {1, 5}, c = {4}.
UNEVEN = [BrokerInfo(5, "z", "r", "b"), BrokerInfo(3, "z", "r", "a"),
          BrokerInfo(4, "z", "r", "c"), BrokerInfo(1, "z", "r", "b"),
          BrokerInfo(2, "z", "r", "a")]


def test_brokers_alternate_rack_by_rack_in_id_order_until_every_rack_is_used_up():
    assert [b.id for b in rack_alternating(UNEVEN)] == [2, 1, 4, 3, 5]


def test_rack_aware_two_replicas_shift_the_follower_each_round_of_the_brokers():
    # Order 2a 1b 4c 3a 5b; partition p leads on the (p mod 5)-th, its follower starts
    # 1 + (p // 5) mod 4 places on and skips brokers on a rack already used.
    assert rack_aware(UNEVEN, 11, 2) == [
        [2, 1], [1, 4], [4, 3], [3, 5], [5, 2],   # shift 1
        [2, 4], [1, 3], [4, 5], [3, 1], [5, 4],   # shift 2: 3 skips 2 (a), 5 skips 1 (b)
        [2, 5],                                   # shift 3: 3 (a) skipped
    ]


def test_rack_aware_continues_the_rotation_from_start():
    assert rack_aware(UNEVEN, 3, 2, start=8) == [[3, 1], [5, 4], [2, 5]]
    # The shift cycles through 1 .. n - 1 = 4 with each round of the 5 brokers: round 3
    # shifts by 4, round 5 by 1 + 5 mod 4 = 2.
    assert rack_aware(UNEVEN, 1, 2, start=15) == [[2, 5]]
    assert rack_aware(UNEVEN, 1, 2, start=25) == [[2, 4]]


def test_rack_aware_three_replicas_use_every_rack_then_any_broker():
    assert rack_aware(UNEVEN, 4, 3) == [[2, 1, 4], [1, 4, 3], [4, 3, 5], [3, 5, 4]]
    # Four replicas on three racks: the fourth is the next broker not yet chosen.
    assert rack_aware(UNEVEN, 2, 4) == [[2, 1, 4, 3], [1, 4, 3, 5]]
    assert rack_aware(UNEVEN, 1, 5) == [[2, 1, 4, 3, 5]]


def test_rack_aware_places_single_replicas_on_one_broker_and_refuses_more_than_the_brokers():
    assert rack_aware(UNEVEN[:1], 2, 1) == [[5], [5]]
    with pytest.raises(ValueError, match=r"^replication factor 6 exceeds the 5 brokers$"):
        rack_aware(UNEVEN, 1, 6)


# Regions: r1 = {10, 11, 12}, r2 = {20, 21}.
REGIONAL = [BrokerInfo(i, "z", r, r) for r, ids in (("r2", (21, 20)), ("r1", (12, 10, 11)))
            for i in ids]


def located(b, loc):
    return loc == "any" or b.region == loc


def test_by_location_takes_each_locations_count_in_order_rotating_with_the_partition():
    assert by_location(REGIONAL, 3, {"r2": 1, "r1": 2}, located, start=1) == [
        [21, 11, 12], [20, 12, 10], [21, 10, 11]]
    assert by_location(REGIONAL, 2, {"r2": 2}, located) == [[20, 21], [21, 20]]


def test_by_location_leaves_out_excluded_brokers_and_those_already_chosen():
    assert by_location(REGIONAL, 3, {"r1": 1, "r2": 1}, located,
                       exclude=[[11], [20], [10, 12]], start=1) == [
        [12, 21], [12, 21], [11, 21]]
    # A broker in two locations is chosen once.
    assert by_location(REGIONAL, 1, {"r1": 1, "any": 1}, located) == [[10, 11]]


def test_by_location_refuses_more_replicas_than_a_location_has_free_brokers():
    with pytest.raises(ValueError, match=r"^3 replicas requested in r2, which has 2 "
                                         r"brokers free for them$"):
        by_location(REGIONAL, 1, {"r2": 3}, located)
    with pytest.raises(ValueError, match="which has 1 brokers free"):
        by_location(REGIONAL, 1, {"r2": 2}, located, exclude=[[20]])


def test_topic_layouts_one_for_the_cluster_or_one_per_topic_and_block():
    assert topic_layouts([], 12, 3, 2, {"r1": 3}, {"r2": 1}) == [
        TopicLayout(0, 12, 3, 2, {"r1": 3}, {"r2": 1})]
    topics = [
        SimpleNamespace(first=0, partitions=2, config={"replication.factor": "2"},
                        replica_placement={}, observer_placement={}),
        SimpleNamespace(first=2, partitions=3, config={"min.insync.replicas": 1},
                        replica_placement={"r1": 2}, observer_placement={"r2": 1}),
    ]
    assert topic_layouts(topics, 10, 3, 2, {"r1": 3}, {}) == [
        TopicLayout(0, 2, 2, 2, {"r1": 3}, {}),
        TopicLayout(2, 3, 3, 1, {"r1": 2}, {"r2": 1}),
        TopicLayout(5, 2, 2, 2, {"r1": 3}, {}),
        TopicLayout(7, 3, 3, 1, {"r1": 2}, {"r2": 1}),
    ]


def test_placement_records_are_immutable_values():
    # Shared by every partition placed with them, and kept in sets and as dict keys.
    import dataclasses

    from geosim.kafka.placement import ObserverSetup

    for value in (BrokerInfo(1, "z", "r", "a"), ObserverSetup({"r": 1}, "under-min-isr"),
                  TopicLayout(0, 1, 1, 1, {}, {})):
        with pytest.raises(dataclasses.FrozenInstanceError):
            value.id = 2  # type: ignore[misc]
    assert len({BrokerInfo(1, "z", "r", "a"), BrokerInfo(1, "z", "r", "a")}) == 1
