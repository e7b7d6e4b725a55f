"""Group coordinators of a Kafka cluster: where consumer groups commit, and their failover.

A group's coordinator is the leader of the group's partition of the internal
``__consumer_offsets`` topic (Kafka: ``abs(groupId.hashCode) %
offsets.topic.num.partitions``, ``GroupMetadataManager.partitionFor``). Offset commits
go to it, one round trip from the member's zone. When its broker stops, the group has
no coordinator until a leader of the partition is elected and loads the group; the
group then restarts its members' sessions (:meth:`~geosim.clients.consumer.
ConsumerGroup.coordinator_loaded`), so a region's outage that takes the coordinator
delays the rebalance that removes the region's consumers by the time the controller
takes to fence the coordinator's broker.

What the model assumes, where Kafka decides otherwise or nothing is published:

* **The group's partition.** OMB names its groups randomly; the model numbers the
  subscriptions and takes ``subscription % offsets.topic.num.partitions``.
* **Placement.** The topic's ``offsets.topic.replication.factor`` replicas are placed
  rack-aware, as a data topic's are, over the brokers holding the data topics' synchronous
  replicas (a cluster with observers keeps its coordinators where its ISR is), the
  rotation starting at the first broker (Kafka starts it at random).
* **ISR.** Commits are small, so the followers never lag: a fenced replica leaves the
  ISR (the last member stays, as KRaft never empties an ISR), and an unfenced live one
  rejoins while the partition has a leader. Its leader is elected with the
  controller's commits that fence and unfence brokers, clean only: the first ISR replica
  the controller accepts, in replica order; without one the partition waits for its
  ISR. Loading the group takes no time.
* **A leader restarted within its session** gives its leadership to another ISR
  replica at once, as the model's data partitions do (``geosim.kafka.faults``); KRaft
  refuses the new incarnation's registration until the old session expires, and
  leadership stays with the stopped broker until its fencing.
* **Shared-storage clusters** keep one replica per partition, ``__consumer_offsets``
  too: when its broker fails, the coordinator comes back with the broker's other
  partitions, where the WAL recovery reopens them
  (:mod:`geosim.kafka.shared_storage`), on the live broker leading the fewest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING

from geosim.core.context import call_later
from geosim.kafka.placement import rack_aware
from geosim.kafka.wire import ACK_BYTES

if TYPE_CHECKING:
    from geosim.clients.consumer import ConsumerGroup, ConsumerSettings
    from geosim.kafka.cluster import KafkaCluster
    from geosim.kafka.config import BrokerConfig
    from geosim.kafka.placement import BrokerInfo


def coordinator_timing(settings: ConsumerSettings, config: BrokerConfig) -> ConsumerSettings:
    """A group's settings under this cluster's coordinator: with the consumer protocol
    (KIP-848) its session and heartbeat are the coordinator's
    (``group.consumer.session.timeout.ms``, ``group.consumer.heartbeat.interval.ms``)."""
    if settings.protocol != "consumer":
        return settings
    return replace(settings, session_timeout=config.group_consumer_session_timeout,
                   heartbeat_interval=config.group_consumer_heartbeat_interval)


def unrouted_commit(_zone: str, _size: int, done: Callable[[bool], None]) -> None:
    """The commits of a group not yet attached to a cluster: it has no coordinator."""
    done(False)


@dataclass
class OffsetsPartition:
    """One partition of ``__consumer_offsets``: its replicas (preferred leader first),
    ISR and leader; ``serving``: ``served_by`` leads it, is up and has loaded its
    groups; ``epoch``: bumped at each change of those (a commit answered across one
    fails)."""

    index: int
    replicas: list[int]
    isr: set[int]
    leader: int | None = None
    serving: bool = False
    served_by: int | None = None
    epoch: int = 0


class GroupCoordinators:
    """The group coordinators of one cluster (see the module docstring)."""

    def __init__(self, cluster: KafkaCluster, infos: list[BrokerInfo]):
        self.cluster = cluster
        self.env = cluster.env
        self.net = cluster.net
        cfg = cluster.config
        self.partitions_n = cfg.offsets_topic_num_partitions
        synchronous = {r for p in cluster.parts for r in p.replicas}
        hosts = [b for b in infos if b.id in synchronous] or infos
        # shared storage: one replica per partition (AutoMQ forces it for every topic)
        rf = 1 if cluster.storage is not None else min(cfg.offsets_topic_replication_factor,
                                                        len(hosts))
        self._placement = rack_aware(hosts, self.partitions_n, rf)
        self._slots: dict[int, OffsetsPartition] = {}
        # the cluster's offset commits are a message family of their own
        self._family = f"{cluster.name}.commit"

    def _index(self, group: ConsumerGroup) -> int:
        """The ``__consumer_offsets`` partition of ``group``'s subscription."""
        return group.subscription % self.partitions_n

    def slot(self, group: ConsumerGroup) -> OffsetsPartition:
        """The ``__consumer_offsets`` partition of ``group`` (created when first used)."""
        index = self._index(group)
        slot = self._slots.get(index)
        if slot is None:
            # its state as the controller's commits so far would have left it
            brokers = self.cluster.brokers
            replicas = self._placement[index]
            isr = {r for r in replicas if not brokers[r].fenced} or {replicas[0]}
            slot = self._slots[index] = OffsetsPartition(index, replicas, isr)
            slot.leader = self._elect(slot)
            slot.serving = slot.leader is not None and brokers[slot.leader].alive
            slot.served_by = slot.leader
        return slot

    def attach(self, group: ConsumerGroup) -> None:
        """``group`` reads this cluster: its commits go to its coordinator, and it
        learns whether it has one now."""
        group.route_commits(partial(self.commit, group), partial(self.one_way, group))
        if not self.slot(group).serving:
            group.coordinator_lost()

    def coordinator_zone(self, group: ConsumerGroup) -> str | None:
        """The zone of ``group``'s coordinator (None: it has none now)."""
        broker = self._coordinator(group)
        return None if broker is None else self.cluster.brokers[broker].zone

    def one_way(self, group: ConsumerGroup, zone: str) -> float:
        """The typical delay (half the median round trip) from ``zone`` to ``group``'s
        coordinator, after which it hears a heartbeat or a commit sent from there; 0
        without a coordinator."""
        coordinator = self.coordinator_zone(group)
        return 0.0 if coordinator is None else self.net.rtt_estimate(zone, coordinator) / 2

    def _coordinator(self, group: ConsumerGroup) -> int | None:
        slot = self.slot(group)
        return slot.leader if slot.serving else None

    # ======================================================================== commits
    def commit(self, group: ConsumerGroup, zone: str, size: int,
               done: Callable[[bool], None]) -> None:
        """An offset commit of ``group`` from ``zone``: a round trip to its coordinator;
        it fails without one, or if the coordinator changes before the answer."""
        slot = self.slot(group)
        if not slot.serving:
            done(False)
            return
        assert slot.leader is not None  # a serving partition has a leader
        rtt = self.net.round_trip(zone, self.cluster.brokers[slot.leader].zone, size,
                                  ACK_BYTES, "consume", stream=self._family)
        if rtt is None:
            done(False)
            return
        call_later(self.env, rtt, self._answer, slot, slot.epoch, done)

    @staticmethod
    def _answer(slot: OffsetsPartition, epoch: int, done: Callable[[bool], None]) -> None:
        done(slot.epoch == epoch)

    # ======================================================================= failover
    def fencing_committed(self) -> None:
        """The controller committed a fencing or unfencing: fenced replicas leave the
        partitions' ISRs, unfenced ones rejoin, and partitions whose leader is fenced or
        missing elect one."""
        brokers = self.cluster.brokers
        for slot in self._slots.values():
            fenced = [r for r in slot.replicas if r in slot.isr and brokers[r].fenced]
            slot.isr -= set(fenced if len(fenced) < len(slot.isr) else fenced[:-1])
            if slot.leader is None or brokers[slot.leader].fenced:
                slot.leader = self._elect(slot)
            if slot.leader is not None:
                # the leader's AlterPartition takes the unfenced replicas back (they
                # catch up at once); without a leader the ISR waits for its members
                slot.isr |= {r for r in slot.replicas
                             if brokers[r].alive and not brokers[r].fenced}
            self._settle(slot)

    def brokers_changed(self) -> None:
        """Brokers stopped or restarted: a coordinator whose broker stopped is lost; one
        that restarted gives its leadership to the first ISR replica the controller
        accepts, as a data partition's restarted leader does (itself only once it has
        registered again)."""
        brokers = self.cluster.brokers
        for slot in self._slots.values():
            leader = slot.leader
            if leader is not None and brokers[leader].alive and not slot.serving:
                # offline if no other: it leads again once the controller elects it
                # (after its registration, at an unfencing commit)
                slot.leader = self._elect(slot)
            self._settle(slot)
        self.cluster.controller.balancer.written()

    def reopened(self, broker: int, target: int) -> None:
        """Shared storage: the WAL recovery of ``broker`` reopened its partitions; the
        offsets partitions it held reopen on ``target``."""
        for slot in self._slots.values():
            if slot.replicas == [broker] and slot.leader is None:
                slot.replicas = [target]
                slot.isr = {target}
                slot.leader = self._elect(slot)
                self._settle(slot)

    # ============================================================ preferred leaders
    def imbalanced(self, but: set[int] | frozenset[int] = frozenset()) -> bool:
        """Whether a partition in use (other than those indexed in ``but``) is led by
        another replica than its preferred one, or has no leader."""
        return any(slot.leader != slot.replicas[0] for slot in self._slots.values()
                   if slot.index not in but)

    def preferred_electable(self) -> list[OffsetsPartition]:
        """The partitions a balancing pass moves to their preferred replica
        (:mod:`geosim.kafka.leader_balance`): led by another, the preferred one in the
        ISR and acceptable to the controller."""
        electable = self.cluster.controller.preferred_electable
        return [slot for slot in self._slots.values() if electable(slot)]

    def elect_preferred(self, slot: OffsetsPartition) -> None:
        """A balancing pass's election of ``slot``'s preferred replica, if still
        electable: its groups' coordinator moves there."""
        if self.cluster.controller.preferred_electable(slot):
            slot.leader = slot.replicas[0]
            self._settle(slot)

    def _elect(self, slot: OffsetsPartition) -> int | None:
        """The first ISR replica the controller accepts as a leader, in replica
        order."""
        accepts = self.cluster.controller.accepts
        return next((r for r in slot.replicas if r in slot.isr and accepts(r)), None)

    def _settle(self, slot: OffsetsPartition) -> None:
        """The partition serves while its leader is up; the groups hear of each
        change (a change of leader is a loss, then a load)."""
        leader = slot.leader
        serving = leader is not None and self.cluster.brokers[leader].alive
        if serving == slot.serving and (not serving or leader == slot.served_by):
            return
        slot.epoch += 1
        groups = [g for g in self.cluster.groups if self._index(g) == slot.index]
        if slot.serving:
            for g in groups:
                g.coordinator_lost()
        slot.serving = serving
        slot.served_by = leader
        if serving:
            for g in groups:
                g.coordinator_loaded()


__all__ = ["GroupCoordinators", "OffsetsPartition", "coordinator_timing", "unrouted_commit"]
