"""Consumer groups: members in zones, partition assignment, positions and commits.

A group tracks, per partition, the rows committed to the log from the group's last
committed offset onwards (``log``), the position of the next row to deliver, and the
member that owns the partition. The strategy tells the group when an object's data is
readable in a zone (:meth:`ConsumerGroup.ready`); the owner delivers rows strictly in
offset order, so an unreadable object blocks its partition (Kafka fetch semantics).

The coordinator removes a member silent for ``session.timeout.ms``
(:mod:`geosim.clients.sessions` says from when) and reassigns its partitions (a
rebalance), and the new owner resumes from the last committed offset, re-delivering
what came after it. Positions are committed every
``auto.commit.interval.ms`` through the metadata store (Bufstream keeps group offsets
there), so a commit can fail when the store is unavailable.

Rebalances follow the group's protocol: Kafka's classic one, eager or cooperative as
the assignors decide (:mod:`geosim.clients.classic_group`), or the consumer protocol
of KIP-848 (:mod:`geosim.clients.kip848_group`); this module holds what they share:
members, static membership, the coordinator's loss and load, deliveries and commits
(sessions: :mod:`geosim.clients.sessions`).

With static membership (``group.instance.id``), a member restarted while the
coordinator still holds its session takes its place
(``GroupMetadataManager.updateStaticMemberThenRebalanceOrCompleteJoin``): in a stable
group there is no rebalance, it owns what it owned and resumes from the committed
offsets (its partitions went unread while it was down); in an eager rebalance under
way it joins it. A static member whose session expired was removed, and its return is
a new member's join. One back while the group has no coordinator reads nothing
until the next coordinator loads the group, and is known to it if it was a member of
the last generation. The model has no CompletingRebalance state (SyncGroup takes no
time): where Kafka's join completes with a leader that then died and the group waits
for that leader's session, the model assigns at once with the dead member in the
generation, and a static member back then resumes without the rebalance Kafka would
make.

The group coordinator (in a Kafka cluster, :mod:`geosim.kafka.coordinator`) may be
lost and another load the group. While the group has no coordinator, no session
expires, no member learns of a rebalance, no rebalance completes and no offset commit
is made. Members read on at full rate, where Kafka's consumer spends each poll's
timeout looking for the coordinator and returns at most ``max.poll.records`` a poll
(not modelled). A coordinator stores a group only at each completed
generation, so the one that loads it finds the last generation, stable: it gives every
member of that generation a fresh session (``GroupMetadataManager.onLoaded``), so a
silent member is removed ``session.timeout.ms`` after the load at the earliest, and
the members commit what a missed auto commit left. A rebalance under way at the old
coordinator is lost with it; the members that had given their partitions up for it
join again at the new one at once (their FindCoordinator and JoinGroup round trips
are not timed), where a known member other than the group's leader gets the last
generation's assignment back and reads its partitions from their commits, and the
leader's join, or a new member's, begins a rebalance. The model takes the generation's
lowest-numbered member as its leader (Kafka's is the first to join), and does not
model a JoinGroup sent to a coordinator that went silent (a zone's outage): Kafka's
consumer waits for that request's timeout, ``max.poll.interval.ms`` + 5 s, before it
looks for the new coordinator.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from geosim.clients.classic_group import ClassicRebalances
from geosim.clients.kip848_group import ConsumerProtocol
from geosim.clients.sessions import MemberSessions, heard_at_once
from geosim.core.context import Context
from geosim.core.events import Delivered, OffsetsCommitted, Rebalanced, Row

#: The coordinator's session and heartbeat under the consumer protocol (KIP-848):
#: ``group.consumer.session.timeout.ms`` and ``group.consumer.heartbeat.interval.ms``,
#: apache/kafka GroupCoordinatorConfig's defaults.
CONSUMER_GROUP_SESSION_TIMEOUT = 45.0
CONSUMER_GROUP_HEARTBEAT = 5.0


@dataclass(frozen=True)
class ConsumerSettings:
    session_timeout: float = 45.0
    heartbeat_interval: float = 3.0
    auto_commit_interval: float = 5.0
    auto_commit: bool = True
    fetch_max_wait: float = 0.5
    # the rebalance protocol: "eager" or "cooperative" (the classic group protocol), or
    # "consumer" (KIP-848)
    protocol: str = "eager"
    static: bool = False  # static members (group.instance.id set)


@dataclass
class Member:
    index: int
    zone: str
    region: str
    alive: bool = True
    died_at: float | None = None
    # The coordinator's last restart of this member's session other than by a
    # heartbeat: its incarnation's start, or its last assignment (SyncGroup); and when
    # it last heard one of its offset commits (the classic protocol's commits keep the
    # session too).
    session_start: float = 0.0
    heard: float = 0.0
    restarts: int = 0   # its incarnations since the first (a commit belongs to one)


@dataclass
class PartitionState:
    log: deque = field(default_factory=deque)  # (row, object_id) from committed offset on
    committed: int = 0          # next offset to read after a restart
    position: int = 0           # index into log of the next row to deliver
    owner: int | None = None


def rebalance_protocol(assignors: tuple[str, ...], group_protocol: str = "classic") -> str:
    """The rebalance protocol of a consumer with these assignors
    (``partition.assignment.strategy``) and ``group.protocol``: the consumer protocol
    (KIP-848) leaves assignment to the coordinator; in the classic one
    ConsumerCoordinator takes the newest protocol every assignor supports, and only
    CooperativeStickyAssignor supports the cooperative one."""
    if group_protocol == "consumer":
        return "consumer"
    if assignors and all(a == "CooperativeStickyAssignor" for a in assignors):
        return "cooperative"
    return "eager"


class ConsumerGroup(MemberSessions, ClassicRebalances, ConsumerProtocol):
    """One subscription's consumer group; see the module docstring."""

    def __init__(self, ctx: Context, group_id: int, members: list[Member], partitions: int,
                 settings: ConsumerSettings,
                 commit: Callable[[str, int, Callable[[bool], None]], None],
                 is_ready: Callable[[Row, str], bool],
                 request: Callable[[Row, str], None],
                 release: Callable[[int], None] | None = None,
                 subscription: int | None = None):
        self.ctx = ctx
        self.env = ctx.env
        self.id = group_id
        # The OMB subscription (the group's name): several groups of one subscription
        # exist when a cross-cluster strategy moves it to another cluster.
        self.subscription = group_id if subscription is None else subscription
        self.members = members
        self.settings = settings
        self.partitions = [PartitionState() for _ in range(partitions)]
        self._commit = commit
        self._one_way: Callable[[str], float] = heard_at_once
        self._is_ready = is_ready      # (row, zone) -> readable there now
        self._request = request        # (row, zone) -> start fetching it there
        # object_id -> this group holds one row less of it (None: nothing tracks objects)
        self._release = release
        self._rebalancing = False
        self._assigning: object | None = None  # the assignment waiting for commits
        self._assign_reason = ""
        # The eager protocol's rebalance under way: its reason (None: the group is
        # stable), its token (stale callbacks compare it), the members that gave their
        # partitions up and those that joined; the silent sessions the coordinator
        # still knows, by (member, incarnation): when each expires.
        self._eager = settings.protocol == "eager"
        self._preparing: str | None = None
        self._token: object | None = None
        self._revoked: set[int] = set()
        self._joined: set[int] = set()
        self._sessions: dict[tuple[int, int], float] = {}
        self._incarnation = [0] * len(members)
        # Members that joined the rebalance under way and died since: the coordinator
        # holds their JoinGroup, so they count as joined and are assigned partitions;
        # their sessions run from the assignment.
        self._joined_dead: set[int] = set()
        self._retired = False  # the group stopped (moved to another cluster)
        # The coordinator: whether the group has one now, the epoch of its sessions (a
        # session armed under an older epoch is stale), when the last one loaded the
        # group, the event its next load triggers; the members of the last generation
        # (those a coordinator that loads the group knows).
        self._coordinating = True
        self._coordinator_epoch = 0
        self._loaded_at: float | None = None
        # static members back while there was no coordinator: they read once one
        # loads the group (a restarted consumer has no assignment before its join)
        self._static_waiting: set[int] = set()
        self._loaded = self.env.event()
        self._generation_members: frozenset[int] = frozenset()
        # Without a coordinator: the members of the rebalance lost with the old one
        # (they gave their partitions up and join the next), an auto commit missed, the
        # cooperative assignment that waits for the next coordinator (its reason).
        self._rejoining: set[int] = set()
        self._commit_missed = False
        self._assign_waiting: str | None = None
        # The consumer protocol: the members the coordinator knows, by (index,
        # incarnation); each partition's target member and the member holding it (it
        # reads it, or it is silent, or it is giving it up: ``_freeing``).
        self._kip848 = settings.protocol == "consumer"
        self._in_group: set[tuple[int, int]] = set()
        self._target: list[tuple[int, int] | None] = [None] * partitions
        self._holder: list[tuple[int, int] | None] = [None] * partitions
        self._freeing: set[int] = set()
        self._beats: dict[int, object] = {}  # each member's heartbeat chain (a token)
        self._last_beat: dict[tuple[int, int], float] = {}
        # static members back while their old selves are still members: the
        # coordinator refuses them (UNRELEASED_INSTANCE_ID) until those are removed
        self._unreleased: set[int] = set()
        self._owned: dict[int, list[int]] = {}
        self.generation = 0  # bumped by every assignment
        # Called at each bump of ``generation``, before the change it announces is made
        # (readers that cache who owns what): a listener may only mark its caches stale.
        self.listeners: list[Callable[[], None]] = []
        self.assign(reason="initial")
        if self._kip848:
            self._kip848_start()

    # --- membership -------------------------------------------------------------------
    def live_members(self) -> list[Member]:
        return [m for m in self.members if m.alive]

    def route_commits(self, commit: Callable[[str, int, Callable[[bool], None]], None],
                      one_way: Callable[[str], float] | None = None) -> None:
        """Offset commits go through ``commit`` from now on (a Kafka cluster's group
        coordinator); ``one_way(zone)``: the typical delay from ``zone`` to the
        coordinator, after which it hears a heartbeat or commit sent from there (0 when
        not given)."""
        self._commit = commit
        if one_way is not None:
            self._one_way = one_way

    def coordinator_lost(self) -> None:
        """The group's coordinator is gone: sessions and rebalances wait for the next,
        and a rebalance under way is lost (see the module docstring)."""
        if not self._coordinating or self._retired:
            return
        self._coordinating = False
        self._coordinator_epoch += 1
        if not self._kip848:
            self._classic_lost()

    def coordinator_loaded(self) -> None:
        """A coordinator loaded the group (a new one, or the old one back): every member
        of the last generation that is silent gets a fresh session, and a rebalance
        under way starts again (see the module docstring)."""
        if self._retired:
            return
        self._coordinating = True
        self._coordinator_epoch += 1
        self._loaded_at = self.env.now
        loaded, self._loaded = self._loaded, self.env.event()
        loaded.succeed()
        if self._commit_missed:
            self._commit_missed = False
            self._commit_round()
        if self._kip848:
            self._kip848_loaded()
        else:
            static = sorted(i for i in self._static_waiting if self.members[i].alive)
            self._static_waiting = set()
            self._classic_loaded(static)

    def retire(self) -> None:
        """The group stops for good (its subscription moved to another cluster): its
        members stop, and no rebalance under way or pending completes."""
        self._retired = True
        for m in self.members:
            m.alive = False
        self._preparing = self._token = self._assigning = None
        self._sessions.clear()

    def _reown(self) -> None:
        """``_owned`` (who commits what) from the partitions' owners."""
        owned: dict[int, list[int]] = {}
        for p, state in enumerate(self.partitions):
            if state.owner is not None:
                owned.setdefault(state.owner, []).append(p)
        self._owned = owned

    def _moved(self) -> None:
        """Owners or their liveness changed: a new generation."""
        self.generation += 1
        for listener in self.listeners:
            listener()

    def member_down(self, member: Member) -> None:
        if not member.alive or self._retired:
            return  # already down (two faults reaching the same consumers), or retired
        self._moved()  # its partitions have no live owner until the rebalance
        member.alive = False
        member.died_at = self.env.now
        self._static_waiting.discard(member.index)
        if self._kip848:
            self._kip848_down(member)
            return
        if self._eager:
            self._silent(member)
            return
        self._revoked.discard(member.index)  # (a static member waiting to read)
        if not self._rebalancing:
            self._rebalancing = True
            self.env.process(self._rebalance_after_timeout())

    def member_up(self, member: Member) -> None:
        if member.alive or self._retired:
            return  # already up, or the group is retired
        if self._kip848:
            self._kip848_join(member)
            return
        if self.settings.static and self._session_known(member):
            self._static_return(member)
            return
        self._moved()
        expires = self._expiry(member)
        member.alive = True
        member.died_at = None
        member.restarts += 1
        member.session_start = self.env.now
        # A new member: what it had read is gone; it owns nothing until a rebalance.
        for state in self.partitions:
            if state.owner == member.index:
                state.owner = None
                state.position = 0
        self._owned.pop(member.index, None)
        if self._eager:
            # its JoinGroup: a rebalance begins, or it joins the one under way (taking
            # the place of its dead incarnation's held JoinGroup, if any)
            self._joined_dead.discard(member.index)
            self._incarnation[member.index] += 1
            if self._preparing is None:
                self._prepare(f"member {member.index} joined", joiner=member.index)
            else:
                self._joined.add(member.index)
                self._maybe_complete()
            return
        if self._rebalancing and expires is not None and expires > self.env.now:
            return  # it joins at the rebalance that removes its old session
        # Joining triggers a rebalance after a heartbeat round.
        self.env.process(self._rejoin(member))

    def _session_known(self, member: Member) -> bool:
        """Whether the coordinator still holds the dead ``member``'s session."""
        index = member.index
        if not self._coordinating and index in self._generation_members:
            return True  # the next coordinator loads the last generation, with it
        if self._eager:
            return index in self._joined_dead or any(k[0] == index for k in self._sessions)
        if index not in self._generation_members:
            return False  # removed by a completed rebalance
        expiry = self._expiry(member)
        return expiry is not None and expiry > self.env.now

    def _static_return(self, member: Member) -> None:
        """A static member restarted within its session replaces its old self: its
        session is dropped, and it resumes what it owned from the committed offsets
        (it joins an eager rebalance under way instead)."""
        index = member.index
        self._moved()
        member.alive = True
        member.died_at = None
        member.restarts += 1
        member.session_start = self.env.now
        self._incarnation[index] += 1
        self._sessions = {k: t for k, t in self._sessions.items() if k[0] != index}
        self._joined_dead.discard(index)
        owned = self._owned.get(index, [])
        if not self._coordinating:
            self._static_waiting.add(index)
            self._revoked.add(index)  # nothing read before the join
            return
        if self._eager and self._preparing is not None:
            self._revoked.add(index)  # it owns nothing until the assignment
            self._joined.add(index)
            self._maybe_complete()
            return
        self._resume(index, owned, f"member {index} rejoined (static)")

    def _static_resume(self, static: list[int]) -> None:
        """The static members back while there was no coordinator: each takes its
        place (no rebalance) and reads what it owns from the commits."""
        for i in static:
            self._revoked.discard(i)
            self._resume(i, self._owned.get(i, []), f"member {i} rejoined (static)")

    def _resume(self, index: int, owned: list[int], reason: str) -> None:
        """Member ``index`` reads ``owned`` again from their committed offsets, with no
        new generation (a static member's return, a known member's join at a new
        coordinator): a ``Rebalanced`` event names them, so that what is read again
        counts as re-delivered after a rebalance, not as duplicates."""
        for p in owned:
            self.partitions[p].position = 0  # a new process: from the committed offset
        live = tuple(m.index for m in self.members if m.index in self._generation_members)
        self.ctx.recorder.emit(Rebalanced(self.env.now, self.id, live, reason, tuple(owned)))
        self.ready(owned)

    # --- data -------------------------------------------------------------------------
    def owner_zone(self, partition: int) -> str | None:
        owner = self.partitions[partition].owner
        if owner is None:
            return None
        member = self.members[owner]
        return member.zone if member.alive else None

    def appended(self, row: Row, object_id: int) -> None:
        """A committed row joined the log (offset order)."""
        self.partitions[row.partition].log.append((row, object_id))

    def truncate(self, partition: int, offset: int) -> None:
        """The partition's log was truncated at ``offset`` (an unclean leader election
        or a lost suffix): rows from there on are gone, delivered or not; a position
        beyond the new end falls back to it (OFFSET_OUT_OF_RANGE, then reset)."""
        state = self.partitions[partition]
        log = state.log
        while log and log[-1][0].offset >= offset:
            _row, object_id = log.pop()
            if self._release is not None:
                self._release(object_id)
        state.position = min(state.position, len(log))
        state.committed = min(state.committed, offset)

    def ready(self, partitions) -> None:
        """Some object became readable for these partitions' owners: deliver what can be
        (one delivery per region)."""
        delivered: dict[str, list[Row]] = {}
        for p in partitions:
            self._take(p, delivered)
        self._emit(delivered)

    def ready_one(self, p: int) -> None:
        """:meth:`ready` for partition ``p`` alone (the Kafka read path's common case:
        one partition became readable in one zone)."""
        taken: dict[str, list[Row]] = {}
        region = self._take(p, taken)
        if region is not None:
            self.ctx.recorder.emit(Delivered(self.env.now, region, self.id,
                                             tuple(taken[region])))

    def take_readable(self, p: int) -> tuple[str, list[Row]] | None:
        """Move partition ``p``'s position past its readable rows without a
        :class:`Delivered` (the window engine reports those deliveries itself); returns
        the owner's region and the rows, if it took any."""
        taken: dict[str, list[Row]] = {}
        region = self._take(p, taken)
        return None if region is None else (region, taken[region])

    @property
    def rebalancing(self) -> bool:
        """Whether a rebalance is under way."""
        return self._rebalancing

    @property
    def in_rebalance(self) -> bool:
        """Whether a rebalance is under way or being prepared: a member's session
        expiry awaited by the cooperative protocol, members asked to rejoin (the eager
        protocol revokes their partitions meanwhile), or an assignment waiting for the
        commits of the members that give partitions up."""
        return self._rebalancing or self._preparing is not None \
            or self._assigning is not None

    def _emit(self, delivered: dict[str, list[Row]]) -> None:
        for region, rows in delivered.items():
            self.ctx.recorder.emit(Delivered(self.env.now, region, self.id, tuple(rows)))

    def _take(self, p: int, delivered: dict[str, list[Row]]) -> str | None:
        """Move partition ``p``'s position past the readable rows, adding them to
        ``delivered`` under the owner's region; returns that region if it took any."""
        state = self.partitions[p]
        owner = state.owner
        if owner is None or (self._revoked and owner in self._revoked):
            return None  # no owner, or it gave its partitions up (an eager rebalance)
        member = self.members[owner]
        if not member.alive:
            return None
        log = state.log
        position = state.position
        end = len(log)
        if position >= end:
            return None
        zone = member.zone
        is_ready = self._is_ready
        out = None
        while position < end:
            row = log[position][0]
            if not is_ready(row, zone):
                # The next fetch needs this row's data here (for diskless, its object
                # may have been evicted from the zone's cache while the partition was
                # blocked).
                self._request(row, zone)
                break
            if out is None:
                out = delivered.get(member.region)
                if out is None:
                    out = delivered[member.region] = []
            out.append(row)
            position += 1
        state.position = position
        return None if out is None else member.region

    # --- commits ----------------------------------------------------------------------
    def run_commits(self):
        """Every ``auto.commit.interval.ms``, each live member commits its positions."""
        interval = self.settings.auto_commit_interval
        while True:
            yield self.env.timeout(interval)
            if not self.settings.auto_commit:
                continue
            if not self._coordinating:
                self._commit_missed = True  # made at the next coordinator's load
                continue
            self._commit_round()

    def _commit_round(self) -> None:
        """Each live member commits its positions (those it has not given up)."""
        if self.settings.auto_commit:
            for member in self.live_members():
                if member.index in self._revoked:
                    continue  # it committed when it gave its partitions up
                owned = [p for p in self._owned.get(member.index, ())
                         if self.partitions[p].position > 0]
                if not owned:
                    continue
                snapshot = [(p, self.partitions[p].position) for p in owned]
                self._commit_as(member, 64 * len(owned),
                                lambda ok, snap=snapshot, m=member: self._committed(ok, snap, m))

    def _committed(self, ok: bool, snapshot: list[tuple[int, int]], member: Member, *,
                   fenced: bool = True) -> None:
        """A commit's answer. ``fenced``: a partition reassigned meanwhile is not
        committed (False: the member gave it up itself, the consumer protocol's
        revocation, and its position stood still since)."""
        if not ok:
            return
        offsets = []
        release = self._release
        for p, position in snapshot:
            state = self.partitions[p]
            if fenced and state.owner != member.index:
                continue  # reassigned meanwhile: the commit is fenced
            advance = min(position, state.position)
            log = state.log
            for _ in range(advance):
                row, object_id = log.popleft()
                if release is not None:
                    release(object_id)
            if advance:
                state.committed = row.offset + row.records
            state.position -= advance
            offsets.append((p, state.committed))
        if offsets:
            self.ctx.recorder.emit(OffsetsCommitted(self.env.now, self.id, tuple(offsets)))

    def backlog(self) -> int:
        """Rows committed to the log but not yet delivered to their owner."""
        return sum(len(s.log) - s.position for s in self.partitions)
