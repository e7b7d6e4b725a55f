"""The consensus metadata store (geosim.components.metadata_store).

Analytic oracle (domain.md §4): an unloaded commit takes the client's way to the leader,
the leader's round trip to the nearest majority, the commit wait and the way back. On
the constant-RTT topology (same zone 0.2 ms, inter-zone 1 ms, us-west1 <-> us-west2
24 ms, us-west1 <-> us-west3 30 ms, us-west2 <-> us-west3 13 ms RTT) that is exact.
"""

from __future__ import annotations

import dataclasses

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


def dual_region_without(network, region: str, **spec) -> tuple[MetadataStore, Commits]:
    """The Spanner dual-region preset over us-west1 and us-west2 with ``region`` lost,
    and a commit recorder."""
    store = make_store(network, preset="spanner-dual-region",
                       regions=["us-west1", "us-west2"], **spec)
    lose_region(store, region)
    return store, Commits(store)


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


def test_kraft_and_spanner_regional_defaults():
    # KRaft: no commit wait, 3 s to elect (fetch timeout 2 s + election 1 s); every
    # spanner-* preset: the 5 ms TrueTime wait and 10 s leases.
    assert defaults_for(schema.MetadataSpec(preset="kraft", regions=["us-west1"])) == (0.0, 3.0)
    assert defaults_for(schema.MetadataSpec(preset="spanner-regional",
                                            regions=["us-west1"])) == (SPANNER_WAIT, 10.0)


def test_spanner_multi_region_uses_only_its_first_three_regions():
    # Two read-write regions and the witness: a fourth listed region holds no voter.
    spec = schema.MetadataSpec(preset="spanner-multi-region", regions=["r1", "r2", "r3", "r4"])
    voters = place_voters(spec, lambda region: [f"{region}-a", f"{region}-b"])
    assert [(v.zone, v.leader_eligible) for v in voters] == [
        ("r1-a", True), ("r1-b", True), ("r2-a", True), ("r2-b", True), ("r3-a", False)]


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


def test_custom_voters_without_leader_region_prefer_the_first_voters_region(
        constant_network):
    # No leader_region and no regions: the first voter's region, us-west2, is preferred.
    # us-west2-a leads; once it is lost, the election (custom: 1 s) prefers us-west2-b
    # (voter 3) to the earlier us-west1 voters 1 and 2; 3 of 4 reachable is a majority.
    store = make_store(constant_network, preset="custom",
                       voters=[{"region": "us-west2", "zone": "a", "count": 1},
                               {"region": "us-west1", "count": 2},
                               {"region": "us-west2", "zone": "b", "count": 1}])
    assert store.leader_zone == "us-west2-a"
    lose_region(store, "us-west2-a")
    store.env.run(until=1.001)  # custom: 1 s election timeout
    assert store.leader_zone == "us-west2-b"


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


def test_a_single_voter_commits_without_a_quorum_round_trip(constant_network):
    # One voter is its own majority: no follower acks, no commit wait (custom preset), so
    # a commit is the client's round trip to the leader alone, us-west2 <-> us-west1.
    store = make_store(constant_network, preset="custom",
                       voters=[{"region": "us-west1", "zone": "a", "count": 1}])
    assert store.majority == 1
    commits = Commits(store)
    commits.issue("us-west2-a")
    store.env.run(until=1)
    assert commits.results == [(0.0, pytest.approx(0.024), True)]


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
    # A reply, vote or ack is one 256-byte envelope (the module's assumption), written
    # out here so that the figure itself is checked, not only its uses.
    assert net.bytes[("us-west2-a", "us-west1-a", "metadata")] == 1000 + 256
    assert net.bytes[("us-west1-a", "us-west2-a", "metadata")] == 1000 + 256
    assert net.bytes[("us-west1-a", "us-west2-b", "metadata")] == 1000
    assert net.bytes[("us-west2-b", "us-west1-a", "metadata")] == 256
    assert net.bytes[("us-west1-a", "us-west3-a", "metadata")] == 1000
    assert net.bytes[("us-west3-a", "us-west1-a", "metadata")] == 256



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
    # The election retries the waiting commit at once, not at the next 1 s tick.
    assert commits.results == [(5.0, pytest.approx(elected_at + latency), True)]


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
    store, commits = dual_region_without(constant_network, "us-west2")
    assert store.leader_zone == "us-west1-a"  # leader kept, but no majority
    commits.issue("us-west1-a")
    store.env.run(until=60)
    assert commits.results == [(0.0, pytest.approx(store.spec.request_timeout), False)]
    assert store.counters["metadata_commit_failures"] == 1


def test_commits_waiting_for_a_majority_are_retried_once_a_second(constant_network):
    """Without a majority the leader keeps its place and one expiry process retries
    every waiting commit on its ticks, 1 s apart from the first wait (t = 0): commits
    made at 0 and 0.5 both go through at the tick of 3 s, the first after the majority
    returns at 2.25 s, not on a tick of their own."""
    store, commits = dual_region_without(constant_network, "us-west2")
    commits.issue("us-west1-a")
    store.env.run(until=0.5)
    commits.issue("us-west1-a")
    store.env.run(until=2.25)
    assert commits.results == []
    store.network.set_down("us-west2", False)
    store.on_topology_change()
    store.env.run(until=5)
    # Leader us-west1-a; majority 3: itself, us-west1-b (1 ms) and a us-west2 voter
    # (24 ms), plus the same-zone client hops and the commit wait.
    end = 3.0 + SAME_ZONE_ONE_WAY + 0.024 + SPANNER_WAIT + SAME_ZONE_ONE_WAY
    assert commits.results == [(0.0, pytest.approx(end), True),
                               (0.5, pytest.approx(end), True)]
    assert store.counters["metadata_commit_failures"] == 0


def test_a_later_wait_expires_request_timeout_after_its_own_start(constant_network):
    # No majority throughout (us-west2 lost): the commit made at 0 fails at the 10 s
    # request timeout, which ends the expiry process; one made at 12.5 starts a new one,
    # whose ticks (13.5, 14.5, ...) fail it at 12.5 + 10 = 22.5.
    store, commits = dual_region_without(constant_network, "us-west2")
    commits.issue("us-west1-a")
    store.env.run(until=12.5)
    commits.issue("us-west1-a")
    store.env.run(until=40)
    assert commits.results == [(0.0, pytest.approx(10.0), False),
                               (12.5, pytest.approx(22.5), False)]
    assert store.counters["metadata_commit_failures"] == 2


def test_a_request_timeout_under_a_second_is_also_the_retry_period(constant_network):
    # The expiry process ticks every min(1 s, request_timeout) = 0.25 s: a commit that
    # cannot reach a majority fails at its first tick, 0.25 s after it was made.
    store, commits = dual_region_without(constant_network, "us-west2", request_timeout=0.25)
    commits.issue("us-west1-a")
    store.env.run(until=5)
    assert commits.results == [(0.0, 0.25, False)]


def test_spanner_dual_region_losing_the_leader_region_never_elects(constant_network):
    store, commits = dual_region_without(constant_network, "us-west1")
    commits.issue("us-west2-a")
    store.env.run(until=120)
    assert store.leader is None
    assert commits.results == [(0.0, pytest.approx(10.0), False)]
    # When the region returns, the still-running election restores a leader.
    store.network.set_down("us-west1", False)
    store.on_topology_change()
    store.env.run(until=140)
    assert store.leader_zone == "us-west1-a"


def test_a_second_leader_loss_elects_again_in_a_new_term(constant_network):
    # etcd in one region, voters us-west1-a, -b, -c, majority 2, 1 s elections. Lose
    # us-west1-a at 2: us-west1-b leads at 3 (term 1). us-west1-a returns at 4 (the
    # leader is kept), us-west1-b is lost at 5: us-west1-a, first by preference, leads
    # at 6 (term 2).
    store = make_store(constant_network, preset="etcd", regions=["us-west1"])
    changes = []
    store.ctx.recorder.subscribe(MetadataLeaderChanged, changes.append)
    assert store.term == 0
    store.env.run(until=2)
    lose_region(store, "us-west1-a")
    store.env.run(until=4)
    assert (store.leader_zone, store.term) == ("us-west1-b", 1)
    store.network.set_down("us-west1-a", False)
    store.on_topology_change()
    store.env.run(until=5)
    lose_region(store, "us-west1-b")
    store.env.run(until=10)
    assert (store.leader_zone, store.term) == ("us-west1-a", 2)
    assert store.counters["metadata_elections"] == 2
    assert [(c.t, c.leader_region) for c in changes] == [
        (2.0, None), (3.0, "us-west1"), (5.0, None), (6.0, "us-west1")]


def test_a_fault_during_an_election_does_not_start_another(multi):
    # The leader region is lost at 5 (election at 15); a non-voter zone going down at 8
    # changes nothing for the store: still one election, one new term.
    changes = []
    multi.ctx.recorder.subscribe(MetadataLeaderChanged, changes.append)
    multi.env.run(until=5)
    lose_region(multi, "us-west1")
    multi.env.run(until=8)
    lose_region(multi, "us-west2-c")
    multi.env.run(until=60)
    assert [(c.t, c.leader_region) for c in changes] == [(5.0, None), (15.0, "us-west2")]
    assert (multi.leader_zone, multi.term) == ("us-west2-a", 1)
    assert multi.counters["metadata_elections"] == 1


def test_a_leader_lost_while_the_store_was_lost_is_replaced_when_it_returns(multi):
    # While the store is lost it ignores topology changes; when it returns at 4 it finds
    # its leader's region down: no leader at once, a new one election_timeout (10 s) later.
    changes = []
    multi.ctx.recorder.subscribe(MetadataLeaderChanged, changes.append)
    multi.set_lost(True)
    multi.env.run(until=2)
    lose_region(multi, "us-west1")
    assert multi.leader_zone == "us-west1-a"
    multi.env.run(until=4)
    multi.set_lost(False)
    assert multi.leader is None
    multi.env.run(until=20)
    assert multi.leader_zone == "us-west2-a"
    assert [(c.t, c.leader_region) for c in changes] == [(4.0, None), (14.0, "us-west2")]


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
    # A value is immutable and hashable: equal voters are one set element.
    assert len({Voter("us-west1-a", "us-west1"), Voter("us-west1-a", "us-west1", True)}) == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        Voter("us-west1-a", "us-west1").zone = "us-west1-b"  # type: ignore[misc]


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
