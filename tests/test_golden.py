"""Golden summaries: every committed scenario, on a short timeline at a fixed seed, gives
the ``summary.json`` recorded in ``tests/golden/`` byte for byte.

Refactors must keep these identical. A change of results that is intended (a fix) is
recorded with ``python tests/golden_cases.py [CASE ...]`` and named in its commit.
"""

from __future__ import annotations

import json

import pytest
from golden_cases import CASES, GOLDEN, summary_text


def _first_difference(expected: object, actual: object, path: str = "") -> str:
    """The first JSON path at which two summaries differ, for the failure message."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in sorted(set(expected) | set(actual)):
            if key not in expected or key not in actual:
                return f"{path}.{key}: only in {'actual' if key in actual else 'golden'}"
            found = _first_difference(expected[key], actual[key], f"{path}.{key}")
            if found:
                return found
        return ""
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return f"{path}: {len(expected)} items in golden, {len(actual)} now"
        for i, (a, b) in enumerate(zip(expected, actual, strict=True)):
            found = _first_difference(a, b, f"{path}[{i}]")
            if found:
                return found
        return ""
    return "" if expected == actual else f"{path}: golden {expected!r}, now {actual!r}"


@pytest.mark.parametrize("case", list(CASES))
def test_summary_is_unchanged(case):
    expected = (GOLDEN / f"{case}.json").read_text()
    actual = summary_text(case)
    if actual != expected:
        where = _first_difference(json.loads(expected), json.loads(actual))
        pytest.fail(f"{case}: summary differs from tests/golden/{case}.json at {where or '?'}")


def test_every_scenario_file_has_a_case():
    from golden_cases import SCENARIOS
    covered = {file for file, _, _ in CASES.values()}
    assert covered == {p.name for p in SCENARIOS.glob("*.yaml")}
