"""The Kafka engine's pre-run event estimate, counted from its built structures.

The engine's events come from a few periodic mechanisms, not from the records (records
travel in rows, many to a request). Each term below is a structural count read off a
built, not started, :class:`~geosim.kafka.cluster.KafkaCluster` (or each regional
cluster of a :class:`~geosim.kafka.cross_cluster.CrossCluster`), times a cycle rate,
times the simulated seconds it runs, times the SimPy events one cycle schedules
(counted by instrumenting ``Environment.schedule`` on the bundled scenarios):

* **send clocks** (:mod:`geosim.kafka.produce`): one per cluster, ticking every
  ``strategy.append_interval`` (``ai``) for the whole run, one timeout a tick;
* **produce requests**: each producing fleet sends one request a tick to each zone that
  leads some of its partitions, if it has a record for it: ``min(1/ai, records/s x the
  zone's share of the leaders)`` per (fleet, leader zone) while producers run
  (``simulation.duration``); a request schedules its arrival and the acknowledgement
  (2 events; 3 with shared storage, whose append waits for the storage write). The
  append wakes the long polls of the fetches of its partition directly (counted with
  the fetch loops);
* **fetch loops** (:mod:`geosim.kafka.replication`): one per (leader zone, follower
  zone) pair with replicas. While producers run a cycle is a round trip when the RTT
  is at least ``ai`` (data is always waiting: 2 events, the request's and the response's
  trips), else one per append tick (the fetch long-polls until the next append to one
  of its partitions: 3 events, adding the poll's wake-up; the pair's poll timer fires
  about once per ``replica.fetch.wait.max.ms`` and is not counted). During the drain
  nothing is appended, so each cycle waits the RTT plus ``replica.fetch.wait.max.ms``
  (4 events: the timer ends the poll);
* **replication flows** (:mod:`geosim.kafka.mirror_flow`; MirrorMaker 2, Replicator,
  Cluster Linking): one fetch loop per flow, at most one cycle per round trip to its
  farthest source leader zone or per append tick (4 events: the trips, the copies'
  produce and its append signal), and during the drain one per RTT plus
  ``fetch_max_wait`` (3 events);
* **broker heartbeats** (:mod:`geosim.kafka.controller`): each broker's every
  ``broker.heartbeat.interval.ms`` (2 events: the tick and the arrival);
* **periodic tasks**: each consumer group's commit loop every
  ``auto.commit.interval.ms`` (a timer plus one commit per member), and per cluster the
  once-a-second housekeeping and the ISR check every ``replica.lag.time.max.ms / 2``.

Faults add retries and elections, a few events each; they are not counted. The rates
are upper bounds of the cycle (a loop never cycles faster than one round trip or one
append tick), so the estimate errs high; ``tests/test_event_estimate.py`` checks it
against measured runs of every bundled scenario.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from geosim.core.estimate import EventEstimate, EventTerm, per_second

#: SimPy events of one produce request: arrival and acknowledgement.
REQUEST_EVENTS = 2
#: With shared storage the append also waits for the storage write.
STORAGE_REQUEST_EVENTS = 3
#: A fetch cycle with data waiting: the request's and the response's trips.
FETCH_EVENTS = 2
#: A fetch cycle that long-polls: the trips and the wake-up.
LONG_POLL_EVENTS = 3
#: A fetch cycle whose long poll runs out: the trips, the poll timer and the wake-up.
IDLE_POLL_EVENTS = 4
#: A replication flow's cycle while producing: trips, the copies' produce, append signal.
FLOW_EVENTS = 4
#: A flow's cycle in the drain: trips and the wait timer.
FLOW_IDLE_EVENTS = 3
#: A broker heartbeat: its tick and its arrival at the controller.
HEARTBEAT_EVENTS = 2
#: Per cluster and simulated second: housekeeping (1 s) and spare for the controller.
CLUSTER_EVENTS_PER_S = 2.0


def engine_estimate(engine: Any) -> EventEstimate:
    """The event estimate of a built Kafka engine (one cluster or several, with flows)."""
    scenario = engine.world.scenario
    sim = scenario.simulation
    produce, drain = sim.duration, sim.end - sim.duration
    clusters = list(engine.clusters.values()) if hasattr(engine, "clusters") else [engine]
    net = engine.net
    ai = clusters[0].send_tick  # at least MIN_SEND_TICK (the scenario's bound)
    terms: list[EventTerm] = []

    terms.append(EventTerm("send clocks (clusters)", len(clusters), 1 / ai, sim.end, 1,
                           "simulation.duration + drain"))

    for c in clusters:
        per_request = STORAGE_REQUEST_EVENTS if c.storage is not None else REQUEST_EVENTS
        led = Counter(c.brokers[p.leader].zone for p in c.parts if p.leader is not None)
        total = sum(led.values())  # not 0 when a zone leads (the loop below)
        requests = 0.0
        pairs = 0
        for fleet in c.producing:
            for _zone, n in led.items():
                requests += min(1 / ai, fleet.records_per_s * n / total)
                pairs += 1
        if pairs:
            terms.append(EventTerm("(producer fleet, leader zone) request streams",
                                   pairs, requests / pairs, produce, per_request))

    busy = busy_events = idle = 0.0
    loops = 0
    wait = clusters[0].config.replica_fetch_wait_max
    for c in clusters:
        for (lz, fz), pair in c.replication.pairs.items():
            if not pair.items:
                continue
            rtt = max(net.rtt_estimate(lz, fz), 1e-6)
            loops += 1
            cycles = 1 / max(rtt, ai)
            busy += cycles
            busy_events += cycles * (FETCH_EVENTS if rtt >= ai else LONG_POLL_EVENTS)
            idle += per_second(rtt + wait)
    if loops:
        terms.append(EventTerm("fetch loops (leader zone, follower zone)", loops,
                               busy / loops, produce, busy_events / busy))
        terms.append(EventTerm("idle fetch loops (long polls)", loops, idle / loops, drain,
                               IDLE_POLL_EVENTS, "simulation.drain"))

    flows = getattr(engine, "flows", [])
    if flows:
        busy = idle = 0.0
        for flow in flows:
            rtt = max(net.rtt_estimate(flow.zone, z) for z in flow.source.zones)
            busy += 1 / max(rtt, ai)
            idle += per_second(rtt + flow.cfg.fetch_max_wait)
        terms.append(EventTerm("replication flows", len(flows), busy / len(flows),
                               produce, FLOW_EVENTS))
        terms.append(EventTerm("idle replication flows", len(flows), idle / len(flows),
                               drain, FLOW_IDLE_EVENTS, "simulation.drain"))

    brokers = sum(len(c.brokers) for c in clusters)
    terms.append(EventTerm("broker heartbeats", brokers,
                           per_second(clusters[0].config.broker_heartbeat_interval), sim.end,
                           HEARTBEAT_EVENTS, "simulation.duration + drain"))
    periodic = CLUSTER_EVENTS_PER_S * len(clusters)
    periodic += sum(2 * per_second(c.config.replica_lag_time_max / 2) for c in clusters)
    periodic += sum((1 + len(g.members)) * per_second(g.settings.auto_commit_interval)
                    for g in engine.groups)
    terms.append(EventTerm("periodic tasks (housekeeping, ISR checks, commits)", 1,
                           periodic, sim.end, 1, "simulation.duration + drain"))
    return EventEstimate(tuple(terms))


__all__ = ["engine_estimate"]
