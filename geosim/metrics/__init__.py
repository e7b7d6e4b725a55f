"""Metrics: pure folds over the event stream (architecture.md).

Subscribe a :class:`MetricsCollector` to a run's :class:`~geosim.core.events.Recorder`,
call :meth:`MetricsCollector.finalize` at the end to get a :class:`MetricsReport`,
and turn it into the ``summary.json`` contract with :func:`build_summary`
(documented in ``docs/summary.md``).
"""

from geosim.metrics.collector import MetricsCollector
from geosim.metrics.histogram import LatencyHistogram
from geosim.metrics.phases import PHASES, PhaseClock
from geosim.metrics.report import MetricsReport
from geosim.metrics.summary import SCHEMA_VERSION, build_summary

__all__ = [
    "PHASES",
    "SCHEMA_VERSION",
    "LatencyHistogram",
    "MetricsCollector",
    "MetricsReport",
    "PhaseClock",
    "build_summary",
]
