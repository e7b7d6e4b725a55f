"""geosim: discrete-event simulation of geo-replicated streaming clusters.

The public entry points are :func:`geosim.load_scenario` (describe),
:func:`geosim.run` (build and run) and :class:`geosim.Result`. They are imported
lazily so that ``import geosim.core`` stays light.
"""

from geosim.version import __version__

__all__ = ["Result", "__version__", "load_scenario", "run"]


def __getattr__(name: str):
    if name in ("Result", "run"):
        from geosim import runner
        return getattr(runner, name)
    if name == "load_scenario":
        from geosim.scenario.loader import load_scenario
        return load_scenario
    raise AttributeError(f"module 'geosim' has no attribute {name!r}")
