"""geosim: discrete-event simulation of geo-replicated streaming clusters.

The public entry points are :func:`geosim.load_scenario` (describe),
:func:`geosim.run` (build and run) and :class:`geosim.Result`.
"""

__version__ = "0.1.0"

from geosim.runner import Result, run  # noqa: E402
from geosim.scenario.loader import load_scenario  # noqa: E402

__all__ = ["Result", "__version__", "load_scenario", "run"]
