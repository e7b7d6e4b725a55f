"""The ``geosim`` command line: run, validate, estimate cost, list strategies.

::

    geosim run scenarios/x.yaml --seed 3 --set simulation.duration=10m
    geosim validate scenarios/x.yaml
    geosim cost scenarios/x.yaml --duration 30s
    geosim strategies
    geosim sweep scenarios/x.yaml --grid strategy.flush_interval=100ms,250ms --seeds 1-20
    geosim compare scenarios/x.yaml --strategies diskless-bucket,diskless-quorum

A mistake the user can fix (a bad scenario, a missing file, a malformed ``--set``, an
output directory that cannot be written) is reported as one line on stderr,
``geosim: error: <message>``, with exit status 2 and no traceback; nothing is written.
Results are written only after a run has finished. Anything else is a bug in geosim:
exit status 1, a one-line message, and the traceback when ``GEOSIM_DEBUG=1``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

PROG = "geosim"
#: Wall seconds a run must last before its progress bar appears.
PROGRESS_DELAY_S = 2.0


class UserError(Exception):
    """A mistake in the user's input; reported as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and raise :class:`UserError`."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix(PROG).strip()
        raise UserError(f"{command}: {message}" if command else message)


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}") \
            from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``geosim`` command."""
    parser = _Parser(prog=PROG, description="Discrete-event simulator of geo-replicated "
                     "streaming clusters.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                     parser_class=_Parser)

    def scenario_args(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("file", metavar="FILE", help="scenario YAML file")
        sub.add_argument("--set", dest="overrides", action="append", default=[],
                         metavar="KEY=VALUE", help="override a scenario field by its dotted "
                         "path, e.g. simulation.duration=10m (repeatable)")

    run = commands.add_parser("run", help="run a scenario and write its results")
    scenario_args(run)
    run.add_argument("--seed", type=_seed, help="root random seed "
                     "(default: the scenario's simulation.seed)")
    run.add_argument("--out", metavar="DIR", help="results directory "
                     "(default: results/<scenario name>/seed-<n>/)")
    run.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    run.add_argument("--quiet", action="store_true",
                     help="print only the results path (no table, no progress bar)")
    run.set_defaults(handler=_cmd_run)

    validate = commands.add_parser("validate", help="load and check a scenario, run nothing")
    scenario_args(validate)
    validate.set_defaults(handler=_cmd_validate)

    cost = commands.add_parser("cost", help="a quick monthly cost estimate from a short "
                               "steady-state run (no faults)")
    scenario_args(cost)
    cost.add_argument("--seed", type=_seed, help="root random seed "
                      "(default: the scenario's simulation.seed)")
    cost.add_argument("--duration", default="20s", metavar="DURATION",
                      help="steady-state time to measure after the warmup (default 20s)")
    cost.add_argument("--warmup", metavar="DURATION", help="warmup before measuring "
                      "(default: the scenario's, at most 10s)")
    cost.add_argument("--full", action="store_true", help="run the scenario as written "
                      "(faults, durations) and also price the outage")
    cost.add_argument("--json", action="store_true", help="print the cost block of "
                      "summary.json instead of the table")
    cost.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    cost.set_defaults(handler=_cmd_cost)

    strategies = commands.add_parser("strategies", help="list the replication strategies")
    strategies.set_defaults(handler=_cmd_strategies)

    from geosim.compare.cli import add_compare_command
    from geosim.sweep.cli import add_sweep_command
    add_sweep_command(commands, scenario_args)
    add_compare_command(commands, scenario_args)
    return parser


# --- commands ----------------------------------------------------------------------

def _load(args: argparse.Namespace, seed: int | None = None) -> Any:
    """The scenario of ``args.file`` with ``--set`` overrides; user errors as UserError."""
    from geosim.scenario.errors import ScenarioError
    from geosim.scenario.loader import load_scenario

    path = Path(args.file)
    if not path.is_file():
        reason = "is a directory" if path.is_dir() else "no such file"
        raise UserError(f"{args.file}: {reason}")
    try:
        return load_scenario(path, args.overrides, seed=seed)
    except ScenarioError as exc:
        raise UserError(str(exc)) from None
    except OSError as exc:
        raise UserError(f"{args.file}: {exc.strerror or exc}") from None


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _cmd_validate(args: argparse.Namespace, out: TextIO) -> int:
    scenario = _load(args)
    print(f"ok: {scenario.name} ({scenario.strategy.name}, "
          f"{_plural(len(scenario.topology.regions), 'region')}, "
          f"{_plural(len(scenario.faults), 'fault')})", file=out)
    return 0


def strategy_registry() -> dict[str, type] | None:
    """The registered strategies by name, or None if the registry is not available."""
    try:
        from geosim.strategies import registry
    except ImportError:
        return None
    return registry()


def _cmd_strategies(args: argparse.Namespace, out: TextIO) -> int:
    registered = strategy_registry()
    if registered is None:
        print(f"{PROG}: no strategy registry in this build", file=sys.stderr)
        return 1
    width = max((len(name) for name in registered), default=0)
    for name in sorted(registered):
        description = (getattr(registered[name], "description", "") or "").strip()
        first_line = description.splitlines()[0] if description else ""
        print(f"{name:<{width}}  {first_line}".rstrip(), file=out)
    return 0


def check_writable(out_dir: Path) -> None:
    """Raise :class:`UserError` unless ``out_dir`` could be created or replaced."""
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"--out {out_dir}: exists and is not a directory")
    ancestor = out_dir.parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise UserError(f"--out {out_dir}: {ancestor} is not a directory")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise UserError(f"--out {out_dir}: {ancestor} is not writable")


class ProgressBar:
    """A progress callback that shows a tqdm bar (simulated seconds) once a run is slow.

    The bar is created lazily, on the first call after ``delay_s`` wall seconds, so
    short runs print nothing.
    """

    def __init__(self, stream: TextIO, delay_s: float = PROGRESS_DELAY_S,
                 clock: Callable[[], float] = time.monotonic):
        self._stream = stream
        self._delay_s = delay_s
        self._clock = clock
        self._started = clock()
        self.bar: Any = None

    def __call__(self, sim_now: float, sim_end: float) -> None:
        if self.bar is None:
            if self._clock() - self._started < self._delay_s:
                return
            from tqdm import tqdm

            # Not tqdm's own width detection: a pseudo-terminal without a size reports
            # 0 columns, and tqdm then draws nothing; shutil falls back to 80.
            self.bar = tqdm(total=round(sim_end, 3), unit="s", desc="simulated",
                            file=self._stream, leave=False,
                            ncols=shutil.get_terminal_size().columns,
                            bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f}"
                                       " s [{elapsed}<{remaining}]")
        self.bar.update(max(0.0, round(sim_now, 3) - self.bar.n))

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _cmd_run(args: argparse.Namespace, out: TextIO) -> int:
    from geosim.output.table import format_summary
    from geosim.output.writer import write_results

    scenario = _load(args, seed=args.seed)
    seed = args.seed if args.seed is not None else scenario.simulation.seed
    out_dir = Path(args.out) if args.out else Path("results") / scenario.name / f"seed-{seed}"
    check_writable(out_dir)

    result = _run_with_progress(
        scenario, seed, not (args.no_progress or args.quiet) and scenario.simulation.progress)

    if not args.quiet:
        print(format_summary(result.summary), file=out)
    try:
        path = write_results(result, out_dir)
    except OSError as exc:
        raise UserError(f"--out {out_dir}: cannot write results: "
                        f"{exc.strerror or exc}") from None
    print(f"results: {path}" if not args.quiet else str(path), file=out)
    return 0


def _run_with_progress(scenario: Any, seed: int, show: bool) -> Any:
    """Run a scenario, with a progress bar on stderr if ``show``."""
    from geosim.runner import run

    progress = ProgressBar(sys.stderr, PROGRESS_DELAY_S) if show else None
    try:
        return run(scenario, seed, progress=progress)
    finally:
        if progress is not None:
            progress.close()


def _cmd_cost(args: argparse.Namespace, out: TextIO) -> int:
    import json

    from geosim.core.units import UnitError, parse_duration
    from geosim.output.table import format_cost

    if not args.full:
        scenario = _load(args, seed=args.seed)
        try:
            duration = parse_duration(args.duration)
            warmup = (min(scenario.simulation.warmup, 10.0) if args.warmup is None
                      else parse_duration(args.warmup))
        except UnitError as exc:
            raise UserError(f"cost: {exc}") from None
        if duration <= 0:
            raise UserError(f"cost: --duration must be > 0, got {args.duration!r}")
        args.overrides = [*args.overrides, "faults=[]", f"simulation.warmup={warmup}",
                          f"simulation.duration={warmup + duration}", "simulation.drain=0"]
    scenario = _load(args, seed=args.seed)
    if scenario.cost.provider is None and scenario.topology.provider == "none":
        raise UserError(f"{args.file}: cost.provider: must be set (gcp, aws or azure): "
                        f"topology.provider is none")
    seed = args.seed if args.seed is not None else scenario.simulation.seed
    result = _run_with_progress(scenario, seed,
                                not args.no_progress and scenario.simulation.progress)
    cost = result.summary.get("cost")
    if args.json:
        print(json.dumps(cost, indent=2, sort_keys=True), file=out)
    else:
        print("\n".join(format_cost(result.summary)), file=out)
    return 0


# --- entry point -------------------------------------------------------------------

def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``geosim`` command with ``argv`` (default: ``sys.argv[1:]``); return status."""
    try:
        args = build_parser().parse_args(argv)
        return args.handler(args, sys.stdout)
    except UserError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; nothing written", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug in geosim, not the user's mistake
        if os.environ.get("GEOSIM_DEBUG") == "1":
            traceback.print_exc()
        else:
            message = str(exc).splitlines()[0] if str(exc) else ""
            print(f"{PROG}: internal error: {type(exc).__name__}: {message} "
                  f"(set GEOSIM_DEBUG=1 for the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    # `python -m geosim.cli` runs this file as __main__; call the imported module so the
    # UserError raised by geosim.sweep.cli and geosim.compare.cli is the class caught.
    from geosim import cli as _cli
    sys.exit(_cli.main())
