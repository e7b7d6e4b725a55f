"""Searching for counterexamples to a claim, and what the search explored.

:func:`verify` asserts a claim over generated scenarios: it passes with a report of the
states the search reached, fails with a shrunk counterexample written as a scenario file,
or fails because the states the claim needs were never reached. :func:`find_counterexample`
is the converse, for claims known to be false: it returns the counterexample and fails if
the search found none. :func:`check` runs one scenario and asserts a claim on it, for use
inside a user's own ``@given`` test.

The search is Hypothesis's: generation, then shrinking of the first failure to a minimal
one, under the settings of the current profile (:mod:`geosim.testing.profiles`) unless
given. Each example is one simulation, run with the coverage probes registered for its
strategy; the states each run reaches are also reported as Hypothesis events (shown by
``pytest --hypothesis-show-statistics``).
"""

from __future__ import annotations

import ctypes
import gc
import hashlib
import itertools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from hypothesis import currently_in_test_context, event, given
from hypothesis import seed as hseed
from hypothesis import settings as hsettings
from hypothesis.strategies import SearchStrategy

from geosim.runner import Result, run
from geosim.scenario.loader import scenario_from_dict
from geosim.testing.claims import Claim, Violation, explain_run
from geosim.testing.counterexamples import (
    Counterexample,
    as_written,
    slug,
    write_counterexample,
)
from geosim.testing.coverage import Coverage, probes_for
from geosim.testing.profiles import simulation_examples


def _libc_trim() -> Callable[[], None]:
    """glibc's ``malloc_trim``, or a no-op elsewhere (see :data:`COLLECT_EVERY`)."""
    try:
        trim = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return lambda: None
    return lambda: trim(0) and None


_trim = _libc_trim()

#: Runs between full garbage collections. A search runs thousands of simulations in one
#: process; ``runner.run`` freezes the heap during a run and only lowers the collection
#: thresholds, so the previous runs' worlds (cyclic garbage) were never collected and
#: resident memory grew by ~3 MB per example (3.7 GB after 1,000). A full collection
#: every few runs, and handing the freed heap back to the system, keeps it flat at a
#: cost of a few milliseconds per example.
COLLECT_EVERY = 10
_runs = itertools.count(1)


class ClaimFailed(AssertionError):
    """A claim was violated; carries the written counterexample."""

    def __init__(self, message: str, counterexample: Counterexample | None = None):
        super().__init__(message)
        self.counterexample = counterexample


class CoverageNotReached(AssertionError):
    """A claim held, but the search never reached the states that make that meaningful."""


class NoCounterexample(AssertionError):
    """A search for a counterexample to a claim believed false found none."""


class _Violated(Exception):
    """Raised inside the Hypothesis test so that Hypothesis shrinks the example."""


@dataclass
class Outcome:
    """One simulated example: its result, the states it reached, the claim's verdict."""

    result: Result
    states: set[str]
    violation: Violation | None

    @property
    def summary(self) -> dict:
        return self.result.summary


def run_example(data: dict, claim: Claim | None = None) -> Outcome:
    """Build scenario ``data``, run it with its strategy's coverage probes, check ``claim``."""
    scenario = scenario_from_dict(data, source=f"<generated {data.get('name', '')}>")
    probes = probes_for(scenario.strategy.name)

    def attach(recorder) -> None:
        for probe in probes:
            probe.attach(recorder, scenario)

    result = run(scenario, subscribe=attach)
    if next(_runs) % COLLECT_EVERY == 0:
        gc.collect()
        _trim()
    states: set[str] = set()
    for probe in probes:
        states |= probe.reached(result.summary)
    violation = claim.check(result.summary) if claim is not None else None
    return Outcome(result, states, violation)


@dataclass
class SearchReport:
    """What a search ran, reached and found."""

    claim: Claim
    coverage: Coverage
    seconds: float
    counterexample: Counterexample | None = None
    required: tuple[str, ...] = field(default=())

    @property
    def examples(self) -> int:
        return self.coverage.examples

    @property
    def examples_per_minute(self) -> float:
        return 60 * self.examples / self.seconds if self.seconds > 0 else float("inf")

    @property
    def missing(self) -> list[str]:
        """Required states no example reached."""
        return self.coverage.missing(self.required)

    def __str__(self) -> str:
        if self.counterexample:
            verdict = "violated"
        elif self.missing:
            verdict = f"held, but never reached: {', '.join(self.missing)}"
        elif self.required:
            verdict = f"held, with {', '.join(self.required)} reached"
        else:
            verdict = "held (no states were required: see what the search reached)"
        lines = [f"claim {self.claim.name} ({self.claim.text}): {verdict}; "
                 f"{self.examples} examples in {self.seconds:.1f} s "
                 f"({self.examples_per_minute:.0f}/min)", self.coverage.report()]
        if self.counterexample:
            lines.append(str(self.counterexample))
        return "\n".join(lines)


def search(claim: Claim, scenarios: SearchStrategy[dict], *,
           settings: hsettings | None = None, max_examples: int | None = None,
           reach: Iterable[str] = (), directory: str | None = None,
           quiet: bool = False, seed: int | None = None) -> SearchReport:
    """Search ``scenarios`` for a run violating ``claim``; never raises on a violation.

    On a violation Hypothesis shrinks it; the minimal failing scenario is written by
    :func:`~geosim.testing.counterexamples.write_counterexample` (to ``directory``) and
    its path printed unless ``quiet``. ``settings`` default to the current profile's;
    the number of examples is ``max_examples``, else the profile's
    :func:`~geosim.testing.profiles.simulation_examples`. ``reach`` adds required coverage
    states to the claim's own. ``seed`` fixes Hypothesis's random search (for a
    profile that is not derandomized).
    """
    active = settings if settings is not None else hsettings()
    active = hsettings(active, max_examples=max_examples if max_examples is not None
                       else simulation_examples())
    coverage = Coverage()
    name = f"cx-{slug(claim.name)}"
    found: dict = {}
    started = time.perf_counter()

    @hsettings(active)
    @given(data=scenarios)
    def body(data: dict) -> None:
        data = {**data, "name": name}
        outcome = run_example(data, claim)
        if "first" not in found:
            coverage.add(outcome.states)
        for state in sorted(outcome.states):
            event(state)
        if outcome.violation is not None:
            if "first" not in found:
                found["first"] = (coverage.examples, time.perf_counter() - started)
            # Hypothesis runs the shrunk example last: the last violation is the minimal.
            found["last"] = (data, outcome)
            raise _Violated(str(outcome.violation))

    # Each claim gets its own key in Hypothesis's example database (the inner
    # function's source is the same for every claim).
    if seed is not None:
        body = hseed(seed)(body)
    body._hypothesis_internal_database_key = hashlib.sha256(  # type: ignore[attr-defined]
        f"geosim.testing.search:{claim.name}:{claim.text}".encode()).digest()
    counterexample = None
    try:
        body()
    except _Violated:
        data, outcome = found["last"]
        explanation = explain_run(outcome.summary)
        path = write_counterexample(data, claim, outcome.violation, explanation, directory)
        examples, seconds_to_find = found["first"]
        counterexample = Counterexample(
            path=path, seed=data["simulation"]["seed"], violation=outcome.violation,
            explanation=explanation, data=as_written(data, claim), examples_to_find=examples,
            seconds_to_find=seconds_to_find, seconds_total=time.perf_counter() - started)
        if not quiet:
            print(f"geosim: counterexample to {claim.name} written to {path}")
    required = tuple(dict.fromkeys((*claim.states, *reach)))
    return SearchReport(claim, coverage, time.perf_counter() - started, counterexample,
                        required)


def verify(claim: Claim, scenarios: SearchStrategy[dict], *, reach: Iterable[str] = (),
           **options) -> SearchReport:
    """Assert ``claim`` over ``scenarios``; return the search report when it holds.

    Raises :class:`ClaimFailed` with the run's account and the counterexample file when
    a run violates it, and :class:`CoverageNotReached` when it held but some required
    state (the claim's ``states`` and ``reach``) was never reached. A pass must say
    what was explored: with neither ``reach`` nor states of the claim's own it raises
    :class:`ValueError` before running anything. Prints the coverage report of a
    pass. ``options`` are those of :func:`search`.
    """
    reach = tuple(reach)
    if not (claim.states or reach):
        raise ValueError(
            f"verify({claim.name}): no states to reach: pass reach=[...] (coverage states "
            f"of geosim.testing.coverage) or give the claim its own states "
            f"(claim.needing(...)), so that a pass says what the search explored")
    report = search(claim, scenarios, reach=reach, **options)
    if report.counterexample is not None:
        raise ClaimFailed(str(report), report.counterexample)
    if report.missing:
        raise CoverageNotReached(
            f"claim {claim.name} held in {report.examples} examples, but the search never "
            f"reached {', '.join(report.missing)}: widen the generators or search longer "
            f"(GEOSIM_PROFILE=geosim-deep).\n{report.coverage.report()}")
    if not options.get("quiet"):
        print(report)
    return report


def find_counterexample(claim: Claim, scenarios: SearchStrategy[dict],
                        **options) -> Counterexample:
    """Search for a counterexample to a claim believed false; return it.

    Raises :class:`NoCounterexample`, with what the search reached, if none was found.
    ``options`` are those of :func:`search`.
    """
    report = search(claim, scenarios, **options)
    if report.counterexample is None:
        raise NoCounterexample(f"no counterexample to {claim.name} ({claim.text}) in "
                               f"{report.examples} examples\n{report.coverage.report()}")
    return report.counterexample


def check(claim: Claim, data: dict, *, coverage: Coverage | None = None,
          directory: str | None = None) -> Outcome:
    """Run scenario ``data`` and assert ``claim`` on it, inside a user's ``@given`` test.

    On a violation the scenario is written as a counterexample (named after the claim,
    so under Hypothesis the file left is the shrunk example, run last) and
    :class:`ClaimFailed` is raised. ``coverage``, if given, accumulates the states.
    """
    data = {**data, "name": f"cx-{slug(claim.name)}"}
    outcome = run_example(data, claim)
    if coverage is not None:
        coverage.add(outcome.states)
    if currently_in_test_context():
        for state in sorted(outcome.states):
            event(state)
    if outcome.violation is not None:
        explanation = explain_run(outcome.summary)
        path = write_counterexample(data, claim, outcome.violation, explanation, directory,
                                    filename=f"{slug(claim.name)}.yaml")
        raise ClaimFailed(f"{outcome.violation}\n{explanation}\ncounterexample: {path}\n"
                          f"replay: geosim run {path}")
    return outcome
