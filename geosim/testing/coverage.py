"""Coverage: which interesting states a search reached.

A passing claim means little if the search never put the system in the states where the
claim could fail. Probes watch a run — subscribed to its typed events through
``run(..., subscribe=...)``, and reading its summary — and name the interesting states it
reached: an outage that began while objects were still pending replication, a region's
producers cut off, a consumer group rebalance, a metadata election. A search counts, over
its examples, how often each state was reached (:class:`Coverage`), reports it when the
claim passes, and fails a claim whose required states were never reached.

Probes for every strategy are registered here; a strategy plug-in ships its own (for
Kafka: the ISR shrank to one replica, an unclean election, an observer promotion) as
:attr:`geosim.scenario.plugins.StrategyPlugin.probes`, and :func:`register_probe` adds
more at run time.

State names are short kebab-case strings; those of the built-in probes:

=================================  ============================================================
``fault:<kind>``                   a fault of that kind started (``fault:region-outage``, ...)
``degraded-before-region-fault``   a brownout, partition, replication pause or slowdown was
                                   active when a region fault started
``outage-in-replication-window``   a region went down (not destroyed) while objects written
                                   there had no copy in any other region yet
``destruction-in-replication-      a region was destroyed while objects written there had
window``                           no copy elsewhere yet
``writer-region-destroyed``        a destroyed region had written acknowledged objects
``producers-cut-off``              a region hosting producers went down
``consumers-cut-off``              a region hosting consumers went down
``read-blocked``                   a read found no reachable copy of an object
``rebalance``                      a consumer group rebalanced after its initial assignment
``metadata-election``              the metadata store lost or changed its leader
``acked-unavailable``              acknowledged data was unreadable for a while
``acked-loss``                     acknowledged data was lost
``produce-failed``                 some sends failed or ended with an unknown outcome
=================================  ============================================================

Kafka-broker strategies (``stretch``, ``observers``; :class:`KafkaProbe`):

=================================  ============================================================
``isr-shrank``                     a partition's ISR shrank (summary counter ``isr_shrinks``)
``isr-shrank-to-one``              an ISR shrank to the leader alone
``under-min-isr``                  an ISR fell below ``min.insync.replicas``
``partition-offline``              a partition had no leader for a while (``offline_windows``)
``broker-fenced``                  the controller fenced a broker (``brokers_fenced``)
``unclean-election``               an out-of-sync replica was elected (``unclean_elections``)
``acked-rows-truncated``           acknowledged rows were removed from a partition's log
``unflushed-suffix-lost``          a crashed broker lost its unflushed suffix
``observer-promotion``             an observer joined the ISR (``observer_promotions``)
=================================  ============================================================

Cross-cluster strategies (``mirrormaker2``, ``cluster-linking``; :class:`CrossClusterProbe`,
from the summary's ``mirror`` section and counters):

=================================  ============================================================
``failover``                       clients moved to another cluster
``failover-translated``            a group started there from translated (or synced) offsets
``failover-reset``                 a group started from ``auto.offset.reset`` somewhere
``failover-unreplicated``          acknowledged data had not reached the target when the
                                   source was lost
``failback-diverged``              the returning cluster held data the new one never got
``mirror-task-restart``            a flow's task restarted (its worker's zone came back)
=================================  ============================================================

Replicator (:class:`~geosim.strategies.replicator.probes.ReplicatorProbe`, from counters):

=================================  ============================================================
``provenance-skip``                a flow left a copy whose origin is its destination
``connect-rebalance``              the Connect group rebalanced (a worker left or returned)
``connect-task-moved``             a task moved to another worker
``timestamp-translation``          a consumer offset was translated by timestamp
=================================  ============================================================
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from geosim.core.events import (
    FaultEnded,
    FaultStarted,
    MetadataLeaderChanged,
    ReadBlocked,
    Rebalanced,
    Recorder,
    RegionState,
)
from geosim.core.probes import Probe
from geosim.scenario import plugins
from geosim.scenario.schema import Scenario

DEGRADING = ("brownout", "partition", "replication-pause", "object-store-slowdown")


ProbeFactory = Callable[[], Probe]
_PROBES: list[tuple[str | None, ProbeFactory]] = []


def register_probe(factory: ProbeFactory, strategy: str | None = None) -> None:
    """Register a probe factory for runs of ``strategy`` (``None``: every strategy)."""
    _PROBES.append((strategy, factory))


def probes_for(strategy: str) -> list[Probe]:
    """Fresh probes for one run of ``strategy``: those for every strategy, the
    strategy plug-in's own (:attr:`StrategyPlugin.probes`), then those registered for
    it with :func:`register_probe`."""
    found = plugins.plugins().get(strategy)
    own = found.load_probes() if found is not None else []
    return ([factory() for name, factory in _PROBES if name is None]
            + [factory() for factory in own]
            + [factory() for name, factory in _PROBES if name == strategy])


# --- built-in probes ----------------------------------------------------------------------

def _client_regions(placement: dict[str, float], regions: Iterable[str]) -> set[str]:
    found = set()
    for key, weight in placement.items():
        if weight <= 0:
            continue
        found.add(key if key in regions else key.rsplit("-", 1)[0])
    return found


class FaultProbe(Probe):
    """Faults that started; degradations active when a region fault began; clients cut off."""

    def attach(self, recorder: Recorder, scenario: Scenario) -> None:
        self.states: set[str] = set()
        self._active: Counter[str] = Counter()
        regions = list(scenario.topology.regions)
        workload = scenario.workload
        brokers = set(scenario.strategy.brokers) if getattr(
            scenario.strategy, "brokers", None) else set(regions)
        self._producers = _client_regions(workload.producers, regions) or \
            _client_regions(dict.fromkeys(brokers, 1.0), regions)
        self._consumers = _client_regions(workload.consumers, regions) or self._producers
        recorder.subscribe(FaultStarted, self._started)
        recorder.subscribe(FaultEnded, self._ended)
        recorder.subscribe(RegionState, self._region)

    def _started(self, event: FaultStarted) -> None:
        self.states.add(f"fault:{event.kind}")
        if event.kind in ("region-outage", "region-destruction") and any(
                self._active[k] for k in DEGRADING):
            self.states.add("degraded-before-region-fault")
        self._active[event.kind] += 1

    def _ended(self, event: FaultEnded) -> None:
        self._active[event.kind] -= 1

    def _region(self, event: RegionState) -> None:
        if event.up:
            return
        if event.region in self._producers:
            self.states.add("producers-cut-off")
        if event.region in self._consumers:
            self.states.add("consumers-cut-off")

    def reached(self, summary: dict) -> set[str]:
        return set(self.states)


class ClientAndStoreProbe(Probe):
    """Blocked reads, rebalances and metadata elections, from events."""

    def attach(self, recorder: Recorder, scenario: Scenario) -> None:
        self.states: set[str] = set()
        recorder.subscribe(ReadBlocked, lambda e: self.states.add("read-blocked"))
        recorder.subscribe(Rebalanced, self._rebalanced)
        recorder.subscribe(MetadataLeaderChanged,
                           lambda e: self.states.add("metadata-election"))

    def _rebalanced(self, event: Rebalanced) -> None:
        if event.reason != "initial":
            self.states.add("rebalance")

    def reached(self, summary: dict) -> set[str]:
        return set(self.states)


class OutcomeProbe(Probe):
    """States read off the summary: loss, unavailability, failed sends."""

    def reached(self, summary: dict) -> set[str]:
        states = set()
        if summary["loss"]["lost_records"]:
            states.add("acked-loss")
        if summary["unavailable"]["records"]:
            states.add("acked-unavailable")
        if summary["records"]["failed"] or summary["records"]["info"]:
            states.add("produce-failed")
        return states


register_probe(FaultProbe)
register_probe(ClientAndStoreProbe)
register_probe(OutcomeProbe)


# --- aggregation ---------------------------------------------------------------------------

@dataclass
class Coverage:
    """How many examples of a search reached each interesting state."""

    examples: int = 0
    counts: Counter = field(default_factory=Counter)

    def add(self, states: Iterable[str]) -> None:
        self.examples += 1
        self.counts.update(set(states))

    def reached(self, state: str) -> bool:
        return self.counts[state] > 0

    def missing(self, states: Iterable[str]) -> list[str]:
        """Of ``states``, those no example reached."""
        return [s for s in states if not self.reached(s)]

    def report(self) -> str:
        """One line per state reached, most frequent first."""
        if not self.examples:
            return "no examples run"
        lines = [f"{self.examples} examples; states reached:"]
        for state, count in sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"  {state:<36} {count:>5} ({100 * count / self.examples:.0f} %)")
        if not self.counts:
            lines.append("  (none)")
        return "\n".join(lines)
