"""``geosim calibrate``: fit free parameters of a scenario to observed figures.
::

    geosim calibrate FILE --targets TARGETS.yaml [--set ...] [--overlay ...]
                     [--out OVERLAY.yaml] [--max-evals N] [--quiet]

The targets file (:mod:`geosim.calibrate.targets`) names the free parameters with their
bounds and the observed ``summary.json`` values. The fit, its residuals and the values
are printed; the values are written as an overlay file, which changes nothing until the
user applies it (``geosim run FILE --overlay OVERLAY.yaml``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from geosim.cli.common import UserError, add_scenario_arguments

MAX_EVALUATIONS = 10_000


def add_calibrate_command(commands: Any) -> None:
    """Register ``calibrate`` on the ``geosim`` sub-command parser."""
    cal = commands.add_parser("calibrate", help="fit declared free parameters to observed "
                              "figures; writes an overlay file, applies nothing")
    add_scenario_arguments(cal)
    cal.add_argument("--targets", required=True, metavar="FILE",
                     help="free parameters, bounds and observed values (YAML)")
    cal.add_argument("--out", metavar="FILE", help="overlay file to write (default: "
                     "results/<scenario name>/calibration.overlay.yaml)")
    cal.add_argument("--max-evals", type=int, default=60, metavar="N",
                     help="most parameter points to evaluate (default 60)")
    cal.add_argument("--quiet", action="store_true", help="no per-evaluation lines")
    cal.set_defaults(handler=cmd_calibrate)


def cmd_calibrate(args: argparse.Namespace, out: TextIO) -> int:
    from geosim.calibrate import fit, load_targets, overlay_items
    from geosim.cli.common import scenario_from_args
    from geosim.scenario.errors import ScenarioError
    from geosim.scenario.overlay import dump_overlay

    scenario = scenario_from_args(args)
    if not 1 <= args.max_evals <= MAX_EVALUATIONS:
        raise UserError(f"--max-evals: must be between 1 and {MAX_EVALUATIONS:,}, "
                        f"got {args.max_evals}")
    if not Path(args.targets).is_file():
        raise UserError(f"--targets {args.targets}: no such file")
    target = Path(args.out) if args.out else (
        Path("results") / scenario.name / "calibration.overlay.yaml")
    if target.is_dir():
        raise UserError(f"--out {target}: is a directory; expected a file path")
    try:
        targets = load_targets(args.targets, args.file, list(args.overrides))
    except ScenarioError as exc:
        raise UserError(str(exc)) from None

    def progress(n: int, ev: Any) -> None:
        if not args.quiet:
            values = ", ".join(f"{p.path}={v:.4g}"
                               for p, v in zip(targets.parameters, ev.values, strict=True))
            print(f"  evaluation {n}: {values}  objective {ev.objective:.4g}",
                  file=sys.stderr, flush=True)

    try:
        result = fit(args.file, targets, base=list(args.overrides),
                     max_evaluations=args.max_evals, progress=progress)
    except ScenarioError as exc:
        raise UserError(str(exc)) from None

    print(f"calibration of {args.file} against {args.targets}: "
          f"{len(result.evaluations)} evaluations x {len(targets.seeds)} seed(s); "
          f"{'converged' if result.converged else 'stopped'} ({result.message})", file=out)
    print("\nparameter                         start        fitted       bounds", file=out)
    for p, v in zip(targets.parameters, result.best.values, strict=True):
        print(f"{p.path:32}  {p.start:<11.5g}  {v:<11.5g}  [{p.low:g}, {p.high:g}]"
              f"{' log' if p.log else ''}", file=out)
    print("\nobserved                          value        start        fitted       "
          "residual", file=out)
    for o, s0, s, r in zip(targets.observed, result.start.simulated, result.best.simulated,
                           result.residuals(), strict=True):
        print(f"{o.metric:32}  {o.value:<11.5g}  {s0:<11.5g}  {s:<11.5g}  {r:+.1%}",
              file=out)
    print(f"\nobjective (weighted squared relative residuals): start "
          f"{result.start.objective:.4g}, fitted {result.best.objective:.4g}", file=out)
    items = overlay_items(result)
    text = dump_overlay(items, description=(
        f"fitted by geosim calibrate against {args.targets}: objective "
        f"{result.best.objective:.4g}, residuals "
        + ", ".join(f"{o.metric} {r:+.1%}" for o, r in zip(targets.observed,
                                                            result.residuals(), strict=True))),
        source=f"geosim calibrate {args.file} --targets {args.targets} (seeds "
               f"{', '.join(map(str, targets.seeds))})")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    except OSError as exc:
        raise UserError(f"--out {target}: cannot write: {exc.strerror or exc}") from None
    print(f"overlay: {target} (apply with: geosim run {args.file} --overlay {target})",
          file=out)
    return 0
