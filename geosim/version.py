"""The version of geosim, recorded in every summary and sweep table.

A module of its own so that the runner and the metrics can read it without importing
the ``geosim`` package's lazy entry points (which import the runner).
"""

__version__ = "0.1.0"
