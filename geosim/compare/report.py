"""Running the variants of a comparison and writing the side-by-side report.

The report directory::

    <out>/report.md          RPO, unavailability, RTO, latency, bytes (and cost, when the
                             summaries have it) side by side, with measured checks
    <out>/comparison.csv     one row per variant (geosim.output.frames.summary_row)
    <out>/comparison.png     bars across variants (geosim.output.compare_plots)
    <out>/latency.png        end-to-end latency CDFs across variants
    <out>/<variant>/         each variant's complete results, as `geosim run` writes them

Every number in the report is read from the variants' summaries, so it matches the
variant directories (and ``geosim run`` of the same scenario and seed). The directory is
built aside and renamed into place: an interrupted compare writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd

from geosim.compare.variants import Variant
from geosim.core.units import format_bytes, format_duration
from geosim.metrics.sections import scalar_leaves
from geosim.metrics.summary import resolution_note
from geosim.output.frames import summary_row

YES, NO, NA = "✓", "✗", "-"


def _run_variant(scenario: Any, budget: Any = None) -> Any:
    from geosim.budget import BudgetExceeded
    from geosim.runner import run
    try:
        return run(scenario, budget=budget)
    except BudgetExceeded as exc:
        raise BudgetExceeded(f"variant {scenario.name}: {exc}") from None


def run_variants(variants: Sequence[Variant], *, jobs: int = 1,
                 progress: Callable[[str], None] | None = None,
                 budget: Any = None) -> dict[str, Any]:
    """Run each variant once (its scenario's seed); ``{name: Result}`` in variant order.
    ``budget`` (:class:`geosim.budget.Budget`) applies to each run; every variant's
    estimates are checked against it before the first one runs
    (:func:`geosim.preflight.check_budget`)."""
    if budget is not None:
        from geosim.budget import BudgetExceeded
        from geosim.preflight import check_budget
        for variant in variants:
            try:
                check_budget(variant.scenario, budget)
            except BudgetExceeded as exc:
                raise BudgetExceeded(f"variant {variant.name}: {exc}") from None
    results: dict[str, Any] = {}
    if jobs <= 1 or len(variants) <= 1:
        for variant in variants:
            results[variant.name] = _run_variant(variant.scenario, budget)
            if progress:
                progress(variant.name)
        return results
    with ProcessPoolExecutor(max_workers=min(jobs, len(variants))) as pool:
        futures = {v.name: pool.submit(_run_variant, v.scenario, budget) for v in variants}
        for variant in variants:
            results[variant.name] = futures[variant.name].result()
            if progress:
                progress(variant.name)
    return results


def comparison_table(summaries: Mapping[str, dict]) -> pd.DataFrame:
    """One row per variant: ``variant`` then :func:`summary_row` columns."""
    return pd.DataFrame([{"variant": name, **summary_row(summary)}
                         for name, summary in summaries.items()])


# --- the Markdown report ---------------------------------------------------------------

def _dur(value: Any) -> str:
    return NA if value is None else format_duration(float(value))


def _ms(value: Any) -> str:
    """Latency in ms below 10 s, else in seconds (a stalled record waits minutes)."""
    if value is None:
        return NA
    seconds = float(value)
    return f"{seconds * 1e3:,.0f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def _bytes(value: Any) -> str:
    return NA if value is None else format_bytes(float(value))


def _count(value: Any) -> str:
    return NA if value is None else f"{int(value):,}"


def _mark(ok: bool | None) -> str:
    return NA if ok is None else (YES if ok else NO)


def _faulted_regions(summary: dict) -> set[str]:
    return {str(f.get("target")) for f in summary.get("faults", [])
            if str(f.get("kind", "")).startswith("region")}


def checks(summary: dict) -> list[tuple[str, bool | None]]:
    """Measured verdicts on the claims of seed 000's list (domain.md §8), for one run."""
    loss, unavailable, rto = summary["loss"], summary["unavailable"], summary.get("rto", {})
    faulted = _faulted_regions(summary)
    survivors = [region for region, sides in sorted(rto.items())
                 if region not in faulted
                 and (sides.get("producers") or {}).get("baseline_bytes_per_s")]
    writes_ok = None
    if summary.get("faults") and survivors:
        writes_ok = all(rto[r]["producers"].get("rate_recovered") == 0 for r in survivors)
    anomalies = summary.get("checks", {})
    return [
        ("No acknowledged write lost", loss["lost_records"] == 0),
        ("RPO = 0", loss["rpo_seconds"] == 0),
        ("All acknowledged data readable throughout", unavailable["records"] == 0),
        ("Writes in the surviving regions never slowed (producer rate within 10 %)",
         writes_ok),
        ("No duplicates, skips or reorders",
         all(anomalies.get(k, 0) == 0 for k in ("duplicates", "skips", "reorders",
                                                "duplicate_writes"))),
    ]


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join([":---", *["---:"] * (len(header) - 1)]) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def report_markdown(summaries: Mapping[str, dict], *,
                    descriptions: Mapping[str, str] | None = None) -> str:
    """The Markdown report of a comparison, from the variants' summaries."""
    names = list(summaries)
    values = list(summaries.values())
    first = values[0]
    head = ["", *names]
    out = [f"# Comparison: {first.get('scenario')} (seed {first.get('seed')})", "",
           "The same workload, topology and faults under each variant; every number is "
           "from the variant's `summary.json` (see docs/summary.md for definitions).", ""]
    faults = first.get("faults", [])
    for fault in faults:
        end = fault.get("end")
        span = "permanent" if end is None else f"until {_dur(end)}"
        out.append(f"- fault: {fault.get('kind')} {fault.get('target')} at "
                   f"{_dur(fault.get('start'))}, {span}")
    if not faults:
        out.append("- no faults")
    out += [""]
    out += _table(head, [["strategy", *(s.get("strategy", "?") for s in values)],
                         *([["description", *((descriptions or {}).get(n, "") for n in names)]]
                           if descriptions and any(descriptions.values()) else [])])

    out += ["", "## Checks (measured)", ""]
    verdicts = [dict(checks(s)) for s in values]
    out += _table(head, [[claim, *(_mark(v[claim]) for v in verdicts)]
                         for claim in verdicts[0]])

    out += ["", "## Durability and availability", ""]
    out += _table(head, [
        ["acknowledged records lost", *(_count(s["loss"]["lost_records"]) for s in values)],
        ["acknowledged bytes lost", *(_bytes(s["loss"]["lost_bytes"]) for s in values)],
        ["RPO", *(_dur(s["loss"]["rpo_seconds"]) for s in values)],
        ["acknowledged records unavailable for a while",
         *(_count(s["unavailable"]["records"]) for s in values)],
        ["acknowledged bytes unavailable", *(_bytes(s["unavailable"]["bytes"])
                                             for s in values)],
        ["longest unavailability", *(_dur(s["unavailable"]["max_seconds"]) for s in values)],
    ])

    out += ["", "## Recovery (RTO, from the first fault's start)", ""]
    regions = sorted({r for s in values for r in s.get("rto", {})})
    rows = []
    for region in regions:
        for side in ("producers", "consumers"):
            cells = [s.get("rto", {}).get(region, {}).get(side, {}) for s in values]
            if not any(c.get("baseline_bytes_per_s") for c in cells):
                continue  # no clients of this kind in the region
            rows.append([f"{region} {side}: first success",
                         *(_dur(c.get("first_success")) for c in cells)])
            rows.append([f"{region} {side}: rate back within 10 %",
                         *(_dur(c.get("rate_recovered")) for c in cells)])
    parts = [(s.get("partitions") or {}).get("failover") or {} for s in values]
    if any(parts):  # Kafka strategies: the failover, part by part
        for key, label in (("detection_seconds", "failover: detection (fault to fencing)"),
                           ("election_seconds", "failover: election (fencing to leader)"),
                           ("client_seconds", "failover: clients (leader to first ack)")):
            rows.append([label, *(_dur(p.get(key)) for p in parts)])
    out += _table(head, rows) if rows else ["(no clients)"]
    out += ["", "`-`: not applicable or never happened (no fault, never recovered before "
            "the end of production).", ""]

    out += ["## Latency (all regions)", ""]
    rows = []
    for kind, label in (("publish", "publish"), ("e2e", "end-to-end")):
        for phase in ("before", "during", "after"):
            for stat in ("p50", "p99", "p999"):
                cells = [s["latency"][kind]["all"][phase][stat] for s in values]
                if all(c is None for c in cells):
                    continue
                rows.append([f"{label} {stat.replace('p999', 'p99.9')}, {phase}",
                             *(_ms(c) for c in cells)])
    out += _table(head, rows)
    note = resolution_note({name: s.get("resolution") or {}
                            for name, s in zip(names, values, strict=True)})
    if note:
        out += ["", note]

    out += ["", "## Network", ""]
    purposes = sorted({p for s in values for p in s["bytes"]["cross_region"]["by_purpose"]})
    out += _table(head, [
        ["cross-region bytes", *(_bytes(s["bytes"]["cross_region"]["total"]) for s in values)],
        ["cross-region rate", *(_bytes(s["bytes"]["cross_region"]["rate"]) + "/s"
                                for s in values)],
        *([f"cross-region: {p}", *(_bytes(s["bytes"]["cross_region"]["by_purpose"].get(p, 0))
                                   for s in values)] for p in purposes),
        ["inter-zone bytes", *(_bytes(s["bytes"]["inter_zone"]["total"]) for s in values)],
    ])

    out += ["", "## Cost", ""]
    bills = [s.get("cost") or {} for s in values]
    if any(bills):
        out += _table(head, _cost_rows(bills))
        currency = next((b.get("currency") for b in bills if b.get("currency")), "USD")
        out += ["", f"Monthly {currency}, extrapolated from the steady state by geosim.cost "
                "(the bill's lines are in each variant's `summary.json`); `-`: no bill "
                "(no price book for the provider); `unpriced`: lines the price book lacks, "
                "left out of the sums (each bill lists them under `unpriced`); `not "
                "declared`: no instance group or disk in `cost.deployment`, so none billed."]
        unpriced = sorted({key for b in bills for key in b.get("unpriced", [])})
        if unpriced:
            out.append(f"Unpriced: {', '.join(f'`{key}`' for key in unpriced)}.")
    else:
        out.append("Not in these summaries: no `cost` bill (geosim.cost needs a price book "
                   "for the topology's provider).")

    out += ["", "## Plots", "", "![comparison across variants](comparison.png)", "",
            "![end-to-end latency CDFs](latency.png)", ""]
    for name in names:
        out.append(f"- {name}: [timeline]({name}/timeline.png), "
                   f"[latency]({name}/latency.png), [bytes]({name}/bytes.png), "
                   f"[summary]({name}/summary.json)")
    return "\n".join(out) + "\n"


#: Categories a bill has lines in only where ``cost.deployment`` declares what they
#: price (instance groups and their disks): without lines they were not billed, which
#: is not the same as free.
DECLARED_CATEGORIES = frozenset({"instances", "tier1_networking", "disks"})


def _cost_rows(bills: list[dict]) -> list[list[str]]:
    """Rows of the cost table: the monthly total, by category, the outage's extra; any
    other scalar of an unfamiliar bill as it is. A total or category with lines the
    price book lacks says so (they are left out of it), and an instance or disk
    category without lines reads "not declared"."""
    rows = []
    if any("total_usd_per_month" in b for b in bills):
        rows.append(["total per month",
                     *(_priced(b.get("total_usd_per_month"), bool(b.get("unpriced")))
                       for b in bills)])
        categories = sorted({c for b in bills for c in b.get("by_category", {})})
        rows += [[f"  {c.replace('_', ' ')}", *(_category(b, c) for b in bills)]
                 for c in categories]
        if any("outage" in b for b in bills):
            rows.append(["outage window, difference from steady state",
                         *(_cost((b.get("outage") or {}).get("total_usd")) for b in bills)])
        return rows
    leaves = [scalar_leaves(b) for b in bills]
    keys = list(dict.fromkeys(k for leaf in leaves for k in leaf))
    return [[key, *(_cost(leaf.get(key)) for leaf in leaves)] for key in keys]


def _category(bill: dict, category: str) -> str:
    """One bill's cell for ``category``."""
    if not bill:
        return NA
    lines = [line for line in bill.get("lines", []) if line.get("category") == category]
    if not lines:
        # a bill without lines in a category pays nothing for it, unless the category
        # prices what the deployment declares
        return "not declared" if category in DECLARED_CATEGORIES else _cost(0.0)
    priced = [line["usd"] for line in lines if line.get("usd") is not None]
    if not priced:
        return "unpriced"
    return _priced(bill.get("by_category", {}).get(category, sum(priced)),
                   len(priced) < len(lines))


def _priced(value: Any, unpriced: bool) -> str:
    """A sum, marked when lines the price book lacks were left out of it."""
    text = _cost(value)
    return f"{text} + unpriced" if unpriced and value is not None else text


def _cost(value: Any) -> str:
    if value is None:
        return NA
    if isinstance(value, float | int) and not isinstance(value, bool):
        return f"{value:,.2f}" if isinstance(value, float) else f"{value:,}"
    return str(value)


# --- writing ---------------------------------------------------------------------------

def write_report(results: Mapping[str, Any], out_dir: str | Path, *,
                 descriptions: Mapping[str, str] | None = None,
                 plots: bool = True) -> Path:
    """Write the report directory for ``{variant: Result}`` atomically; return its path."""
    from geosim.output import compare_plots
    from geosim.output.plots import save
    from geosim.output.writer import atomic_directory, make_parents, write_results

    target = Path(out_dir).absolute()
    make_parents(target.parent)
    with atomic_directory(target) as tmp:
        summaries = {name: result.summary for name, result in results.items()}
        for name, result in results.items():
            write_results(result, tmp / name, plots=plots)
        comparison_table(summaries).to_csv(tmp / "comparison.csv", index=False,
                                           lineterminator="\n")
        (tmp / "report.md").write_text(report_markdown(summaries, descriptions=descriptions),
                                       encoding="utf-8")
        if plots:
            save(compare_plots.comparison_chart(results), tmp / "comparison.png")
            save(compare_plots.latency_cdf_comparison(results), tmp / "latency.png")
    return target
