"""The root seed of a run: the one given, else the scenario's ``simulation.seed``.

Every entry point applies this one rule (:func:`settle_seed`, and :func:`settle_seeds`
for a batch): an explicit seed (``--seed``, the ``seed`` argument of
:func:`geosim.runner.run`, a sweep's ``--seeds``) wins; without one, the run uses
``scenario.simulation.seed``. Loading with ``seed=``
(:func:`geosim.scenario.loader.load_scenario`) writes the seed into ``simulation.seed``
through the ``--set`` engine, so a bad one is reported like any field and the resolved
scenario records what ran.
"""

from __future__ import annotations

from collections.abc import Iterable

from geosim.scenario.schema import Scenario

__all__ = ["settle_seed", "settle_seeds"]


def settle_seed(scenario: Scenario, seed: int | None = None) -> int:
    """The root seed a run of ``scenario`` uses: ``seed`` if given, else
    ``scenario.simulation.seed``.
    """
    return scenario.simulation.seed if seed is None else seed


def settle_seeds(scenario: Scenario, seeds: Iterable[int] | None = None) -> list[int]:
    """The root seeds of a batch of runs of ``scenario`` (a sweep): ``seeds`` if given,
    else the one :func:`settle_seed` gives.
    """
    return [settle_seed(scenario)] if seeds is None else list(seeds)
