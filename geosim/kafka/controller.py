"""The controller of a Kafka cluster: heartbeats, fencing and leader elections.

The cluster's metadata store is the KRaft quorum: every fencing, election and ISR
change is one of its commits, so nothing changes without a quorum majority. Each live
broker sends a heartbeat to the active controller (the quorum leader's zone) every
``broker.heartbeat.interval.ms``, at its own phase, as a message through the network
(partitions, brownouts' latency and loss act on it; on its own connection, it does not
queue behind replication bytes, see :meth:`~geosim.world.network.Network.delay`), with
random draws of its own so that it moves no other message's; the controller counts it
when it arrives, as KRaft's controller times a broker's session from the heartbeats it
receives. One not heard from for ``broker.session.timeout.ms`` (down, or its heartbeats
lost or cut off) is fenced and its partitions get new leaders from the ISR (then, if
enabled, from the ELR, then unclean); one heard from again is unfenced. An election
onto a replica with a shorter log truncates the canonical log
(:meth:`~geosim.kafka.cluster.KafkaCluster.truncate`).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from geosim.core.context import call_later
from geosim.core.events import BrokerFenced
from geosim.kafka.leader_balance import LeaderBalancer
from geosim.kafka.produce import NOT_LEADER
from geosim.kafka.wire import CONTROLLER_RECORD_BYTES, HEARTBEAT_BYTES

if TYPE_CHECKING:
    from geosim.kafka.broker import Broker
    from geosim.kafka.cluster import KafkaCluster
    from geosim.kafka.coordinator import OffsetsPartition
    from geosim.kafka.partition import PartitionState

CONTROLLER_CHECK = 0.5  # s between controller liveness evaluations


class Controller:
    """The active controller of one cluster (its quorum is the cluster's metadata store)."""

    def __init__(self, cluster: KafkaCluster):
        self.cluster = cluster
        self.env = cluster.env
        self.net = cluster.net
        # the active controller's zone (the quorum's leader at build: a run starts with one)
        self.leader_zone: str | None = cluster.metadata.leader_zone
        self.term = cluster.metadata.term
        # auto.leader.rebalance.enable: leaderships back to their preferred replicas
        self.balancer = LeaderBalancer(cluster)

    # ====================================================================== liveness
    def run_heartbeats(self):
        """Every broker's heartbeats, in phase order: one process for the cluster."""
        c = self.cluster
        interval = c.config.broker_heartbeat_interval
        order = sorted(c.brokers, key=lambda b: (b.phase, b.id))
        env = self.env
        start = env.now
        cycle = (start // interval) * interval
        while True:
            for b in order:
                at = cycle + b.phase
                if at < start:
                    continue  # a tick before the cluster started
                if at > env.now:
                    yield env.timeout(at - env.now)
                self._heartbeat(b)
            cycle += interval

    def _heartbeat(self, b: Broker) -> None:
        """``b`` sends a heartbeat to the active controller, if it is up and one is."""
        metadata = self.cluster.metadata
        if not b.alive or b.destroyed or not metadata.available():
            return
        zone = metadata.leader_zone
        assert zone is not None
        delay = self.net.delay(b.zone, zone, HEARTBEAT_BYTES, "metadata",
                               stream=b.heartbeats, queued=False)
        if delay is not None:
            call_later(self.env, delay, self._heard, b, zone)

    def _heard(self, b: Broker, zone: str) -> None:
        """A heartbeat of ``b`` reaches the controller in ``zone`` (if it still is one)."""
        metadata = self.cluster.metadata
        if not metadata.available() or metadata.leader_zone != zone:
            return  # the controller it was sent to lost its leadership meanwhile
        if self.env.now < b.refused_until:
            # A new incarnation whose predecessor's session is still valid: its
            # registration is refused (ClusterControlManager.registerBroker,
            # DuplicateBrokerRegistrationException) until that session expires.
            return
        b.last_heartbeat = self.env.now
        b.heard = True
        self.net.delay(zone, b.zone, HEARTBEAT_BYTES, "metadata", stream=b.heartbeats,
                       queued=False)

    def run(self):
        """Every 0.5 s the controller evaluates heartbeats: it fences brokers not heard
        from for ``broker.session.timeout.ms``, unfences brokers heard from again, and
        elects leaders for partitions without one. Each change is one quorum commit."""
        c = self.cluster
        cfg = c.config
        metadata = c.metadata
        while True:
            yield self.env.timeout(CONTROLLER_CHECK)
            now = self.env.now
            leader_zone = metadata.leader_zone if metadata.available() else None
            if leader_zone is None:
                continue
            if metadata.term != self.term:
                # A new active controller (another voter, or the same one after the
                # quorum was lost) gives every broker a fresh session, as KRaft's
                # controller does for the registered brokers when it activates.
                self.term = metadata.term
                self.leader_zone = leader_zone
                for b in c.brokers:
                    b.last_heartbeat = now
                self.balancer.activated()
            fence, unfence = [], []
            for b in c.brokers:
                # the controller knows brokers by their heartbeats only: a destroyed
                # broker falls silent and is fenced when its session expires
                if b.heard:
                    b.heard = False
                    if b.alive and (b.fenced or b.unclean_restart):
                        unfence.append(b)
                elif not b.fenced and now - b.last_heartbeat >= cfg.broker_session_timeout:
                    fence.append(b)
            if fence or unfence:
                self._commit_brokers(fence, unfence)
            elif any(p.leader is None for p in c.parts):
                self.elect_offline()

    def _commit_brokers(self, fence: list[Broker], unfence: list[Broker]) -> None:
        c = self.cluster
        size = CONTROLLER_RECORD_BYTES * (len(fence) + len(unfence))

        def done(ok: bool) -> None:
            if not ok:
                c.counters_["controller_commit_failures"] += 1
                return
            c.replication.disturb()
            for b in fence:
                self._fence(b)
            for b in unfence:
                if b.unclean_restart:
                    b.unclean_restart = False
                    if c.config.eligible_leader_replicas:
                        # KIP-966: a replica back from an unclean shutdown may have lost
                        # committed data, so it leaves the ISR and the ELR.
                        for p in c.parts:
                            if b.id in p.isr or b.id in p.elr:
                                p.elr.discard(b.id)
                                if b.id in p.isr and p.leader != b.id:
                                    p.isr.discard(b.id)
                                    c.reads.left_isr(p, {b.id})
                                    c.emit_state(p, "unclean restart")
                if b.fenced and b.alive:
                    b.fenced = False
                    c.ctx.recorder.emit(BrokerFenced(self.env.now, b.id, b.zone, False))
            self._reassign_after_fencing({b.id for b in fence if b.fenced})

        c.metadata.commit(self.commit_zone(), size, done)

    def _fence(self, b: Broker) -> None:
        if not b.fenced:
            b.fenced = True
            self.cluster.counters_["brokers_fenced"] += 1
            self.cluster.ctx.recorder.emit(BrokerFenced(self.env.now, b.id, b.zone, True))

    def controlled_shutdown(self, brokers: list[Broker], stop) -> None:
        """``brokers`` ask to stop cleanly (a heartbeat with ``wantShutDown``): in one
        commit the controller takes them out of the ISRs and moves their leaderships
        to other replicas while they still answer (``ReplicationControlManager.
        handleBrokerInControlledShutdown``; the model fences them, which does both),
        then they stop (``stop``). Without an available quorum, or if the commit
        fails, they stop as they are."""
        c = self.cluster
        if not c.metadata.available() or self.leader_zone is None:
            stop()
            return

        def done(ok: bool) -> None:
            if ok:
                c.replication.disturb()
                for b in brokers:
                    if b.stopping and b.alive:
                        self._fence(b)
                self._reassign_after_fencing({b.id for b in brokers if b.fenced})
            else:
                c.counters_["controller_commit_failures"] += 1
            stop()

        c.metadata.commit(self.commit_zone(), CONTROLLER_RECORD_BYTES * len(brokers), done)

    def _reassign_after_fencing(self, newly_fenced: Collection[int] = ()) -> None:
        """Partitions led by fenced brokers get new leaders; fenced replicas leave ISRs
        (the last ISR member stays unless ELR is on: KRaft never empties an ISR), and
        the racks they or observers fenced by this commit (``newly_fenced``) served read
        from another replica."""
        c = self.cluster
        brokers = c.brokers
        elr = c.config.eligible_leader_replicas
        changed = False
        left: list[tuple[PartitionState, set[int]]] = []
        for p in c.parts:
            fenced = [r for r in p.isr if brokers[r].fenced]
            if newly_fenced and p.observer_replicas:
                observers = {o for o in p.observer_replicas
                             if o in newly_fenced and o not in p.isr}
                if observers:
                    left.append((p, observers))  # it serves its rack no more
            if not fenced and (p.leader is None or not brokers[p.leader].fenced):
                continue
            if fenced:
                # one change: without ELR KRaft keeps the last ISR member
                gone = set(fenced if elr or len(fenced) < len(p.isr) else fenced[:-1])
                p.shrink_isr(gone, elr=elr)
                left.append((p, gone))
            if p.leader is not None and brokers[p.leader].fenced:
                self.elect(p, "leader fenced")
                changed = True
            else:
                c.emit_state(p, "fenced replica left the ISR")
                c.replication.advance_hw(p)  # the fenced follower no longer holds it back
        if changed:
            c.rewire()
        self.elect_offline()
        for p, gone in left:
            # the racks the fenced replicas served read from another replica now, which
            # sends them what it has at once (as an ISR shrink by AlterPartition does)
            c.reads.left_isr(p, gone)
        c.coordinators.fencing_committed()
        self.balancer.written()

    # ===================================================================== elections
    def elect_offline(self) -> None:
        changed = False
        for p in self.cluster.parts:
            if p.leader is None and self.elect(p, "offline partition"):
                changed = True
        if changed:
            self.cluster.rewire()

    def _candidates(self, p: PartitionState, *, unclean: bool) -> list[int]:
        # Kafka's controller accepts any unfenced replica (``isAcceptableLeader``): it
        # knows brokers by heartbeats only, so it may elect one that is down but whose
        # session has not expired yet, and elect again once it is fenced. A restarted
        # broker counts as fenced until it has registered again (a new registration
        # starts fenced): after an unclean stop, until the controller hears from it;
        # while its old session was valid, until that session expired.
        ok = [r for r in p.all_replicas if self.accepts(r)]
        clean = [r for r in ok if r in p.isr]
        if clean:
            return clean
        if self.cluster.config.eligible_leader_replicas:
            eligible = [r for r in ok if r in p.elr]
            if eligible:
                return eligible
        if unclean:
            return ok
        return []

    def accepts(self, r: int) -> bool:
        """Whether the controller accepts broker ``r`` as a leader: unfenced, and
        registered (not back from an unclean stop it has not heard of, nor refused
        while its old session is valid)."""
        b = self.cluster.brokers[r]
        return not b.fenced and not b.unclean_restart and b.refused_until <= self.env.now

    def elect(self, p: PartitionState, reason: str, *, unclean: bool = False) -> bool:
        """Choose a leader (clean from the ISR, then the ELR; unclean if asked)."""
        candidates = self._candidates(p, unclean=unclean)
        old = p.leader
        if not candidates:
            if old is not None:
                self._set_leader(p, None, reason)
            return False
        new = candidates[0]
        if new == old:
            return False
        if new in p.elr:
            # KIP-966: an eligible replica leads cleanly, as the ISR's only member; the
            # other eligible replicas stay eligible (PartitionChangeBuilder.tryElection).
            p.isr = {new}
            p.elr.discard(new)
            p.settle_elr()
        elif new not in p.isr:
            # only an unclean election reaches a replica outside the ISR and the ELR
            self.cluster.counters_["unclean_elections"] += 1
            p.isr = {new}
            p.elr.clear()
            reason = "unclean election"
        self._set_leader(p, new, reason)
        return True

    def _set_leader(self, p: PartitionState, new: int | None, reason: str) -> None:
        c = self.cluster
        now = self.env.now
        old = p.leader
        c.replication.disturb()
        if p.pending:
            if old is not None and c.brokers[old].alive:
                # The old leader answers waiting produces with NotLeaderOrFollower; the
                # producers retry, as duplicates if the data survived.
                c.produce.fail([r for r, _t in p.pending], NOT_LEADER, written_maybe=True)
            else:
                # A dead leader answers nothing: the requests time out at the producers.
                c.produce.orphan(p.pending,
                                 None if old is None else c.brokers[old].zone)
            p.pending = []
        p.leader = new
        p.epoch += 1
        c.counters_["leader_changes"] += 1
        if new is None:
            if p.offline_since is None:
                p.offline_since = now
            c.emit_state(p, reason)
            self.balancer.written()
            return
        p.offline_since = None
        new_leo = p.leo[new]
        # At new_leo == log_end a truncation would cut no row and clamp nothing (every
        # LEO, follower HW, view and the HW are <= log_end); its disturb(), every fetch
        # item already hot from the one above, would only bump the generation, which is
        # compared for equality alone and is bumped again by emit_state below. A
        # leader that is down (elected before its session expired) truncates nothing
        # yet: followers truncate to the leader's log when it answers them, and it
        # answers only once it is back (:meth:`leader_back`), or another election
        # replaces it first.
        # equivalent: truncating at the log end changes nothing
        if new_leo < p.log_end and c.brokers[new].alive:  # mutate: equivalent
            c.truncate(p, new_leo, "election onto a shorter log")
        # The new leader's HW is at most what it holds; followers' fetches move it on.
        p.hw = min(p.hw, new_leo)
        p.view = {}
        for r in p.isr:
            p.caught_up[r] = now
        c.emit_state(p, reason)
        c.replication.advance_hw(p)
        self.balancer.written()

    def preferred_electable(self, p: PartitionState | OffsetsPartition) -> bool:
        """Whether Kafka's ``PREFERRED`` election would move ``p``'s leadership to its
        preferred replica (the first of its replica list) now: it has another leader,
        and the preferred replica is in the ISR and acceptable
        (:mod:`geosim.kafka.leader_balance`; data and ``__consumer_offsets``
        partitions alike)."""
        new = p.replicas[0]
        return (p.leader is not None and p.leader != new and new in p.isr
                and self.accepts(new))

    def elect_preferred(self, p: PartitionState) -> bool:
        """A balancing pass's election of ``p``'s preferred replica, if still
        electable."""
        if not self.preferred_electable(p):
            return False
        self.cluster.counters_["preferred_leader_elections"] += 1
        self._set_leader(p, p.replicas[0], "preferred leader election")
        return True

    def leader_back(self, p: PartitionState) -> None:
        """``p``'s leader, elected while it was down, is back and still leads: the log
        is now its log (the followers truncate to it)."""
        assert p.leader is not None
        leo = p.leo[p.leader]
        if leo < p.log_end:
            self.cluster.truncate(p, leo, "election onto a shorter log")

    def run_unclean_elections(self):
        """Every ``unclean.leader.election.interval.ms``, offline partitions elect any
        live replica (``unclean.leader.election.enable``)."""
        c = self.cluster
        while True:
            yield self.env.timeout(c.config.unclean_election_interval)
            if not c.metadata.available():
                continue
            self.unclean_election()

    def unclean_election(self) -> None:
        """The operator's unclean election: every offline partition takes the first live
        replica (sync, then observer) as leader, through one controller commit."""
        c = self.cluster
        offline = [p for p in c.parts if p.leader is None]
        if not offline:
            return

        def done(ok: bool) -> None:
            if not ok:
                c.counters_["controller_commit_failures"] += 1
                return
            elected = [p for p in offline
                       if p.leader is None and self.elect(p, "unclean election", unclean=True)]
            if elected:
                c.rewire()

        c.metadata.commit(self.commit_zone(), CONTROLLER_RECORD_BYTES * len(offline), done)

    def commit_zone(self) -> str:
        """Where the controller's commits start: the active controller's zone."""
        assert self.leader_zone is not None, "no controller was ever active"
        return self.leader_zone


__all__ = ["CONTROLLER_CHECK", "Controller"]
