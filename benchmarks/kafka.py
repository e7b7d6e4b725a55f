"""Benchmark: speed and memory of the Kafka-family strategies.

For each scenario below, in its own process (so that peak memory is the run's): the
steady state (faults dropped, ``--duration`` simulated after a 10 s warmup, no drain),
reported as simulated seconds per wall second and per CPU second of the process (the
CPU figure is the one to compare when other jobs share the machine: it counts only the
time the run was on a core), events per wall second and peak resident memory. Then the
five-strategy region-outage comparison (``scenarios/region-outage-five-strategies.yaml``,
every variant on its committed timeline, one process each), as total wall and CPU time.
SimPy's raw timeout throughput is measured in the parent process of the same
invocation, so ratios compare like with like (the raw rate of one machine varies
between sessions).

``--engine window`` runs the steady states and the comparison with
``simulation.engine: window`` (the window engine takes the steady states between
disturbances; docs/architecture.md, "The window engine"), ``events`` (the default) as
the event engine alone.

``--window`` also times the window engine's kernel (``geosim.kafka.window``, stage 1:
not yet a run mode) on each steady state: the event engine runs the 10 s warmup, then the
kernel computes ``--duration`` of sends from that cluster's wiring; its figure is
simulated seconds of sends per wall and CPU second of the kernel alone (or why it
refuses the scenario).

``--events`` instead counts each steady state's events by what they do (the process a
timeout or event resumes, the function a scheduled call runs), the most frequent first:
what a faster engine would have to remove. Counting slows the run, so it reports no
speed.

Usage: python benchmarks/kafka.py [--duration 30s] [--seed N] [--only NAME ...]
       [--no-compare] [--send-tick TICK ...] [--events] [--window]
       [--engine events|window]
"""

from __future__ import annotations

import argparse
import collections
import multiprocessing
import resource
import sys
import time
from pathlib import Path

from bench import simpy_timeouts_per_second  # benchmarks/ is on sys.path as the script's directory

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ("kafka-stretch-seed000", "observers-2dc", "mm2-active-passive",
             "cluster-linking-active-passive")
COMPARISON = ROOT / "scenarios" / "region-outage-five-strategies.yaml"


def _steady(name: str, duration: float, seed: int, tick: str | None, engine: str,
            out) -> None:
    """Child process: one steady-state run; sends (wall, CPU, events, peak RSS bytes).
    ``tick``: the engine's send tick (``simulation.send_tick``), else the scenario's;
    ``engine``: ``simulation.engine``."""
    from geosim.runner import run
    scenario = _steady_scenario(name, duration, tick, engine)
    start, cpu = time.perf_counter(), time.process_time()
    result = run(scenario, seed)
    wall = time.perf_counter() - start
    windows = [w for w in result.run_info.get("window_engine", ()) if "start" in w]
    window = (sum(w["end"] - w["start"] for w in windows),
              sum(w["cpu_seconds"] for w in windows))
    out.send((wall, time.process_time() - cpu, result.run_info["events"], _peak_rss(), window))


def _composition(name: str, duration: float, seed: int, tick: str | None, out) -> None:
    """Child process: one steady-state run with every processed event counted by what
    it does; sends [(label, count), ...], the most frequent first."""
    import simpy

    from geosim.runner import run

    counts: collections.Counter[str] = collections.Counter()
    step = simpy.Environment.step

    def label(event) -> str:
        fn = getattr(event, "fn", None)  # a call scheduled by geosim.core.context.call_later
        if fn is not None:
            return f"call {fn.__qualname__}"
        resumed = sorted({cb.__self__._generator.__qualname__
                          for cb in event.callbacks or ()
                          if isinstance(getattr(cb, "__self__", None), simpy.Process)})
        callers = sorted({getattr(cb, "__qualname__", type(cb).__name__)
                          for cb in event.callbacks or ()
                          if not isinstance(getattr(cb, "__self__", None), simpy.Process)})
        return f"{type(event).__name__} -> {', '.join(resumed + callers) or 'nothing'}"

    def counting_step(env: simpy.Environment) -> None:
        counts[label(env._queue[0][3])] += 1
        step(env)

    simpy.Environment.step = counting_step  # type: ignore[method-assign,assignment]
    run(_steady_scenario(name, duration, tick), seed)
    out.send(counts.most_common())


def _steady_scenario(name: str, duration: float, tick: str | None, engine: str = "events"):
    """The scenario's steady state: no faults, ``duration`` after a 10 s warmup."""
    from geosim.scenario.loader import load_scenario
    overrides = ["faults=[]", f"simulation.duration={duration + 10}",
                 "simulation.warmup=10", "simulation.drain=0",
                 f"simulation.engine={engine}"]
    if tick is not None:
        overrides.append(f"simulation.send_tick={tick}")
    return load_scenario(ROOT / "scenarios" / f"{name}.yaml", overrides)


def _window(name: str, duration: float, seed: int, tick: str | None, out) -> None:
    """Child process: the event engine through the 10 s warmup, then the window kernel
    over ``duration``; sends (wall, CPU, peak RSS bytes, None) or (0, 0, 0, why not)."""
    from geosim.kafka.window.kernel import run_window
    from geosim.kafka.window.wiring import WindowRefused, Wiring
    from geosim.runner import build
    scenario = _steady_scenario(name, duration, tick)
    ctx, _world, strategy = build(scenario, seed)
    strategy.start()
    ctx.env.run(until=10.0)
    try:
        wiring = Wiring.of(strategy.engine)
    except WindowRefused as refused:
        out.send((0.0, 0.0, 0, str(refused)))
        return
    start, cpu = time.perf_counter(), time.process_time()
    try:
        run_window(wiring, 10.0, 10.0 + duration, seed=seed, tail=0.0)
    except WindowRefused as refused:
        out.send((0.0, 0.0, 0, str(refused)))
        return
    out.send((time.perf_counter() - start, time.process_time() - cpu, _peak_rss(), None))


def _variant(path: str, name: str, seed: int, engine: str, out) -> None:
    """Child process: one variant of the comparison on its own timeline."""
    from geosim.compare.variants import resolve_variants
    from geosim.runner import run
    [variant] = resolve_variants(path, [name], [f"simulation.engine={engine}"])
    start, cpu = time.perf_counter(), time.process_time()
    result = run(variant.scenario, seed)
    out.send((time.perf_counter() - start, time.process_time() - cpu,
              result.summary["simulated_seconds"], _peak_rss()))


def _peak_rss() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # Linux: KiB


def in_child(target, *args):
    ctx = multiprocessing.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    process = ctx.Process(target=target, args=(*args, send))
    process.start()
    value = receive.recv()
    process.join()
    return value


def main() -> None:
    from geosim.compare.variants import compare_entries
    from geosim.core.units import format_bytes, parse_duration
    from geosim.scenario.loader import read_yaml

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", default="30s",
                        help="simulated steady state per scenario (default 30s)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", nargs="+", choices=SCENARIOS, default=list(SCENARIOS))
    parser.add_argument("--no-compare", action="store_true",
                        help="skip the five-strategy comparison")
    parser.add_argument("--events", action="store_true",
                        help="count the steady states' events by what they do "
                             "(no speed figures, no comparison)")
    parser.add_argument("--engine", choices=("events", "window"), default="events",
                        help="simulation.engine for the steady states and the comparison")
    parser.add_argument("--window", action="store_true",
                        help="also time the window engine's kernel on each steady state")
    parser.add_argument("--send-tick", nargs="+", default=[None], metavar="TICK",
                        help="run the steady states at these send ticks "
                             "(simulation.send_tick, e.g. 5ms 25ms 50ms; default: "
                             "each scenario's own). docs/architecture.md, 'Resolution "
                             "and fidelity', says what a coarser tick keeps")
    args = parser.parse_args()
    duration = parse_duration(args.duration)
    if args.events:
        for name in args.only:
            for tick in args.send_tick:
                counts = in_child(_composition, name, duration, args.seed, tick)
                total = sum(n for _label, n in counts)
                simulated = duration + 10
                print(f"{name}, tick {tick or 'own'}: {total:,} events in {simulated:g} "
                      f"simulated s ({total / simulated:,.0f} per simulated s)")
                for label, n in counts[:12]:
                    print(f"  {n:10,} {n / total:6.1%}  {label}")
        return
    raw = simpy_timeouts_per_second()
    print(f"raw SimPy timeouts per wall second (this process): {raw:,.0f}")
    print(f"steady state, {duration:g} simulated s after a 10 s warmup, seed {args.seed}, "
          f"engine {args.engine}:")
    print(f"{'scenario':34} {'tick':>6} {'sim s/wall s':>12} {'sim s/CPU s':>12} "
          f"{'events/wall s':>14} {'ratio to raw':>12} {'peak RSS':>10}")
    for name in args.only:
        for tick in args.send_tick:
            wall, cpu, events, peak, window = in_child(_steady, name, duration, args.seed,
                                                       tick, args.engine)
            simulated = duration + 10
            rate = events / wall
            print(f"{name:34} {tick or 'own':>6} {simulated / wall:12.1f} "
                  f"{simulated / cpu:12.1f} {rate:14,.0f} {rate / raw:12.3f} "
                  f"{format_bytes(peak):>10}", flush=True)
            if window[0]:
                print(f"  {'of which in windows':32} {window[0]:6.1f} simulated s in "
                      f"{window[1]:.2f} CPU s ({window[0] / window[1]:.1f} per CPU s, "
                      "hand-over and hand-back included)", flush=True)
            if args.window:
                wall, cpu, peak, refused = in_child(_window, name, duration, args.seed, tick)
                if refused:
                    print(f"  {'window kernel':32} refused: {refused}", flush=True)
                else:
                    print(f"  {'window kernel':32} {tick or 'own':>6} {duration / wall:12.1f} "
                          f"{duration / cpu:12.1f} {'':>14} {'':>12} "
                          f"{format_bytes(peak):>10}", flush=True)
    if args.no_compare:
        return
    names = list(compare_entries(read_yaml(COMPARISON, str(COMPARISON)), str(COMPARISON)))
    print(f"\n{COMPARISON.name}, each variant on its committed timeline, seed {args.seed}:")
    total = total_cpu = 0.0
    for name in names:
        wall, cpu, simulated, peak = in_child(_variant, str(COMPARISON), name, args.seed,
                                              args.engine)
        total += wall
        total_cpu += cpu
        print(f"  {name:32} {simulated:6.0f} simulated s in {wall:7.2f} s wall "
              f"({simulated / wall:6.1f}x), {cpu:7.2f} s CPU, peak RSS {format_bytes(peak)}",
              flush=True)
    print(f"  all variants, one after another: {total:.1f} s wall, {total_cpu:.1f} s CPU")


if __name__ == "__main__":
    main()
