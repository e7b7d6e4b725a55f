"""Stateful testing: a Hypothesis state machine driving one live simulation.

Where a generated fault timeline fixes every fault before the run starts, the state
machine decides as it goes: rules let producers run for a while, fail a region, heal it,
destroy one, cut a link between two regions and heal it; after every step the
invariants below are checked on the events so far. Hypothesis shrinks a failing rule
sequence as it shrinks any example.

Invariants after every step (folded incrementally from the run's typed events):

* every acknowledged row was committed (it has an offset, and its object's offsets were
  committed before the acknowledgement);
* no offset of a partition is acknowledged for two different rows (no duplicate writes);
* no consumer group skips: per group and partition, each delivery starts at or before
  the end of what the group had already been delivered.

At teardown every open fault is healed, the run is drained, and the rule sequence is
turned into the equivalent scenario — the same faults as a timeline — which is run by
:func:`geosim.runner.run` and checked against the machine's final claim (by default no
acknowledged loss and no skips); a violation is written as a counterexample file that
``geosim run`` replays, like the other searches'.

Failing over is a rule only for strategies that need it (MirrorMaker 2, Cluster
Linking): the machine calls the strategy's ``fail_over(region)`` method if it has one.
Diskless needs none (any client can write any topic from any region).

Usage, in a test module::

    from geosim.testing.stateful import region_machine

    TestQuickstart = region_machine(quickstart_dict).TestCase
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar

from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)
from pydantic import TypeAdapter

from geosim.core.events import Delivered, ObjectCommitted, ProduceAcked, Recorder
from geosim.runner import build
from geosim.scenario.loader import scenario_from_dict
from geosim.scenario.schema import FaultSpec
from geosim.scenario.seed import settle_seed
from geosim.testing.claims import Claim, explain_run, no_acked_loss, no_skips
from geosim.testing.counterexamples import write_counterexample
from geosim.testing.generators import seconds, seeds
from geosim.testing.profiles import simulation_examples
from geosim.testing.search import ClaimFailed, run_example
from geosim.world.faults import FaultInjector

_FAULT = TypeAdapter(FaultSpec)


class Invariants:
    """Invariants folded from a run's events; ``violations`` lists what broke, when."""

    def __init__(self, recorder: Recorder):
        self.violations: list[str] = []
        self._committed: set[int] = set()
        self._acked_at: dict[tuple[int, int], tuple[int, int]] = {}
        self._delivered_end: dict[tuple[int, int], int] = {}
        recorder.subscribe(ObjectCommitted, self._commit)
        recorder.subscribe(ProduceAcked, self._ack)
        recorder.subscribe(Delivered, self._deliver)

    def _commit(self, event: ObjectCommitted) -> None:
        self._committed.add(event.object_id)

    def _ack(self, event: ProduceAcked) -> None:
        for row in event.rows:
            if row.offset < 0:
                self.violations.append(f"t={event.t:g}: fleet {row.fleet} got an ack for a "
                                       f"row of partition {row.partition} with no offset")
                continue
            if row.object_id >= 0 and row.object_id not in self._committed:
                self.violations.append(f"t={event.t:g}: ack of object {row.object_id} "
                                       f"before its offsets were committed")
            key, identity = (row.partition, row.offset), (row.fleet, row.seq)
            first = self._acked_at.setdefault(key, identity)
            if first != identity:
                self.violations.append(f"t={event.t:g}: partition {row.partition} offset "
                                       f"{row.offset} acknowledged for two rows "
                                       f"{first} and {identity}")

    def _deliver(self, event: Delivered) -> None:
        for row in event.rows:
            key = (event.group, row.partition)
            end = self._delivered_end.get(key)
            if end is not None and row.offset > end:
                self.violations.append(f"t={event.t:g}: group {event.group} skipped "
                                       f"partition {row.partition} offsets {end}.."
                                       f"{row.offset - 1}")
            self._delivered_end[key] = max(end or 0, row.offset + row.records)


class LiveRun:
    """One simulation advanced step by step, with faults applied between steps."""

    def __init__(self, data: dict):
        scenario = scenario_from_dict({**data, "faults": []})
        self.scenario = scenario
        self.ctx, self.world, self.strategy = build(scenario, settle_seed(scenario))
        self.invariants = Invariants(self.ctx.recorder)
        self.injector = FaultInjector(self.world, self.strategy)
        self.strategy.start()
        self.injector.start()
        self.production_end = scenario.simulation.duration
        self.end = scenario.simulation.end

    @property
    def now(self) -> float:
        return self.ctx.env.now

    def advance(self, until: float) -> None:
        self.ctx.env.run(until=min(until, self.end))

    def apply(self, index: int, fault: dict, active: bool) -> None:
        spec = _FAULT.validate_python({**fault, "at": 0, **(
            {} if fault["kind"] == "region-destruction" else {"duration": 1})})
        self.injector.apply_now(index, spec, active)


def region_machine(base: dict, *, destruction: bool = False, links: bool = True,
                   claim: Claim | None = None, step_seconds: tuple[int, int] = (1, 15),
                   directory: str | None = None) -> type[RuleBasedStateMachine]:
    """A state machine class over scenario ``base`` (a scenario dict; its faults are
    ignored). ``destruction`` allows one region destruction; ``links`` allows cutting
    links; ``claim`` is checked at teardown on the equivalent scenario (default: no
    acknowledged loss and no skips). Use its ``TestCase`` attribute as a test class.
    """
    regions = list(base["topology"]["regions"])
    pairs = [(a, b) for i, a in enumerate(regions) for b in regions[i + 1:]]
    final = claim if claim is not None else no_acked_loss() & no_skips()

    class RegionMachine(RuleBasedStateMachine):
        """Produce, fail, heal and destroy regions, cut links; invariants every step."""

        claim: ClassVar[Claim] = final

        def __init__(self) -> None:
            super().__init__()
            self.live: LiveRun | None = None
            self.data: dict[str, Any] = {}
            self.timeline: list[dict] = []
            self.open: dict[str, tuple[int, float]] = {}  # key -> (timeline index, start)
            self.destroyed: set[str] = set()

        # --- helpers ---
        def _start(self, key: str, fault: dict) -> None:
            live = self.live
            index = len(self.timeline)
            self.timeline.append({**fault, "at": f"{live.now:g}s"})
            live.apply(index, fault, True)
            if fault["kind"] != "region-destruction":
                self.open[key] = (index, live.now)

        def _end(self, key: str) -> None:
            index, start = self.open.pop(key)
            fault = self.timeline[index]
            self.timeline[index] = {**fault, "duration": f"{self.live.now - start:g}s"}
            self.live.apply(index, fault, False)

        def _producing(self) -> bool:
            return self.live is not None and self.live.now < self.live.production_end - 1

        def _healable(self, prefix: str) -> list[str]:
            return sorted(k for k, (_, start) in self.open.items()
                          if k.startswith(prefix) and start < self.live.now)

        # --- rules ---
        @initialize(seed=seeds())
        def start(self, seed: int) -> None:
            self.data = copy.deepcopy(base)
            self.data["simulation"] = {**self.data.get("simulation", {}), "seed": seed}
            self.live = LiveRun(self.data)
            warmup = seconds(self.data["simulation"].get("warmup", 30))
            self.live.advance(warmup)

        @rule(step=st.integers(*step_seconds))
        def produce(self, step: int) -> None:
            """Let time pass (into the drain, once production is over)."""
            if self.live is not None:
                self.live.advance(self.live.now + step)

        @precondition(lambda self: self._producing())
        @rule(region=st.sampled_from(regions))
        def fail_region(self, region: str) -> None:
            if f"region:{region}" in self.open or region in self.destroyed:
                return
            self._start(f"region:{region}", {"kind": "region-outage", "region": region})

        @precondition(lambda self: self._producing() and self._healable("region:"))
        @rule(data=st.data())
        def heal_region(self, data: st.DataObject) -> None:
            self._end(data.draw(st.sampled_from(self._healable("region:"))))

        @precondition(lambda self: destruction and self._producing() and not self.destroyed)
        @rule(region=st.sampled_from(regions))
        def destroy_region(self, region: str) -> None:
            self.destroyed.add(region)  # an outage of it may still be open: it stacks
            self._start(f"destroy:{region}", {"kind": "region-destruction", "region": region})

        @precondition(lambda self: links and bool(pairs) and self._producing())
        @rule(pair=st.sampled_from(pairs) if pairs else st.nothing())
        def cut_link(self, pair: tuple[str, str]) -> None:
            key = f"link:{pair[0]}<->{pair[1]}"
            if key not in self.open:
                self._start(key, {"kind": "partition", "between": list(pair)})

        @precondition(lambda self: self._producing() and self._healable("link:"))
        @rule(data=st.data())
        def heal_link(self, data: st.DataObject) -> None:
            self._end(data.draw(st.sampled_from(self._healable("link:"))))

        @precondition(lambda self: self._producing()
                      and hasattr(self.live.strategy, "fail_over"))
        @rule(region=st.sampled_from(regions))
        def fail_over(self, region: str) -> None:
            self.live.strategy.fail_over(region)

        # --- checks ---
        @invariant()
        def events_are_consistent(self) -> None:
            if self.live is not None:
                assert not self.live.invariants.violations, \
                    "; ".join(self.live.invariants.violations[:5])

        def teardown(self) -> None:
            live = self.live
            if live is None:
                return
            if any(start >= live.now for _, start in self.open.values()):
                live.advance(live.now + 1)  # a fault lasts at least until the next second
            for key in sorted(self.open):
                self._end(key)
            live.advance(live.end)
            assert not live.invariants.violations, "; ".join(live.invariants.violations[:5])
            # The same faults as a timeline, run as a scenario file would be.
            data = {**self.data, "name": "cx-stateful", "faults": self.timeline}
            outcome = run_example(data, self.claim)
            if outcome.violation is not None:
                explanation = explain_run(outcome.summary)
                path = write_counterexample(data, self.claim, outcome.violation,
                                            explanation, directory,
                                            filename="stateful-counterexample.yaml")
                raise ClaimFailed(f"{outcome.violation}\n{explanation}\ncounterexample: "
                                  f"{path}\nreplay: geosim run {path}")

    RegionMachine.TestCase.settings = hsettings(
        max_examples=simulation_examples(), stateful_step_count=12)
    return RegionMachine
