"""Kafka's classic group protocol for :class:`~geosim.clients.consumer.ConsumerGroup`:
rebalances through JoinGroup and SyncGroup (``ConsumerCoordinator`` and the group
coordinator's ``GroupMetadataManager``), in the protocol the assignors decide
(``partition.assignment.strategy``; Kafka's default list gives the eager one):

* **eager** (the default): a rebalance begins when the coordinator removes a member
  whose session expired, or when a member joins (a restarted consumer is a new
  member). Each live member learns it at its next heartbeat (every
  ``heartbeat.interval.ms``, at a phase of its own), commits its positions and gives up
  *every* partition it owns (``onJoinPrepare``), then joins once the commit is
  answered. The join completes, and the assignment is made, once every live member has
  joined and every silent member the coordinator still knows has been removed, each
  ``session.timeout.ms`` after the coordinator last heard of it, by a heartbeat or an
  offset commit (``hasAllMembersJoined``; :mod:`geosim.clients.consumer`). The
  whole group reads nothing from a member's learning until the assignment; every
  partition then resumes from its committed offset. So a consumer restarted while its
  old session is still valid stops the group until that session expires.
* **cooperative** (every assignor ``CooperativeStickyAssignor``): members keep
  consuming what they own while a rebalance is pending; at the assignment, the live
  members that give partitions up commit first and the assignment waits for the
  answers. The rebalance waits for the silent members' sessions as above, and a
  restarted member owns nothing until it.

In both, a failed commit is not retried (Kafka retries a retriable failure until the
rebalance timeout), and the join and sync round trips to the coordinator are not
timed (the assignment follows the last join at once).

A mixin of :class:`~geosim.clients.consumer.ConsumerGroup`: its methods use the
group's state (members, partitions, sessions).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from geosim.core.context import call_later
from geosim.core.events import Rebalanced, Row

if TYPE_CHECKING:
    from geosim.clients.consumer import Member


def _round_robin(partition: int, live: list[Member]) -> int | None:
    """The live member owning ``partition`` in a round-robin assignment."""
    return live[partition % len(live)].index if live else None


class ClassicRebalances:
    """The eager and cooperative rebalances of a group (see the module docstring)."""

    def assign(self, reason: str) -> None:
        """Round-robin assignment of partitions over live members (sorted by index),
        once the live members that give partitions up have committed their positions
        (``ConsumerCoordinator.onJoinPrepare``)."""
        live = self.live_members()
        snapshots: dict[int, list[tuple[int, int]]] = {}
        if self.settings.auto_commit:
            for p, state in enumerate(self.partitions):
                owner = _round_robin(p, live)
                old = state.owner
                if old is not None and owner != old and self.members[old].alive \
                        and state.position > 0:
                    snapshots.setdefault(old, []).append((p, state.position))
        token = self._assigning = object()
        self._assign_reason = reason
        if not snapshots:
            self._assign_now(reason)
            return
        waiting = [len(snapshots)]

        def committed(ok: bool, snapshot: list[tuple[int, int]], member: Member) -> None:
            self._committed(ok, snapshot, member)
            waiting[0] -= 1
            if waiting[0] == 0 and self._assigning is token:
                self._assign_now(reason)

        for index, snapshot in snapshots.items():
            member = self.members[index]
            self._commit_as(member, 64 * len(snapshot),
                            lambda ok, snap=snapshot, m=member: committed(ok, snap, m))

    def _assign_now(self, reason: str, *, all_revoked: bool = False,
                    joined_dead: frozenset[int] = frozenset()) -> None:
        """The assignment. ``all_revoked``: every member gave every partition up (the
        eager protocol), so each partition resumes from its committed offset.
        ``joined_dead``: members that joined and died since, assigned as members."""
        self._assigning = None
        live = [m for m in self.members if m.alive or m.index in joined_dead]
        self._generation_members = frozenset(m.index for m in live)
        now = self.env.now
        for m in live:
            m.session_start = now  # the SyncGroup answer restarts each session
        self._moved()
        reassigned = []  # the partitions that resume from their committed offsets
        for p, state in enumerate(self.partitions):
            owner = _round_robin(p, live)
            if owner != state.owner or all_revoked:
                state.position = 0  # resume from the committed offset
                reassigned.append(p)
            if owner != state.owner:
                state.owner = owner
        self._reown()
        self.ctx.recorder.emit(Rebalanced(self.env.now, self.id,
                                          tuple(m.index for m in live), reason,
                                          tuple(reassigned)))
        delivered: dict[str, list[Row]] = {}
        for p, state in enumerate(self.partitions):
            if state.owner is not None:
                zone = self.members[state.owner].zone
                for row, _object_id in state.log:
                    if not self._is_ready(row, zone):
                        self._request(row, zone)
                self._take(p, delivered)
        self._emit(delivered)

    def _classic_lost(self) -> None:
        """The coordinator is gone: a rebalance under way is lost with it (its members
        join the next one), and a cooperative assignment waiting for commits waits for
        the next coordinator."""
        if self._preparing is not None:
            self._rejoining |= self._revoked | self._joined
            self._preparing = self._token = None
            self._joined = set()
            self._joined_dead = set()
        if self._assigning is not None:
            self._assigning = None
            self._assign_waiting = self._assign_reason

    def _classic_loaded(self, static: list[int]) -> None:
        """A coordinator loaded the last generation (see :mod:`geosim.clients.consumer`).
        ``static``: the static members back meanwhile."""
        if not self._eager:
            # the cooperative protocol's expiries count from the load (_expiry)
            self._static_resume(static)
            reason, self._assign_waiting = self._assign_waiting, None
            if reason is not None:
                self.assign(reason)
            return
        known = self._generation_members
        sessions = {key for key in self._sessions if key[0] in known}
        sessions |= {(i, self._incarnation[i]) for i in known if not self.members[i].alive}
        self._sessions = {}
        self._joined_dead = set()
        for key in sorted(sessions):
            self._arm_session(key, self.settings.session_timeout)
        rejoining = {i for i in self._rejoining if self.members[i].alive}
        self._rejoining = set()
        leader = min(known, default=None)
        if self._preparing is None and (leader in rejoining or rejoining - known):
            # the leader's join, or a member the loaded generation does not know
            # (UNKNOWN_MEMBER_ID: it joins as a new member)
            self._preparing = f"member {min(rejoining)} joined"
        if self._preparing is not None:
            # a new member's join while there was no coordinator, or the leader's; the
            # static members back meanwhile join it
            self._joined |= rejoining | set(static)
            self._revoked |= set(static)
            self._joined = {i for i in self._joined if self.members[i].alive}
            self._heartbeats(self._joined)
            self._maybe_complete()
            return
        self._static_resume(static)
        # known members other than the leader: the last generation's assignment back
        self._moved()
        for i in sorted(rejoining - set(static)):
            self._revoked.discard(i)
            self._resume(i, self._owned.get(i, []), f"member {i} rejoined")

    def _rejoin(self, member):
        """Waits one heartbeat interval, then rebalances to include the member."""
        yield self.env.timeout(self.settings.heartbeat_interval)
        while not self._coordinating:
            yield self._loaded  # its JoinGroup waits for a coordinator
        if member.alive and not self._retired:
            self.assign(reason=f"member {member.index} joined")

    def _rebalance_after_timeout(self):
        """Waits ``session.timeout.ms`` after a member went silent, then until every
        member silent since has been removed too (a rebalance completes when each
        member has rejoined or timed out), then reassigns."""
        while True:
            if not self._coordinating:
                yield self._loaded  # no session expires without a coordinator
                continue
            pending = [t for m in self.members
                       if (t := self._expiry(m)) is not None and t > self.env.now]
            if not pending:
                break
            yield self.env.timeout(max(pending) - self.env.now)
        self._rebalancing = False
        if self._retired:
            return
        if self.settings.static and {m.index for m in self.members if m.alive} \
                == self._generation_members:
            return  # the silent static members came back within their sessions, and
            # no other member waits to join
        self.assign(reason="session timeout")

    def _silent(self, member: Member) -> None:
        """``member`` went silent: the coordinator removes it when its session expires
        (a rebalance begins then, if none is under way)."""
        index = member.index
        self._incarnation[index] += 1
        self._revoked.discard(index)
        if self._preparing is not None and index in self._joined:
            # its JoinGroup is held: it stays in this rebalance (GroupMetadataManager
            # does not expire a member awaiting its join) and its session runs from
            # the assignment
            self._joined_dead.add(index)
            return
        self._joined.discard(index)
        key = (index, self._incarnation[index])
        expiry = self._expiry(member)
        assert expiry is not None  # a silent member's session
        self._arm_session(key, expiry - self.env.now)

    def _session_kept(self, member: Member) -> None:
        """The coordinator heard a commit the dead ``member`` sent before it died: its
        session runs from then. An eager session armed at its death is armed again;
        the cooperative protocol's wait reads the expiry afresh
        (:meth:`_rebalance_after_timeout`)."""
        if not self._eager:
            return
        key = (member.index, self._incarnation[member.index])
        armed = self._sessions.get(key)
        expiry = self._expiry(member)
        if armed is not None and expiry is not None and expiry > armed:
            self._arm_session(key, expiry - self.env.now)

    def _prepare(self, reason: str, joiner: int | None = None) -> None:
        """A rebalance begins: each live member learns it at its next heartbeat."""
        self._preparing = reason
        # (the revoked set is empty here, but for the members that gave their
        # partitions up for a rebalance lost with its coordinator)
        self._joined = set() if joiner is None else {joiner}
        self._heartbeats(self._joined)
        self._maybe_complete()

    def _heartbeats(self, joined: set[int]) -> None:
        """The live members not in ``joined`` learn of the rebalance under way (a new
        token: what was scheduled for an earlier one is stale) at their next
        heartbeat."""
        token = self._token = object()
        for m in self.live_members():
            if m.index not in joined:
                call_later(self.env, self._to_heartbeat(m.index), self._learn, m.index,
                           self._incarnation[m.index], token)

    def _learn(self, index: int, incarnation: int, token: object) -> None:
        """Member ``index`` heard of the rebalance: it stops reading, commits its
        positions and gives up its partitions, then joins (``onJoinPrepare``)."""
        if token is not self._token or self._incarnation[index] != incarnation \
                or not self._coordinating:
            return  # a stale heartbeat, or one without a coordinator to answer it
        self._revoked.add(index)
        member = self.members[index]
        owned = [p for p in self._owned.get(index, ()) if self.partitions[p].position > 0]
        if not owned or not self.settings.auto_commit:
            self._join(index, incarnation, token)
            return
        snapshot = [(p, self.partitions[p].position) for p in owned]

        def answered(ok: bool) -> None:
            self._committed(ok, snapshot, member)
            self._join(index, incarnation, token)

        self._commit_as(member, 64 * len(owned), answered)

    def _join(self, index: int, incarnation: int, token: object) -> None:
        if token is not self._token or self._incarnation[index] != incarnation \
                or not self._coordinating:
            return  # stale, or no coordinator: it learns again once one loads the group
        self._joined.add(index)
        self._maybe_complete()

    def _maybe_complete(self) -> None:
        """The join completes once every live member joined and no silent session is
        left; the assignment follows."""
        reason = self._preparing
        if reason is None or self._sessions or not self._coordinating:
            return
        joined = self._joined
        if any(m.alive and m.index not in joined for m in self.members):
            return
        self._preparing = self._token = None
        self._revoked = set()
        self._joined = set()
        dead, self._joined_dead = frozenset(self._joined_dead), set()
        self._assign_now(reason, all_revoked=True, joined_dead=dead)
        # the joined members that died: their sessions, from the assignment
        for index in sorted(dead):
            self._arm_session((index, self._incarnation[index]),
                              self.settings.session_timeout)


__all__ = ["ClassicRebalances"]
