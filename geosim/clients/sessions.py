"""When a consumer group's coordinator removes a silent member: its sessions.

Members heartbeat every ``heartbeat.interval.ms`` while alive, each at a phase of its
own (no event per heartbeat: the times follow from the phase). The coordinator removes
a member ``session.timeout.ms`` after it last heard of it, whichever came last of:
its last heartbeat (heard a one-way trip after it was sent), its last offset commit in
the classic protocol (Kafka's ``OffsetMetadataManager.commitOffset`` keeps the session
in the Stable and PreparingRebalance states, the model's only ones; heard a one-way
trip before its answer, also one in flight when the member died), its start, its last
assignment (the SyncGroup answer) or the coordinator's last load
(``GroupMetadataManager.onLoaded``). The one-way trip is the group coordinator's
estimate (:meth:`geosim.clients.consumer.ConsumerGroup.route_commits`); a group
without one hears at once. The consumer protocol (KIP-848) keeps its sessions by its
heartbeats only (:mod:`geosim.clients.kip848_group`).

A mixin of :class:`~geosim.clients.consumer.ConsumerGroup`, as the rebalance protocols
are.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from geosim.core.context import call_later

if TYPE_CHECKING:
    from geosim.clients.consumer import Member


def heard_at_once(_zone: str) -> float:
    """A coordinator without a network position: it hears a member at once."""
    return 0.0


class MemberSessions:
    """The heartbeat times, session expiries and session-keeping commits of a group."""

    def _phase(self, index: int) -> float:
        """Member ``index``'s heartbeats fall at this phase of every interval (spread as
        the brokers' are, by the golden ratio)."""
        return self.settings.heartbeat_interval * ((index * 0.618034) % 1.0)

    def _to_heartbeat(self, index: int) -> float:
        """The time to member ``index``'s next heartbeat."""
        return (self._phase(index) - self.env.now) % self.settings.heartbeat_interval

    def _last_heartbeat(self, member: Member) -> float:
        """When the coordinator last restarted the dead ``member``'s session: when it
        heard its last heartbeat (sent at the member's phase, heard one way later), or
        its start, its last assignment or its last offset commit if later."""
        assert member.died_at is not None
        last = member.died_at - ((member.died_at - self._phase(member.index))
                                 % self.settings.heartbeat_interval)
        return max(last + self._one_way(member.zone), member.session_start, member.heard)

    def _expiry(self, member: Member) -> float | None:
        """When the coordinator removes ``member``'s session (None: it is alive)."""
        if member.alive or member.died_at is None:
            return None
        # the coordinator times the session from the last heartbeat it heard
        expiry = self._last_heartbeat(member) + self.settings.session_timeout
        loaded = self._loaded_at
        if loaded is not None:
            # a coordinator's load restarts every member's session (onLoaded), also
            # one between the member's last heartbeat and its death
            return max(expiry, loaded + self.settings.session_timeout)
        return expiry

    def next_session_expiry(self) -> float | None:
        """When the first session armed for a silent member ends (the coordinator may
        begin a rebalance then), if one is armed."""
        return min(self._sessions.values(), default=None)

    def _arm_session(self, key: tuple[int, int], delay: float) -> None:
        """The coordinator removes the silent session ``key`` after ``delay``."""
        expiry = self._sessions[key] = self.env.now + delay
        call_later(self.env, delay, self._session_expired, key, self._coordinator_epoch,
                   expiry)

    def _session_expired(self, key: tuple[int, int], epoch: int, expiry: float) -> None:
        if self._retired or not self._coordinating or epoch != self._coordinator_epoch \
                or self._sessions.get(key) != expiry:
            return  # no coordinator now, armed by one lost since, or a session its
            # member's return replaced or a later arming superseded
        del self._sessions[key]
        if self._kip848:
            self._kip848_remove(key)
            return
        if self._preparing is None:
            self._prepare("session timeout")
        else:
            self._maybe_complete()

    def _commit_as(self, member: Member, size: int, done: Callable[[bool], None]) -> None:
        """An offset commit of ``member``'s. In the classic protocol the coordinator
        restarts the member's session when it handles the commit (Kafka's
        ``OffsetMetadataManager.commitOffset``, in the Stable and PreparingRebalance
        states: the model has no other): heard one way before the answer comes back,
        even if the member died meanwhile."""
        sent = self.env.now
        incarnation = member.restarts

        def answered(ok: bool) -> None:
            # the consumer protocol's sessions need its heartbeats; a commit of an
            # incarnation the member has left keeps no session of the next
            if ok and not self._kip848 and member.restarts == incarnation:
                heard = max(sent, self.env.now - self._one_way(member.zone))
                if heard > member.heard:
                    member.heard = heard
                    if not member.alive:
                        self._session_kept(member)
            done(ok)

        self._commit(member.zone, size, answered)


__all__ = ["MemberSessions", "heard_at_once"]
