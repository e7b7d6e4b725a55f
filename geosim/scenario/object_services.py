"""Object-storage service presets: ``geosim/data/object_storage.yaml``, read and validated.

A preset describes one service and storage class (GCS regional, S3 Standard, S3 Express
One Zone...): per request a fixed service time ``F`` (lognormal through a p50 and a p99,
PUT and GET separately) and a per-connection throughput ``B``, so that a request of ``s``
bytes takes ``F + s / B`` (plus the network's round trip), and the request-rate limits
the provider documents. Every figure carries its source, date and confidence; the
scenario reference prints them. The object store (``geosim.components.object_store``)
times requests from :func:`resolve`; the scenario checks read :func:`service_names`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from geosim.core.units import parse_rate

SERVICES_FILE = Path(__file__).resolve().parent.parent / "data" / "object_storage.yaml"

Confidence = Literal["high", "med", "low"]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Sourced(_Frozen):
    source: str
    date: str
    confidence: Confidence


class Quantiles(Sourced):
    """A lognormal through its median and 99th percentile, in seconds."""

    p50: float = Field(gt=0)
    p99: float = Field(gt=0)


class Throughput(Sourced):
    value: float  # bytes/s once parsed

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("value"), str):
            data = {**data, "value": parse_rate(data["value"])}
        return data


class RateLimit(Sourced):
    value: float = Field(gt=0)
    scope: Literal["bucket", "prefix", "account"]


class Service(_Frozen):
    provider: Literal["gcp", "aws", "azure"]
    description: str
    kinds: list[Literal["regional", "dual-region", "multi-region"]]
    zonal: bool
    same_as: str | None = None
    note: str | None = None
    put_ttfb: Quantiles | None = None
    get_ttfb: Quantiles | None = None
    put_throughput: Throughput | None = None
    get_throughput: Throughput | None = None
    write_rate_limit: RateLimit | None = None
    read_rate_limit: RateLimit | None = None


class ServicesFile(_Frozen):
    services: dict[str, Service]
    defaults: dict[str, dict[str, str]]


@dataclass(frozen=True)
class ResolvedService:
    """A preset with its ``same_as`` chain followed: every figure present."""

    name: str
    service: Service
    put_ttfb: Quantiles
    get_ttfb: Quantiles
    put_throughput: Throughput
    get_throughput: Throughput
    write_rate_limit: RateLimit | None
    read_rate_limit: RateLimit | None


@cache
def load_services() -> ServicesFile:
    """The bundled presets (validated once per process)."""
    data = yaml.safe_load(SERVICES_FILE.read_text())
    book = ServicesFile.model_validate(data)
    for name in book.services:
        resolve(name, book)  # every chain resolves to complete figures
    for provider, by_kind in book.defaults.items():
        for kind, name in by_kind.items():
            if name not in book.services or kind not in book.services[name].kinds:
                raise ValueError(f"{SERVICES_FILE}: defaults.{provider}.{kind}: {name!r} "
                                 f"is not a service offering kind {kind}")
    return book


def service_names() -> list[str]:
    return sorted(load_services().services)


def default_service(provider: str, kind: str) -> str | None:
    """The preset a scenario gets without ``object_store.service`` (None: no default)."""
    return load_services().defaults.get(provider, {}).get(kind)


def resolve(name: str, book: ServicesFile | None = None) -> ResolvedService:
    """A preset by name, with figures inherited through ``same_as``."""
    book = book or load_services()
    service = book.services[name]
    figures: dict[str, Any] = {}
    seen: list[str] = []
    current: Service | None = service
    while current is not None:
        for key in ("put_ttfb", "get_ttfb", "put_throughput", "get_throughput",
                    "write_rate_limit", "read_rate_limit"):
            if figures.get(key) is None:
                figures[key] = getattr(current, key)
        if current.same_as is None:
            break
        if current.same_as in seen or current.same_as not in book.services:
            raise ValueError(f"{SERVICES_FILE}: services.{name}.same_as: bad chain {seen}")
        seen.append(current.same_as)
        current = book.services[current.same_as]
    for key in ("put_ttfb", "get_ttfb", "put_throughput", "get_throughput"):
        if figures[key] is None:
            raise ValueError(f"{SERVICES_FILE}: services.{name}: no {key}")
    return ResolvedService(name, service, **figures)


__all__ = ["ResolvedService", "Service", "default_service", "load_services", "resolve",
           "service_names"]
