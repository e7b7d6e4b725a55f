"""The read path of a Kafka cluster: consumers' fetches.

Consumers read committed data from the leader, or with fetch-from-follower (KIP-392)
from the leader if it is in their rack, else a replica there that is in the ISR, or an
observer (a follower serves up to the HW it last heard of; one out of the ISR serves no
one, KAFKA-14372). Data reaches a consumer one network hop after it becomes readable
there: each zone with consumers has its *view* of every partition (the offset readable
there now), which the groups' members deliver up to. Mirrors of other clusters read
committed rows from the leader (:meth:`ReadPath.committed_rows`). Offset commits go to
the groups' coordinators (:mod:`geosim.kafka.coordinator`).
"""

from __future__ import annotations

from bisect import bisect_right
from functools import partial
from typing import TYPE_CHECKING

from geosim.clients.consumer import ConsumerGroup
from geosim.core.context import call_later
from geosim.core.events import Row

if TYPE_CHECKING:
    from geosim.kafka.cluster import KafkaCluster
    from geosim.kafka.partition import PartitionState


class ReadPath:
    """What each zone's consumers of one cluster can read."""

    def __init__(self, cluster: KafkaCluster):
        self.cluster = cluster
        self.env = cluster.env
        self.net = cluster.net
        # offset readable by consumers in each zone, per partition (after the hop)
        self.visible: dict[str, list[int]] = {z: [0] * cluster.partitions_n
                                              for z in cluster.world.topology.zones()}
        # offset up to which each zone's readers were sent the data (its bytes counted
        # once per reader): a change overtaking one still on its way carries only what
        # the earlier did not, as a consumer's next fetch asks from where its last
        # response ended
        self.sent: dict[str, list[int]] = {z: [0] * cluster.partitions_n
                                           for z in cluster.world.topology.zones()}
        self.consumer_zones: list[str] = []
        # Replicas in each zone's rack, per partition (placement and racks never change);
        # the replica serving a zone is the first of them alive and unfenced.
        self._rack_replicas: dict[tuple[int, str], list[int]] = {}
        # The consumer zones each (partition, replica) serves, in ``consumer_zones``'
        # order, valid while no partition, broker or wiring changed otherwise than by
        # appends (the replication's generation: leaders, liveness and fencing change
        # only after ``Replication.disturb``) and the consumer zones stay.
        self._served: dict[tuple[int, int], list[str]] = {}
        self._serving_generation = -1
        # Per partition: the groups (in the cluster's order) whose owner of it reads in
        # each consumer zone, valid while the groups and their assignments stay as they
        # were (``_owners_valid``, cleared by the groups' listeners).
        self._owners: dict[int, dict[str, list[ConsumerGroup]]] = {}
        self._owners_valid = False
        # Each partition's deliveries to each zone are a message family of their own
        # (Network.delay's stream).
        self._families = [f"{cluster.name}.consume.{pid}"
                          for pid in range(cluster.partitions_n)]

    def groups_changed(self) -> None:
        """The cluster's groups changed: recompute the zones their members are in."""
        self.consumer_zones = sorted({m.zone for g in self.cluster.groups for m in g.members})
        for group in self.cluster.groups:
            if self._owners_moved not in group.listeners:
                group.listeners.append(self._owners_moved)
        self._owners_valid = False
        self._serving_generation = -1  # the zones served, recomputed

    def _owners_moved(self) -> None:
        """A group's owners changed."""
        self._owners_valid = False

    # ========================================================================== views
    def _serving_replica(self, p: PartitionState, zone: str) -> int | None:
        c = self.cluster
        if p.leader is None:
            return None
        if not c.spec.fetch_from_follower:
            return p.leader
        key = (p.id, zone)
        local = self._rack_replicas.get(key)
        if local is None:
            rack = self._rack_of(zone)
            local = self._rack_replicas[key] = [r for r in p.all_replicas
                                                if c.brokers[r].rack == rack]
        if p.leader in local:
            return p.leader  # the selector keeps the leader when it is in the rack
        return self._pick(p, local, -1)

    def _pick(self, p: PartitionState, local: list[int], joined: int) -> int | None:
        brokers = self.cluster.brokers
        isr = p.isr
        observers = p.observer_replicas
        for r in local:
            b = brokers[r]
            # The rack-aware selector offers only ISR members (KAFKA-14372, Kafka 3.4:
            # a follower out of the ISR may lag, and its readers with it); an observer,
            # never in the ISR while it is asynchronous, serves its rack as Confluent
            # Server's follower fetching has it.
            if b.alive and not b.fenced and (r in isr or r in observers or r == joined):
                return r
        return p.leader

    def serving_if_joined(self, p: PartitionState, zone: str, joined: int) -> int | None:
        """The replica consumers in ``zone`` would read ``p`` from once ``joined``, a
        follower out of its ISR, joins it (the window engine's returns to the ISR)."""
        first = self._serving_replica(p, zone)
        local = self._rack_replicas.get((p.id, zone))  # (set under fetch-from-follower)
        if first is None or local is None or p.leader in local:
            return first
        return self._pick(p, local, joined)

    def _rack_of(self, zone: str) -> str:
        """The rack of a consumer in ``zone`` (``client.rack``: its zone or region, as
        the brokers' ``broker.rack``)."""
        c = self.cluster
        return zone if c.spec.rack == "zone" else c.world.topology.region_of(zone)

    def _owners_of(self, pid: int) -> dict[str, list[ConsumerGroup]]:
        """The groups (in the cluster's order) whose owner of ``pid`` reads from each
        zone; valid while the groups and their assignments stay as they were
        (``_owners_valid``)."""
        if not self._owners_valid:
            self._owners_valid = True
            self._owners = {}
        by_zone = self._owners.get(pid)
        if by_zone is None:
            by_zone = self._owners[pid] = {}
            for g in self.cluster.groups:
                zone = g.owner_zone(pid)
                if zone is not None:
                    by_zone.setdefault(zone, []).append(g)
        return by_zone

    def serving_replica(self, p: PartitionState, zone: str) -> int | None:
        """The replica consumers in ``zone`` read ``p`` from (None: no leader)."""
        return self._serving_replica(p, zone)

    def readers(self, pid: int, zone: str) -> int:
        """How many groups' owners of ``pid`` read in ``zone``."""
        return len(self._owners_of(pid).get(zone, ()))

    def left_isr(self, p: PartitionState, gone: set[int]) -> None:
        """Followers ``gone`` left ``p``'s ISR (or, observers, were fenced): under
        fetch-from-follower the zones of their racks now read from another replica (the
        leader, unless another of the rack's is in the ISR), which serves them what it
        has at once, not at its next advance."""
        c = self.cluster
        if not c.spec.fetch_from_follower or p.leader is None:
            return
        racks = {c.brokers[r].rack for r in gone}
        zones = [z for z in self.consumer_zones if self._rack_of(z) in racks]
        if not zones:
            return
        replicas = {r for z in zones if (r := self._serving_replica(p, z)) is not None}
        for r in sorted(replicas):
            self.readable_changed(p, r, only=zones)

    def readable_changed(self, p: PartitionState, replica: int,
                         only: list[str] | None = None) -> None:
        """``replica`` can serve more of ``p``: consumers reading from it see it one
        network hop later (``only``: of these zones)."""
        c = self.cluster
        offset = p.readable(replica)
        rzone = c.brokers[replica].zone
        visible = self.visible
        pid = p.id
        generation = c.replication.generation
        if generation != self._serving_generation:
            self._serving_generation = generation
            self._served = {}
        served = self._served.get((pid, replica))
        if served is None:
            served = self._served[(pid, replica)] = [
                zone for zone in self.consumer_zones
                if self._serving_replica(p, zone) == replica]
        if not served:
            return
        by_zone = self._owners_of(pid)
        offset_bytes = -1  # p.bytes_at(offset), once needed
        sent = self.sent
        for zone in served:
            if only is not None and zone not in only:
                continue
            view = visible[zone]
            have = view[pid]
            if offset <= have:
                continue
            sent_zone = sent[zone]
            start = sent_zone[pid]
            if start < have:
                start = have
            readers = by_zone.get(zone)
            owners = len(readers) if readers else 0
            storage = c.storage
            if storage is not None and storage.catch_up(
                    p, have, zone, rzone, partial(self.readable_changed, p, replica)):
                continue  # read from object storage first (shared storage)
            if not owners:
                view[pid] = offset  # no reader there: readable at once
                continue
            if offset_bytes < 0:
                offset_bytes = p.bytes_at(offset)
            size = (offset_bytes - p.bytes_at(start)) * owners if offset > start else 0
            delay = self.net.delay(rzone, zone, size, "consume", stream=self._families[pid])
            if delay is None:
                continue  # retried at the next advance
            if offset > start:
                sent_zone[pid] = offset
            epoch = p.epoch
            if delay <= 0:
                self._visible(p, zone, offset, epoch)
            else:
                call_later(self.env, delay, self._visible, p, zone, offset, epoch)

    def visible_after(self, p: PartitionState, zone: str, offset: int, delay: float) -> None:
        """``p`` becomes readable up to ``offset`` in ``zone`` ``delay`` seconds from now,
        its bytes already counted (a window's hand-back: the deliveries the kernel has
        arriving after it)."""
        call_later(self.env, delay, self._visible, p, zone, offset, p.epoch)

    def _visible(self, p: PartitionState, zone: str, offset: int, epoch: int) -> None:
        if p.epoch != epoch:
            offset = min(offset, p.hw if p.leader is not None else offset)
        visible = self.visible[zone]
        pid = p.id
        if offset > visible[pid]:
            visible[pid] = offset
            for group in self._owners_of(pid).get(zone, ()):
                group.ready_one(pid)

    def is_readable(self, row: Row, zone: str) -> bool:
        """Whether ``row`` is readable by a consumer in ``zone`` now (it reached that
        zone's view of the partition)."""
        return row.offset + row.records <= self.visible[zone][row.partition]

    def zone_down(self, zone: str) -> None:
        """The zone's consumers lost what they had fetched."""
        self.visible[zone] = [0] * self.cluster.partitions_n
        self.sent[zone] = [0] * self.cluster.partitions_n

    def truncated(self, pid: int, offset: int) -> None:
        """Partition ``pid``'s log now ends at ``offset``."""
        for views in (self.visible, self.sent):
            for view in views.values():
                if view[pid] > offset:
                    view[pid] = offset

    # ================================================================= groups attached
    def attach_group(self, group: ConsumerGroup) -> None:
        """A consumer group now reads this cluster (its log rows already set); what is
        committed here now is readable by its members at once."""
        c = self.cluster
        c.groups.append(group)
        c.coordinators.attach(group)
        self.groups_changed()
        for zone in self.consumer_zones:
            visible = self.visible[zone]
            for p in c.parts:
                if p.leader is not None and c.brokers[p.leader].alive:
                    visible[p.id] = max(visible[p.id], p.hw)
        if c.started:
            self.env.process(group.run_commits())
        group.ready(range(c.partitions_n))

    def detach_group(self, group: ConsumerGroup) -> None:
        self.cluster.groups.remove(group)
        if self._owners_moved in group.listeners:
            group.listeners.remove(self._owners_moved)
        self.groups_changed()

    # ========================================================================= mirrors
    def committed_rows(self, pid: int, start: int, budget: int) -> list[Row]:
        """Rows of partition ``pid`` from offset ``start`` up to its high watermark, at
        most ``budget`` compressed bytes (at least one row), as the leader serves them;
        none without a live leader."""
        c = self.cluster
        p = c.parts[pid]
        if p.leader is None or not c.brokers[p.leader].alive:
            return []
        hw = p.readable(p.leader)
        if start >= hw:
            return []
        i = bisect_right(p.ends, start)
        out: list[Row] = []
        size = 0
        rows, ends = p.rows, p.ends
        while i < len(rows) and ends[i] <= hw:
            row = rows[i]
            if out and size + row.bytes_compressed > budget:
                break
            out.append(row)
            size += row.bytes_compressed
            i += 1
        return out


__all__ = ["ReadPath"]
