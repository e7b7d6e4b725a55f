"""Link schedules (issue 17, item 1): intermittent links, composed with faults."""

from __future__ import annotations

from pathlib import Path

import pytest

from geosim.runner import build
from geosim.scenario.errors import ScenarioError
from geosim.scenario.loader import load_scenario
from geosim.scenario.seed import settle_seed
from geosim.world.faults import FaultInjector

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "stretch-3-regions.yaml"
LINK = "topology.links=[{between: [us-west1, us-west2], schedule: %s}]"


def states(schedule: str, times: list[float], *more: str) -> list[bool]:
    """Whether us-west1-a reaches us-west2-a at each time."""
    sc = load_scenario(SCENARIO, [LINK % schedule, "faults=[]", *more])
    ctx, world, strategy = build(sc, settle_seed(sc))
    FaultInjector(world, strategy).start()
    out = []
    for t in times:
        ctx.env.run(until=t)
        out.append(world.network.reachable("us-west1-a", "us-west2-a"))
    return out


def test_periodic_windows_cut_the_link_between_them():
    # up 5 s every 20 s from 10 s: up in [10, 15), [30, 35), ...
    assert states("{every: 20s, up_for: 5s, first_up: 10s}",
                  [1, 9.9, 10.1, 14.9, 15.1, 29.9, 30.1, 36]) == \
        [False, False, True, True, False, False, True, False]


def test_explicit_windows_and_a_partition_during_one_compose():
    times = [5, 25, 45, 55, 65, 85]
    assert states("{windows: [[20s, 60s], [80s, 90s]]}", times) == \
        [False, True, True, True, False, True]
    # A partition from 40 s to 50 s inside the first window: cut during it, and the
    # window's end at 60 s does not undo the partition's hold (it ended at 50 s).
    cut = "faults=[{kind: partition, between: [us-west1, us-west2], at: 40s, duration: 10s}]"
    assert states("{windows: [[20s, 60s], [80s, 90s]]}", times, cut) == \
        [False, True, False, True, False, True]


def test_a_slow_path_outside_the_windows_degrades_instead_of_cutting():
    sc = load_scenario(SCENARIO, [
        LINK % "{every: 100s, up_for: 50s, first_up: 50s, outside: {extra_latency: 300ms}}",
        "topology.links[0].rtt={dist: constant, value: 20ms}", "faults=[]"])
    ctx, world, strategy = build(sc, settle_seed(sc))
    FaultInjector(world, strategy).start()
    ctx.env.run(until=10)
    assert world.network.delay("us-west1-a", "us-west2-a", 1, "produce") == \
        pytest.approx(0.310)
    ctx.env.run(until=60)
    assert world.network.delay("us-west1-a", "us-west2-a", 1, "produce") == \
        pytest.approx(0.010)


@pytest.mark.parametrize(("schedule", "field", "says"), [
    ("{every: 10s, up_for: 10s}", "schedule.up_for", "must be < every"),
    ("{every: 10s}", "schedule", "needs every and up_for"),
    ("{windows: [[0s, 10s]], every: 20s, up_for: 5s}", "schedule.windows",
     "either windows or every/up_for"),
    ("{windows: [[10s, 5s]]}", "schedule.windows[0]", "0 <= start < end"),
    ("{windows: [[0s, 10s], [5s, 20s]]}", "schedule.windows[1]", "after the previous"),
    ("{every: 10s, up_for: 5s, outside: {bandwidth: 0}}", "schedule.outside", ""),
])
def test_schedule_errors_are_one_line(schedule, field, says):
    with pytest.raises(ScenarioError) as err:
        load_scenario(SCENARIO, [LINK % schedule])
    text = str(err.value)
    assert f"topology.links[0].{field}" in text and says in text and "\n" not in text
