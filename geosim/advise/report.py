"""The advice, written: a Markdown report, a table, a plot and replayable scenario files.

::

    <out>/report.md                 the answer and its evidence (see format_report)
    <out>/advice.csv, advice.parquet one row per design evaluated (advice_frame)
    <out>/front.png                 cost vs RPO and cost vs p99 (geosim.output.advise_plots)
    <out>/designs/<id>/             for the winner and each design's cheapest feasible
                                    candidate: scenario.yaml (the design under the
                                    scenario's own faults), steady.yaml and one
                                    <failure>.yaml per failure: the resolved scenarios
                                    its numbers come from (seed: the first of the search;
                                    `geosim run FILE --seed N` for the others)
    <out>/counterexamples/          failures that broke a design in the property search
    <out>/cache/                    every run (the run store of geosim.sweep), reused by
                                    later invocations
    <out>/robustness/               each property search's outcome, reused likewise

Every number is read from the runs' summaries.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import pandas as pd

from geosim.advise.evaluate import STEADY, Evaluation, Evaluator, format_quantity
from geosim.advise.objectives import Objectives
from geosim.metrics.summary import resolution_note

__all__ = ["advice_frame", "format_report", "write_report"]


def _num(value: float) -> float | None:
    return None if value is None or math.isinf(value) else value


def advice_frame(advice: Any) -> pd.DataFrame:
    """One row per design (candidate) the search asked for, in the order first asked.

    Columns: ``id``, ``design``, ``strategy``, ``knob.<name>`` per knob, ``status``
    (evaluated, screened-out, invalid, error), ``reason``, ``feasible``, ``front``,
    ``winner``, ``demoted``, the axes ``cost`` (USD/month), ``rpo_seconds``, ``latency``
    (the front's p99, s), ``binding`` and ``binding_margin`` (normalised), ``violation``
    (sum of normalised violations), then per measure ``<name>`` (worst over seeds),
    ``<name>.limit``, ``<name>.margin``, ``<name>.min`` and ``<name>.max`` (across seeds).
    Infinite values (nothing measured) are NaN... except in ``cost``/``rpo_seconds``/
    ``latency``, kept infinite so that a sort puts them last.
    """
    demoted = {r.candidate_id for r in advice.demoted}
    rows = []
    for e in advice.evaluations:
        row: dict[str, Any] = {"id": e.id, "design": e.candidate.design,
                               "strategy": e.strategy}
        row.update({f"knob.{k}": v for k, v in e.candidate.labels})
        bind = e.binding
        row.update({"status": e.status, "reason": e.reason, "feasible": e.feasible,
                    "front": e.id in advice.front, "winner": e.id == advice.winner,
                    "demoted": e.id in demoted, "cost": e.cost,
                    "rpo_seconds": e.rpo_seconds, "latency": e.latency,
                    "binding": bind.name if bind is not None and e.measures else None,
                    "binding_margin": _num(bind.normalised) if bind is not None
                    and bind.normalised is not None else None,
                    "violation": e.violation_total() if e.measures else None})
        for m in e.measures:
            low, high = m.spread
            row.update({m.name: _num(m.value), f"{m.name}.limit": m.limit,
                        f"{m.name}.margin": _num(m.margin) if m.margin is not None
                        else None, f"{m.name}.min": _num(low), f"{m.name}.max": _num(high)})
        rows.append(row)
    return pd.DataFrame(rows)


# --- Markdown ---------------------------------------------------------------------------

def _q(value: float | None, unit: str) -> str:
    return format_quantity(value, unit)


def _design(e: Evaluation) -> str:
    return f"`{e.id}` {e.candidate.describe()}"


def _objectives_lines(objectives: Objectives) -> list[str]:
    lines = ["| measure | limit |", "|---|---|"]
    limits = objectives.limits
    for attr, name, unit in (("budget", "monthly cost", "USD/month"),
                             ("publish_p99_steady", "publish p99, steady state", "s"),
                             ("e2e_p99_steady", "end-to-end p99, steady state", "s")):
        if getattr(limits, attr) is not None:
            lines.append(f"| {name} | {_q(getattr(limits, attr), unit)} |")
    for failure in objectives.failures:
        own = failure.limits
        parts = []
        for attr, label, unit in (("rpo_records", "RPO records", "records"),
                                  ("rpo_bytes", "RPO bytes", "bytes"),
                                  ("rpo_seconds", "RPO", "s"),
                                  ("rto_producers", "RTO producers", "s"),
                                  ("rto_consumers", "RTO consumers", "s"),
                                  ("publish_p99_during", "publish p99 during", "s"),
                                  ("e2e_p99_during", "e2e p99 during", "s")):
            if getattr(own, attr) is not None:
                parts.append(f"{label} {_q(getattr(own, attr), unit)}")
        faults = "; ".join(", ".join(f"{k}: {v}" for k, v in f.items())
                           for f in failure.faults)
        lines.append(f"| failure `{failure.name}` ({faults}) | {', '.join(parts) or '-'} |")
    return lines


def _margins(e: Evaluation) -> list[str]:
    lines = ["| measure | limit | worst over seeds | margin | across seeds (min - max) |",
             "|---|---|---|---|---|"]
    for m in e.measures:
        if m.limit is None:
            continue
        low, high = m.spread
        mark = "" if m.met else " ✗"
        room = _q(m.margin, m.unit) if m.margin is not None and not math.isinf(
            m.margin) else "-"
        lines.append(f"| {m.name} | {_q(m.limit, m.unit)} | {_q(m.value, m.unit)}{mark} | "
                     f"{room} | {_q(low, m.unit)} - {_q(high, m.unit)} |")
    return lines


def format_report(advice: Any) -> str:
    """The Markdown report of an :class:`~geosim.advise.advisor.Advice`."""
    o: Objectives = advice.objectives
    counts = advice.counts
    lines = [f"# geosim advise: {Path(advice.scenario_file).name}", "",
             f"Scenario `{advice.scenario_file}`, objectives `{o.source}`. Search: "
             f"{advice.log.method}, {len(advice.log.generations)} generation(s), "
             f"{advice.log.asked} candidates asked, {len(advice.evaluations)} distinct of "
             f"{advice.space_size} in the space; seeds {list(o.search.seeds)}; "
             f"{counts.executed} runs executed, {counts.cached} found in the cache"
             f"{f', {counts.failed} failed' if counts.failed else ''}; "
             f"{advice.seconds:.0f} s.", ""]
    by_status: dict[str, int] = {}
    for e in advice.evaluations:
        by_status[e.status] = by_status.get(e.status, 0) + 1
    lines += ["Designs: " + ", ".join(f"{n} {s}" for s, n in sorted(by_status.items()))
              + f"; {len(advice.feasible)} meet every objective.", ""]
    lines += ["## Objectives", "", *_objectives_lines(o), ""]
    lines += ["## Answer", ""]
    if advice.winner is not None:
        w = advice.evaluation(advice.winner)
        bind = w.binding
        lines += [f"**Advised design: {_design(w)}**, strategy {w.strategy}: "
                  f"{_q(w.cost, 'USD/month')}, worst RPO {_q(w.rpo_seconds, 's')}, "
                  f"p99 ({o.front_latency}) {_q(w.latency, 's')}."]
        if bind is not None:
            lines += [f"Binding constraint: **{bind.name}** ({_q(bind.value, bind.unit)} "
                      f"against {_q(bind.limit, bind.unit)})."]
        lines += [f"Scenario files: `designs/{w.id}/`.", ""]
    elif advice.feasible:
        lines += ["**No design survived the property search**: every feasible design "
                  "tried was broken by a failure of the declared set (below).", ""]
    else:
        lines += ["**Infeasible: no design meets every objective.** Nearest misses "
                  "(fully evaluated first, by total normalised violation):", "",
                  "| design | cost | violated objectives |", "|---|---|---|"]
        for e in advice.nearest_misses():
            broken = "; ".join(f"{m.name} {_q(m.value, m.unit)} > {_q(m.limit, m.unit)}"
                               for m, _ in e.violations)
            extra = " (screened out: no failure runs)" if e.status == "screened-out" else ""
            lines.append(f"| {_design(e)} | {_q(e.cost, 'USD/month')} | {broken}{extra} |")
        lines.append("")
    note = resolution_note({e.id: e.resolution for e in advice.evaluations})
    if note:
        lines += [note + " Latency objectives are not settled for these designs: check "
                  "the advised design's latencies at the reference resolution.", ""]
    for r in advice.robustness:
        if r.broken:
            lines += [f"Property search of `{r.candidate_id}`: **broken** after "
                      f"{r.examples} examples ({r.seconds:.0f} s): {r.violation}. "
                      f"Counterexample `{os.path.relpath(r.counterexample, Path(advice.out_dir))}`"
                      f" (replay: `{r.replay}`); the design is demoted.", ""]
        else:
            states = ", ".join(f"{s} {n}" for s, n in r.states.items()) or "none"
            lines += [f"Property search of `{r.candidate_id}`: held over {r.examples} "
                      f"examples ({r.seconds:.0f} s); states reached: {states}.", ""]
    lines += ["## Pareto front (cost, worst RPO, p99)", "",
              "| design | strategy | cost | worst RPO | p99 | meets all |",
              "|---|---|---|---|---|---|"]
    for cid in advice.front:
        e = advice.evaluation(cid)
        lines.append(f"| {_design(e)} | {e.strategy} | {_q(e.cost, 'USD/month')} | "
                     f"{_q(e.rpo_seconds, 's')} | {_q(e.latency, 's')} | "
                     f"{'yes' if e.feasible else 'no'} |")
    lines += ["", "![front](front.png)", "", "## Cheapest feasible design per strategy", ""]
    designs = [d.name for d in o.designs]
    for name in designs:
        if name not in advice.best:
            tried = [e for e in advice.evaluations if e.candidate.design == name]
            lines += [f"### {name}", "", f"No feasible design among {len(tried)} tried.", ""]
            continue
        e = advice.evaluation(advice.best[name])
        bind = e.binding
        lines += [f"### {name}", "", f"{_design(e)}: {_q(e.cost, 'USD/month')}; binding "
                  f"constraint **{bind.name if bind else '-'}**.", "", *_margins(e), ""]
    lines += ["## Every design", "",
              "| design | status | cost | worst RPO | p99 | binding / reason |",
              "|---|---|---|---|---|---|"]
    demoted = {r.candidate_id for r in advice.demoted}
    for e in advice.evaluations:
        bind = e.binding
        why = "demoted by the property search; " if e.id in demoted else ""
        why += (e.reason or "-") if e.status != "evaluated" else (
            f"{bind.name} ({'met' if bind.met else 'violated'})" if bind else "-")
        lines.append(f"| {_design(e)} | {e.status}{' ✓' if e.feasible else ''} | "
                     f"{_q(e.cost, 'USD/month') if e.measures else '-'} | "
                     f"{_q(e.rpo_seconds, 's') if e.status == 'evaluated' else '-'} | "
                     f"{_q(e.latency, 's') if e.status == 'evaluated' else '-'} | "
                     f"{why} |")
    lines += ["", "Margins are `limit - worst`; across seeds is the range of each seed's "
              "worst value. Cost is the run's monthly bill (geosim.cost) extrapolated "
              "from the steady state of the fault-free runs.", ""]
    return "\n".join(lines)


# --- files ------------------------------------------------------------------------------

def _atomic_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def write_designs(advice: Any, evaluator: Evaluator, out: Path) -> None:
    """The scenario files of the winner and of each design's cheapest feasible one."""
    from geosim.scenario.loader import dump_scenario

    ids = dict.fromkeys([*([advice.winner] if advice.winner else []),
                         *advice.best.values()])
    seed = advice.objectives.search.seeds[0]
    for cid in ids:
        e = advice.evaluation(cid)
        folder = out / "designs" / cid
        folder.mkdir(parents=True, exist_ok=True)
        own = evaluator.space.scenario(e.candidate)
        _atomic_text(folder / "scenario.yaml", dump_scenario(own))
        for run in [STEADY, *(f.name for f in advice.objectives.failures)]:
            _atomic_text(folder / f"{run}.yaml", evaluator.scenario_yaml(e.candidate, run,
                                                                         seed))


def write_report(advice: Any, evaluator: Evaluator, out: Path) -> None:
    """Write every file of the module docstring except the cache."""
    from geosim.output.advise_plots import advise_front
    from geosim.output.plots import save

    out.mkdir(parents=True, exist_ok=True)
    advice.out_dir = str(out)
    frame = advice_frame(advice)
    tmp = out / f".advice.{os.getpid()}.tmp.parquet"
    frame.to_parquet(tmp, index=False)
    tmp.replace(out / "advice.parquet")
    _atomic_text(out / "advice.csv", frame.to_csv(index=False, lineterminator="\n"))
    write_designs(advice, evaluator, out)
    if (frame["status"] == "evaluated").any():
        kind, phase = advice.objectives.front_latency.split(".")
        label = f"{'publish' if kind == 'publish' else 'end-to-end'} p99, " \
                f"{'steady state' if phase == 'steady' else 'during the failure'} (s)"
        save(advise_front(frame, latency_label=label), out / "front.png")
    _atomic_text(out / "report.md", format_report(advice))
