"""Hypothesis settings profiles for geosim property tests: ``geosim-ci`` and ``geosim-deep``.

* ``geosim-ci`` — fast and reproducible: few examples, a fixed derandomized search (the
  same examples on every machine, so a test asserting that a counterexample is found is
  not flaky), no example database. Meant for every commit.
* ``geosim-deep`` — an overnight search: many examples, random, with Hypothesis's
  example database so a failure found once is replayed first next time.

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

#: Examples per search in each profile (a claim search may override it per test).
MAX_EXAMPLES = {CI: 25, DEEP: 1000}

_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large,
            HealthCheck.filter_too_much]


def register_profiles() -> None:
    """Register the geosim profiles with Hypothesis (idempotent)."""
    settings.register_profile(
        CI, max_examples=MAX_EXAMPLES[CI], deadline=None, derandomize=True, database=None,
        suppress_health_check=_SLOW_OK, report_multiple_bugs=False, print_blob=False,
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink])
    settings.register_profile(
        DEEP, max_examples=MAX_EXAMPLES[DEEP], deadline=None,
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


def current_settings() -> settings:
    """The settings of the profile currently loaded (Hypothesis's default if none)."""
    return settings()
