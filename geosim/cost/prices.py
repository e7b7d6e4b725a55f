"""The price book: what a provider charges, as data, each price with its source and date.

A provider's book is ``geosim/data/prices/<provider>.yaml``, validated here with pydantic.
Prices are keyed by dotted names (the first part is the family)::

    network.inter_zone | network.inter_region | network.internet       per GiB or GB moved
    instance.<type>.<commitment>                                      per instance-hour
    tier1_networking.<type>.<commitment>                              per instance-hour
    disk.<type>                                                       per GiB-month
    object_storage.<bucket kind>.<storage class>                      per GiB-month
    object_requests.<bucket kind>.class_a | class_b                   per 1000 requests
    object_replication.<bucket kind>                                  per GiB replicated
    metadata.spanner.<config>.node.<commitment>                       per node-hour
    licence.<product>                                                 per GiB written

``<key>@<region>`` names the price of one region where it differs from the default. A
scenario overrides any price (``cost.prices``), or adds one to a family of
:data:`OPEN_FAMILIES` that the book already has (its unit is the family's), and its
file is then the source. The book's ``rules`` say how the
provider bills what it measures (see :mod:`geosim.cost.rules`).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

PRICES_DIR = Path(__file__).resolve().parent.parent / "data" / "prices"
PROVIDERS: tuple[str, ...] = ("gcp", "aws", "azure")

#: Families a scenario may add new keys to (a new instance type, disk, product...);
#: network keys are fixed, so a misspelt one is an error rather than a new price.
OPEN_FAMILIES = ("instance", "tier1_networking", "disk", "object_storage", "object_requests",
                 "object_replication", "metadata", "licence")
#: Families whose last key part is the commitment.
COMMITTED_FAMILIES = ("instance", "tier1_networking", "metadata")
COMMITMENTS = ("on_demand", "1y")

GIB = 2**30
GB = 10**9

#: Units a price may have, and the quantity each multiplies.
Unit = Literal["USD/GiB", "USD/GB", "USD/hour", "USD/GiB-month", "USD/GB-month",
               "USD/1000 requests"]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PriceEntry(_Frozen):
    """One price, as the book states it."""

    value: float = Field(ge=0)
    unit: Unit
    source: str = Field(min_length=1)
    date: str = Field(min_length=1)
    confidence: Literal["high", "med", "low"]
    note: str = ""


class BillingRules(_Frozen):
    """How a provider bills what geosim measures (see :mod:`geosim.cost.rules`)."""

    inter_zone_billed_sides: int = Field(ge=0, le=2)
    bucket_replication: Literal["fee", "transfer"]
    bucket_internal_transfer_free: bool
    managed_metadata_transfer_billed: bool


class PriceBookFile(_Frozen):
    provider: Literal["gcp", "aws", "azure"]
    currency: Literal["USD"]
    rules: BillingRules
    rules_source: str = Field(min_length=1)
    prices: dict[str, PriceEntry]


@dataclass(frozen=True)
class Price:
    """A resolved price: value per unit, and where it came from."""

    key: str
    value: float
    unit: str
    source: str
    date: str
    confidence: str
    note: str = ""

    @property
    def per_byte(self) -> float:
        """The value per byte for ``USD/GiB``, ``USD/GB`` and their ``-month`` forms."""
        if self.unit.startswith("USD/GiB"):
            return self.value / GIB
        if self.unit.startswith("USD/GB"):
            return self.value / GB
        raise ValueError(f"price {self.key} is per {self.unit}, not per byte")


class PriceError(ValueError):
    """A price override or a price book the cost model cannot accept.

    ``path`` is the field path inside the file (``cost.prices.<key>``), ``value`` the
    offending value; the scenario loader turns it into a one-line ScenarioError.
    """

    def __init__(self, path: str, expected: str, value: object = None):
        self.path = path
        self.expected = expected
        self.value = value
        super().__init__(f"{path}: {expected}" + ("" if value is None else f", got {value!r}"))


def family(key: str) -> tuple[str, int]:
    """``instance.n2d-standard-32.1y`` -> ``("instance", 3)``: the family and key length."""
    base = key.split("@", 1)[0]
    parts = base.split(".")
    return parts[0], len(parts)


class PriceBook:
    """A provider's prices with any scenario overrides applied; look-ups by key and region."""

    def __init__(self, book: PriceBookFile, file: str,
                 overrides: Mapping[str, float] | None = None,
                 override_source: str = "scenario (cost.prices)"):
        self.provider = book.provider
        self.rules = book.rules
        self.rules_source = book.rules_source
        self.file = file
        self._prices: dict[str, Price] = {
            key: Price(key, e.value, e.unit, e.source, e.date, e.confidence, e.note)
            for key, e in book.prices.items()}
        self.overridden: set[str] = set()
        for key, value in (overrides or {}).items():
            self._override(key, value, override_source)

    def _override(self, key: str, value: float, source: str) -> None:
        path = f"cost.prices.{key}"
        if not isinstance(value, int | float) or isinstance(value, bool) or value != value:
            raise PriceError(path, "must be a number (a price in the unit of the book's key)",
                             value)
        if value < 0:
            raise PriceError(path, "must be >= 0 (a price)", value)
        base = key.split("@", 1)[0]
        known = self._prices.get(base) or self._prices.get(key)
        if known is None:
            fam = family(key)
            sibling = next((p for k, p in sorted(self._prices.items())
                            if "@" not in k and family(k) == fam), None)
            if fam[0] not in OPEN_FAMILIES:
                sibling = None
            if sibling is not None and fam[0] in COMMITTED_FAMILIES \
                    and base.rsplit(".", 1)[-1] not in COMMITMENTS:
                raise PriceError(path, f"must end in a commitment ({', '.join(COMMITMENTS)})",
                                 value)
            if sibling is None:
                close = difflib.get_close_matches(base, sorted(self._prices), n=1)
                hint = f"; did you mean {close[0]}?" if close else ""
                raise PriceError(path, f"unknown price key for provider {self.provider}{hint} "
                                 f"(keys and families: {self.file})", value)
            unit = sibling.unit
        else:
            unit = known.unit
        self._prices[key] = Price(key, float(value), unit, source, "scenario", "scenario",
                                  "set in the scenario")
        self.overridden.add(key)

    def keys(self) -> list[str]:
        return sorted(self._prices)

    def get(self, key: str, region: str | None = None) -> Price | None:
        """The price of ``key`` in ``region`` (its ``@region`` variant if any), or None."""
        if region is not None:
            regional = self._prices.get(f"{key}@{region}")
            if regional is not None:
                return regional
        return self._prices.get(key)

    def entries(self) -> dict[str, Price]:
        return dict(sorted(self._prices.items()))


@cache
def _book_file(provider: str) -> tuple[PriceBookFile, str]:
    path = PRICES_DIR / f"{provider}.yaml"
    display = f"geosim/data/prices/{provider}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    try:
        book = PriceBookFile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise PriceError(f"{display}: {where}", first["msg"]) from None
    if book.provider != provider:
        raise PriceError(f"{display}: provider", f"must be {provider}", book.provider)
    return book, display


def load_price_book(provider: str, overrides: Mapping[str, float] | None = None, *,
                    override_source: str = "scenario (cost.prices)") -> PriceBook:
    """The price book of ``provider`` with ``overrides`` (``cost.prices``) applied.

    Raises :class:`PriceError` for an unknown provider, a bad override (negative, not a
    number, unknown key of an unknown family) or a malformed book.
    """
    if provider not in PROVIDERS:
        raise PriceError("cost.provider", f"unknown provider; expected one of: "
                         f"{', '.join(PROVIDERS)}", provider)
    book, display = _book_file(provider)
    return PriceBook(book, display, overrides, override_source)
