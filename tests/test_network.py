"""The topology and the network seam (geosim.world.topology, geosim.world.network)."""

from __future__ import annotations

import math
import statistics

import pytest

from geosim.core.context import Context
from geosim.core.distributions import LogNormal
from geosim.world.network import FAMILY_FIRST_BLOCK, PURPOSES, Degradation, Network, combined
from geosim.world.topology import Topology

MB = 10**6


def median_one_way(network: Network, src: str, dst: str, n: int = 4001) -> float:
    return statistics.median(network.delay(src, dst, 100, "replicate") for _ in range(n))


def link_spec(between, rtt=None, **extra) -> dict:
    spec = {"between": list(between), **extra}
    if rtt is not None:
        spec["rtt"] = {"dist": "constant", "value": rtt}
    return spec


# --- topology -------------------------------------------------------------------------

def test_topology_has_regions_and_zones(topology):
    assert topology.regions == ["us-west1", "us-west2", "us-west3"]
    assert topology.zones("us-west2") == ["us-west2-a", "us-west2-b", "us-west2-c"]
    assert len(topology.zones()) == 9
    assert topology.region_of("us-west3-b") == "us-west3"
    assert topology.region_of("us-west3") == "us-west3"


def test_topology_uses_gcp_published_medians(topology):
    assert topology.median_rtt("us-west1-a", "us-west2-c") == pytest.approx(0.024)
    assert topology.median_rtt("us-west1-a", "us-west3-a") == pytest.approx(0.030)
    assert topology.median_rtt("us-west2-b", "us-west3") == pytest.approx(0.013)
    wan = topology.link("us-west1-a", "us-west2-a")
    assert wan.kind == "wan"
    assert isinstance(wan.rtt, LogNormal)
    assert wan.rtt.quantile(0.99) == pytest.approx(0.024 * 1.2)  # wan_p99_over_p50
    assert topology.link("us-west1-a", "us-west1-b").kind == "region"
    assert topology.link("us-west1-a", "us-west1-a").kind == "zone"


def test_topology_link_is_symmetric(topology):
    assert topology.link("us-west1-a", "us-west2-b") is topology.link("us-west2-b", "us-west1-a")


def test_explicit_zone_link_overrides_region_preset(topology_spec):
    spec = topology_spec(links=[link_spec(("us-west1-a", "us-west2-a"), 0.050)])
    topo = Topology(spec)
    assert topo.median_rtt("us-west1-a", "us-west2-a") == 0.050
    assert topo.median_rtt("us-west1-b", "us-west2-a") == pytest.approx(0.024)


def test_unknown_region_pair_is_a_clear_error(topology_spec):
    spec = topology_spec(regions={"us-west1": {"zones": ["a"]}, "asia-east1": {"zones": ["a"]}})
    with pytest.raises(ValueError, match=r"no latency known between us-west1 and asia-east1"):
        Topology(spec)


# --- byte accounting ----------------------------------------------------------------------

def test_bytes_are_counted_by_source_destination_and_purpose(network):
    network.delay("us-west1-a", "us-west2-a", 1000, "produce")
    network.delay("us-west1-a", "us-west2-a", 500, "produce")
    network.delay("us-west1-a", "us-west2-a", 70, "replicate")
    network.delay("us-west2-a", "us-west1-a", 30, "produce")
    network.delay("us-west1-a", "us-west1-b", 5, "consume")
    assert dict(network.bytes) == {
        ("us-west1-a", "us-west2-a", "produce"): 1500,
        ("us-west1-a", "us-west2-a", "replicate"): 70,
        ("us-west2-a", "us-west1-a", "produce"): 30,
        ("us-west1-a", "us-west1-b", "consume"): 5,
    }
    assert network.messages == 5
    assert "object_replication" in PURPOSES and "metadata" in PURPOSES


def test_randomly_lost_messages_are_still_billed(make_network, constant_topology_spec):
    spec = constant_topology_spec(
        extra_links=[link_spec(("us-west1", "us-west2"), 0.024, loss=0.3)])
    net = make_network(spec)
    n = 4000
    lost = sum(net.delay("us-west1-a", "us-west2-a", 10, "mirror") is None for _ in range(n))
    assert abs(lost / n - 0.3) <= 5 * math.sqrt(0.3 * 0.7 / n)
    assert net.bytes[("us-west1-a", "us-west2-a", "mirror")] == 10 * n
    # Loss is a property of that link only.
    assert all(net.delay("us-west1-a", "us-west3-a", 10, "mirror") is not None
               for _ in range(500))


# --- latency scales ------------------------------------------------------------------------

def test_same_zone_much_less_than_inter_zone_much_less_than_inter_region(network):
    same_zone = median_one_way(network, "us-west1-a", "us-west1-a")
    inter_zone = median_one_way(network, "us-west1-a", "us-west1-b")
    inter_region = median_one_way(network, "us-west1-a", "us-west2-a")
    # One way is half a round trip: 0.05 ms, 0.25 ms and 12 ms at the medians.
    assert same_zone == pytest.approx(0.05e-3, rel=0.05)
    assert inter_zone == pytest.approx(0.25e-3, rel=0.05)
    assert inter_region == pytest.approx(12e-3, rel=0.02)
    assert 3 * same_zone < inter_zone
    assert 10 * inter_zone < inter_region


def test_one_way_delay_is_half_a_constant_rtt(constant_network, const_rtt):
    net = constant_network
    assert net.delay("us-west1-a", "us-west2-b", 10, "produce") == const_rtt[
        ("us-west1", "us-west2")] / 2
    assert net.delay("us-west2-c", "us-west3-a", 10, "produce") == const_rtt[
        ("us-west2", "us-west3")] / 2
    assert net.delay("us-west1-a", "us-west1-c", 10, "produce") == const_rtt["inter_zone"] / 2
    assert net.delay("us-west1-a", "us-west1-a", 10, "produce") == const_rtt["same_zone"] / 2
    assert net.rtt_estimate("us-west1-a", "us-west3-c") == const_rtt[("us-west1", "us-west3")]


def test_same_seed_same_delays(make_network):
    a, b = make_network(seed=5), make_network(seed=5)
    pairs = [("us-west1-a", "us-west2-b"), ("us-west3-c", "us-west1-a"), ("us-west2-a",
                                                                          "us-west2-b")]
    seq_a = [a.delay(s, d, 1, "produce") for _ in range(100) for s, d in pairs]
    seq_b = [b.delay(s, d, 1, "produce") for _ in range(100) for s, d in pairs]
    assert seq_a == seq_b
    c = make_network(seed=6)
    assert [c.delay(s, d, 1, "produce") for _ in range(100) for s, d in pairs] != seq_a


def test_a_message_stream_of_its_own_leaves_every_other_draw_as_it_was(make_network):
    """Heartbeats (``stream=``) draw from streams of their own: interleaving them with
    other messages changes none of those messages' delays, and they are still billed."""
    a, b = make_network(seed=5), make_network(seed=5)
    pairs = [("us-west1-a", "us-west2-b"), ("us-west2-a", "us-west2-b")]
    plain = [a.delay(s, d, 1, "produce") for _ in range(50) for s, d in pairs]
    mixed = []
    for _ in range(50):
        for s, d in pairs:
            assert b.delay(s, d, 64, "metadata", stream="heartbeat") is not None
            mixed.append(b.delay(s, d, 1, "produce"))
    assert mixed == plain
    assert b.bytes[("us-west1-a", "us-west2-b", "metadata")] == 50 * 64


def test_a_family_message_gets_its_place_s_draw_whatever_else_crosses_the_link(
        make_network):
    """The n-th message of a family (``stream=``) gets the n-th draw of the family's
    stream in its direction: other families' messages, the link's shared messages and
    the order they interleave in change none of its delays."""
    west, east = "us-west1-a", "us-west2-b"
    alone = make_network(seed=5)
    a = [alone.delay(west, east, 1, "produce", stream="fleet0") for _ in range(40)]
    crowded = make_network(seed=5)
    b = []
    for k in range(40):
        # the other direction, another family, a shared message, each a varying number
        for _ in range(k % 3):
            crowded.delay(east, west, 1, "produce", stream="fleet0")
            crowded.delay(west, east, 1, "produce", stream="fleet1")
        crowded.delay(west, east, 1, "consume")
        b.append(crowded.delay(west, east, 1, "produce", stream="fleet0"))
    assert b == a
    assert len(set(a)) == len(a)  # each message its own draw
    # the directions of a family are streams of their own
    back = make_network(seed=5)
    assert [back.delay(east, west, 1, "produce", stream="fleet0")
            for _ in range(40)] != a
    # and a family's draws are its stream's values in order, in blocks that grow from
    # FAMILY_FIRST_BLOCK: a bulk engine holding the same stream draws the same values
    rtt = alone.topology.link(west, east).rtt
    stream = Context(seed=5).rng(f"network.{west}>{east}.produce.fleet0")
    whole = rtt.draw(stream, 16).tolist() + rtt.draw(stream, 24).tolist()
    assert a == [0.5 * x for x in whole]
    assert FAMILY_FIRST_BLOCK == 16


def test_a_family_loses_messages_by_its_own_draws(make_network, topology_spec):
    """Random loss on a link: a family's losses are its own draws too, so the same
    messages of the family are lost whatever else crosses the link."""
    spec = topology_spec(links=[link_spec(("us-west1", "us-west2"), 0.02, loss=0.3)])
    west, east = "us-west1-a", "us-west2-a"
    alone, crowded = make_network(spec, seed=3), make_network(spec, seed=3)
    lost = [alone.delay(west, east, 1, "produce", stream="fleet0") is None
            for _ in range(200)]
    mixed = []
    for _ in range(200):
        crowded.delay(west, east, 1, "replicate")
        crowded.delay(west, east, 1, "produce", stream="fleet1")
        mixed.append(crowded.delay(west, east, 1, "produce", stream="fleet0") is None)
    assert mixed == lost
    assert 30 < sum(lost) < 90


def test_an_unqueued_message_waits_for_its_own_bytes_only(make_network,
                                                        constant_topology_spec):
    """A control message on its own connection (``queued=False``) is not held behind
    the bytes other connections queued on a narrow link; it still takes their room."""
    net = make_network(constant_topology_spec(
        extra_links=[link_spec(("us-west1", "us-west2"), 0.02, bandwidth=1000.0)]))
    bulk = net.delay("us-west1-a", "us-west2-a", 10_000, "replicate")   # 10 s of bytes
    assert bulk == pytest.approx(0.01 + 10.0)
    control = net.delay("us-west1-a", "us-west2-a", 100, "metadata", queued=False)
    assert control == pytest.approx(0.01 + 0.1)
    after = net.delay("us-west1-a", "us-west2-a", 100, "replicate")
    assert after == pytest.approx(0.01 + 10.0 + 0.1 + 0.1)


# --- faults: down, partitions ----------------------------------------------------------------

def test_set_down_zone_drops_its_messages_only(network):
    network.set_down("us-west1-a")
    assert network.is_down("us-west1-a") and not network.is_down("us-west1-b")
    assert network.delay("us-west1-a", "us-west2-a", 1, "produce") is None
    assert network.delay("us-west2-a", "us-west1-a", 1, "produce") is None
    assert network.delay("us-west1-b", "us-west2-a", 1, "produce") is not None
    assert not network.reachable("us-west1-b", "us-west1-a")
    network.set_down("us-west1-a", False)
    assert network.delay("us-west1-a", "us-west2-a", 1, "produce") is not None


def test_set_down_region_drops_all_its_zones_and_its_node(network):
    network.set_down("us-west2")
    for zone in ("us-west2-a", "us-west2-b", "us-west2-c", "us-west2"):
        assert network.is_down(zone)
        assert network.delay("us-west1-a", zone, 1, "produce") is None
        assert network.delay(zone, "us-west3-a", 1, "produce") is None
    assert network.delay("us-west1-a", "us-west3-a", 1, "produce") is not None
    assert network.delay("us-west1-a", "us-west1-b", 1, "produce") is not None
    network.set_down("us-west2", False)
    assert network.delay("us-west1-a", "us-west2-a", 1, "produce") is not None


def test_region_partition_drops_both_directions(network):
    network.partition("us-west1", "us-west2")
    for a in network.topology.zones("us-west1"):
        for b in network.topology.zones("us-west2"):
            assert network.delay(a, b, 1, "replicate") is None
            assert network.delay(b, a, 1, "replicate") is None
    assert network.delay("us-west1-a", "us-west2", 1, "object_put") is None
    assert network.delay("us-west1-a", "us-west3-a", 1, "replicate") is not None
    assert network.delay("us-west2-a", "us-west3-a", 1, "replicate") is not None
    assert network.delay("us-west1-a", "us-west1-b", 1, "replicate") is not None
    network.partition("us-west1", "us-west2", active=False)
    assert network.delay("us-west1-a", "us-west2-a", 1, "replicate") is not None


def test_one_way_partition_drops_only_its_direction(network):
    network.partition("us-west1", "us-west2", one_way=True)
    assert network.delay("us-west1-a", "us-west2-a", 1, "replicate") is None
    assert network.delay("us-west2-a", "us-west1-a", 1, "replicate") is not None
    assert not network.reachable("us-west1-b", "us-west2-c")
    assert network.reachable("us-west2-c", "us-west1-b")
    network.partition("us-west1", "us-west2", one_way=True, active=False)
    assert network.delay("us-west1-a", "us-west2-a", 1, "replicate") is not None


def test_zone_partition_is_local_to_the_zone_pair(network):
    network.partition("us-west1-a", "us-west1-b")
    assert network.delay("us-west1-a", "us-west1-b", 1, "replicate") is None
    assert network.delay("us-west1-b", "us-west1-a", 1, "replicate") is None
    assert network.delay("us-west1-a", "us-west1-c", 1, "replicate") is not None
    assert network.delay("us-west1-c", "us-west1-b", 1, "replicate") is not None


def test_zone_to_region_partition(network):
    network.partition("us-west1-a", "us-west2", one_way=True)
    assert network.delay("us-west1-a", "us-west2-b", 1, "replicate") is None
    assert network.delay("us-west1-a", "us-west2", 1, "object_put") is None
    assert network.delay("us-west1-b", "us-west2-b", 1, "replicate") is not None
    assert network.delay("us-west2-b", "us-west1-a", 1, "replicate") is not None


def test_a_window_waits_only_what_its_sending_leaves_of_the_round_trip(make_network,
                                                                      constant_topology_spec):
    """Over a link of known bandwidth each further window waits a round trip less the
    time it took to send: nothing once the window covers the bandwidth-delay product."""
    mib = 2**20
    for bandwidth, gap in [(10**9, 0.024 - 4 * mib / 10**9), (100 * 10**6, 0.0)]:
        spec = constant_topology_spec(tcp_window="4MiB", extra_links=[
            link_spec(("us-west1-a", "us-west2-a"), 0.024, bandwidth=bandwidth)])
        net = make_network(spec)
        rtt = net.round_trip("us-west1-a", "us-west2-a", 8 * mib, 0, "object_put")
        # the round trip, the 8 MiB over the link, and one further window's wait
        assert rtt == pytest.approx(0.024 + 8 * mib / bandwidth + gap, rel=1e-12), bandwidth


def test_a_fetch_response_over_several_connections_waits_per_further_window(
        make_network, constant_topology_spec):
    """The Kafka engine's fetch responses (geosim.kafka.wire.window_wait): the bytes are
    shared by the pair's connections, each with its window; each window beyond the first
    waits the link's median round trip, less its time over the link's bandwidth."""
    from geosim.kafka.wire import window_wait

    mib = 2**20
    a, b = "us-west1-a", "us-west2-a"
    net = make_network(constant_topology_spec())
    assert window_wait(net, a, b, 12 * mib, 4 * mib, 3) == 0.0        # one window each
    assert window_wait(net, a, b, 12 * mib + 1, 4 * mib, 3) == pytest.approx(0.024)
    assert window_wait(net, a, b, 30 * mib, 4 * mib, 3) == pytest.approx(0.024 * 2)
    assert window_wait(net, a, b, 30 * mib, None, 3) == 0.0           # no bound
    fast = make_network(constant_topology_spec(extra_links=[
        link_spec((a, b), 0.024, bandwidth=10**9)]))
    # 12 MiB of windows take 12.6 ms to send at 1 GB/s: each further one waits the rest
    assert window_wait(fast, a, b, 30 * mib, 4 * mib, 3) == \
        pytest.approx(2 * (0.024 - 12 * mib / 10**9), rel=1e-12)


# --- bandwidth queueing --------------------------------------------------------------------

def test_back_to_back_transfers_queue_on_a_bandwidth_limited_link(make_network,
                                                                   constant_topology_spec):
    spec = constant_topology_spec(
        extra_links=[link_spec(("us-west1-a", "us-west2-a"), 0.024, bandwidth="1MB/s")])
    net = make_network(spec)
    env = net.ctx.env
    propagation = 0.012
    first = net.delay("us-west1-a", "us-west2-a", MB, "replicate")
    second = net.delay("us-west1-a", "us-west2-a", MB, "replicate")
    assert first == pytest.approx(1.0 + propagation)
    assert second == pytest.approx(2.0 + propagation)
    # The reverse direction has its own serializer; other zone pairs are unlimited.
    assert net.delay("us-west2-a", "us-west1-a", MB, "replicate") == pytest.approx(
        1.0 + propagation)
    assert net.delay("us-west1-b", "us-west2-a", MB, "replicate") == pytest.approx(propagation)
    # A transfer started half-way through waits for the queue to drain.
    env.run(until=0.5)
    assert net.delay("us-west1-a", "us-west2-a", MB, "replicate") == pytest.approx(
        2.5 + propagation)
    # Once idle, a transfer takes size / bandwidth again.
    env.run(until=10.0)
    assert net.delay("us-west1-a", "us-west2-a", MB // 2, "replicate") == pytest.approx(
        0.5 + propagation)


def test_region_link_bandwidth_is_shared_by_its_zone_pairs(make_network,
                                                           constant_topology_spec):
    spec = constant_topology_spec(
        extra_links=[link_spec(("us-west1", "us-west2"), 0.024, bandwidth="1MB/s")])
    net = make_network(spec)
    first = net.delay("us-west1-a", "us-west2-a", MB, "replicate")
    second = net.delay("us-west1-b", "us-west2-a", MB, "replicate")
    assert first == pytest.approx(1.012)
    assert second == pytest.approx(2.012)


# --- degradation ---------------------------------------------------------------------------

def test_degrade_adds_latency_to_the_same_draws(make_network):
    healthy, degraded = make_network(seed=3), make_network(seed=3)
    degraded.degrade("us-west1", "us-west2", Degradation(extra_latency=0.050))
    for src, dst in [("us-west1-a", "us-west2-b"), ("us-west2-c", "us-west1-a")] * 50:
        assert degraded.delay(src, dst, 1, "produce") == pytest.approx(
            healthy.delay(src, dst, 1, "produce") + 0.050, abs=1e-12)
    # Other paths are untouched.
    assert degraded.delay("us-west1-a", "us-west3-a", 1, "produce") == \
        healthy.delay("us-west1-a", "us-west3-a", 1, "produce")
    degraded.degrade("us-west1", "us-west2", Degradation(extra_latency=0.050), active=False)
    assert degraded.delay("us-west1-a", "us-west2-b", 1, "produce") == \
        healthy.delay("us-west1-a", "us-west2-b", 1, "produce")


def test_degrade_bandwidth_and_loss(constant_network):
    net = constant_network
    net.degrade("us-west1", "us-west3", Degradation(bandwidth=MB))
    assert net.delay("us-west1-a", "us-west3-a", MB, "mirror") == pytest.approx(1.015)
    net.degrade("us-west1", "us-west3", Degradation(bandwidth=MB), active=False)
    net.degrade("us-west1", "us-west3", Degradation(loss=0.5))
    n = 4000
    lost = sum(net.delay("us-west3-a", "us-west1-a", 1, "mirror") is None for _ in range(n))
    assert abs(lost / n - 0.5) <= 5 * math.sqrt(0.25 / n)


def test_overlapping_partitions_and_brownouts_compose(network):
    # Two partitions of one path: it stays cut until both end.
    network.partition("us-west1", "us-west2")
    network.partition("us-west1", "us-west2")
    network.partition("us-west1", "us-west2", active=False)
    assert network.delay("us-west1-a", "us-west2-a", 1, "replicate") is None
    network.partition("us-west1", "us-west2", active=False)
    assert network.delay("us-west1-a", "us-west2-a", 1, "replicate") is not None
    # Two brownouts: latencies add, the narrower bandwidth holds, losses combine.
    slow, narrow = Degradation(extra_latency=0.05, loss=0.1), Degradation(
        extra_latency=0.02, bandwidth=MB, loss=0.2)
    assert combined([slow, narrow]) == Degradation(0.07, MB, pytest.approx(0.28))
    healthy = network.delay("us-west1-a", "us-west3-a", 1, "produce") is not None
    network.degrade("us-west1", "us-west2", slow)
    network.degrade("us-west1", "us-west2", narrow)
    assert network._degraded[("us-west1", "us-west2")].extra_latency == pytest.approx(0.07)
    network.degrade("us-west1", "us-west2", slow, active=False)
    assert network._degraded[("us-west1", "us-west2")] == narrow
    network.degrade("us-west1", "us-west2", narrow, active=False)
    assert ("us-west1", "us-west2") not in network._degraded and healthy


# --- round trips ----------------------------------------------------------------------------

def test_round_trips_count_both_directions(constant_network, const_rtt):
    net = constant_network
    dsts = ["us-west1-b", "us-west2-a", "us-west3-a"]
    rtts = net.round_trips("us-west1-a", dsts, 300, 40, "metadata")
    assert rtts == [const_rtt["inter_zone"], const_rtt[("us-west1", "us-west2")],
                    const_rtt[("us-west1", "us-west3")]]
    for dst in dsts:
        assert net.bytes[("us-west1-a", dst, "metadata")] == 300
        assert net.bytes[(dst, "us-west1-a", "metadata")] == 40
    assert net.messages == 2 * len(dsts)


def test_round_trips_leave_out_unreachable_and_add_degradation(constant_network, const_rtt):
    net = constant_network
    net.partition("us-west2", "us-west1", one_way=True)  # replies from us-west2 are lost
    net.degrade("us-west1", "us-west3", Degradation(extra_latency=0.010))
    rtts = net.round_trips("us-west1-a", ["us-west2-a", "us-west3-a"], 300, 40, "metadata")
    assert rtts == [pytest.approx(const_rtt[("us-west1", "us-west3")] + 0.020)]
    assert ("us-west1-a", "us-west2-a", "metadata") not in net.bytes
    assert net.messages == 2


def test_round_trips_draw_full_rtts(network):
    rtts = [network.round_trips("us-west1-a", ["us-west2-a"], 1, 1, "metadata")[0]
            for _ in range(4001)]
    assert statistics.median(rtts) == pytest.approx(0.024, rel=0.02)


def test_round_trips_honour_link_loss(make_network, constant_topology_spec):
    spec = constant_topology_spec(
        extra_links=[link_spec(("us-west1", "us-west2"), 0.024, loss=0.5)])
    net = make_network(spec)
    n = 2000
    answered = sum(len(net.round_trips("us-west1-a", ["us-west2-a"], 1, 1, "metadata"))
                   for _ in range(n))
    assert answered < 0.9 * n  # at least one of two messages lost: expected 25 %


def test_network_context_is_its_own(ctx, topology):
    net = Network(ctx, topology)
    assert net.ctx is ctx
    assert Network(Context(seed=1), topology).delay("us-west1-a", "us-west2-a", 1, "x") > 0


def test_a_client_connection_is_bounded_by_window_over_rtt(make_network,
                                                          constant_topology_spec):
    # Over a 4 MiB window and a 24 ms RTT the sender puts one window in flight per round
    # trip (throughput = window / RTT, domain.md §2): the first window rides the
    # exchange's own round trip, each further one costs one more.
    net = make_network(constant_topology_spec(tcp_window="4MiB"))
    for size, trips in [(4 * 2**20, 1), (4 * 2**20 + 1, 2), (8 * 2**20, 2),
                        (12 * 2**20, 3), (12 * 2**20 + 1, 4)]:
        rtt = net.round_trip("us-west1-a", "us-west2-a", size, 0, "object_put")
        assert rtt == pytest.approx(0.024 * trips), size
    # each direction has its windows: a 3 MiB request and a 1 MiB reply take one trip,
    # a 16 MiB reply to a small request four (a ranged GET of 16 MiB)
    assert net.round_trip("us-west1-a", "us-west2-a", 3 * 2**20, 2**20 + 1, "object_get") \
        == pytest.approx(0.024)
    assert net.round_trip("us-west1-a", "us-west2-a", 64, 16 * 2**20, "object_get") \
        == pytest.approx(0.024 * 4)
    assert net.round_trip("us-west1-a", "us-west2-a", 4 * 2**20 + 1, 4 * 2**20 + 1,
                          "object_get") == pytest.approx(0.024 * 3)
    # connections in parallel: each carries its share
    assert net.round_trip("us-west1-a", "us-west2-a", 8 * 2**20, 0, "object_put",
                          parallel=2) == pytest.approx(0.024)
    # small messages and provider-internal transfers are not windowed
    assert net.round_trip("us-west1-a", "us-west2-a", 1024, 1024, "metadata") == \
        pytest.approx(0.024)
    assert net.round_trip("us-west1", "us-west2", 0, 8 * 2**20, "object_get",
                          windowed=False) == pytest.approx(0.024)
