"""The generated scenario reference matches the schema and covers every field."""

from __future__ import annotations

import subprocess
import sys
import typing
from pathlib import Path

from pydantic import BaseModel

from geosim.scenario.omb import CONSUMER_KEYS, PRODUCER_KEYS
from geosim.scenario.reference import render_reference
from geosim.scenario.schema import FaultSpec, Scenario

DOC = Path(__file__).resolve().parent.parent / "docs" / "scenario-reference.md"


def test_committed_reference_is_up_to_date() -> None:
    # If this fails: python -m geosim.scenario.reference > docs/scenario-reference.md
    assert DOC.read_text(encoding="utf-8") == render_reference()


def test_module_entry_point_prints_the_reference() -> None:
    out = subprocess.run([sys.executable, "-m", "geosim.scenario.reference"],
                         capture_output=True, text=True, check=True).stdout
    assert out == render_reference()


def _models(annotation: typing.Any) -> list[type[BaseModel]]:
    found = []
    for arg in (annotation, *typing.get_args(annotation)):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            found.append(arg)
        elif arg is not annotation:
            found.extend(_models(arg))
    return found


def test_every_field_of_every_model_is_documented() -> None:
    text = render_reference()
    seen: set[type[BaseModel]] = set()
    todo = [Scenario]
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.add(model)
        for name, info in model.model_fields.items():
            assert f"{name}` |" in text, f"{model.__name__}.{name} missing from the reference"
            todo.extend(_models(info.annotation))
    # The walk reached the OMB models and every union member.
    assert {"OmbWorkload", "OmbDriver", "LogNormalDist", "EmpiricalDist",
            "DisklessSpec", "BrokerCrash"} <= {m.__name__ for m in seen}


def test_every_fault_kind_and_distribution_has_a_section() -> None:
    text = render_reference()
    union = typing.get_args(typing.get_args(FaultSpec)[0])
    kinds = [typing.get_args(m.model_fields["kind"].annotation)[0] for m in union]
    assert len(kinds) == 14
    for kind in kinds:
        assert f"### `kind: {kind}`" in text
    for dist in ("constant", "normal", "lognormal", "empirical"):
        assert f"### `dist: {dist}`" in text
    for strategy in ("diskless", "stretch", "observers", "edge"):
        assert f"### `name: {strategy}`" in text


def test_kafka_keys_with_defaults_and_sources() -> None:
    text = render_reference()
    for key in PRODUCER_KEYS + CONSUMER_KEYS:
        row = next(line for line in text.splitlines() if line.startswith(f"| `{key.name}` |"))
        assert key.source.split(" (")[0] in row
    assert "| `linger.ms` | `linger` | s | 5 ms |" in text
    assert "KIP-1030" in text


def test_units_and_sources_are_shown() -> None:
    text = render_reference()
    assert ("| `strategy.flush_interval` | number | s | `0.25` (250ms) | A broker writes its "
            "buffer as one object at least this often. | domain.md §5 (~250 ms)") in text
    assert "| `strategy.flush_bytes` | integer | bytes | `33554432` (32.00MiB) |" in text
