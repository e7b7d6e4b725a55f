"""Faults of a Kafka cluster's brokers: zones and brokers going down and coming back.

A crashed broker's host closes its connections, so produce requests waiting there fail
at once; a zone's outage answers nothing (they time out). A broker that stops uncleanly
(a crash, or a zone or region outage) keeps only what
its replicas flushed more than ``page_cache_flush_age`` ago (Kafka does not fsync each
write); a destroyed broker keeps nothing, and rows no surviving replica holds are lost.
A broker that comes back is a follower of everything; the partitions it led re-elect.
A shared-storage broker keeps nothing locally: what survives it is its WAL's business
(:meth:`geosim.kafka.shared_storage.SharedStorage.broker_stopped`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from geosim.kafka.produce import DISCONNECTED

if TYPE_CHECKING:
    from geosim.kafka.broker import Broker
    from geosim.kafka.cluster import KafkaCluster


def zone_state(cluster: KafkaCluster, zone: str, up: bool, destroyed: bool) -> None:
    """Every broker and client of ``zone`` stops (``up=False``) or restarts;
    ``destroyed``: what the zone's brokers held is gone."""
    for b in cluster.brokers:
        if b.zone == zone:
            _broker_state(cluster, b, up, clean=False, destroyed=destroyed)
    if not up:
        cluster.produce.zone_silent(zone)
    cluster.client_faults(zone, up)
    if not up:
        cluster.reads.zone_down(zone)
    else:
        cluster.produce.zone_back(zone)
    cluster.rewire()
    cluster.coordinators.brokers_changed()


def crash_brokers(cluster: KafkaCluster, zone: str, count: int, up: bool) -> None:
    """The first ``count`` brokers of ``zone`` crash or restart (cleanly if the
    scenario's ``broker-crash`` fault of that zone says ``clean``)."""
    fault = next((f for f in cluster.world.scenario.faults
                  if f.kind == "broker-crash" and f.zone == zone), None)
    clean = bool(getattr(fault, "clean", False))
    crashed = [b for b in cluster.brokers if b.zone == zone][:count]
    if clean and not up and cluster.storage is None:
        # A controlled shutdown: the controller moves the brokers' leaderships first.
        for b in crashed:
            b.stopping = True
        cluster.controller.controlled_shutdown(
            crashed, lambda: _set_state(cluster, [b for b in crashed if b.stopping],
                                        False, clean=True))
        return
    _set_state(cluster, crashed, up, clean=clean)


def _set_state(cluster: KafkaCluster, brokers: list[Broker], up: bool, *,
               clean: bool) -> None:
    """``brokers`` stop (their host closing their connections) or restart."""
    for b in brokers:
        b.stopping = False
        _broker_state(cluster, b, up, clean=clean, destroyed=False)
    if not up and cluster.storage is None:
        _reset_connections(cluster, {b.id for b in brokers})
    cluster.rewire()
    cluster.coordinators.brokers_changed()


def _reset_connections(cluster: KafkaCluster, brokers: set[int]) -> None:
    """A broker process that stops on a live host has its connections closed by the
    host: the produce requests waiting there for the high watermark fail at once at
    their producers (a disconnect, retried; the rows may have been written). A zone's
    outage closes nothing: those requests time out (:meth:`ProducePath.orphan`)."""
    for p in cluster.parts:
        if p.pending and p.leader in brokers:
            rows = [row for row, _t in p.pending]
            p.pending = []
            cluster.produce.fail(rows, DISCONNECTED, written_maybe=True)


def _broker_state(cluster: KafkaCluster, b: Broker, up: bool, *, clean: bool,
                  destroyed: bool) -> None:
    if b.destroyed:
        return
    cluster.replication.disturb()
    if not up:
        b.alive = False
        for p in cluster.parts:  # a partial row fetched is in memory only
            if p.partial:
                p.partial.pop(b.id, None)
        if cluster.storage is not None:  # no local state: the WAL decides
            b.destroyed = destroyed
            cluster.storage.broker_stopped(b.id, destroyed)
            return
        if destroyed:
            b.destroyed = True
            _destroy_replicas(cluster, b)
        elif not clean:
            _lose_page_cache(cluster, b)
        return
    b.alive = True
    b.unclean_restart = not clean or b.unclean_restart
    if not b.fenced:
        # Its old session is still valid: the new incarnation may register only once
        # it has expired, which fences the broker (ClusterControlManager.registerBroker).
        b.refused_until = b.last_heartbeat + cluster.config.broker_session_timeout
    # back as a follower of everything (its partitions re-elect if it led them)
    for p in cluster.parts:
        if p.leader == b.id:
            cluster.controller.elect(p, "leader restarted")
            if p.leader == b.id:
                cluster.controller.leader_back(p)


def _lose_page_cache(cluster: KafkaCluster, b: Broker) -> None:
    """An unclean stop: each replica keeps only what was flushed to disk."""
    flushed_before = cluster.env.now - cluster.spec.page_cache_flush_age
    for p in cluster.parts:
        if b.id in p.leo:
            keep = min(p.leo[b.id], p.offset_flushed_before(flushed_before))
            if keep < p.leo[b.id]:
                cluster.counters_["unflushed_suffixes_lost"] += 1
                p.leo[b.id] = keep
                p.follower_hw[b.id] = min(p.follower_hw[b.id], keep)


def _destroy_replicas(cluster: KafkaCluster, b: Broker) -> None:
    """A destroyed broker's data is gone: rows no surviving replica holds are lost."""
    brokers = cluster.brokers
    for p in cluster.parts:
        if b.id not in p.leo:
            continue
        p.leo[b.id] = 0
        survivors = [p.leo[r] for r in p.all_replicas if not brokers[r].destroyed]
        if not survivors:
            cluster.erase(p, "every replica was destroyed")
            continue
        best = max(survivors)
        if best < p.log_end:
            cluster.truncate(p, best, "every replica holding the rows was destroyed")


__all__ = ["crash_brokers", "zone_state"]
