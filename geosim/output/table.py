"""The human summary of a run: a fixed-width text table built from ``summary.json``.

:func:`format_summary` reads only the summary dict (docs/summary.md), so it works on a
summary loaded back from disk as well as on a fresh :class:`geosim.runner.Result`.
Durations, sizes, rates and counts are written by :mod:`geosim.core.text`; a missing
value (``None`` in the summary: not applicable, or never happened) prints as ``-``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

from geosim.core.text import (
    bytes_text,
    count_text,
    duration_text,
    fixed_width,
    rate_text,
)
from geosim.metrics.sections import sections_of
from geosim.metrics.summary import resolution_note

#: Latency columns: (header, summary key).
LATENCY_COLUMNS = (("p50", "p50"), ("p90", "p90"), ("p99", "p99"), ("p99.9", "p999"),
                   ("max", "max"))
#: Phases shown in the latency table (warmup and drain are in summary.json only).
LATENCY_PHASES = ("before", "during", "after")
#: How many purposes to list per traffic class.
TOP_PURPOSES = 4
#: Checks whose non-zero count means a correctness anomaly (a rebalance redelivery
#: is expected behaviour of committed offsets, so it is not flagged).
ANOMALIES = ("duplicates", "skips", "reorders", "duplicate_writes")

#: Order of the cost categories (geosim.cost.bill.CATEGORIES).
COST_CATEGORIES = ("instances", "tier1_networking", "disks", "object_storage",
                   "object_requests", "object_replication", "network", "metadata", "licence")

_duration = duration_text
_bytes = bytes_text
_rate = rate_text
_count = count_text
_table = fixed_width


def _regions_all_first(by_region: dict[str, Any]) -> list[str]:
    return sorted(by_region, key=lambda region: (region != "all", region))


def _describe_fault(fault: dict[str, Any]) -> str:
    start, end = fault.get("start"), fault.get("end")
    what = f"{fault.get('kind', '?')} {fault.get('target') or ''}".strip()
    if end is None:
        return f"{what} at {_duration(start)} (permanent)"
    length = float(end) - float(start) if start is not None else None
    return f"{what} at {_duration(start)} for {_duration(length)}"


def _header(summary: dict[str, Any]) -> list[str]:
    lines = [f"scenario {summary.get('scenario', '?')}   strategy {summary.get('strategy', '?')}"
             f"   seed {summary.get('seed', '?')}   simulated "
             f"{_duration(summary.get('simulated_seconds'))}"]
    faults = summary.get("faults") or []
    if faults:
        lines += [f"fault    {_describe_fault(fault)}" for fault in faults]
    else:
        lines.append("faults   none")
    return lines


def _records(summary: dict[str, Any]) -> list[str]:
    records = summary.get("records", {})
    names = ("offered", "acked", "failed", "info", "delivered")
    lines = ["Records", *_table(names, [[_count(records.get(name)) for name in names]])]
    if records.get("blocked") or records.get("backlog"):
        # Producers under load: sends that waited for buffer.memory, and what is left.
        load = ("accepted", "blocked", "backlog")
        lines += _table(load, [[_count(records.get(name)) for name in load]])
    lines += [f"  {section.records_note}" for section in sections_of(summary.get("strategy"))
              if section.records_note and summary.get(section.name)]
    max_rate = summary.get("max_rate")
    if max_rate:
        lines.append(f"  max-rate run: sustainable rate "
                     f"{_count(max_rate.get('sustainable_records_per_s'))} records/s "
                     f"(acked, warmup to end of production); controller's last rate "
                     f"{_count(max_rate.get('final_rate_records_per_s'))} records/s")
    return lines


def _intervals(intervals: Sequence[Sequence[float]], limit: int = 3) -> str:
    shown = [f"{_duration(start)}-{_duration(end)}" for start, end in intervals[:limit]]
    if len(intervals) > limit:
        shown.append(f"+{len(intervals) - limit} more")
    return ", ".join(shown) if shown else "none"


def _loss(summary: dict[str, Any]) -> list[str]:
    loss = summary.get("loss", {})
    unavailable = summary.get("unavailable", {})
    rows = [["lost", _count(loss.get("lost_records")), _bytes(loss.get("lost_bytes")),
             f"RPO {_duration(loss.get('rpo_seconds'))}"]]
    for region in sorted(loss.get("by_region", {})):
        item = loss["by_region"][region]
        rows.append([f"  {region}", _count(item.get("lost_records")),
                     _bytes(item.get("lost_bytes")), f"RPO {_duration(item.get('rpo_seconds'))}"])
    rows.append(["unavailable", _count(unavailable.get("records")),
                 _bytes(unavailable.get("bytes")),
                 f"longest {_duration(unavailable.get('max_seconds'))}"])
    for region in sorted(unavailable.get("by_region", {})):
        item = unavailable["by_region"][region]
        rows.append([f"  {region}", _count(item.get("records")), _bytes(item.get("bytes")),
                     f"longest {_duration(item.get('max_seconds'))}"])
    lines = ["Acknowledged data lost / unavailable",
             *_table(["", "records", "bytes", ""], rows)]
    lines.append(f"  unavailability window: {_intervals(unavailable.get('intervals', []))}")
    if unavailable.get("open_records"):
        lines.append(f"  still unreadable at the end: {_count(unavailable['open_records'])} "
                     f"records")
    if loss.get("untracked_records"):
        lines.append(f"  not evaluated for loss: {_count(loss['untracked_records'])} records")
    return lines


def _rto(summary: dict[str, Any]) -> list[str]:
    if not summary.get("faults"):
        return []
    rows = []
    rto = summary.get("rto", {})
    for region in sorted(rto):
        for side in ("producers", "consumers"):
            item = rto[region].get(side) or {}
            if not item.get("baseline_bytes_per_s") and item.get("first_success") is None:
                continue  # the region has no such clients
            rows.append([region, side, _duration(item.get("first_success")),
                         _duration(item.get("rate_recovered")),
                         _duration(item.get("longest_gap")),
                         _rate(item.get("baseline_bytes_per_s"))])
    if not rows:
        return []
    return ["Recovery (RTO from the first fault's start)",
            *_table(["region", "clients", "first success", "rate within 10%", "longest gap",
                     "baseline rate"], rows, labels=2),
            "  (- : did not happen before the end of production, or not applicable)"]


def _latency(summary: dict[str, Any]) -> list[str]:
    lines = []
    titles = {"publish": "Publish latency (send to ack)",
              "e2e": "End-to-end latency (send to delivery)"}
    for kind, by_region in sorted(summary.get("latency", {}).items(),
                                  key=lambda kv: (kv[0] != "publish", kv[0])):
        rows = []
        for region in _regions_all_first(by_region):
            for phase in LATENCY_PHASES:
                stats = by_region[region].get(phase) or {}
                if not stats.get("records"):
                    continue
                rows.append([region, phase,
                             *(_duration(stats.get(key)) for _, key in LATENCY_COLUMNS),
                             _count(stats.get("records"))])
        if rows:
            lines += ["" if lines else None, titles.get(kind, kind),
                      *_table(["region", "phase", *(h for h, _ in LATENCY_COLUMNS), "records"],
                              rows, labels=2)]
    note = resolution_note({"": summary.get("resolution") or {}})
    if lines and note:
        lines += textwrap.wrap(note, width=88, initial_indent="  ", subsequent_indent="  ")
    return [line for line in lines if line is not None]


def _traffic(summary: dict[str, Any]) -> list[str]:
    rows = []
    for scope, label in (("cross_region", "cross-region"), ("inter_zone", "inter-zone")):
        traffic = summary.get("bytes", {}).get(scope)
        if traffic is None:
            continue
        total = traffic.get("total") or 0
        rows.append([label, "total", _bytes(total), _rate(traffic.get("rate")), ""])
        purposes = sorted(traffic.get("by_purpose", {}).items(), key=lambda kv: (-kv[1], kv[0]))
        for purpose, size in purposes[:TOP_PURPOSES]:
            share = f"{100 * size / total:.0f}%" if total else ""
            rows.append(["", purpose, _bytes(size), "", share])
        if len(purposes) > TOP_PURPOSES:
            rest = sum(size for _, size in purposes[TOP_PURPOSES:])
            rows.append(["", f"{len(purposes) - TOP_PURPOSES} other purposes", _bytes(rest), "",
                         f"{100 * rest / total:.0f}%" if total else ""])
    if not rows:
        return []
    return ["Network bytes", *_table(["class", "purpose", "bytes", "average rate", "share"],
                                     rows, labels=2)]


def _checks(summary: dict[str, Any]) -> list[str]:
    checks = summary.get("checks", {})
    if not checks:
        return []
    anomalies = [name for name in ANOMALIES if checks.get(name)]
    verdict = "ANOMALIES: " + ", ".join(anomalies) if anomalies else "ok"
    counts = ", ".join(f"{name} {_count(checks[name])}" for name in sorted(checks))
    return [f"Checks   {verdict}", f"  {counts}"]


def _usd(value: float | None) -> str:
    if value is None:
        return "unpriced"
    text = f"${abs(value):,.2f}" if abs(value) < 100 else f"${abs(value):,.0f}"
    return "-" + text if value < 0 else text


def _cost_rows(lines: Sequence[dict[str, Any]]) -> list[list[str]]:
    rows = []
    for line in lines:
        price = line.get("unit_price")
        unit = (line.get("price_unit") or "").removeprefix("USD")
        rows.append([line.get("category", ""), line.get("item", ""),
                     "-" if price is None else f"${price:g}{unit}",
                     line.get("price_key", ""), _usd(line.get("usd"))])
    return rows


def format_cost(summary: dict[str, Any]) -> list[str]:
    """The cost section: monthly line items, totals by category, the outage's extra."""
    cost = summary.get("cost")
    if not cost:
        return []
    window = cost.get("steady_window") or [None, None]
    lines = [f"Monthly cost ({cost.get('provider')}, 30-day month, steady-state rates of "
             f"{_duration(window[0])}-{_duration(window[1])})",
             *_table(["category", "item", "unit price", "price key", "USD/month"],
                     _cost_rows(cost.get("lines", [])), labels=2)]
    by_category = cost.get("by_category", {})
    if by_category:
        order = {name: i for i, name in enumerate(COST_CATEGORIES)}
        lines.append("  by category: " + ", ".join(
            f"{name} {_usd(value)}" for name, value in
            sorted(by_category.items(), key=lambda kv: (order.get(kv[0], 99), kv[0]))))
    lines.append(f"  total {_usd(cost.get('total_usd_per_month'))} per month")
    if cost.get("unpriced"):
        lines.append(f"  UNPRICED (not in the price book, left out of the total): "
                     f"{', '.join(cost['unpriced'])}")
    if cost.get("overridden_prices"):
        lines.append(f"  prices set by the scenario: {', '.join(cost['overridden_prices'])}")
    outage = cost.get("outage") or {}
    if outage.get("lines"):
        lines += [f"Extra cost of the outage ({_duration(outage.get('seconds'))} from the "
                  f"first fault's start, over the steady-state rate; not per month)",
                  *_table(["category", "item", "unit price", "price key", "USD"],
                          _cost_rows(outage["lines"]), labels=2),
                  f"  total {_usd(outage.get('total_usd'))}"]
    return lines


def _strategy_sections(summary: dict[str, Any]) -> list[list[str]]:
    """The lines of the strategy's report sections the summary has
    (:mod:`geosim.metrics.sections`)."""
    return [section.lines(summary[section.name])
            for section in sections_of(summary.get("strategy")) if summary.get(section.name)]


def format_summary(summary: dict[str, Any]) -> str:
    """A readable fixed-width report of a run's summary dict (no trailing newline)."""
    sections = [_header(summary), _records(summary), _loss(summary), _rto(summary),
                _latency(summary), _traffic(summary), _checks(summary),
                *_strategy_sections(summary), format_cost(summary)]
    return "\n\n".join("\n".join(section) for section in sections if section)
