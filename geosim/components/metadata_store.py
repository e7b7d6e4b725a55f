"""A consensus metadata store: Spanner, etcd, or a KRaft-like controller quorum.

Voters live in zones. A commit travels from the client to the leader, which replicates
it to the other voters and commits once a majority (itself included) has it: the
leader's round trip to the nearest majority, plus any commit wait (Spanner's TrueTime
wait), plus the way back to the client (domain.md §4; figures.md M3). Without a leader
(after losing it, for ``election_timeout``) or without a reachable majority, commits
wait and fail after ``request_timeout``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from geosim.core.context import Context
from geosim.core.events import MetadataLeaderChanged
from geosim.scenario.schema import MetadataSpec, VoterSpec
from geosim.world.network import Network

ENVELOPE = 256  # bytes of a vote / ack message (assumption)


@dataclass(frozen=True)
class Voter:
    zone: str
    region: str
    leader_eligible: bool = True


def place_voters(spec: MetadataSpec, zones_of: Callable[[str], list[str]]) -> list[Voter]:
    """Voters of a preset or of an explicit list, spread over the zones of their regions."""
    def spread(region: str, count: int, zone: str | None, eligible: bool = True):
        zones = [f"{region}-{zone}"] if zone else zones_of(region)
        return [Voter(zones[i % len(zones)], region, eligible) for i in range(count)]

    regions = spec.regions
    if spec.preset == "spanner-multi-region":
        rw1, rw2, witness = regions[:3]
        return spread(rw1, 2, None) + spread(rw2, 2, None) + spread(witness, 1, None, False)
    if spec.preset == "spanner-dual-region":
        return spread(regions[0], 2, None) + spread(regions[1], 2, None)
    if spec.preset in ("etcd", "kraft", "spanner-regional", "dynamodb"):
        # Round-robin over regions first, then over each region's zones, so three
        # regions get one voter each and one region gets one voter per zone.
        voters = []
        for i in range(3):
            region = regions[i % len(regions)]
            zones = zones_of(region)
            voters.append(Voter(zones[(i // len(regions)) % len(zones)], region))
        return voters
    voters: list[Voter] = []
    for v in spec.voters:
        voters += spread(v.region, v.count, v.zone)
    return voters


def defaults_for(spec: MetadataSpec) -> tuple[float, float]:
    """(commit_wait, election_timeout) with the preset's defaults filled in."""
    spanner = spec.preset.startswith("spanner")
    commit_wait = spec.commit_wait if spec.commit_wait is not None else (
        0.005 if spanner else 0.0)
    election = spec.election_timeout if spec.election_timeout is not None else (
        10.0 if spanner else 3.0 if spec.preset == "kraft" else 1.0)
    return commit_wait, election


class MetadataStore:
    """Leader-based consensus over placed voters; see the module docstring."""

    def __init__(self, ctx: Context, network: Network, spec: MetadataSpec, voters: list[Voter],
                 name: str = "metadata"):
        if not voters:
            raise ValueError("metadata store needs at least one voter")
        self.ctx = ctx
        self.env = ctx.env
        self.network = network
        self.spec = spec
        self.name = name
        self.voters = voters
        self.majority = len(voters) // 2 + 1
        self.commit_wait, self.election_timeout = defaults_for(spec)
        preferred = spec.leader_region or (spec.regions[0] if spec.regions else voters[0].region)
        self._preference = sorted(range(len(voters)), key=lambda i: (
            voters[i].region != preferred, i))
        self.leader: int | None = next(i for i in self._preference
                                       if voters[i].leader_eligible)
        self._lost = False
        self._expiring = False
        self._followers = {i: [v.zone for j, v in enumerate(voters) if j != i]
                           for i in range(len(voters))}
        self._electing = False
        #: Bumped by every election: a leader of a new term (a new active controller,
        #: for a KRaft quorum) even when the same voter wins again.
        self.term = 0
        self._pending: list[tuple[str, int, Callable[[bool], None], float, int]] = []
        self.counters = {"metadata_commits": 0, "metadata_commit_failures": 0,
                         "metadata_reads": 0, "metadata_elections": 0}

    # --- API ------------------------------------------------------------------------
    @property
    def leader_zone(self) -> str | None:
        return None if self.leader is None else self.voters[self.leader].zone

    def available(self) -> bool:
        return self.leader is not None and not self._lost

    def quorum(self) -> tuple[str, tuple[str, ...], int, float] | None:
        """What a commit meets now, for a model that makes its own commits (the window
        engine's AlterPartition writes): the leader's zone, the zones of the other
        voters it reaches, how many of their acks it waits for, and the commit wait;
        None while a commit would wait (no leader, or no majority reached)."""
        i = self.leader
        if i is None or self._lost:
            return None
        leader = self.voters[i].zone
        reach = tuple(z for z in self._followers[i] if not self.network.is_down(z))
        if len(reach) < self.majority - 1:
            return None
        return leader, reach, self.majority - 1, self.commit_wait

    def commit(self, zone: str, size: int, done: Callable[[bool], None], *,
               requests: int = 1) -> None:
        """Commit ``size`` bytes from a client in ``zone``; ``done(ok)`` when it learns.

        Waits (up to ``request_timeout``) while there is no leader or no majority.
        ``requests``: ``size`` is the sum of that many equal commits made at once (the
        brokers of one modelled writer), counted as such; one latency draw serves them.
        """
        self._try_commit(zone, size, done, self.env.now, requests)

    def _try_commit(self, zone: str, size: int, done: Callable[[bool], None],
                    since: float, requests: int) -> None:
        latency = self._commit_latency(zone, size, requests) if self.available() else None
        if latency is None:
            self._pending.append((zone, size, done, since, requests))
            self._arm_timeout()
            return
        self.counters["metadata_commits"] += requests
        leader_at_start = self.leader

        def complete(_event):
            # A commit whose leader was lost meanwhile gets no answer: an error.
            ok = self.leader == leader_at_start and not self._lost
            if not ok:
                self.counters["metadata_commit_failures"] += requests
            done(ok)

        self.env.timeout(latency).callbacks.append(complete)

    def read_latency(self, zone: str, requests: int = 1) -> float | None:
        """A strongly consistent read: a round trip to the leader (None if unavailable).
        ``requests`` as for :meth:`commit`."""
        if not self.available():
            return None
        self.counters["metadata_reads"] += requests
        leader = self.voters[self.leader].zone
        return self.network.round_trip(zone, leader, ENVELOPE * requests, ENVELOPE * requests,
                                       "metadata", parallel=requests)

    # --- internals ------------------------------------------------------------------
    def _commit_latency(self, zone: str, size: int, requests: int) -> float | None:
        leader = self.voters[self.leader].zone
        client = self.network.round_trip(zone, leader, size, ENVELOPE * requests, "metadata",
                                         parallel=requests)
        if client is None:
            return None
        acks = self.network.round_trips(leader, self._followers[self.leader], size,
                                        ENVELOPE * requests, "metadata", parallel=requests)
        needed = self.majority - 1
        if len(acks) < needed:
            return None
        quorum = sorted(acks)[needed - 1] if needed > 0 else 0.0
        return client + quorum + self.commit_wait

    def _arm_timeout(self) -> None:
        if not self._expiring:
            self._expiring = True
            self.env.process(self._expire_pending())

    def _expire_pending(self):
        """Once a second while commits wait: fail the expired ones, retry the others."""
        while self._pending:
            yield self.env.timeout(min(1.0, self.spec.request_timeout))
            self._retry_pending()
        self._expiring = False

    def _retry_pending(self) -> None:
        now = self.env.now
        pending, self._pending = self._pending, []
        for zone, size, done, since, requests in pending:
            if now - since >= self.spec.request_timeout:
                self.counters["metadata_commit_failures"] += requests
                done(False)
            else:
                self._try_commit(zone, size, done, since, requests)

    def _reachable_voters(self) -> list[int]:
        return [i for i, v in enumerate(self.voters) if not self.network.is_down(v.zone)]

    def on_topology_change(self) -> None:
        """Re-evaluate leadership after a fault or recovery changed reachability."""
        if self._lost:
            return
        reachable = self._reachable_voters()
        if self.leader is not None and self.leader in reachable:
            return
        if self.leader is not None:
            self.leader = None
            self.ctx.recorder.emit(MetadataLeaderChanged(self.env.now, self.name, None))
        if not self._electing:
            self._electing = True
            self.env.process(self._elect())

    def _elect(self):
        """After ``election_timeout``, a reachable eligible voter with a majority leads."""
        while True:
            yield self.env.timeout(self.election_timeout)
            reachable = set(self._reachable_voters())
            if len(reachable) >= self.majority and not self._lost:
                candidates = [i for i in self._preference
                              if i in reachable and self.voters[i].leader_eligible]
                if candidates:
                    self.leader = candidates[0]
                    self.term += 1
                    self.counters["metadata_elections"] += 1
                    self._electing = False
                    self.ctx.recorder.emit(MetadataLeaderChanged(
                        self.env.now, self.name, self.voters[self.leader].region))
                    self._retry_pending()  # waiting commits go to the new leader now
                    return

    def set_lost(self, lost: bool) -> None:
        """The whole store unavailable (metadata-store loss fault) or back."""
        self._lost = lost
        if not lost:
            self.on_topology_change()


__all__ = ["MetadataStore", "Voter", "VoterSpec", "place_voters"]
