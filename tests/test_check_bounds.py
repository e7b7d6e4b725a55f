"""Every bound a scenario check states is the bound it applies (docs/mutation.md, the
fourth round): the class of ``>`` written for ``>=`` in a check.

For every numeric field of a set of bundled scenarios (each enriched as the error corpus
enriches it, so every field a scenario may hold appears), values below and above any
sensible range are tried. Where the refusal names that field and states its bound as a
number (``must be >= 0``, ``must be > 0 (in seconds)``, ``must be <= the replication
factor (3): ...``, ``must be at most 1,000``), the field is set exactly at the bound
and to the nearest value beyond it (the next integer for an integer field, the next
float otherwise): the first must not be refused with that bound, the second must be.
The bounds are read from the messages, so a new check is covered as soon as a scenario
here holds its field.

The check modules are imported by name so that ``benchmarks/mutate.py`` (which selects
a mutant's tests by their imports) runs this file against them.
"""

from __future__ import annotations

import ast
import inspect
import math
import re
import sys
from pathlib import Path
from typing import Any

import yaml
from test_error_corpus import (
    BASES,
    ROOT,
    _merge,
    _names,
    dotted,
    numeric_leaves,
    with_value,
)

import geosim.kafka.checks
import geosim.kafka.spec  # noqa: F401 - for benchmarks/mutate.py
import geosim.kafka.storage_spec  # noqa: F401 - for benchmarks/mutate.py
import geosim.strategies.cluster_linking.checks  # noqa: F401 - for benchmarks/mutate.py
import geosim.strategies.diskless.checks
import geosim.strategies.diskless.spec  # noqa: F401 - for benchmarks/mutate.py
import geosim.strategies.edge.checks
import geosim.strategies.edge.spec  # noqa: F401 - for benchmarks/mutate.py
import geosim.strategies.mirrormaker2.checks  # noqa: F401 - for benchmarks/mutate.py
import geosim.strategies.observers.checks  # noqa: F401 - for benchmarks/mutate.py
import geosim.strategies.replicator.checks
import geosim.strategies.replicator.spec  # noqa: F401 - for benchmarks/mutate.py
import geosim.strategies.shared_storage.checks
import geosim.strategies.shared_storage.spec  # noqa: F401 - for benchmarks/mutate.py
from geosim.scenario.checks import Checker
from geosim.scenario.errors import ScenarioError
from geosim.scenario.loader import dump_scenario, load_scenario, scenario_from_dict

#: Scenarios probed: the error corpus's bases and one of each strategy it leaves out.
SCENARIOS = sorted({*BASES, "replicator-active-passive", "edge-fleet", "shared-storage",
                    "shared-storage-dr", "stretch-topics", "mm2-active-active"})
#: The check modules whose bounds are probed (each must be seen refusing).
CHECK_MODULES = (geosim.kafka.checks, geosim.strategies.diskless.checks,
                 geosim.strategies.edge.checks, geosim.strategies.replicator.checks,
                 geosim.strategies.shared_storage.checks)
#: Fields a scenario leaves unset that a check bounds: (path, value) set before probing.
EXTRA: dict[str, list[tuple[tuple[Any, ...], Any]]] = {
    "edge-fleet": [(("strategy", "sites", 0, "replication_factor"), 1)],
    "stretch-3-regions": [(("strategy", "append_interval"), 0.005)],
    "shared-storage": [(("strategy", "append_interval"), 0.005)],
    "stretch-topics": [
        (("workload", "topics", 0, "config", "replication.factor"), 3),
        (("workload", "topics", 1, "replica_placement"),
         {"us-west1": 1, "us-west2": 1, "us-west3": 1})],
}
#: Values that fall outside most fields' ranges, below and above.
PROBES = (0, -1, 10**12)

_BOUND = re.compile(
    r"must be (?:an integer )?(?P<op><=|>=|<|>|at most) "
    r"(?:[^(:]*?\()?(?P<n>-?\d[\d,]*(?:\.\d+)?(?:e[+-]?\d+)?)(?P<rest>.*)")


def refusal(source: str, data: dict[str, Any]) -> str | None:
    """None if the scenario passes the checks (``geosim validate``'s, without the
    zero-length build: a bound is a check's); else the one-line refusal."""
    try:
        scenario_from_dict(data, source=source)
    except ScenarioError as exc:
        return str(exc)
    return None


def _loaded(name: str) -> tuple[str, dict[str, Any]]:
    data = yaml.safe_load(dump_scenario(load_scenario(ROOT / "scenarios" / f"{name}.yaml")))
    _merge(data, BASES.get(name, {}))
    for path, value in EXTRA.get(name, []):
        data = with_value(data, path, value)
    data.pop("compare", None)
    source = f"{name}.yaml"
    scenario_from_dict(data, source=source)
    return source, data


def _stated(message: str | None, source: str, path: tuple) -> tuple[str, float] | None:
    """(operator, bound) the refusal states for the field at ``path``, if it does."""
    if message is None or not _names(message, source, path):
        return None
    said = message[len(source) + 2:].split(": ", 1)[1]
    m = _BOUND.match(said)
    if m is None or m.group("rest").startswith(" days"):
        return None
    op = "<=" if m.group("op") == "at most" else m.group("op")
    return op, float(m.group("n").replace(",", ""))


def _step(x: float, up: bool, integer: bool) -> float:
    """The next value above (``up``) or below ``x``: an integer's neighbour or the next
    float."""
    if integer:
        return x + 1 if up else x - 1
    return math.nextafter(x, math.inf if up else -math.inf)


def _ends(op: str, bound: float, integer: bool) -> tuple[float, float]:
    """(the accepted value nearest the bound, the refused value nearest it)."""
    if op in (">=", "<="):
        return bound, _step(bound, op == "<=", integer)
    return _step(bound, op == ">", integer), bound


def _value(x: float, integer: bool) -> float | int:
    return int(x) if integer else float(x)


def _probe(name: str) -> tuple[int, list[str]]:
    source, data = _loaded(name)
    checked, problems = 0, []
    for path, original in numeric_leaves(data):
        integer = isinstance(original, int)
        seen: set[tuple[str, float]] = set()
        todo: list[float] = list(PROBES)
        while todo and len(seen) < 6:
            value = todo.pop(0)
            stated = _stated(refusal(source, with_value(data, path, _value(value, integer))),
                             source, path)
            if stated is None or stated in seen:
                continue
            seen.add(stated)
            op, bound = stated
            if integer and not bound.is_integer():
                continue
            at, out = _ends(op, bound, integer)
            case = f"{name}: {dotted(path)} ({op} {bound:g})"
            said = _stated(refusal(source, with_value(data, path, _value(at, integer))),
                           source, path)
            if said == stated:
                problems.append(f"{case}: {at!r} refused")
            elif said is not None:
                todo.append(at)  # a tighter bound behind this one (brokers behind 10,000)
            if _stated(refusal(source, with_value(data, path, _value(out, integer))),
                       source, path) != stated:
                problems.append(f"{case}: {out!r} not refused with that bound")
            checked += 1
    return checked, problems


def _bound_sites() -> dict[tuple[str, int], str]:
    """(file, line) -> message of every ``checker.fail`` call of the strategies' and the
    Kafka family's check modules whose message states a bound (``must be >= 0``, ``must
    be <= the number of brokers (...``), read from their source."""
    found = {}
    for module in CHECK_MODULES:
        path = inspect.getsourcefile(module)
        assert path is not None
        for node in ast.walk(ast.parse(Path(path).read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "fail" and len(node.args) >= 2):
                continue
            message = node.args[1]
            parts = message.values if isinstance(message, ast.JoinedStr) else [message]
            text = ""
            for part in parts:
                if not (isinstance(part, ast.Constant) and isinstance(part.value, str)):
                    break
                text += part.value
            if _BOUND.match(text + "0") or re.match(r"must be (<=|>=|<|>|at most) ", text):
                found[(path, node.lineno)] = text
    return found


def test_every_stated_bound_accepts_its_end_and_refuses_the_next_value(monkeypatch):
    """Over the scenarios, every bound is probed at its end and beyond, and every check
    that states a bound has refused something (a check switched off leaves no bound to
    read, so it must be seen firing)."""
    fired: set[tuple[str, int]] = set()
    fail = Checker.fail

    def recording(self, *args, **kwargs):
        caller = sys._getframe(1)
        fired.add((caller.f_code.co_filename, caller.f_lineno))
        fail(self, *args, **kwargs)

    monkeypatch.setattr(Checker, "fail", recording)
    problems = []
    for name in SCENARIOS:
        checked, found = _probe(name)
        problems += found
        assert checked >= 10, f"{name}: only {checked} bounds probed"
    assert not problems, "\n".join(problems)
    sites = _bound_sites()
    assert len(sites) >= 15
    missed = [f"{Path(f).name}:{line} {text!r}" for (f, line), text in sorted(sites.items())
              if (f, line) not in fired]
    assert not missed, "checks never seen refusing: " + ", ".join(missed)


def test_the_probe_reads_bounds_as_the_checks_state_them() -> None:
    src, path = "x.yaml", ("strategy", "replication_factor")
    say = "x.yaml: strategy.replication_factor: "
    assert _stated(say + "must be >= 0, got -1", src, path) == (">=", 0.0)
    assert _stated(say + "must be > 0 (in seconds), got 0", src, path) == (">", 0.0)
    assert _stated(say + "must be <= the number of brokers (3), got 4", src, path) == \
        ("<=", 3.0)
    assert _stated(say + "must be at most 1,000 (model bound), got 2000", src, path) == \
        ("<=", 1000.0)
    assert _stated(say + "must be at most 106751 days in magnitude", src, path) is None
    assert _stated("x.yaml: other: must be >= 0, got -1", src, path) is None
    assert _ends(">=", 0.0, True) == (0, -1) and _ends("<=", 3.0, True) == (3, 4)
    assert _ends(">", 0.0, False) == (5e-324, 0.0) and _ends("<", 1.0, True) == (0, 1)
