"""The pre-run event estimate (Strategy.estimate_events, docs/budgets.md) against measured
runs of every bundled scenario, and the wall-time refusals it drives.

The bundled scenarios run shortened (2 s of production, 3 s of drain, no faults: the
estimate does not count fault handling), each checked within :data:`FACTOR` of the
events SimPy numbered. Measured after the engine speed steps: from 0.67 x
(``shared-storage-dr``, whose follower fetches cycle about twice per append tick) to
1.78 x (``advise-small``, a diskless run whose few hundred events are mostly start-up).
The tolerance leaves room for engine changes that trim events (fewer long-poll timers)
without making the estimate wrong by more than its stated factor.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from geosim.budget import EVENTS_PER_WALL_SECOND, Budget, BudgetExceeded, check_events
from geosim.compare.report import run_variants
from geosim.compare.variants import Variant
from geosim.core.estimate import EventEstimate, EventTerm
from geosim.preflight import check_budget
from geosim.runner import build, run
from geosim.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
SHORT = ["simulation.duration=2s", "simulation.drain=3s", "simulation.warmup=0s", "faults=[]"]
#: The estimate is checked within this factor of the measured events, both ways.
FACTOR = 2.0


def estimate(scenario) -> EventEstimate:
    _ctx, _world, strategy = build(scenario, scenario.simulation.seed)
    found = strategy.estimate_events()
    assert found is not None, f"{scenario.strategy.name} gives no event estimate"
    return found


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_the_estimate_is_within_a_factor_of_two_of_a_measured_run(path: Path) -> None:
    scenario = load_scenario(path, SHORT)
    predicted = estimate(scenario).total
    measured = run(scenario).run_info["events"]
    assert measured / FACTOR <= predicted <= measured * FACTOR, (predicted, measured)


def test_the_estimate_scales_with_simulated_time_as_its_terms_say() -> None:
    # Doubling production doubles the production terms and leaves the drain's alone.
    path = ROOT / "scenarios" / "stretch-3-regions.yaml"
    short = estimate(load_scenario(path, SHORT))
    long = estimate(load_scenario(path, [*SHORT, "simulation.duration=4s"]))
    for a, b in zip(short.terms, long.terms, strict=True):
        assert a.what == b.what
        if a.phase == "simulation.drain":
            assert b.events == pytest.approx(a.events)
        elif a.phase == "simulation.duration":
            assert b.events == pytest.approx(2 * a.events)
        else:
            assert b.events == pytest.approx(a.events * 7 / 5)


def test_the_kafka_loop_terms_follow_their_documented_formulas() -> None:
    """docs/budgets.md, term by term, on a built cluster: fetch loops cycle once per
    round trip or append tick, idle ones once per round trip plus the long poll, and
    every broker heartbeats once per ``broker.heartbeat.interval.ms``."""
    scenario = load_scenario(ROOT / "scenarios" / "stretch-3-regions.yaml", SHORT)
    _ctx, _world, strategy = build(scenario, scenario.simulation.seed)
    cluster = strategy.engine
    terms = {t.what: t for t in strategy.estimate_events().terms}
    ai = cluster.send_tick
    wait = cluster.config.replica_fetch_wait_max
    rtts = [cluster.net.rtt_estimate(lz, fz)
            for (lz, fz), pair in cluster.replication.pairs.items() if pair.items]
    busy, idle = terms["fetch loops (leader zone, follower zone)"], \
        terms["idle fetch loops (long polls)"]
    assert busy.count == idle.count == len(rtts)
    assert busy.per_second == pytest.approx(
        sum(1 / max(r, ai) for r in rtts) / len(rtts), rel=1e-12)
    assert idle.per_second == pytest.approx(
        sum(1 / (r + wait) for r in rtts) / len(rtts), rel=1e-12)
    assert idle.seconds == scenario.simulation.end - scenario.simulation.duration
    beats = terms["broker heartbeats"]
    assert beats.count == len(cluster.brokers)
    assert beats.per_second == 1 / cluster.config.broker_heartbeat_interval
    assert beats.seconds == scenario.simulation.end


def test_the_estimate_is_deterministic() -> None:
    path = ROOT / "scenarios" / "mm2-active-active.yaml"
    first = estimate(load_scenario(path, SHORT))
    again = estimate(load_scenario(path, SHORT))
    assert first == again


def test_check_events_names_the_largest_term_and_the_flags() -> None:
    terms = (EventTerm("send clocks (broker zones)", 3, 200.0, 100.0, 1),
             EventTerm("fetch loops (leader zone, follower zone)", 72, 200.0, 2_592_000.0,
                       2))
    found = EventEstimate(terms)
    assert found.driver() is terms[1]
    wall = found.total / EVENTS_PER_WALL_SECOND
    check_events(found, Budget(wall_seconds=wall + 1, memory_bytes=None))
    check_events(None, Budget(wall_seconds=1.0, memory_bytes=None))   # no estimate
    check_events(found, Budget(wall_seconds=None, memory_bytes=None))  # no limit
    with pytest.raises(BudgetExceeded) as err:
        check_events(found, Budget(wall_seconds=wall - 1, memory_bytes=None))
    message = str(err.value)
    assert "\n" not in message
    assert "72 fetch loops (leader zone, follower zone) x 200 cycles/s" in message
    assert "720.0h (simulation.duration)" in message
    assert "--max-wall" in message and "--no-budget" in message


def test_a_run_over_the_wall_budget_is_refused_before_its_clock_starts() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "stretch-3-regions.yaml",
                             ["simulation.duration=30d", "faults=[]"])
    with pytest.raises(BudgetExceeded, match="simulation.duration"):
        run(scenario, budget=Budget(memory_bytes=None))  # default 6 h
    with pytest.raises(BudgetExceeded, match="--max-wall"):
        check_budget(scenario, Budget(memory_bytes=None))


def test_compare_refuses_every_variant_up_front() -> None:
    small = load_scenario(ROOT / "scenarios" / "quickstart.yaml", SHORT)
    big = load_scenario(ROOT / "scenarios" / "stretch-3-regions.yaml",
                        ["simulation.duration=30d", "faults=[]"])
    ran = []
    with pytest.raises(BudgetExceeded, match="^variant big: the run would take"):
        run_variants([Variant("small", small), Variant("big", big)],
                     progress=ran.append, budget=Budget(memory_bytes=None))
    assert ran == []  # the small one did not run first


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "geosim", *args], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)


def test_the_command_line_refuses_a_month_of_stretch_in_one_line(tmp_path: Path) -> None:
    scenario = str(ROOT / "scenarios" / "stretch-3-regions.yaml")
    done = cli("run", scenario, "--quiet", "--out", str(tmp_path / "run"),
               "--set", "simulation.duration=30d")
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "of wall time" in done.stderr and "--max-wall" in done.stderr
    assert not (tmp_path / "run").exists()
    done = cli("sweep", scenario, "--grid", "simulation.duration=2m,30d", "--quiet",
               "--out", str(tmp_path / "sweep"))
    assert done.returncode == 2, done.stderr
    assert "grid point simulation.duration=30d" in done.stderr
    assert not (tmp_path / "sweep").exists()


@pytest.mark.parametrize("name", ["quickstart", "mm2-active-passive"])
def test_estimating_changes_nothing_in_the_run(name: str) -> None:
    # The estimate reads the built model (a diskless writer caches its flush period);
    # a run with a budget, which estimates first, is the same run.
    scenario = load_scenario(ROOT / "scenarios" / f"{name}.yaml",
                             ["simulation.duration=2s", "simulation.drain=2s",
                              "simulation.warmup=0s", "faults=[]"])
    plain = run(scenario)
    budgeted = run(scenario, budget=Budget(memory_bytes=None))
    # (the event counts differ by the budget's steps of the run loop: SimPy schedules
    # one event per ``env.run(until=...)``)
    assert plain.summary == budgeted.summary


def documented_kafka_terms(engine, scenario) -> list[tuple[str, float, float, float, float]]:
    """docs/budgets.md's Kafka table, term by term in the estimate's order, as (term,
    count, cycles per second, seconds, events per cycle), from the built engine's
    structures (request streams once per cluster with producers)."""
    sim = scenario.simulation
    produce, drain = sim.duration, sim.end - sim.duration
    clusters = list(engine.clusters.values()) if hasattr(engine, "clusters") else [engine]
    ai, net = clusters[0].send_tick, engine.net
    out = [("send clocks (clusters)", len(clusters), 1 / ai, sim.end, 1)]
    for c in clusters:
        leaders = Counter(c.brokers[p.leader].zone for p in c.parts if p.leader is not None)
        streams = [min(1 / ai, fleet.records_per_s * n / sum(leaders.values()))
                   for fleet in c.producing for n in leaders.values()]
        if streams:
            out.append(("(producer fleet, leader zone) request streams", len(streams),
                        sum(streams) / len(streams), produce,
                        3 if c.storage is not None else 2))
    rtts = [max(net.rtt_estimate(lz, fz), 1e-6) for c in clusters
            for (lz, fz), pair in c.replication.pairs.items() if pair.items]
    if rtts:
        cycles = [1 / r if r >= ai else 1 / ai for r in rtts]
        events = sum(c * (2 if r >= ai else 3) for c, r in zip(cycles, rtts, strict=True))
        out.append(("fetch loops (leader zone, follower zone)", len(rtts),
                    sum(cycles) / len(rtts), produce, events / sum(cycles)))
        wait = clusters[0].config.replica_fetch_wait_max
        out.append(("idle fetch loops (long polls)", len(rtts),
                    sum(1 / (r + wait) for r in rtts) / len(rtts), drain, 4))
    flows = getattr(engine, "flows", [])
    if flows:
        far = [max(net.rtt_estimate(f.zone, z) for z in f.source.zones) for f in flows]
        out.append(("replication flows", len(flows),
                    sum(1 / max(r, ai) for r in far) / len(flows), produce, 4))
        out.append(("idle replication flows", len(flows),
                    sum(1 / (r + f.cfg.fetch_max_wait)
                        for r, f in zip(far, flows, strict=True)) / len(flows), drain, 3))
    out.append(("broker heartbeats", sum(len(c.brokers) for c in clusters),
                1 / clusters[0].config.broker_heartbeat_interval, sim.end, 2))
    periodic = sum(2 + 4 / c.config.replica_lag_time_max for c in clusters) + sum(
        (1 + len(g.members)) / g.settings.auto_commit_interval for g in engine.groups)
    out.append(("periodic tasks (housekeeping, ISR checks, commits)", 1, periodic,
                sim.end, 1))
    return out


@pytest.mark.parametrize("name, overrides", [
    ("stretch-3-regions", []),
    ("stretch-3-regions", ["simulation.send_tick=20ms"]),
    ("shared-storage", []),
    ("mm2-active-active", []),
], ids=["stretch", "stretch-20ms-tick", "shared-storage", "mm2"])
def test_every_kafka_term_is_its_documented_formula(name: str, overrides: list[str]) -> None:
    """Each row of docs/budgets.md's Kafka table (count, cycles per second, seconds,
    events per cycle) against the estimate, with nothing left over. At a 20 ms send tick
    the short intra-region round trips long-poll (1/ai, 4 events) while the
    cross-region ones cycle per round trip (2 events): both branches of the fetch-loop
    row are taken (mutation round six: only the round-trip branch was)."""
    scenario = load_scenario(ROOT / "scenarios" / f"{name}.yaml", [*SHORT, *overrides])
    _ctx, _world, strategy = build(scenario, scenario.simulation.seed)
    found = strategy.estimate_events().terms
    expected = documented_kafka_terms(strategy.engine, scenario)
    assert [t.what for t in found] == [e[0] for e in expected]
    for term, (what, count, rate, seconds, per_cycle) in zip(found, expected, strict=True):
        assert term.count == count, what
        assert term.per_second == pytest.approx(rate, rel=1e-12), what
        assert term.seconds == pytest.approx(seconds, rel=1e-12), what
        assert term.per_cycle == pytest.approx(per_cycle, rel=1e-12), what
    if overrides:
        engine = strategy.engine
        ai = engine.send_tick
        assert ai == 0.02
        rtts = [engine.net.rtt_estimate(lz, fz)
                for (lz, fz), pair in engine.replication.pairs.items() if pair.items]
        assert min(rtts) < ai <= max(rtts)


def test_the_edge_estimate_counts_each_class_s_windows_checks_and_own_steps():
    """Two site classes over 600 s with retention checks every 300 s: one with two
    uplink windows (2 x 2 edges + 600 / 300 checks + 8 steps of its own = 14), one
    without (0 + 2 + 8 = 10). The estimate is one term of 2 classes stepping 24 / 2 /
    600 times a second each: 24 events in all."""
    from types import SimpleNamespace

    from geosim.strategies.edge.estimate import CLASS_STEPS, edge_estimate

    assert CLASS_STEPS == 8

    def site_class(windows: int) -> SimpleNamespace:
        config = SimpleNamespace(check_interval=300.0)
        return SimpleNamespace(windows=[None] * windows,
                               fluid=SimpleNamespace(config=config))

    simulation = SimpleNamespace(end=600.0)
    model = SimpleNamespace(world=SimpleNamespace(scenario=SimpleNamespace(
        simulation=simulation)), classes=[site_class(2), site_class(0)])
    [term] = edge_estimate(model).terms
    assert (term.count, term.per_second, term.seconds) == (2, pytest.approx(0.02), 600.0)
    assert edge_estimate(model).total == pytest.approx(24.0)
    assert edge_estimate(SimpleNamespace(world=model.world, classes=[])).total == 0.0
