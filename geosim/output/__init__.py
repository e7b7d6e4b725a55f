"""Presenting a run: the summary table, the results directory and the plots.

``format_summary`` and ``write_results`` are the command line's; the plot functions
(``timeline``, ``latency_cdf``, ``bytes_by_purpose``, ``bytes_by_pair``,
``comparison_chart``, ``latency_cdf_comparison``, ``metric_vs_factor``) are meant for
notebooks too (a strategy's own plots are in its package, e.g. ``edge_sites`` in
``geosim.strategies.edge.plots``), and ``load_run`` / ``load_sweep`` read saved results
back into pandas.
Matplotlib is imported only when a plot is asked for.
"""

from __future__ import annotations

from typing import Any

__all__ = ["bytes_by_pair", "bytes_by_purpose", "comparison_chart", "format_summary",
           "latency_cdf", "latency_cdf_comparison", "load_run", "load_sweep",
           "metric_vs_factor", "save", "summary_row", "timeline", "write_results"]

_HOMES = {"format_summary": "geosim.output.table", "write_results": "geosim.output.writer",
          "timeline": "geosim.output.plots", "latency_cdf": "geosim.output.plots",
          "bytes_by_purpose": "geosim.output.plots", "bytes_by_pair": "geosim.output.plots",
          "save": "geosim.output.plots",
          "comparison_chart": "geosim.output.compare_plots",
          "latency_cdf_comparison": "geosim.output.compare_plots",
          "metric_vs_factor": "geosim.output.sweep_plots",
          "load_run": "geosim.output.frames", "load_sweep": "geosim.output.frames",
          "summary_row": "geosim.output.frames"}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        import importlib
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'geosim.output' has no attribute {name!r}")
