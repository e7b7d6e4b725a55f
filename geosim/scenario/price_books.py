"""Price-book files: the bundled ``geosim/data/prices/<provider>.yaml``, read and validated,
and what a scenario's ``cost.prices`` may set in one.

The format of a book lives here, below the cost model, so that the scenario checks reject
a bad ``cost.prices`` entry when the scenario is loaded without importing
:mod:`geosim.cost`; :mod:`geosim.cost.prices` prices with the same file and the same rule
for overrides (:func:`override_units`). Prices are keyed by dotted names (the first part
is the family)::

    network.inter_zone | network.inter_region | network.internet       per GiB or GB moved
    instance.<type>.<commitment>                                      per instance-hour
    tier1_networking.<type>.<commitment>                              per instance-hour
    disk.<type>                                                       per GiB-month
    disk.<type>.iops | disk.<type>.throughput                         per IOPS- or MB/s-month
    object_storage.<bucket kind>.<storage class>                      per GiB-month
    object_requests.<service>.class_a | class_b                       per 1000 requests
    object_requests.<bucket kind>.class_a | class_b                   (when the service has none)
    object_transfer.<service>.upload | retrieval                      per GiB sent or read
    object_replication.<bucket kind>                                  per GiB replicated
    metadata.spanner.<config>.node.<commitment>                       per node-hour
    metadata.dynamodb.write | read.on_demand                          per 1000 request units
    licence.<product>                                                 per GiB written

Object requests are priced by the object-store service (``object_store.service``, say
``s3-express-one-zone``) where the book prices that service, else by bucket kind: one
provider's services differ in request prices (S3 Express One Zone against S3 Standard).

``<key>@<region>`` names the price of one region where it differs from the default. A
scenario overrides any price (``cost.prices``), or adds one to a family of
:data:`OPEN_FAMILIES` that the book already has (its unit is the family's). The book's
``rules`` say how the provider bills what it measures (see :mod:`geosim.cost.rules`).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
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
                 "object_transfer", "object_replication", "metadata", "licence")
#: Families whose last key part is the commitment.
COMMITTED_FAMILIES = ("instance", "tier1_networking", "metadata")
COMMITMENTS = ("on_demand", "1y")

#: Units a price may have, and the quantity each multiplies.
Unit = Literal["USD/GiB", "USD/GB", "USD/hour", "USD/GiB-month", "USD/GB-month",
               "USD/1000 requests", "USD/IOPS-month", "USD/MBps-month"]


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
    zonal_bucket_transfer_billed: bool


class PriceBookFile(_Frozen):
    provider: Literal["gcp", "aws", "azure"]
    currency: Literal["USD"]
    rules: BillingRules
    rules_source: str = Field(min_length=1)
    prices: dict[str, PriceEntry]


class PriceError(ValueError):
    """A price override or a price book the cost model cannot accept.

    ``path`` is the field path inside the file (``cost.prices.<key>``), ``value`` the
    offending value; the scenario checks turn it into a one-line ScenarioError.
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


def read_price_book(provider: str) -> tuple[PriceBookFile, str]:
    """The validated book of ``provider`` and the name of its file in messages.

    Raises :class:`PriceError` for an unknown provider or a malformed book.
    """
    if provider not in PROVIDERS:
        raise PriceError("cost.provider", f"unknown provider; expected one of: "
                         f"{', '.join(PROVIDERS)}", provider)
    return _book_file(provider)


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


def override_units(book: PriceBookFile, file: str,
                   overrides: Mapping[str, float]) -> dict[str, str]:
    """The unit of each price a scenario sets (``cost.prices``) in ``book`` (named ``file``).

    A key the book has keeps its unit; a new key of an open family takes the family's.
    Raises :class:`PriceError` for a value that is not a number or negative, a key of a
    committed family without its commitment, or an unknown key (with the closest one).
    """
    units: dict[str, str] = {key: entry.unit for key, entry in book.prices.items()}
    added = {}
    for key, value in overrides.items():
        # An override may extend an earlier one (a regional price of a new key).
        units[key] = added[key] = _override_unit(units, key, value, book.provider, file)
    return added


def _override_unit(units: Mapping[str, str], key: str, value: float, provider: str,
                   file: str) -> str:
    path = f"cost.prices.{key}"
    if not isinstance(value, int | float) or isinstance(value, bool) or value != value:
        raise PriceError(path, "must be a number (a price in the unit of the book's key)",
                         value)
    if value < 0:
        raise PriceError(path, "must be >= 0 (a price)", value)
    base = key.split("@", 1)[0]
    known = units.get(base)
    if known is None:
        known = units.get(key)
    if known is not None:
        return known
    fam = family(key)
    sibling = next((unit for k, unit in sorted(units.items())
                    if "@" not in k and family(k) == fam), None)
    if fam[0] not in OPEN_FAMILIES:
        sibling = None
    if sibling is not None and fam[0] in COMMITTED_FAMILIES \
            and base.rsplit(".", 1)[-1] not in COMMITMENTS:
        raise PriceError(path, f"must end in a commitment ({', '.join(COMMITMENTS)})", value)
    if sibling is None:
        close = difflib.get_close_matches(base, sorted(units), n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        raise PriceError(path, f"unknown price key for provider {provider}{hint} "
                         f"(keys and families: {file})", value)
    return sibling


def check_price_overrides(provider: str, overrides: Mapping[str, float]) -> None:
    """Raise :class:`PriceError` unless ``provider``'s book takes every override."""
    book, file = read_price_book(provider)
    override_units(book, file, overrides)
