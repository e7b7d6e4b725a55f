"""The price book: what a provider charges, as data, each price with its source and date.

A provider's book is ``geosim/data/prices/<provider>.yaml``; its format, how it is read
and validated and what a scenario's ``cost.prices`` may set in it are
:mod:`geosim.scenario.price_books` (below the cost model, so that the scenario checks use
them). Here the book is priced: :class:`PriceBook` with the scenario's overrides applied,
the file it came from or the scenario file being each price's source.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from geosim.scenario.price_books import PriceBookFile, override_units, read_price_book

GIB = 2**30
GB = 10**9


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
        overrides = overrides or {}
        for key, unit in override_units(book, file, overrides).items():
            self._prices[key] = Price(key, float(overrides[key]), unit, override_source,
                                      "scenario", "scenario", "set in the scenario")
        self.overridden: set[str] = set(overrides)

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


def load_price_book(provider: str, overrides: Mapping[str, float] | None = None, *,
                    override_source: str = "scenario (cost.prices)") -> PriceBook:
    """The price book of ``provider`` with ``overrides`` (``cost.prices``) applied.

    Raises :class:`~geosim.scenario.price_books.PriceError` for an unknown provider, a
    bad override (negative, not a number, unknown key of an unknown family) or a
    malformed book.
    """
    book, display = read_price_book(provider)
    return PriceBook(book, display, overrides, override_source)
