"""The time-series bin width changes only what is measured in bins (docs/mutation.md,
the fourth round): the class of arithmetic on the bin width that every other test runs
with 1 s bins, where ``t / bin`` and ``t * bin`` agree.

The quickstart scenario (a 30 s region outage) is run at 1 s, 2 s and 0.5 s bins with the
same seed: every figure of the summary is the same except the rate recovery times, which
are counted in bins and agree within the coarser bin.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geosim.metrics.collector  # noqa: F401 - for benchmarks/mutate.py
import geosim.metrics.recovery  # noqa: F401 - for benchmarks/mutate.py
import geosim.metrics.timeseries  # noqa: F401 - for benchmarks/mutate.py
from geosim.runner import run
from geosim.scenario.loader import load_scenario

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "quickstart.yaml"


def _flat(node: Any, path: str = "") -> dict[str, Any]:
    if isinstance(node, dict):
        return {k: v for key, value in node.items()
                for k, v in _flat(value, f"{path}.{key}" if path else key).items()}
    if isinstance(node, list):
        return {k: v for i, value in enumerate(node)
                for k, v in _flat(value, f"{path}[{i}]").items()}
    return {path: node}


def _summary(width: float) -> dict[str, Any]:
    scenario = load_scenario(SCENARIO, [f"simulation.bin={width}s"])
    return _flat(run(scenario, 1).summary)


def test_only_the_binned_figures_move_with_the_bin_width():
    one = _summary(1.0)
    binned = [k for k in one if k.endswith(".rate_recovered")]
    assert sum(1 for k in binned if one[k]) >= 3  # the outage is seen in three
    for width in (2.0, 0.5):
        other = _summary(width)
        assert other.keys() == one.keys()
        moved = {k for k in one if other[k] != one[k]}
        assert moved <= set(binned), sorted(moved - set(binned))
        for key in binned:
            if one[key] is None:
                assert other[key] is None, (key, width)
            else:
                assert abs(other[key] - one[key]) <= max(width, 1.0), (key, width)
