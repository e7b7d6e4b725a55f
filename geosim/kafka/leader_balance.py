"""Automatic preferred-leader balancing of a Kafka cluster (``auto.leader.rebalance.enable``).

A partition's *preferred* leader is the first replica of its replica list, where the
placement put its leaderships evenly. A fault moves leaderships off their preferred
replicas, and they stay where the elections put them until the controller moves them
back. KRaft's controller does so in passes (apache/kafka ``QuorumController.
maybeScheduleNextBalancePartitionLeaders`` and ``ReplicationControlManager.
maybeBalancePartitionLeaders``), which the model follows:

* **Scheduling.** After every controller write that leaves some partition without its
  preferred leader, if no pass is pending, one is scheduled
  ``leader.imbalance.check.interval.seconds`` later (300 s), or 10 ms later when the
  previous pass stopped at its cap. A controller that loses its leadership drops its
  pending pass; a newly active one schedules its own.
* **A pass** is one controller write: each partition without its preferred leader
  whose preferred replica is in the ISR and acceptable to the controller (unfenced and
  registered) gets it as leader
  (``PartitionChangeBuilder``'s ``PREFERRED`` election); otherwise its leader stays. At
  most 1,000 elections a pass (``MAX_ELECTIONS_PER_IMBALANCE``); at the cap the next pass
  follows 10 ms later. The elections take effect when the write commits.
* **No threshold.** ``leader.imbalance.per.broker.percentage`` is read only by the
  ZooKeeper-era controller; KRaft's balances any partition off its preferred leader.
* **Group coordinators.** ``__consumer_offsets`` partitions are balanced alike: a group
  whose partition moves back has its coordinator move (lost, then loaded by the
  preferred replica, without a rebalance of a stable group;
  :mod:`geosim.kafka.coordinator`).

Where the model differs: Kafka's pass also elects a leader for a partition that has
none, or whose leader the controller no longer accepts (another ISR replica, or an
eligible one under KIP-966); the model leaves such partitions to the controller's
fencing and offline elections, which act within a controller check. Kafka applies a
pass's elections to the controller's memory when it writes them; the model applies them
when the write commits, holding them as made from the write on (no later pass makes
them again, and the next pass is scheduled at the write).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from geosim.core.context import call_later
from geosim.kafka.wire import CONTROLLER_RECORD_BYTES

if TYPE_CHECKING:
    from geosim.kafka.cluster import KafkaCluster
    from geosim.kafka.coordinator import OffsetsPartition
    from geosim.kafka.partition import PartitionState

#: Elections per pass (apache/kafka ``ReplicationControlManager.MAX_ELECTIONS_PER_IMBALANCE``).
MAX_ELECTIONS_PER_PASS = 1000
#: The delay of a pass after one that stopped at its cap (``QuorumController``: 10 ms).
IMMEDIATE = 0.010

# The schedule's states (``QuorumController.ImbalanceSchedule``).
DEFERRED, IMMEDIATELY, SCHEDULED = "deferred", "immediately", "scheduled"


class LeaderBalancer:
    """The controller's preferred-leader balancing of one cluster (module docstring)."""

    def __init__(self, cluster: KafkaCluster):
        self.cluster = cluster
        self.env = cluster.env
        cfg = cluster.config
        self.interval: float | None = (cfg.leader_imbalance_check_interval
                                       if cfg.auto_leader_rebalance_enable else None)
        self.state = DEFERRED
        self._token = 0   # the pending pass's; a new token drops it
        self._applying = False
        # Elections written but not committed yet (partition ids, __consumer_offsets
        # indices): Kafka's controller holds them as made, so no pass makes them twice
        # and no imbalance is seen in them.
        self._writing: set[int] = set()
        self._writing_slots: set[int] = set()
        self.passes = 0   # passes run (each one controller write, or none if empty)
        self.due: float | None = None  # when the pending pass runs

    # ====================================================================== schedule
    def imbalanced(self) -> bool:
        """Whether some partition (``__consumer_offsets`` included) is led by another
        replica than its preferred one, or has no leader, as the controller sees it
        (with the elections it wrote made)."""
        c = self.cluster
        writing = self._writing
        return (any(p.leader != p.replicas[0] and p.id not in writing for p in c.parts)
                or c.coordinators.imbalanced(but=self._writing_slots))

    def written(self) -> None:
        """A controller write took effect: schedule a pass if a partition is off its
        preferred leader and none is pending."""
        if self.interval is None or self.state == SCHEDULED or self._applying:
            return
        if self.imbalanced():
            self._schedule()

    def activated(self) -> None:
        """Another controller is active (or the same one after losing the quorum): the
        pending pass is dropped, and the new controller schedules its own."""
        self._token += 1
        self.state = DEFERRED
        self.due = None
        self.written()

    def _schedule(self) -> None:
        assert self.interval is not None
        delay = self.interval if self.state == DEFERRED else IMMEDIATE
        self.state = SCHEDULED
        self._token += 1
        self.due = self.env.now + delay
        call_later(self.env, delay, self._pass, self._token, self.cluster.metadata.term)

    # ========================================================================= passes
    def _pass(self, token: int, term: int) -> None:
        """The pass: every preferred election the controller can make now, one write."""
        if token != self._token:
            return  # dropped by a newer controller
        self.due = None
        c = self.cluster
        metadata = c.metadata
        if not metadata.available() or metadata.term != term:
            # this controller is no longer active: a new term's controller schedules
            # its own pass (activated); without a quorum under the same term, the next
            # pass is scheduled now, as a controller resuming would
            self.state = DEFERRED
            if metadata.term == term:
                self.written()
            return
        self.passes += 1
        controller = c.controller
        writing, writing_slots = self._writing, self._writing_slots
        parts: list[tuple[PartitionState, int]] = []
        for p in c.parts:
            if len(parts) >= MAX_ELECTIONS_PER_PASS:
                break
            if p.id not in writing and controller.preferred_electable(p):
                parts.append((p, p.epoch))
        slots: list[OffsetsPartition] = []
        for slot in c.coordinators.preferred_electable():
            if len(parts) + len(slots) >= MAX_ELECTIONS_PER_PASS:
                break
            if slot.index not in writing_slots:
                slots.append(slot)
        records = len(parts) + len(slots)
        self.state = IMMEDIATELY if records >= MAX_ELECTIONS_PER_PASS else DEFERRED
        ids = {p.id for p, _ in parts}
        indices = {slot.index for slot in slots}
        writing |= ids
        writing_slots |= indices
        # The next pass is scheduled at this write, its elections counted as made.
        self.written()
        if not records:
            return

        def done(ok: bool) -> None:
            writing.difference_update(ids)
            writing_slots.difference_update(indices)
            if not ok:
                c.counters_["controller_commit_failures"] += 1
                self.written()
                return
            self._applying = True
            try:
                changed = False
                for p, epoch in parts:
                    if p.epoch == epoch and controller.elect_preferred(p):
                        changed = True
                if changed:
                    c.rewire()
                for slot in slots:
                    c.coordinators.elect_preferred(slot)
            finally:
                self._applying = False
            self.written()  # an election the commit found moot leaves its partition

        metadata.commit(controller.commit_zone(), CONTROLLER_RECORD_BYTES * records, done)


__all__ = ["IMMEDIATE", "MAX_ELECTIONS_PER_PASS", "LeaderBalancer"]
