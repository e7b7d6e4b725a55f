"""Comparisons: one scenario under several strategies (or strategy variants).

``geosim compare FILE --strategies a,b``; from Python, :func:`resolve_variants`,
:func:`run_variants` and :func:`write_report`. See :mod:`geosim.compare.variants` for
the ``compare:`` block of a scenario file.
"""

from geosim.compare.report import (
    checks,
    comparison_table,
    report_markdown,
    run_variants,
    write_report,
)
from geosim.compare.variants import Variant, parse_names, resolve_variants

__all__ = ["Variant", "checks", "comparison_table", "parse_names", "report_markdown",
           "resolve_variants", "run_variants", "write_report"]
