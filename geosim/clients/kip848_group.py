"""Kafka's consumer group protocol (``group.protocol: consumer``, KIP-848) for
:class:`~geosim.clients.consumer.ConsumerGroup`: no rebalance barrier. The
coordinator keeps its members (a restarted consumer is a new one, its dead
incarnation a member until its session expires) and a target assignment,
balanced and sticky as Kafka's default ``uniform`` assignor: members keep what they
were given up to their share, the rest goes to those with fewest. Each member
heartbeats every ``group.consumer.heartbeat.interval.ms`` at a phase of its own; at a
heartbeat it gives up, committing their positions, the partitions the target gives
another member (they are free once the commit is answered; one that dies first holds
them until it is removed) and, with no revocation pending, takes the free ones the
target gives it, reading them from their committed offsets. A member silent for
``group.consumer.session.timeout.ms`` after its last heartbeat is removed and what it
held is free at once. Only the partitions that move stop, each until its new owner's
next heartbeat. A static member that crashed is refused (``UNRELEASED_INSTANCE_ID``)
until its old self is removed, then joins as a new member. Kafka's member keeps
fetching until its revocation commit is answered; the model's stops at once.

A mixin of :class:`~geosim.clients.consumer.ConsumerGroup`: its methods use the
group's state (members, partitions, sessions).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from geosim.core.context import call_later
from geosim.core.events import Rebalanced

if TYPE_CHECKING:
    from geosim.clients.consumer import Member


class ConsumerProtocol:
    """The KIP-848 membership and assignment of a group (see the module docstring)."""

    def _kip848_start(self) -> None:
        """The initial assignment is every member's target; the heartbeats begin."""
        for m in self.members:
            if m.alive:
                self._in_group.add((m.index, 0))
        for p, state in enumerate(self.partitions):
            if state.owner is not None:
                self._holder[p] = self._target[p] = (state.owner, 0)
        for key in sorted(self._in_group):
            self._schedule_heartbeat(key, None)

    def _schedule_heartbeat(self, key: tuple[int, int], delay: float | None) -> None:
        """Member ``key``'s next heartbeat after ``delay`` (None: at its phase)."""
        if delay is None:
            delay = self._to_heartbeat(key[0])
        token = self._beats[key[0]] = object()  # an earlier chain of the member ends
        call_later(self.env, delay, self._heartbeat, key, token)

    def _heartbeat(self, key: tuple[int, int], token: object) -> None:
        """Member ``key`` heartbeats: it gives up (committing first) what its target
        gives another member, and takes what its target gives it and nobody holds."""
        index, incarnation = key
        member = self.members[index]
        if self._retired or not member.alive or self._incarnation[index] != incarnation \
                or self._beats.get(index) is not token:
            return  # a stopped member's heartbeats end
        call_later(self.env, self.settings.heartbeat_interval, self._heartbeat, key, token)
        if not self._coordinating:
            return
        self._last_beat[key] = self.env.now
        if key not in self._in_group:
            self._in_group.add(key)  # removed while it could not reach a coordinator
            self._retarget()
        target, holder, parts = self._target, self._holder, self.partitions
        give = [p for p in range(len(parts))
                if holder[p] == key and target[p] != key and p not in self._freeing]
        if give:
            snapshot = [(p, parts[p].position) for p in give if parts[p].position > 0]
            for p in give:
                parts[p].owner = None  # it stops reading them at once
                self._freeing.add(p)
            self._moved()
            self._reown()

            def given_up(ok: bool) -> None:
                if not member.alive or self._incarnation[index] != incarnation:
                    return  # it died before acknowledging: held until it is removed
                self._committed(ok, snapshot, member, fenced=False)
                for p in give:
                    self._freeing.discard(p)
                    if holder[p] == key:
                        holder[p] = None
                        parts[p].position = 0
            if snapshot and self.settings.auto_commit:
                self._commit(member.zone, 64 * len(snapshot), given_up)
            else:
                given_up(True)
        if any(holder[p] == key for p in self._freeing):
            return  # no new partitions before its revocation is acknowledged
        take = [p for p in range(len(parts)) if target[p] == key and holder[p] is None]
        if take:
            self._moved()
            for p in take:
                holder[p] = key
                parts[p].owner = index
                parts[p].position = 0  # from the committed offset
            self._reown()
            self.ctx.recorder.emit(Rebalanced(
                self.env.now, self.id, tuple(sorted({k[0] for k in self._in_group})),
                f"member {index} took partitions", tuple(take)))
            self.ready(take)

    def _kip848_down(self, member: Member) -> None:
        """``member`` stopped: the coordinator removes it ``session`` after its last
        heartbeat (a static member still refused just stops waiting)."""
        self._revoked.discard(member.index)
        self._unreleased.discard(member.index)
        key = (member.index, self._incarnation[member.index])
        if key in self._in_group:
            last = self._last_beat.get(key, self.env.now)
            self._arm_session(key, max(last + self.settings.session_timeout
                                       - self.env.now, 0.0))

    def _kip848_loaded(self) -> None:
        """A coordinator loaded the group: every member's session restarts (the
        silent ones are removed after it)."""
        sessions = sorted(set(self._sessions) | {
            k for k in self._in_group if not self.members[k[0]].alive
            or self._incarnation[k[0]] != k[1]})
        self._sessions = {}
        for key in sessions:
            self._arm_session(key, self.settings.session_timeout)
        for key in self._in_group:
            self._last_beat[key] = self.env.now

    def _kip848_join(self, member: Member) -> None:
        """A restarted consumer joins as a new member at once (its first heartbeat);
        its dead incarnation stays a member, holding what it held, until its session
        expires."""
        index = member.index
        self._moved()
        member.alive = True
        member.restarts += 1
        member.died_at = None
        member.session_start = self.env.now
        for state in self.partitions:
            if state.owner == index:
                state.owner = None  # held by the dead incarnation: unread
        if self.settings.static and (index, self._incarnation[index]) in self._in_group:
            # the same group.instance.id as a member that did not leave: refused
            # (UNRELEASED_INSTANCE_ID) until that member's session expires
            self._unreleased.add(index)
            self._reown()
            return
        self._enter(index)

    def _enter(self, index: int) -> None:
        """A new incarnation of member ``index`` joins (its first heartbeat at once)."""
        self._incarnation[index] += 1
        key = (index, self._incarnation[index])
        self._reown()
        if self._coordinating:
            self._in_group.add(key)
            self._retarget()
        self._schedule_heartbeat(key, 0.0)

    def _kip848_remove(self, key: tuple[int, int]) -> None:
        """Member ``key``'s session expired: the coordinator removes it, and what it
        held is free at once."""
        if key not in self._in_group:
            return
        self._in_group.discard(key)
        self._moved()
        for p, holder in enumerate(self._holder):
            if holder == key:
                self._holder[p] = None
                self._freeing.discard(p)
                state = self.partitions[p]
                if state.owner == key[0] and self._incarnation[key[0]] == key[1]:
                    state.owner = None
                state.position = 0
        self._reown()
        self._retarget()
        if key[0] in self._unreleased and self.members[key[0]].alive:
            self._unreleased.discard(key[0])
            self._enter(key[0])

    def _retarget(self) -> None:
        """The coordinator's target assignment, balanced and sticky as Kafka's uniform
        assignor: each member keeps what its previous target gave it up to its share
        (``partitions / members``, one more for as many members as the remainder), and
        the rest go, in partition order, to the members with the fewest."""
        keys = sorted(self._in_group)
        n = len(self.partitions)
        if not keys:
            self._target = [None] * n
            return
        base, extra = divmod(n, len(keys))
        count = dict.fromkeys(keys, 0)
        previous, target = self._target, [None] * n
        for p in range(n):  # keep up to the floor
            k = previous[p]
            if k in count and count[k] < base:
                target[p] = k
                count[k] += 1
        at_ceiling = 0
        for p in range(n):  # and one more, for as many members as the remainder
            k = previous[p]
            if target[p] is None and k in count and count[k] == base and at_ceiling < extra:
                target[p] = k
                count[k] += 1
                at_ceiling += 1
        for p in range(n):
            if target[p] is None:
                k = min(keys, key=lambda k: (count[k], k))
                target[p] = k
                count[k] += 1
        self._target = target



__all__ = ["ConsumerProtocol"]
