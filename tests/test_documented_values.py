"""Documented defaults and bounds are the code's, class by class (docs/mutation.md,
the fourth round): every Kafka config key's default and accepted range as the scenario
reference states them, and every configuration generator's default bounds as
docs/property-testing.md states them.

Each test is driven from the documents, not from a hand-written list of sites, so a
changed constant anywhere in a key table or a generator's signature fails here. The
modules are imported by name so that ``benchmarks/mutate.py`` (which selects a mutant's
tests by their imports) runs this file against them.

Regenerate the generators' table with ``PYTHONPATH=. python tests/test_documented_values.py``
and paste it between the markers of docs/property-testing.md.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from types import ModuleType

import pytest

import geosim.kafka.config
import geosim.kafka.generators
import geosim.kafka.storage_spec
import geosim.kafka.wire
import geosim.scenario.omb
import geosim.strategies.cluster_linking.config
import geosim.strategies.cluster_linking.generators
import geosim.strategies.diskless.generators
import geosim.strategies.edge.config
import geosim.strategies.mirrormaker2.config
import geosim.strategies.mirrormaker2.generators
import geosim.strategies.observers.generators
import geosim.strategies.replicator.config
import geosim.strategies.replicator.generators
import geosim.strategies.shared_storage.generators
import geosim.strategies.stretch.generators
import geosim.testing.generators
from geosim.scenario.kafka_keys import KafkaKey

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "docs" / "scenario-reference.md"
PROPERTY_TESTING = ROOT / "docs" / "property-testing.md"

KEY_TABLES: tuple[ModuleType, ...] = (
    geosim.kafka.config, geosim.kafka.storage_spec, geosim.scenario.omb,
    geosim.strategies.mirrormaker2.config, geosim.strategies.replicator.config,
    geosim.strategies.cluster_linking.config, geosim.strategies.edge.config)
GENERATORS: tuple[ModuleType, ...] = (
    geosim.testing.generators, geosim.kafka.generators,
    geosim.strategies.cluster_linking.generators, geosim.strategies.diskless.generators,
    geosim.strategies.mirrormaker2.generators, geosim.strategies.observers.generators,
    geosim.strategies.replicator.generators, geosim.strategies.shared_storage.generators,
    geosim.strategies.stretch.generators)
_LONG_MAX = 2**63 - 1


# --- config keys against the scenario reference ----------------------------------------------

def _key_tables() -> list[tuple[str, tuple[KafkaKey, ...]]]:
    """Every tuple of keys the key-table modules hold (each once)."""
    seen: dict[int, tuple[str, tuple[KafkaKey, ...]]] = {}
    for module in KEY_TABLES:
        for name, value in vars(module).items():
            if isinstance(value, tuple) and value and all(
                    isinstance(k, KafkaKey) for k in value):
                seen.setdefault(id(value), (f"{module.__name__}.{name}", value))
    return list(seen.values())


def _reference_sections() -> list[tuple[str, dict[str, list[str]]]]:
    """The reference's key tables: (section title, key -> its row's cells)."""
    sections: list[tuple[str, dict[str, list[str]]]] = []
    for line in REFERENCE.read_text(encoding="utf-8").splitlines():
        if line.startswith("### "):
            sections.append((line[4:], {}))
        elif sections and (m := re.match(r"\| `([a-z0-9.]+)` \|", line)):
            sections[-1][1][m.group(1)] = [c.strip() for c in line.strip("|").split(" | ")]
    return [(title, rows) for title, rows in sections if rows]


def _documented(keys: tuple[KafkaKey, ...]) -> list[dict[str, list[str]]]:
    """The reference sections listing ``keys`` in a row, in order (a table's part, such
    as the consumer keys of a flow's config, is listed in each table that holds it)."""
    names = [k.name for k in keys]
    found = []
    for _title, rows in _reference_sections():
        listed = list(rows)
        if any(listed[i:i + len(names)] == names for i in range(len(listed))):
            found.append(rows)
    assert found, f"no section of {REFERENCE.name} lists {names}"
    return found


def _written(default: object) -> str:
    if default is None:
        return "null (unset)"  # Kafka's null
    return str(default).lower() if isinstance(default, bool) else str(default)


def test_every_key_table_is_documented_with_its_defaults():
    """Each key's default as the reference states it (``30000``, ``5 ms``, ``false``)
    is the table's."""
    checked = 0
    for label, keys in _key_tables():
        for rows, key in ((rows, key) for rows in _documented(keys) for key in keys):
            cells = rows[key.name]
            default = cells[3] if len(cells) == 6 else cells[2]  # client / other tables
            assert default.removesuffix(" ms").removesuffix(" bytes") == \
                _written(key.default), f"{label} {key.name}: documented {default!r}"
            checked += 1
    assert checked >= 70


def _accepted(cells: list[str]) -> str:
    found = re.findall(r"\(accepted: ([^)]*)\)", " | ".join(cells))
    return found[-1] if found else ""


def _refused(key: KafkaKey, raw: object) -> bool:
    try:
        key.parse(raw)
    except ValueError:
        return True
    return False


def test_every_key_accepts_its_documented_bounds_and_refuses_one_beyond():
    """For each integer key the reference's range (``integer >= 1``, ``integer 1 to
    2147483647``): the value at each end is accepted and the nearest integer beyond it
    refused; for a number of seconds, 0 is accepted and anything below refused."""
    checked = 0
    for label, keys in _key_tables():
        for rows, key in ((rows, key) for rows in _documented(keys) for key in keys):
            accepted = _accepted(rows[key.name])
            where = f"{label} {key.name} ({accepted or 'no range documented'})"
            if key.kind in ("ms", "bytes", "int"):
                m = re.fullmatch(r"integer (-?\d+)(?: to (\d+)| or more)?", accepted) or \
                    re.fullmatch(r"integer >= (-?\d+)()", accepted)
                assert m, where
                low, high = int(m.group(1)), int(m.group(2) or _LONG_MAX)
                assert not _refused(key, low) and _refused(key, low - 1), where
                assert not _refused(key, high) and _refused(key, high + 1), where
                assert not _refused(key, key.default), where
                checked += 1
            elif key.kind == "s":
                assert accepted == "number >= 0", where
                assert not _refused(key, 0) and _refused(key, -0.001), where
                checked += 1
            else:
                assert not accepted, where
    assert checked >= 50


# --- generators' default bounds against docs/property-testing.md -----------------------------

_BEGIN = "<!-- generator defaults: begin (tests/test_documented_values.py) -->"
_END = "<!-- generator defaults: end -->"


def _plain(value: object) -> bool:
    if isinstance(value, tuple | list):
        return all(_plain(v) for v in value)
    return isinstance(value, bool | int | float | str)


def _show(value: object) -> str:
    if isinstance(value, tuple | list):
        return "(" + ", ".join(_show(v) for v in value) + ("," if len(value) == 1 else "") \
            + ")"
    return repr(value) if isinstance(value, str) else _written(value)


def generator_defaults() -> str:
    """The Markdown table of every public generator's keyword defaults that are numbers,
    strings or tuples of them, one row per function."""
    lines = ["| generator | defaults |", "|---|---|"]
    for module in GENERATORS:
        for name, fn in sorted(vars(module).items()):
            if name.startswith("_") or not inspect.isfunction(fn) \
                    or fn.__module__ != module.__name__:
                continue
            params = [f"`{p.name}={_show(p.default)}`"
                      for p in inspect.signature(fn).parameters.values()
                      if p.default is not inspect.Parameter.empty and _plain(p.default)]
            if params:
                lines.append(f"| `{module.__name__}.{name}` | {', '.join(params)} |")
    return "\n".join(lines)


def test_the_generators_default_bounds_are_the_documented_ones():
    """A generator's default bounds are its documented contract (what a property test
    explores when it names none); the table in docs/property-testing.md is theirs."""
    text = PROPERTY_TESTING.read_text(encoding="utf-8")
    assert _BEGIN in text and _END in text
    documented = text.split(_BEGIN, 1)[1].split(_END, 1)[0].strip()
    assert documented == generator_defaults(), \
        "regenerate: PYTHONPATH=. python tests/test_documented_values.py"


@pytest.mark.parametrize("module", GENERATORS, ids=lambda m: m.__name__)
def test_every_generator_module_has_documented_defaults(module):
    assert f"`{module.__name__}." in generator_defaults()


if __name__ == "__main__":
    print(generator_defaults())


def test_the_request_sizes_are_the_ones_docs_architecture_states():
    """docs/architecture.md ("Request sizes") lists every size of geosim/kafka/wire.py."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    stated = dict(re.findall(r"^  \| `([A-Z_]+_BYTES)` \| (\d+) \|", text, re.M))
    sizes = {name: getattr(geosim.kafka.wire, name)
             for name in geosim.kafka.wire.__all__ if name.endswith("_BYTES")}
    assert len(sizes) == 7
    assert {name: int(v) for name, v in stated.items()} == sizes
