"""Claims and their checkers: ready assertions on a run's summary (domain.md §7).

A :class:`Claim` is a name, the sentence it asserts, and a checker: a pure function of a
run's ``summary.json`` dict that returns ``None`` when the claim holds and a one-line
reason when it does not. Checkers read only the summary — the stable contract of
``docs/summary.md`` — so the same claim can be checked on a run in a test, on the
``summary.json`` that ``geosim run`` wrote for a counterexample file, or in a notebook.

A violation comes with :func:`explain_run`: the fault timeline, what happened to the
records, loss, unavailability, RTO per region and the Jepsen-style checks, so that a
failing property test reads as a short incident report.

Claims combine with ``&``: ``no_acked_loss() & no_skips()`` holds when both hold.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

Checker = Callable[[dict], "str | None"]


@dataclass(frozen=True)
class Violation:
    """A claim that did not hold on one run: which claim, and why (one line)."""

    claim: str
    reason: str

    def __str__(self) -> str:
        return f"{self.claim}: {self.reason}"


@dataclass(frozen=True)
class Claim:
    """A property of a run, checked on its summary.

    ``states`` are coverage states (:mod:`geosim.testing.coverage`) a search must reach
    before a pass of this claim means anything; a search that never reaches them says
    so instead of passing.
    """

    name: str
    text: str
    checker: Checker = field(repr=False)
    states: tuple[str, ...] = ()

    def check(self, summary: dict) -> Violation | None:
        """The violation of this claim on a run's summary, or None if it holds."""
        reason = self.checker(summary)
        return None if reason is None else Violation(self.name, reason)

    def needing(self, *states: str) -> Claim:
        """The same claim, requiring a search to reach ``states`` as well."""
        return Claim(self.name, self.text, self.checker, (*self.states, *states))

    def __and__(self, other: Claim) -> Claim:
        def both(summary: dict) -> str | None:
            reasons = [r for r in (self.checker(summary), other.checker(summary)) if r]
            return "; ".join(reasons) or None
        return Claim(f"{self.name}+{other.name}", f"{self.text}, and {other.text}", both,
                     (*self.states, *other.states))


def claim(name: str, text: str, states: Sequence[str] = ()) -> Callable[[Checker], Claim]:
    """Decorator making a checker function into a :class:`Claim`::

        @claim("low-publish-p99", "publish p99 stays under 2 s")
        def low_p99(summary):
            p99 = summary["latency"]["publish"]["all"]["during"]["p99"]
            return None if p99 is None or p99 < 2 else f"publish p99 {p99:.2f} s"
    """
    def wrap(checker: Checker) -> Claim:
        return Claim(name, text, checker, tuple(states))
    return wrap


# --- helpers -------------------------------------------------------------------------

def _bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"  # pragma: no cover


def _regions_hit(summary: dict) -> set[str]:
    """Regions targeted by a region outage or destruction in the run."""
    return {f["target"] for f in summary.get("faults", [])
            if f["kind"] in ("region-outage", "region-destruction")}


def _by_region(section: dict, key: str) -> str:
    parts = [f"{region} {values[key]}" for region, values in sorted(
        section.get("by_region", {}).items())]
    return f" (by writer region: {', '.join(parts)})" if parts else ""


# --- ready claims ----------------------------------------------------------------------

def no_acked_loss() -> Claim:
    """No acknowledged record is lost (domain.md §7 Lost; "zero RPO" claims)."""
    def check(summary: dict) -> str | None:
        loss = summary["loss"]
        if loss["lost_records"] == 0:
            return None
        return (f"{loss['lost_records']} acknowledged records "
                f"({_bytes(loss['lost_bytes'])}) lost, RPO {loss['rpo_seconds']:g} s"
                f"{_by_region(loss, 'lost_records')}")
    return Claim("no-acked-loss", "no acknowledged record is lost", check)


def rpo_below(seconds: float) -> Claim:
    """RPO (fault start minus the ack time of the oldest lost record) <= ``seconds``."""
    def check(summary: dict) -> str | None:
        rpo = summary["loss"]["rpo_seconds"]
        if rpo <= seconds:
            return None
        return (f"RPO {rpo:g} s > {seconds:g} s ({summary['loss']['lost_records']} "
                f"acknowledged records lost)")
    return Claim(f"rpo<={seconds:g}s", f"RPO stays within {seconds:g} s", check)


def reads_available(max_seconds: float = 0.0) -> Claim:
    """No acknowledged record is unreadable for longer than ``max_seconds``
    (domain.md §7 Unavailable; the default 0 means: always readable)."""
    def check(summary: dict) -> str | None:
        unavailable = summary["unavailable"]
        if unavailable["records"] == 0 or unavailable["max_seconds"] <= max_seconds:
            return None
        intervals = ", ".join(f"{a:g}-{b:g} s" for a, b in unavailable["intervals"][:3])
        return (f"{unavailable['records']} acknowledged records "
                f"({_bytes(unavailable['bytes'])}) unreadable for up to "
                f"{unavailable['max_seconds']:g} s > {max_seconds:g} s, during {intervals}"
                f"{_by_region(unavailable, 'records')}")
    text = ("every acknowledged record stays readable" if max_seconds == 0 else
            f"no acknowledged record is unreadable for more than {max_seconds:g} s")
    return Claim("reads-available" if max_seconds == 0 else f"unavailable<={max_seconds:g}s",
                 text, check)


def rto_below(seconds: float, *, role: str = "producers",
              regions: str | Sequence[str] = "unaffected") -> Claim:
    """Every region's ``role`` (``producers`` or ``consumers``) succeeds again within
    ``seconds`` of the first fault's start (summary ``rto.<region>.<role>.first_success``).

    ``regions``: ``"unaffected"`` (regions no region fault hit: "writes stay available
    in any single-region outage"), ``"all"``, or a list. Regions without clients of that
    role (no baseline rate) are skipped; a region that never succeeded again violates.
    """
    def check(summary: dict) -> str | None:
        if not summary.get("faults"):
            return None
        rto = summary["rto"]
        if regions == "unaffected":
            chosen = sorted(set(rto) - _regions_hit(summary))
        elif regions == "all":
            chosen = sorted(rto)
        else:
            chosen = list(regions)
        slow = []
        for region in chosen:
            entry = rto.get(region, {}).get(role)
            if not entry or not entry.get("baseline_bytes_per_s"):
                continue
            first = entry["first_success"]
            if first is None:
                slow.append(f"{region} never recovered")
            elif first > seconds:
                slow.append(f"{region} after {first:g} s")
        if not slow:
            return None
        return f"{role} RTO > {seconds:g} s: {', '.join(slow)}"
    where = "unaffected regions'" if regions == "unaffected" else "every region's"
    return Claim(f"{role}-rto<={seconds:g}s",
                 f"{where} {role} succeed within {seconds:g} s of the fault", check)


def writes_available(seconds: float = 10.0) -> Claim:
    """Producers outside the failed region keep writing (RTO below ``seconds``)."""
    inner = rto_below(seconds, role="producers", regions="unaffected")
    return Claim("writes-available", f"writes stay available outside the failed region "
                 f"(producer RTO <= {seconds:g} s)", inner.checker)


def no_skips() -> Claim:
    """No consumer group's offsets jump over undelivered records (Jepsen)."""
    def check(summary: dict) -> str | None:
        skips = summary["checks"]["skips"]
        return None if skips == 0 else f"{skips} records skipped by a consumer group"
    return Claim("no-skips", "no consumer skips a record", check)


def no_duplicates() -> Claim:
    """No record is delivered twice outside a rebalance, nor written at two offsets."""
    def check(summary: dict) -> str | None:
        checks = summary["checks"]
        parts = []
        if checks["duplicates"]:
            parts.append(f"{checks['duplicates']} records delivered twice to a group")
        if checks["duplicate_writes"]:
            parts.append(f"{checks['duplicate_writes']} records written at two offsets")
        return "; ".join(parts) or None
    return Claim("no-duplicates", "no record is delivered or written twice", check)


def no_reorders() -> Claim:
    """No producer's later send lands at a lower offset (Jepsen)."""
    def check(summary: dict) -> str | None:
        reorders = summary["checks"]["reorders"]
        return None if reorders == 0 else f"{reorders} acknowledgements out of order"
    return Claim("no-reorders", "every producer's sends keep their order", check)


def reprocessing_below(records: int) -> Claim:
    """Records processed twice (re-delivered, with or without a rebalance) <= ``records``."""
    def check(summary: dict) -> str | None:
        checks = summary["checks"]
        total = checks["duplicates"] + checks["redelivered_after_rebalance"]
        if total <= records:
            return None
        return (f"{total} records processed twice > {records} "
                f"({checks['redelivered_after_rebalance']} after a rebalance)")
    return Claim(f"reprocessing<={records}", f"at most {records} records are processed "
                 "twice", check)


def no_reprocessing_after_failover() -> Claim:
    """No record delivered before a failover to another cluster is delivered again
    after it (cross-cluster strategies; domain.md §8 says false for MirrorMaker 2)."""
    def check(summary: dict) -> str | None:
        failovers = (summary.get("mirror") or {}).get("failovers") or []
        again = sum(f["reprocessed"] for f in failovers)
        if not again:
            return None
        f = failovers[0]
        return (f"{again} records processed twice after the failover {f['source']} -> "
                f"{f['target']} at {f['t']:g} s ({f['translated']} partitions from "
                f"translated offsets, {f['reset']} from auto.offset.reset)")
    return Claim("no-reprocessing-after-failover", "no record is processed twice after "
                 "failover", check, states=("failover",))


def no_skips_after_failover() -> Claim:
    """No consumer group skips records when it moves to another cluster, nor anywhere
    else (cross-cluster strategies; domain.md §8: true while translation is available)."""
    def check(summary: dict) -> str | None:
        failovers = (summary.get("mirror") or {}).get("failovers") or []
        skipped = sum(f["skipped"] for f in failovers)
        if skipped:
            f = failovers[0]
            return (f"{skipped} records skipped at the failover {f['source']} -> "
                    f"{f['target']} at {f['t']:g} s ({f['reset']} partitions from "
                    f"auto.offset.reset)")
        return no_skips().checker(summary)
    return Claim("no-skips-after-failover", "a consumer never skips after failover", check,
                 states=("failover",))


def no_replication_loops() -> Claim:
    """No replication flow copies a record back into the cluster it came from (a loop;
    Replicator with kept topic names prevents it with provenance headers). Holds
    trivially for runs without the counter (strategies that cannot loop)."""
    def check(summary: dict) -> str | None:
        back = (summary.get("counters") or {}).get("replicator_copied_back_records", 0)
        if back:
            return f"{back} records copied back into the cluster they came from (a loop)"
        return None
    return Claim("no-replication-loops", "no record is replicated back to its origin "
                 "cluster", check)


def every_send_settled() -> Claim:
    """Every offered record's send ended exactly once: ok, fail or info."""
    def check(summary: dict) -> str | None:
        r = summary["records"]
        settled = r["acked"] + r["failed"] + r["info"]
        return None if settled == r["offered"] else \
            f"{r['offered']} records offered but {settled} settled"
    return Claim("every-send-settled", "every send ends ok, fail or info", check)


def every_acked_delivered() -> Claim:
    """After the drain, consumers have read at least as many records as were acknowledged
    (deliveries are summed over groups, so with one group: every acknowledged record)."""
    def check(summary: dict) -> str | None:
        r = summary["records"]
        if r["delivered"] >= r["acked"]:
            return None
        return f"{r['acked']} records acknowledged, only {r['delivered']} delivered"
    return Claim("every-acked-delivered", "every acknowledged record is eventually read",
                 check)


# --- explanation -------------------------------------------------------------------------

def explain_run(summary: dict) -> str:
    """A short, readable account of a run, for a violation message."""
    lines = [f"scenario {summary['scenario']} ({summary['strategy']}), seed "
             f"{summary['seed']}, {summary['simulated_seconds']:g} s simulated"]
    faults = summary.get("faults", [])
    if faults:
        lines.append("faults: " + "; ".join(
            f"{f['kind']} {f['target']} at {f['start']:g} s"
            + (" (permanent)" if f["end"] is None else f" until {f['end']:g} s")
            for f in faults))
    else:
        lines.append("faults: none")
    r = summary["records"]
    lines.append(f"records: {r['offered']} offered, {r['acked']} acked, {r['failed']} "
                 f"failed, {r['info']} unknown, {r['delivered']} delivered")
    loss = summary["loss"]
    lines.append(f"loss: {loss['lost_records']} records, RPO {loss['rpo_seconds']:g} s"
                 f"{_by_region(loss, 'lost_records')}")
    un = summary["unavailable"]
    lines.append(f"unavailable: {un['records']} records, longest {un['max_seconds']:g} s"
                 f"{_by_region(un, 'records')}")
    rto_parts = []
    for region, roles in sorted(summary.get("rto", {}).items()):
        for role in ("producers", "consumers"):
            entry = roles.get(role) or {}
            if entry.get("baseline_bytes_per_s"):
                first = entry.get("first_success")
                rto_parts.append(f"{region} {role} "
                                 f"{'never' if first is None else f'{first:g} s'}")
    if rto_parts and faults:
        lines.append("first success after the fault: " + ", ".join(rto_parts))
    parts = summary.get("partitions")
    if parts:  # Kafka-broker strategies: what the brokers and the controller did
        counters = summary.get("counters") or {}
        lines.append(
            f"kafka: {parts['partitions']} partitions, {parts['leader_changes']} leader "
            f"changes, {len(parts['offline_windows'])} offline windows; "
            + ", ".join(f"{counters.get(k, 0)} {k}" for k in (
                "brokers_fenced", "isr_shrinks", "isr_expansions", "unclean_elections",
                "rows_truncated", "unflushed_suffixes_lost", "observer_promotions")))
    c = summary["checks"]
    lines.append(f"checks: {c['skips']} skipped, {c['duplicates']} duplicated, "
                 f"{c['redelivered_after_rebalance']} re-read after rebalance, "
                 f"{c['reorders']} reordered, {c['duplicate_writes']} written twice")
    return "\n".join(lines)
