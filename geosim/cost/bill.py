"""The monthly bill: measured usage + deployment + price book -> priced line items.

Usage-driven lines (network, object requests, bucket replication, licence fees) price
the steady-state rates of a run extrapolated to a 30-day month; storage prices the
average stored bytes (compressed write rate x retention); instance, disk and metadata
lines price the deployment for 720 hours. An outage's extra cost (catch-up traffic,
cross-region reads while a region is out, re-replication) prices the usage of the
outage window in excess of the steady-state rate over the same window, in dollars for
the whole outage (not per month), reported separately.

Every line carries the price-book key, unit price and source it used; a line whose key
is missing from the book is reported with ``usd`` None and listed under ``unpriced``
(never guessed). The total is the sum of the priced lines.

Object requests are priced by the object-store service where the book prices it
(``object_requests.<service>.class_a``), else by bucket kind; a service with per-GB
request fees (S3 Express One Zone's upload and retrieval charges, ``object_transfer.
<service>.upload | retrieval``) is billed on every byte its PUTs sent (each copy of a
write quorum) and its GETs read. A DynamoDB metadata store (``metadata.preset:
dynamodb``) is billed per request on demand: one write request unit per commit and one
read request unit per strongly consistent read (each item taken as at most 1 KB written
and 4 KB read).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

from geosim.core.units import format_bytes
from geosim.cost.deployment import Deployment
from geosim.cost.prices import Price, PriceBook
from geosim.cost.rules import INTER_REGION, network_charges, replication_bytes
from geosim.cost.usage import Usage

MONTH_SECONDS = 30 * 86400.0
MONTH_HOURS = MONTH_SECONDS / 3600.0

#: Categories of line items, in the order of the table.
CATEGORIES: tuple[str, ...] = (
    "instances", "tier1_networking", "disks", "object_storage", "object_requests",
    "object_replication", "network", "metadata", "licence")


@dataclass(frozen=True)
class Line:
    """One priced item. ``quantity`` is in ``quantity_unit`` (hours, bytes, byte-months of
    storage, requests) over the bill's period; ``usd`` is None when unpriced."""

    category: str
    item: str
    quantity: float
    quantity_unit: str
    price_key: str
    unit_price: float | None
    price_unit: str | None
    usd: float | None
    source: str | None
    region: str | None = None


@dataclass
class Bill:
    """A priced bill. ``lines`` are monthly; ``outage_lines`` are for the whole outage."""

    provider: str
    lines: list[Line] = field(default_factory=list)
    outage_lines: list[Line] = field(default_factory=list)
    outage_seconds: float = 0.0
    steady_window: tuple[float, float] | None = None
    overridden: list[str] = field(default_factory=list)

    @property
    def total(self) -> float:
        return sum(line.usd for line in self.lines if line.usd is not None)

    @property
    def outage_total(self) -> float:
        return sum(line.usd for line in self.outage_lines if line.usd is not None)

    def by_category(self) -> dict[str, float]:
        out = {c: 0.0 for c in CATEGORIES}
        for line in self.lines:
            if line.usd is not None:
                out[line.category] = out.get(line.category, 0.0) + line.usd
        return {k: v for k, v in out.items() if v or any(
            line.category == k for line in self.lines)}

    def unpriced(self) -> list[str]:
        return sorted({line.price_key for line in [*self.lines, *self.outage_lines]
                       if line.usd is None})

    def to_frame(self, outage: bool = False):
        """The lines (or the outage's) as a pandas DataFrame, one row per line (notebooks)."""
        import pandas as pd

        items = self.outage_lines if outage else self.lines
        return pd.DataFrame([asdict(line) for line in items],
                            columns=list(Line.__dataclass_fields__))

    def to_dict(self) -> dict:
        """The ``cost`` block of ``summary.json`` (docs/summary.md)."""
        def lines(items: Iterable[Line]) -> list[dict]:
            return [asdict(line) for line in items]
        return {
            "provider": self.provider,
            "currency": "USD",
            "month_seconds": MONTH_SECONDS,
            "steady_window": list(self.steady_window) if self.steady_window else None,
            "total_usd_per_month": self.total,
            "by_category": self.by_category(),
            "lines": lines(self.lines),
            "unpriced": self.unpriced(),
            "overridden_prices": sorted(self.overridden),
            "outage": {"seconds": self.outage_seconds, "total_usd": self.outage_total,
                       "lines": lines(self.outage_lines)},
        }


def _line(category: str, item: str, quantity: float, quantity_unit: str, key: str,
          price: Price | None, region: str | None = None, *, factor: float = 1.0) -> Line:
    """A line pricing ``quantity`` (hours, bytes, byte-months or requests) with ``price``;
    ``factor`` multiplies the charge (bytes billed on both sides, say)."""
    if price is None:
        return Line(category, item, quantity, quantity_unit, key, None, None, None, None, region)
    if price.unit == "USD/hour":
        usd = quantity * price.value
    elif price.unit == "USD/1000 requests":
        usd = quantity / 1000.0 * price.value
    else:
        usd = quantity * price.per_byte
    return Line(category, item, quantity, quantity_unit, price.key, price.value, price.unit,
                usd * factor, price.source, region)


def _fixed_lines(dep: Deployment, book: PriceBook) -> list[Line]:
    """Instances, Tier_1 networking, disks and Spanner nodes for one month."""
    lines = []
    for group in dep.instances:
        for region, count in group.count_by_region.items():
            if not count:
                continue
            hours = count * MONTH_HOURS
            key = f"instance.{group.type}.{dep.commitment}"
            lines.append(_line("instances", f"{group.name}: {count} x {group.type} in {region}",
                               hours, "instance-hours", key, book.get(key, region), region))
            if group.tier1_networking:
                key = f"tier1_networking.{group.type}.{dep.commitment}"
                lines.append(_line("tier1_networking", f"{group.name}: Tier_1 networking, "
                                   f"{count} x {group.type} in {region}", hours,
                                   "instance-hours", key, book.get(key, region), region))
            if group.disk_type and group.disk_bytes:
                key = f"disk.{group.disk_type}"
                stored = count * group.disk_bytes
                lines.append(_line("disks", f"{group.name}: {count} x {group.disk_bytes / 2**40:g}"
                                   f" TiB {group.disk_type} in {region}", stored,
                                   "byte-months", key, book.get(key, region), region))
    if dep.spanner_config and dep.spanner_nodes:
        key = f"metadata.spanner.{dep.spanner_config}.node.{dep.commitment}"
        lines.append(_line("metadata", f"Spanner {dep.spanner_config}: {dep.spanner_nodes} "
                           f"nodes", dep.spanner_nodes * MONTH_HOURS, "node-hours", key,
                           book.get(key)))
    return lines


def _storage_lines(dep: Deployment, book: PriceBook, rate: Usage) -> list[Line]:
    """Average stored bytes over a month: (bytes written to buckets per second) x retention."""
    written = rate.object_put_bytes
    if dep.tiered_storage:
        written += rate.written_compressed_bytes
    if book.rules.bucket_replication == "transfer" and dep.bucket_kind != "regional":
        # Separate replica buckets (S3 CRR) store and bill every copy.
        written += _replicated(dep, book, rate)
    if written <= 0:
        return []
    key = f"object_storage.{dep.bucket_kind}.{dep.storage_class}"
    stored = written * dep.retention
    return [_line("object_storage", f"{dep.bucket_kind} bucket, {dep.storage_class}: "
                  f"{format_bytes(stored)} ({dep.retention / 86400:g} days retained)",
                  stored, "byte-months", key, book.get(key))]


def _replicated(dep: Deployment, book: PriceBook, usage: Usage) -> float:
    """Bytes billed for bucket replication.

    ``fee`` (GCS dual/multi-region): per byte written to the bucket that replicates, so
    the copies the simulation counts are divided by the number of other regions. ``transfer``
    (S3 CRR, Azure): every copy is billed. Tiered storage adds the acknowledged writes.
    """
    if dep.bucket_kind == "regional":
        return 0.0
    others = max(1, len(dep.bucket_regions) - 1)
    copies = replication_bytes(usage.bytes)
    tiered = usage.written_compressed_bytes if dep.tiered_storage else 0.0
    if book.rules.bucket_replication == "fee":
        return copies / others + tiered
    return copies + tiered * others


def _request_key(dep: Deployment, book: PriceBook, cls: str) -> str:
    """The key pricing object requests of ``cls``: the service's if the book has it,
    else the bucket kind's (what an unpriced line then names)."""
    if dep.object_service:
        key = f"object_requests.{dep.object_service}.{cls}"
        if book.get(key) is not None:
            return key
    return f"object_requests.{dep.bucket_kind}.{cls}"


def _usage_lines(dep: Deployment, book: PriceBook, usage: Usage) -> list[Line]:
    """Lines priced from usage totals (a month's, or an outage's excess)."""
    lines = []
    kind = dep.bucket_kind
    if usage.object_puts:
        key = _request_key(dep, book, "class_a")
        lines.append(_line("object_requests", "object writes (PUT, class A)", usage.object_puts,
                           "requests", key, book.get(key)))
    if usage.object_gets:
        key = _request_key(dep, book, "class_b")
        lines.append(_line("object_requests", "object reads (GET, class B)", usage.object_gets,
                           "requests", key, book.get(key)))
    for direction, size, what in (("upload", usage.object_put_bytes, "sent by PUTs"),
                                  ("retrieval", usage.object_get_bytes, "read by GETs")):
        key = f"object_transfer.{dep.object_service}.{direction}"
        price = book.get(key) if dep.object_service else None
        if price is not None and size:
            lines.append(_line("object_requests", f"{dep.object_service} data {direction} "
                               f"({format_bytes(size)} {what})", size, "bytes", key, price))
    if dep.metadata_preset == "dynamodb":
        for what, count, key in (
                ("writes (1 write request unit per commit)", usage.metadata_commits,
                 "metadata.dynamodb.write.on_demand"),
                ("reads (1 read request unit per strongly consistent read)",
                 usage.metadata_reads, "metadata.dynamodb.read.on_demand")):
            if count:
                lines.append(_line("metadata", f"DynamoDB on-demand {what}", count,
                                   "requests", key, book.get(key)))
    copied = _replicated(dep, book, usage)
    if copied:
        if book.rules.bucket_replication == "fee":
            key = f"object_replication.{kind}"
        else:
            key = "network.inter_region"
        lines.append(_line("object_replication", f"{kind} bucket replication "
                           f"({format_bytes(copied)})", copied, "bytes", key, book.get(key)))
    charges = network_charges(usage.bytes, dep.zone_region, book.rules, bucket_kind=kind,
                              bucket_regions=dep.bucket_regions,
                              managed_metadata=dep.managed_metadata,
                              zonal_bucket=dep.zonal_bucket)
    grouped: dict[tuple[str, str], list] = {}
    for charge in charges:
        grouped.setdefault((charge.traffic_class, charge.purpose), []).append(charge)
    for (cls, purpose), items in grouped.items():
        key = f"network.{cls}"
        total = sum(c.bytes for c in items)
        sides = items[0].sides
        label = "inter-region" if cls == INTER_REGION else "inter-zone"
        suffix = {0: ", not billed", 2: ", billed in each direction"}.get(sides, "")
        default = book.get(key)
        priced = [price for c in items if (price := book.get(key, c.region)) is not None]
        if default is None or len(priced) < len(items):
            lines.append(_line("network", f"{label} {purpose} ({format_bytes(total)}{suffix})",
                               total, "bytes", key, None))
            continue
        usd = sum(c.bytes * c.sides * p.per_byte for c, p in zip(items, priced, strict=True))
        lines.append(Line("network", f"{label} {purpose} ({format_bytes(total)}{suffix})",
                          total, "bytes", key, default.value, default.unit, usd, default.source))
    if dep.licence and usage.written_bytes:
        key = f"licence.{dep.licence}"
        lines.append(_line("licence", f"{dep.licence} licence ({format_bytes(usage.written_bytes)}"
                           f" uncompressed writes)", usage.written_bytes, "bytes", key,
                           book.get(key)))
    return lines


def compute_bill(dep: Deployment, book: PriceBook, steady: Usage, *,
                 outage_excess: Usage | None = None,
                 steady_window: tuple[float, float] | None = None) -> Bill:
    """The bill of ``dep`` priced with ``book``.

    ``steady`` is the usage of a steady-state window (its rates are extrapolated to a
    30-day month); ``outage_excess`` is the usage of an outage window minus the steady
    rate over that window (see :meth:`Usage.minus`).
    """
    rate = steady.per_second()
    month = rate.scaled(MONTH_SECONDS, seconds=MONTH_SECONDS)
    bill = Bill(provider=dep.provider, steady_window=steady_window,
                overridden=sorted(book.overridden))
    lines = [*_fixed_lines(dep, book), *_storage_lines(dep, book, rate),
             *_usage_lines(dep, book, month)]
    order = {c: i for i, c in enumerate(CATEGORIES)}
    bill.lines = sorted(lines, key=lambda line: order[line.category])
    if outage_excess is not None:
        bill.outage_seconds = outage_excess.seconds
        bill.outage_lines = _usage_lines(dep, book, outage_excess)
    return bill
