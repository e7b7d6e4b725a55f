"""Presenting a run: the summary table, the results directory and the plots.

``format_summary`` and ``write_results`` are the command line's; the plot functions
(``timeline``, ``latency_cdf``, ``bytes_by_purpose``) are meant for notebooks too.
Matplotlib is imported only when a plot is asked for.
"""

from __future__ import annotations

from typing import Any

__all__ = ["bytes_by_purpose", "format_summary", "latency_cdf", "timeline", "write_results"]

_HOMES = {"format_summary": "geosim.output.table", "write_results": "geosim.output.writer",
          "timeline": "geosim.output.plots", "latency_cdf": "geosim.output.plots",
          "bytes_by_purpose": "geosim.output.plots"}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        import importlib
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'geosim.output' has no attribute {name!r}")
