"""The consensus metadata store (geosim.components.metadata_store).

Analytic oracle (domain.md §4): an unloaded commit takes the client's way to the leader,
the leader's round trip to the nearest majority, the commit wait and the way back. On
the constant-RTT topology (same zone 0.2 ms, inter-zone 1 ms, us-west1 <-> us-west2
24 ms, us-west1 <-> us-west3 30 ms, us-west2 <-> us-west3 13 ms RTT) that is exact.
"""

from __future__ import annotations

import numpy as np
import pytest

from geosim.components.metadata_store import (
    ENVELOPE,
    MetadataStore,
    Voter,
    defaults_for,
    place_voters,
)
from geosim.core.distributions import LogNormal
from geosim.core.events import MetadataLeaderChanged
from geosim.scenario import schema
from geosim.world.network import Network

WEST = ["us-west1", "us-west2", "us-west3"]
SAME_ZONE_ONE_WAY = 0.0001
SPANNER_WAIT = 0.005


def make_store(network: Network, **spec) -> MetadataStore:
    parsed = schema.MetadataSpec.model_validate(spec)
    return MetadataStore(network.ctx, network, parsed,
                         place_voters(parsed, network.topology.zones))


class Commits:
    """Issues commits and records (issue time, answer time, ok)."""

    def __init__(self, store: MetadataStore):
        self.store = store
        self.results: list[tuple[float, float, bool]] = []

    def issue(self, zone: str, size: int = 100) -> None:
        start = self.store.env.now
        self.store.commit(zone, size,
                          lambda ok: self.results.append((start, self.store.env.now, ok)))

    @property
    def latencies(self) -> list[float]:
        return [end - start for start, end, _ in self.results]


def lose_region(store: MetadataStore, region: str) -> None:
    store.network.set_down(region)
    store.on_topology_change()


@pytest.fixture
def multi(constant_network) -> MetadataStore:
    return make_store(constant_network, preset="spanner-multi-region", regions=WEST,
                      request_timeout=30.0)


# --- placement and defaults ---------------------------------------------------------------

def test_spanner_multi_region_places_two_plus_two_plus_witness(multi):
    assert [(v.zone, v.leader_eligible) for v in multi.voters] == [
        ("us-west1-a", True), ("us-west1-b", True), ("us-west2-a", True),
        ("us-west2-b", True), ("us-west3-a", False)]
    assert multi.majority == 3
    assert multi.leader_zone == "us-west1-a"
    assert (multi.commit_wait, multi.election_timeout) == (SPANNER_WAIT, 10.0)


def test_spanner_dual_region_has_four_voters(constant_network):
    store = make_store(constant_network, preset="spanner-dual-region",
                       regions=["us-west1", "us-west2"])
    assert [v.region for v in store.voters] == ["us-west1"] * 2 + ["us-west2"] * 2
    assert store.majority == 3


def test_etcd_defaults():
    spec = schema.MetadataSpec(preset="etcd", regions=["us-west1"])
    assert defaults_for(spec) == (0.0, 1.0)
    override = schema.MetadataSpec(preset="etcd", regions=["us-west1"], commit_wait="2ms",
                                   election_timeout="3s")
    assert defaults_for(override) == (pytest.approx(0.002), 3.0)


def test_etcd_places_three_voters_over_the_zones(constant_network):
    store = make_store(constant_network, preset="etcd", regions=["us-west1"])
    assert [v.zone for v in store.voters] == ["us-west1-a", "us-west1-b", "us-west1-c"]
    assert store.majority == 2


def test_etcd_over_three_regions_spreads_voters_over_regions(constant_network):
    store = make_store(constant_network, preset="etcd", regions=WEST)
    assert {v.region for v in store.voters} == set(WEST)


def test_custom_voters_and_leader_region(constant_network):
    store = make_store(constant_network, preset="custom", leader_region="us-west2",
                       voters=[{"region": "us-west1", "zone": "c", "count": 2},
                               {"region": "us-west2", "count": 3}])
    assert [v.zone for v in store.voters] == ["us-west1-c", "us-west1-c", "us-west2-a",
                                              "us-west2-b", "us-west2-c"]
    assert store.leader_zone == "us-west2-a"


def test_a_store_needs_voters(constant_network):
    with pytest.raises(ValueError, match="at least one voter"):
        MetadataStore(constant_network.ctx, constant_network,
                      schema.MetadataSpec(preset="custom"), [])


# --- the analytic oracle ------------------------------------------------------------------

def test_commit_from_leader_zone_takes_the_nearest_majority_round_trip(multi):
    commits = Commits(multi)
    commits.issue("us-west1-a")
    multi.env.run(until=1)
    # Majority 3 = the leader, us-west1-b (1 ms) and one us-west2 voter (24 ms); the
    # witness (30 ms) is not needed.
    expected = SAME_ZONE_ONE_WAY + 0.024 + SPANNER_WAIT + SAME_ZONE_ONE_WAY
    assert commits.results == [(0.0, pytest.approx(expected), True)]
    assert multi.counters["metadata_commits"] == 1


def test_commit_from_another_region_adds_the_way_to_the_leader(multi):
    commits = Commits(multi)
    commits.issue("us-west2-c")
    multi.env.run(until=1)
    assert commits.latencies == [pytest.approx(0.012 + 0.024 + SPANNER_WAIT + 0.012)]


def test_losing_a_read_write_region_falls_back_on_the_witness(multi):
    lose_region(multi, "us-west2")
    assert multi.leader_zone == "us-west1-a"  # the leader is unaffected
    commits = Commits(multi)
    commits.issue("us-west1-a")
    multi.env.run(until=1)
    assert commits.latencies == [pytest.approx(
        SAME_ZONE_ONE_WAY + 0.030 + SPANNER_WAIT + SAME_ZONE_ONE_WAY)]


def test_commit_latency_distribution_on_gcp_links(network):
    store = make_store(network, preset="spanner-multi-region", regions=WEST)
    commits = Commits(store)
    for _ in range(3000):
        commits.issue("us-west1-a")
    store.env.run(until=1)
    latencies = np.array(commits.latencies)
    assert all(ok for *_, ok in commits.results)
    # Independent Monte Carlo of the same oracle from the link distributions: the 2nd
    # fastest of the leader's round trips to its 4 followers, plus the commit wait and
    # the same-zone hops.
    rng = np.random.default_rng(0)
    n = 200_000
    same_zone = LogNormal(0.1e-3, 0.3e-3).draw(rng, 2 * n).reshape(2, n).sum(0) / 2
    rtts = np.stack([LogNormal(0.5e-3, 1.0e-3).draw(rng, n),
                     LogNormal(0.024, 0.0288).draw(rng, n),
                     LogNormal(0.024, 0.0288).draw(rng, n),
                     LogNormal(0.030, 0.036).draw(rng, n)])
    oracle = same_zone + np.sort(rtts, axis=0)[1] + SPANNER_WAIT
    assert np.median(latencies) == pytest.approx(np.median(oracle), rel=0.01)
    assert np.quantile(latencies, 0.99) == pytest.approx(np.quantile(oracle, 0.99), rel=0.03)
    # Never faster than the commit wait plus the fastest conceivable WAN round trip.
    assert latencies.min() > SPANNER_WAIT + 0.015


def test_etcd_commit_has_no_commit_wait(constant_network):
    store = make_store(constant_network, preset="etcd", regions=["us-west1"])
    commits = Commits(store)
    commits.issue("us-west1-a")
    store.env.run(until=1)
    assert commits.latencies == [pytest.approx(SAME_ZONE_ONE_WAY + 0.001 + SAME_ZONE_ONE_WAY)]


def test_read_latency_is_a_round_trip_to_the_leader(multi):
    assert multi.read_latency("us-west2-a") == pytest.approx(0.024)
    assert multi.read_latency("us-west1-a") == pytest.approx(0.0002)
    assert multi.counters["metadata_reads"] == 2


def test_commit_bytes_are_counted_as_metadata(multi):
    commits = Commits(multi)
    commits.issue("us-west2-a", size=1000)
    multi.env.run(until=1)
    net = multi.network
    # us-west2-a is both the client and a follower: request + vote / log entry + reply.
    assert net.bytes[("us-west2-a", "us-west1-a", "metadata")] == 1000 + ENVELOPE
    assert net.bytes[("us-west1-a", "us-west2-a", "metadata")] == 1000 + ENVELOPE
    assert net.bytes[("us-west1-a", "us-west2-b", "metadata")] == 1000
    assert net.bytes[("us-west2-b", "us-west1-a", "metadata")] == ENVELOPE
    assert net.bytes[("us-west1-a", "us-west3-a", "metadata")] == 1000
    assert net.bytes[("us-west3-a", "us-west1-a", "metadata")] == ENVELOPE



def test_a_batch_of_commits_and_reads_carries_one_envelope_per_request(multi):
    """``requests`` commits made at once (one modelled writer's brokers): ``size`` is
    their sum and every reply, vote and ack is one envelope per request (mutation round
    six: the bytes were checked for one request only). 4 commits of 250 bytes from
    us-west2-a, then a batch of 3 reads from us-west3-a."""
    done: list[bool] = []
    multi.commit("us-west2-a", 1000, done.append, requests=4)
    multi.env.run(until=1)
    assert done == [True] and multi.counters["metadata_commits"] == 4
    net = multi.network
    assert net.bytes[("us-west2-a", "us-west1-a", "metadata")] == 1000 + 4 * ENVELOPE
    assert net.bytes[("us-west1-a", "us-west2-a", "metadata")] == 1000 + 4 * ENVELOPE
    assert net.bytes[("us-west1-a", "us-west2-b", "metadata")] == 1000
    assert net.bytes[("us-west2-b", "us-west1-a", "metadata")] == 4 * ENVELOPE
    assert net.bytes[("us-west3-a", "us-west1-a", "metadata")] == 4 * ENVELOPE
    assert multi.read_latency("us-west3-a", requests=3) is not None
    assert net.bytes[("us-west3-a", "us-west1-a", "metadata")] == 7 * ENVELOPE
    assert net.bytes[("us-west1-a", "us-west3-a", "metadata")] == 1000 + 3 * ENVELOPE
    assert multi.counters["metadata_reads"] == 3

# --- leader loss and elections --------------------------------------------------------------

def test_losing_the_leader_region_elects_an_eligible_leader(multi):
    changes = []
    multi.ctx.recorder.subscribe(MetadataLeaderChanged, changes.append)
    multi.env.run(until=5)
    lose_region(multi, "us-west1")
    assert multi.leader is None and not multi.available()
    commits = Commits(multi)
    commits.issue("us-west2-a")
    multi.env.run(until=14.9)
    assert commits.results == []  # waiting, not failed
    assert multi.leader is None
    multi.env.run(until=30)

    elected_at = 5 + multi.election_timeout
    assert [(c.t, c.store, c.leader_region) for c in changes] == [(5.0, "metadata", None),
                                                             (elected_at, "metadata", "us-west2")]
    assert multi.leader_zone == "us-west2-a"
    assert multi.voters[multi.leader].leader_eligible
    assert multi.counters["metadata_elections"] == 1
    # Leader us-west2-a; majority: itself, us-west2-b (1 ms) and the witness (13 ms).
    latency = SAME_ZONE_ONE_WAY + 0.013 + SPANNER_WAIT + SAME_ZONE_ONE_WAY
    [(start, end, ok)] = commits.results
    assert ok
    # Pending commits are retried once a second.
    assert elected_at + latency <= end <= elected_at + 1.0 + latency + 1e-9


def test_the_witness_never_leads(constant_network):
    store = make_store(constant_network, preset="spanner-multi-region", regions=WEST,
                       request_timeout=30.0)
    store.network.set_down("us-west1-a")
    store.network.set_down("us-west1-b")
    store.network.set_down("us-west2-a")
    store.on_topology_change()
    store.env.run(until=60)
    assert store.leader is None  # 2 of 5 reachable: no majority, and one is the witness
    assert store.counters["metadata_elections"] == 0


def test_commit_in_flight_when_the_leader_is_lost_fails(multi):
    commits = Commits(multi)
    commits.issue("us-west2-a")
    lose_region(multi, "us-west1")
    multi.env.run(until=1)
    [(_, _, ok)] = commits.results
    assert not ok
    assert multi.counters["metadata_commit_failures"] == 1


def test_etcd_elects_after_one_second(constant_network):
    store = make_store(constant_network, preset="etcd", regions=["us-west1"])
    store.env.run(until=2)
    lose_region(store, "us-west1-a")
    assert store.leader is None
    store.env.run(until=2.999)
    assert store.leader is None
    store.env.run(until=3.001)
    assert store.leader_zone == "us-west1-b"


def test_spanner_dual_region_without_majority_fails_commits(constant_network):
    store = make_store(constant_network, preset="spanner-dual-region",
                       regions=["us-west1", "us-west2"])
    lose_region(store, "us-west2")
    assert store.leader_zone == "us-west1-a"  # leader kept, but no majority
    commits = Commits(store)
    commits.issue("us-west1-a")
    store.env.run(until=60)
    assert commits.results == [(0.0, pytest.approx(store.spec.request_timeout), False)]
    assert store.counters["metadata_commit_failures"] == 1


def test_spanner_dual_region_losing_the_leader_region_never_elects(constant_network):
    store = make_store(constant_network, preset="spanner-dual-region",
                       regions=["us-west1", "us-west2"])
    lose_region(store, "us-west1")
    commits = Commits(store)
    commits.issue("us-west2-a")
    store.env.run(until=120)
    assert store.leader is None
    assert commits.results == [(0.0, pytest.approx(10.0), False)]
    # When the region returns, the still-running election restores a leader.
    store.network.set_down("us-west1", False)
    store.on_topology_change()
    store.env.run(until=140)
    assert store.leader_zone == "us-west1-a"


def test_metadata_loss_makes_commits_wait_then_fail(multi):
    multi.set_lost(True)
    assert not multi.available()
    assert multi.read_latency("us-west1-a") is None
    commits = Commits(multi)
    commits.issue("us-west1-a")
    multi.env.run(until=60)
    assert commits.results == [(0.0, pytest.approx(30.0), False)]
    multi.set_lost(False)
    assert multi.available() and multi.leader_zone == "us-west1-a"


def test_a_retried_commit_counts_its_bytes_once(multi):
    def metadata_bytes() -> int:
        return sum(n for (_, _, p), n in multi.network.bytes.items() if p == "metadata")

    lose_region(multi, "us-west1")
    commits = Commits(multi)
    commits.issue("us-west2-a", size=1000)  # waits for the election, then is retried
    multi.env.run(until=20)
    retried = metadata_bytes()
    commits.issue("us-west2-a", size=1000)  # a fresh commit under the same conditions
    multi.env.run(until=21)
    fresh = metadata_bytes() - retried
    assert [ok for *_, ok in commits.results] == [True, True]
    assert retried == fresh


def test_voter_is_a_value():
    assert Voter("us-west1-a", "us-west1") == Voter("us-west1-a", "us-west1", True)


# --- elections driven by the fault timeline --------------------------------------------------

class _Untouched:
    """The parts of a world and strategy a region fault also touches; they record calls."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def __getattr__(self, name):
        return lambda *args, **kwargs: self.calls.append((name, *args))


def _injector(store: MetadataStore):
    from types import SimpleNamespace

    from geosim.world.faults import FaultInjector

    world = SimpleNamespace(ctx=store.ctx, scenario=None, topology=store.network.topology,
                            network=store.network, object_store=_Untouched(),
                            metadata=store)
    return FaultInjector(world, _Untouched())


@pytest.mark.parametrize("kind", ["region-outage", "region-destruction"])
def test_a_region_fault_re_elects_the_leader_without_a_direct_call(multi, kind):
    # The fault injector alone tells the store: leader us-west1-a is lost at 5 and the
    # election timeout (10 s, Spanner) later the preferred reachable eligible voter of
    # us-west2 leads; an outage's end does not move the leader back.
    changes = []
    multi.ctx.recorder.subscribe(MetadataLeaderChanged, changes.append)
    injector = _injector(multi)
    fault = (schema.RegionOutage(kind=kind, region="us-west1", at=0, duration=1)
             if kind == "region-outage" else
             schema.RegionDestruction(kind=kind, region="us-west1", at=0))
    multi.env.run(until=5)
    injector.apply_now(0, fault)
    assert multi.leader is None and not multi.available()
    multi.env.run(until=14.999)
    assert multi.leader is None
    multi.env.run(until=15.001)
    assert multi.leader_zone == "us-west2-a"
    assert [(c.t, c.leader_region) for c in changes] == [(5.0, None), (15.0, "us-west2")]
    assert multi.counters["metadata_elections"] == 1
    if kind == "region-outage":
        injector.apply_now(0, fault, active=False)
        multi.env.run(until=40)
        assert multi.leader_zone == "us-west2-a"
        assert len(changes) == 2


def test_a_zone_outage_of_the_leader_re_elects_within_the_region(constant_network):
    store = make_store(constant_network, preset="etcd", regions=["us-west1"])
    injector = _injector(store)
    store.env.run(until=2)
    injector.apply_now(0, schema.ZoneOutage(kind="zone-outage", zone="us-west1-a", at=0,
                                            duration=1))
    assert store.leader is None
    store.env.run(until=3.001)  # etcd's election timeout: 1 s
    assert store.leader_zone == "us-west1-b"
