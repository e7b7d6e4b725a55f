"""The steady states the window engine's kernels are held to the event engine on: a
scenario started and run to ``T0`` without faults, both engines then going on from
the same running cluster (tests/test_window_kernel.py, tests/test_window_mirror.py)."""

from __future__ import annotations

from geosim.runner import build
from geosim.scenario.loader import load_scenario

#: The kernels start at T0, compare the records sent from T0 + SETTLE to T1, and
#: follow them TAIL seconds past T1.
T0, T1, SETTLE, TAIL = 6.0, 14.0, 1.0, 3.0


def started(name: str, *overrides: str):
    """``scenarios/<name>.yaml`` (faults removed, a 1 s warmup) run to ``T0``: its
    context and engine."""
    sc = load_scenario(f"scenarios/{name}.yaml", overrides=[
        f"simulation.duration={T1 + 20}s", "simulation.warmup=1s", "faults=[]", *overrides])
    ctx, _world, strategy = build(sc, sc.simulation.seed)
    strategy.start()
    ctx.env.run(until=T0)
    return ctx, strategy.engine
