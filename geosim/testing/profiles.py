"""Hypothesis settings profiles for geosim property tests: ``geosim-ci`` and ``geosim-deep``.

* ``geosim-ci`` — fast and reproducible: 25 simulated examples per search, a fixed
  derandomized search (the same examples on every machine, so a test asserting that a
  counterexample is found is not flaky), no example database. Meant for every commit.
* ``geosim-deep`` — an overnight search: 1000 simulated examples per search, random,
  with Hypothesis's example database so a failure found once is replayed first next time.

A simulated example costs a run (tens to hundreds of milliseconds), so searches over
scenarios take their example count from :func:`simulation_examples`, not from
``max_examples``, which the profiles leave at Hypothesis's usual 100 (ci) and 1000
(deep) for the suite's ordinary property tests. A user's own ``@given`` test over
simulations takes the same count with the :func:`simulation_settings` decorator.

Select one with the environment variable ``GEOSIM_PROFILE`` (read by
:func:`load_profile`) or with pytest's ``--hypothesis-profile geosim-deep``, which wins.
Simulations are slow next to ordinary Hypothesis tests, so both profiles turn off the
per-example deadline and the too-slow health check.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

CI = "geosim-ci"
DEEP = "geosim-deep"
DEFAULT = CI
ENV_VAR = "GEOSIM_PROFILE"

#: Simulated examples per search in each profile (a search may override it).
SIMULATION_EXAMPLES = {CI: 25, DEEP: 1000}

_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large,
            HealthCheck.filter_too_much]


def register_profiles() -> None:
    """Register the geosim profiles with Hypothesis (idempotent).

    Both derive from Hypothesis's own ``default`` profile, never from whichever profile is
    current: ``settings()`` inherits the current profile, so registering ``geosim-deep``
    after ``geosim-ci`` was loaded would otherwise inherit its derandomized search and
    its missing example database.
    """
    base = settings.get_profile("default")
    settings.register_profile(
        CI, parent=base, max_examples=100, deadline=None, derandomize=True, database=None,
        suppress_health_check=_SLOW_OK, report_multiple_bugs=False, print_blob=False,
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink])
    settings.register_profile(
        DEEP, parent=base, max_examples=1000, deadline=None,
        suppress_health_check=_SLOW_OK, report_multiple_bugs=False, print_blob=True)


def load_profile(name: str | None = None) -> str:
    """Register the profiles and make one current: ``name``, else ``$GEOSIM_PROFILE``,
    else ``geosim-ci``. Returns the name loaded.

    Call it from a ``conftest.py``; pytest's ``--hypothesis-profile`` option, applied
    after conftest files are imported, still takes precedence.
    """
    register_profiles()
    chosen = name or os.environ.get(ENV_VAR) or DEFAULT
    settings.load_profile(chosen)
    return chosen


def simulation_examples() -> int:
    """Simulated examples per search under the current profile (ci: 25, deep: 1000;
    another profile: its ``max_examples``)."""
    name = settings.get_current_profile_name()
    return SIMULATION_EXAMPLES.get(name, settings().max_examples)


def simulation_settings(**overrides) -> settings:
    """Settings for a ``@given`` test whose examples are simulations: the current
    profile with :func:`simulation_examples` examples (and any ``overrides``)."""
    return settings(max_examples=simulation_examples(), **overrides)
