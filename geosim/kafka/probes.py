"""Coverage probes of Kafka-family runs (for :mod:`geosim.testing`): the cluster's own
states, and the cross-cluster model's failovers and flows."""

from __future__ import annotations

from geosim.core.events import BrokerFenced, PartitionChanged, Recorder, RowsTruncated
from geosim.core.probes import Probe


class KafkaProbe(Probe):
    """ISR shrinks, offline partitions, fencing, unclean elections, truncation of
    acknowledged rows, lost page caches and observer promotions (stretch, observers),
    from ``PartitionChanged``/``BrokerFenced``/``RowsTruncated`` events and the
    summary's ``partitions`` and ``counters``."""

    COUNTERS = {"isr_shrinks": "isr-shrank", "brokers_fenced": "broker-fenced",
                "unclean_elections": "unclean-election",
                "unflushed_suffixes_lost": "unflushed-suffix-lost",
                "observer_promotions": "observer-promotion"}

    def attach(self, recorder: Recorder, scenario: object) -> None:
        self.states: set[str] = set()
        recorder.subscribe(PartitionChanged, self._changed)
        recorder.subscribe(BrokerFenced, self._fenced)
        recorder.subscribe(RowsTruncated, self._truncated)

    def _changed(self, event: PartitionChanged) -> None:
        if event.reason == "isr shrink" and event.isr_size == 1:
            self.states.add("isr-shrank-to-one")
        if event.under_min_isr:
            self.states.add("under-min-isr")
        if event.leader_region is None:
            self.states.add("partition-offline")

    def _fenced(self, event: BrokerFenced) -> None:
        if event.fenced:
            self.states.add("broker-fenced")

    def _truncated(self, event: RowsTruncated) -> None:
        if any(row.acked_at >= 0 for row in event.rows):
            self.states.add("acked-rows-truncated")

    def reached(self, summary: dict) -> set[str]:
        states = set(self.states)
        counters = summary.get("counters") or {}
        for counter, state in self.COUNTERS.items():
            if counters.get(counter):
                states.add(state)
        if (summary.get("partitions") or {}).get("offline_windows"):
            states.add("partition-offline")
        return states


class CrossClusterProbe(Probe):
    """Failovers, translation, unreplicated data, divergence and task restarts."""

    def reached(self, summary: dict) -> set[str]:
        mirror = summary.get("mirror") or {}
        states = set()
        for f in mirror.get("failovers") or []:
            states.add("failover")
            if f["translated"]:
                states.add("failover-translated")
            if f["reset"]:
                states.add("failover-reset")
            if f["unreplicated_records"]:
                states.add("failover-unreplicated")
        if any(b["diverged_records"] for b in mirror.get("failbacks") or []):
            states.add("failback-diverged")
        if (summary.get("counters") or {}).get("mirror_task_restarts"):
            states.add("mirror-task-restart")
        return states
