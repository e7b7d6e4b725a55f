"""``geosim advise``: the cheapest design meeting an objectives file (:mod:`geosim.advise`).

::

    geosim advise FILE --objectives OBJ.yaml [--out DIR] [--jobs N | --scheduler ADDR]
                  [--set KEY=VALUE ...] [--max-wall D] [--max-memory S] [--no-budget]
                  [--quiet]

Prints, as the search goes, one line per generation; then the Pareto front, the
cheapest feasible design per strategy with its binding constraint, the winner (or
"infeasible" and the nearest misses) and the report's path. Writes
``results/<scenario>/advise/`` (or ``--out``): report.md, advice.csv/.parquet,
front.png, designs/, counterexamples/ and the run cache, which a rerun (after Ctrl-C
or a kill) reuses: no finished run is executed again. A bad objectives file, a knob the
scenario does not have or an unreachable scheduler is a one-line error, exit status 2.
Exit status 0 when a design meets every objective, 3 when none does.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from geosim.cli.common import (
    UserError,
    add_budget_arguments,
    add_scenario_arguments,
    budget_from_args,
    check_writable,
    parse_jobs,
    scenario_from_args,
)

#: Exit status when no design meets the objectives.
INFEASIBLE = 3


def add_advise_command(commands: Any) -> None:
    """Register ``advise`` on the ``geosim`` sub-command parser."""
    advise = commands.add_parser("advise", help="search for the cheapest design meeting "
                                 "an objectives file (RPO, RTO, latency, budget)")
    add_scenario_arguments(advise)
    add_budget_arguments(advise)
    advise.add_argument("--objectives", required=True, metavar="OBJ.yaml",
                        help="objectives file: failures, limits, designs and their knobs "
                        "(docs/advise.md)")
    where = advise.add_mutually_exclusive_group()
    where.add_argument("--jobs", type=parse_jobs, default=1, metavar="N",
                       help="local worker processes (default 1)")
    where.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                       help="run on this Dask distributed cluster")
    advise.add_argument("--out", metavar="DIR", help="output directory "
                        "(default: results/<scenario name>/advise/)")
    advise.add_argument("--quiet", action="store_true", help="print only the report's path")
    advise.set_defaults(handler=cmd_advise)


def _money(value: float) -> str:
    return f"${value:,.0f}/month" if value != float("inf") else "-"


def _seconds(value: float) -> str:
    return f"{value:.3g} s" if value != float("inf") else "none"


def cmd_advise(args: argparse.Namespace, out: TextIO) -> int:
    """Run the search, write the report, print the answer; 3 if nothing is feasible."""
    from geosim.advise import advise, load_objectives
    from geosim.scenario.errors import ScenarioError
    from geosim.sweep.executors import ExecutorError, make_executor

    scenario = scenario_from_args(args)   # file-level problems, as `geosim run` reports them
    path = Path(args.objectives)
    if not path.is_file():
        reason = "is a directory" if path.is_dir() else "no such file"
        raise UserError(f"{args.objectives}: {reason}")
    try:
        objectives = load_objectives(path)
    except ScenarioError as exc:
        raise UserError(str(exc)) from None
    out_dir = Path(args.out) if args.out else Path("results") / scenario.name / "advise"
    check_writable(out_dir)
    if args.scheduler:
        try:
            make_executor(1, args.scheduler).close()   # reachable, same geosim version
        except ExecutorError as exc:
            raise UserError(str(exc)) from None
    started = time.perf_counter()
    quiet = args.quiet

    def say(text: str) -> None:
        if not quiet:
            print(text, file=out, flush=True)

    def on_generation(number: int, found: list) -> None:
        statuses: dict[str, int] = {}
        for e in {e.id: e for e in found}.values():
            key = "feasible" if e.feasible else e.status
            statuses[key] = statuses.get(key, 0) + 1
        say(f"generation {number}: {len(found)} candidates ("
            + ", ".join(f"{n} {s}" for s, n in sorted(statuses.items()))
            + f"), {time.perf_counter() - started:.0f} s")

    def on_property_search(evaluation: Any) -> None:
        say(f"property search of {evaluation.id} over the declared failure set ...")

    try:
        advice = advise(args.file, objectives, out_dir, overrides=args.overrides,
                        executor_factory=lambda: make_executor(args.jobs, args.scheduler),
                        budget=budget_from_args(args), on_generation=on_generation,
                        on_property_search=on_property_search)
    except ScenarioError as exc:
        raise UserError(str(exc)) from None
    except KeyboardInterrupt:
        print(f"geosim: interrupted; finished runs are kept in {out_dir / 'cache'}; run the "
              f"same command again to go on", file=sys.stderr)
        return 130
    report = out_dir / "report.md"
    if quiet:
        print(report, file=out)
        return 0 if advice.winner else INFEASIBLE
    say(f"{len(advice.evaluations)} designs ({advice.space_size} in the space), "
        f"{advice.counts.executed} runs executed, {advice.counts.cached} from the cache, "
        f"{advice.seconds:.0f} s")
    say("Pareto front (cost, worst RPO, p99 " + objectives.front_latency + "):")
    for cid in advice.front:
        e = advice.evaluation(cid)
        say(f"  {_money(e.cost):>16}  RPO {_seconds(e.rpo_seconds):>9}  p99 "
            f"{_seconds(e.latency):>9}  {'meets all' if e.feasible else 'misses':9}  "
            f"{e.candidate.describe()}")
    say("Cheapest feasible design per strategy:")
    for design in objectives.designs:
        if design.name not in advice.best:
            say(f"  {design.name}: none")
            continue
        e = advice.evaluation(advice.best[design.name])
        bind = e.binding
        say(f"  {design.name}: {e.candidate.describe()}, {_money(e.cost)}; binding "
            f"{bind.name if bind else '-'}")
    for r in advice.robustness:
        say(f"property search of {r.candidate_id}: " + (
            f"broken ({r.violation}); counterexample {r.counterexample}" if r.broken
            else f"held over {r.examples} examples"))
    if advice.winner:
        e = advice.evaluation(advice.winner)
        say(f"advised: {e.candidate.describe()} ({e.strategy}), {_money(e.cost)}; "
            f"scenario files in {out_dir / 'designs' / e.id}")
    elif advice.feasible:
        say("no feasible design survived the property search")
    else:
        say("infeasible: no design meets every objective; nearest misses:")
        for e in advice.nearest_misses(3):
            broken = "; ".join(f"{m.name} {m.value:.4g} > {m.limit:.4g}"
                               for m, _ in e.violations)
            say(f"  {e.candidate.describe()}: {broken}")
    say(f"report: {report}")
    return 0 if advice.winner else INFEASIBLE
