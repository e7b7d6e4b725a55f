"""The generated error corpus (issue 19): every numeric field of every strategy's scenario,
set to NaN, infinities, overflowing integers, wrong types, zero, negatives and tiny
values.

Each base scenario is loaded and dumped with every default filled in, then enriched with
the sections its file leaves out (links, interconnects, every fault kind, Kafka config
maps), so each field a scenario may hold appears once. For every numeric leaf and every
hostile value the scenario is checked as ``geosim validate`` checks it:

* a value that is not a finite number of the field's kind (NaN, an infinity, an integer
  beyond 64 bits, a list, a mapping) is refused with one line naming the scenario and the
  field;
* any other value (zero, -1, 1e-300, a word) is either refused the same way, or accepted;
  then the zero-length build (:func:`geosim.preflight.preflight`) must succeed or refuse
  with one line too: never a traceback and never "passes the checks but cannot be built".

The command-line side (exit 2, one line on stderr, nothing written) is tested once for
each kind of input in ``tests/test_hostile_input.py``; every error goes through the same
path, so the corpus runs in-process.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from geosim.budget import Budget
from geosim.preflight import preflight
from geosim.scenario.errors import ScenarioError
from geosim.scenario.loader import dump_scenario, load_scenario, scenario_from_dict
from geosim.scenario.yamlfile import parse_value

ROOT = Path(__file__).resolve().parent.parent

#: Values that are never a finite number of any field's kind.
NEVER_VALID = [".nan", ".inf", "-.inf", "1e400", "9223372036854775808",
               "-9223372036854775809", "[1]", "{x: 1}"]
#: Values some fields accept (zero, a negative, a tiny number, a word, a boolean).
MAYBE_VALID = ["0", "-1", "1e-300", "abc", "true"]

FAULTS_DISKLESS = [
    {"kind": "region-outage", "region": "us-west2", "at": 60, "duration": 30},
    {"kind": "zone-outage", "zone": "us-west1-a", "at": 20, "duration": 10},
    {"kind": "partition", "between": ["us-west1", "us-west2"], "at": 20, "duration": 10},
    {"kind": "brownout", "between": ["us-west1", "us-west2"], "at": 20, "duration": 10,
     "extra_latency": 0.05, "bandwidth": 1e8, "loss": 0.01},
    {"kind": "object-store-slowdown", "region": "us-west1", "at": 20, "duration": 10,
     "factor": 3},
    {"kind": "replication-pause", "at": 20, "duration": 10},
    {"kind": "metadata-loss", "at": 20, "duration": 10},
    {"kind": "client-crash", "clients": "producers", "zone": "us-west1-a", "at": 20,
     "duration": 10},
    {"kind": "broker-crash", "zone": "us-west1-a", "at": 20, "count": 1, "duration": 10},
    {"kind": "region-destruction", "region": "us-west2", "at": 100},
]
LINKS = [{"between": ["us-west1", "us-west2"],
          "rtt": {"dist": "lognormal", "p50": 0.03, "p99": 0.05},
          "bandwidth": 1e9, "loss": 0.001},
         {"between": ["us-west1", "us-west3"],
          "schedule": {"every": 100, "up_for": 60, "first_up": 10,
                       "outside": {"extra_latency": 0.1, "bandwidth": 1e6, "loss": 0.01}}},
         {"between": ["us-west2", "us-west3"], "schedule": {"windows": [[0, 30], [60, 90]]}}]
INTERCONNECTS = [{"name": "gateway", "between": [["us-west1", "us-west2"]],
                  "bandwidth": 1e9}]

#: (scenario file, additions to its resolved form)
BASES: dict[str, dict[str, Any]] = {
    "quickstart": {"topology": {"links": LINKS, "interconnects": INTERCONNECTS,
                                "same_zone_rtt": {"dist": "constant", "value": 0.0002},
                                "inter_zone_rtt": {"dist": "normal", "mean": 0.001,
                                                   "std": 0.0002}},
                   "object_store": {
                       "put_latency": {"dist": "lognormal", "p50": 0.05, "p99": 0.2},
                       "get_latency": {"dist": "empirical", "samples": [0.02, 0.03, 0.1]},
                       "put_throughput": 1e8, "get_throughput": 1e8,
                       "replication": {"preset": "custom", "p50": 60, "p999": 600,
                                       "max": 3600}},
                   "faults": FAULTS_DISKLESS},
    "s3-express-quorum": {},
    "warpstream-quorum": {},
    "stretch-3-regions": {
        "faults": [{"kind": "broker-crash", "zone": "us-west1-a", "at": 20, "count": 1,
                    "duration": 10},
                   {"kind": "unclean-election", "at": 40}],
        "workload": {"producer_config": {"linger.ms": 5, "batch.size": 65536,
                                         "request.timeout.ms": 30000},
                     "consumer_config": {"fetch.max.wait.ms": 500,
                                         "session.timeout.ms": 45000}},
    },
    "observers-2dc": {},
    "mm2-active-passive": {},
    "cluster-linking-active-passive": {},
}


def _merge(into: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict) \
                and "dist" not in value:  # a distribution replaces the other
            _merge(into[key], value)
        else:
            into[key] = copy.deepcopy(value)


def base(name: str) -> tuple[str, dict[str, Any]]:
    """(source name, resolved and enriched scenario dict) of a bundled scenario."""
    path = ROOT / "scenarios" / f"{name}.yaml"
    data = yaml.safe_load(dump_scenario(load_scenario(path)))
    _merge(data, BASES[name])
    data.pop("compare", None)
    source = f"{name}.yaml"
    scenario_from_dict(data, source=source)  # the enriched base itself is valid
    return source, data


Path_ = tuple[Any, ...]


def numeric_leaves(node: Any, path: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    """(path, value) of every number in a scenario dict (booleans excluded)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from numeric_leaves(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from numeric_leaves(value, (*path, i))
    elif isinstance(node, (int, float)) and not isinstance(node, bool):
        yield path, node


def dotted(path: Path_) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def with_value(data: dict[str, Any], path: Path_, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(data)
    node = changed
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return changed


BUDGET = Budget(memory_bytes=4 * 2**30)


def refusal(source: str, data: dict[str, Any]) -> str | None:
    """None if the scenario is accepted and builds; else the one-line refusal."""
    try:
        scenario = scenario_from_dict(data, source=source)
        preflight(scenario, source=source, budget=BUDGET)
    except ScenarioError as exc:
        return str(exc)
    return None


@pytest.mark.parametrize("name", sorted(BASES))
def test_every_numeric_field_refuses_hostile_values_in_one_line(name: str) -> None:
    source, data = base(name)
    leaves = list(numeric_leaves(data))
    assert len(leaves) > 30, "the corpus should cover the scenario's numeric fields"
    problems: list[str] = []
    start = time.perf_counter()
    for path, _value in leaves:
        field = dotted(path)
        for text in NEVER_VALID + MAYBE_VALID:
            value = parse_value(text)
            case = f"{field}={text}"
            began = time.perf_counter()
            try:
                message = refusal(source, with_value(data, path, value))
            except Exception as exc:  # noqa: BLE001 - any escape is the defect reported
                problems.append(f"{case}: raised {type(exc).__name__}: {exc}")
                continue
            if time.perf_counter() - began > 10:
                problems.append(f"{case}: took {time.perf_counter() - began:.1f} s")
            if message is None:
                if text in NEVER_VALID:
                    problems.append(f"{case}: accepted")
                continue
            if "\n" in message or not message.startswith(f"{source}: "):
                problems.append(f"{case}: not one line naming the scenario: {message!r}")
            elif "cannot be built" in message:
                problems.append(f"{case}: {message}")
            elif text in NEVER_VALID and not _names(message, source, path):
                problems.append(f"{case}: the message names another field: {message}")
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems)
    assert time.perf_counter() - start < 120


def _names(message: str, source: str, path: Path_) -> bool:
    """The message names the field, or the model that holds it (a distribution's
    ``p50 <= p99`` is a fact about the distribution)."""
    named = message[len(source) + 2:].split(": ", 1)[0]
    field = dotted(path)
    return field == named or field.startswith((named + ".", named + "["))


def test_the_corpus_sees_config_maps_and_every_fault_kind() -> None:
    _source, data = base("quickstart")
    kinds = {fault["kind"] for fault in data["faults"]}
    assert len(kinds) == len(FAULTS_DISKLESS)
    _source, data = base("stretch-3-regions")
    fields = {dotted(path) for path, _ in numeric_leaves(data)}
    assert "workload.producer_config.linger.ms" in fields
    assert any(f.startswith("strategy.config.") for f in fields)
    assert math.isfinite(data["simulation"]["duration"])
