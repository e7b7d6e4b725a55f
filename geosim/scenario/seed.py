"""The root seed of a run: the one given, else the scenario's ``simulation.seed``.

Every entry point applies this one rule (:func:`settle_seed`): an explicit seed
(``--seed``, the ``seed`` argument of :func:`geosim.runner.run`, a sweep's ``--seeds``)
wins; without one, the run uses ``scenario.simulation.seed``. Loading with ``seed=``
(:func:`geosim.scenario.loader.load_scenario`) writes the seed into ``simulation.seed``
through the ``--set`` engine, so a bad one is reported like any field and the resolved
scenario records what ran.
"""

from __future__ import annotations

from geosim.scenario.schema import Scenario

__all__ = ["settle_seed"]


def settle_seed(scenario: Scenario, seed: int | None = None) -> int:
    """The root seed a run of ``scenario`` uses: ``seed`` if given, else
    ``scenario.simulation.seed``.
    """
    return scenario.simulation.seed if seed is None else seed
