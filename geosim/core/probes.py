"""Probes: observers of one run that name the interesting states it reached.

Property searches (:mod:`geosim.testing.coverage`) attach probes to each run through the
run's event recorder; strategy plug-ins ship their own probes. A probe only listens to
typed events and reads the summary, so it never changes a run.
"""

from __future__ import annotations

from typing import Any

from geosim.core.events import Recorder


class Probe:
    """Watches one run; says which interesting states it reached.

    :meth:`attach` is called with the run's recorder and its scenario
    (:class:`geosim.scenario.schema.Scenario`) before the run starts (subscribe to events
    there); :meth:`reached` after it ends, with the run's summary.
    """

    def attach(self, recorder: Recorder, scenario: Any) -> None:
        """Subscribe to the events this probe needs (default: none)."""

    def reached(self, summary: dict) -> set[str]:  # pragma: no cover - interface
        raise NotImplementedError
