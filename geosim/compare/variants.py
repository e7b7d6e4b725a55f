"""The variants of a comparison: one scenario, one strategy block (and overrides) each.

A scenario file may carry a top-level ``compare:`` mapping from a variant name to how
that variant differs from the scenario as written::

    compare:
      diskless-bucket: {}                     # the scenario as written
      diskless-quorum:
        strategy: {name: diskless, write_quorum: 2}    # replaces the strategy block
        set: [object_store.kind=regional,              # then --set-style overrides
              "object_store.regions=[us-west1, us-west2, us-west3]"]
      stretch:
        strategy: {name: stretch, replication_factor: 3, min_insync_replicas: 2}

``geosim run`` ignores ``compare:``. A requested name is found, in order: as a
``compare:`` entry; else as the name of the scenario's own strategy (the scenario as
written). The workload, topology, faults and simulation settings are the same for every
variant unless a ``set:`` changes them.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geosim.scenario.errors import ScenarioError

#: The top-level key holding the variants.
COMPARE_KEY = "compare"
#: Keys a variant entry may have.
ENTRY_KEYS = ("strategy", "set", "description")


@dataclass(frozen=True)
class Variant:
    """One side of a comparison: its name and the resolved scenario it runs."""

    name: str
    scenario: Any  # geosim.scenario.schema.Scenario
    description: str = ""


def parse_names(text: str) -> list[str]:
    """``a,b,c`` as a list of distinct names (a ValueError names the problem)."""
    names = [name.strip() for name in text.split(",")]
    if not names or any(not name for name in names):
        raise ValueError(f"--strategies {text}: expected NAME,NAME,... (no empty names)")
    if len(set(names)) != len(names):
        raise ValueError(f"--strategies {text}: a name is listed twice")
    return names


def compare_entries(data: Mapping[str, Any], source: str) -> dict[str, dict[str, Any]]:
    """The ``compare:`` mapping of a raw scenario dict, checked for shape."""
    block = data.get(COMPARE_KEY) or {}
    if not isinstance(block, Mapping):
        raise ScenarioError(source, COMPARE_KEY, "must be a mapping of variant name to "
                            "{strategy, set}", block)
    entries = {}
    for name, entry in block.items():
        path = f"{COMPARE_KEY}.{name}"
        entry = {} if entry is None else entry
        if not isinstance(entry, Mapping):
            raise ScenarioError(source, path, "must be a mapping with strategy and/or set",
                                entry)
        unknown = sorted(set(entry) - set(ENTRY_KEYS))
        if unknown:
            raise ScenarioError(source, f"{path}.{unknown[0]}", f"unknown field; expected "
                                f"one of: {', '.join(ENTRY_KEYS)}")
        if "strategy" in entry and not isinstance(entry["strategy"], Mapping):
            raise ScenarioError(source, f"{path}.strategy", "must be a strategy block "
                                "(a mapping with name and the strategy's fields)",
                                entry["strategy"])
        items = entry.get("set", [])
        if isinstance(items, str):
            items = [items]
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise ScenarioError(source, f"{path}.set", "must be a list of KEY=VALUE "
                                "overrides", items)
        entries[str(name)] = {**entry, "set": items}
    return entries


def resolve_variants(path: str | Path, names: Sequence[str], overrides: Sequence[str] = (),
                     *, seed: int | None = None,
                     registry: Mapping[str, Any] | None = None) -> list[Variant]:
    """The checked scenario of each requested variant of the scenario file ``path``.

    ``overrides`` (``--set``) apply to every variant, after its own. Raises
    :class:`ScenarioError` for an unknown name, a strategy not in ``registry`` (default:
    :func:`geosim.scenario.plugins.plugins`) or a variant the scenario checks reject.
    """
    from geosim.scenario.loader import read_yaml, scenario_from_dict

    if registry is None:
        from geosim.scenario.plugins import plugins
        registry = plugins()
    source = str(path)
    data = read_yaml(path, source)
    if not isinstance(data, Mapping):
        raise ScenarioError(source, "", "top level must be a mapping of scenario fields")
    entries = compare_entries(data, source)
    base = {key: value for key, value in data.items() if key != COMPARE_KEY}
    own = (base.get("strategy") or {}).get("name") if isinstance(base.get("strategy"),
                                                                 Mapping) else None
    known = sorted(registry)
    variants = []
    for name in names:
        if name in entries:
            entry = entries[name]
        elif name == own:
            entry = {"set": []}
        elif name in registry:
            raise ScenarioError(source, COMPARE_KEY, f"strategy {name} has no parameters "
                                f"here; add {COMPARE_KEY}.{name}.strategy (a {name} "
                                f"strategy block) to the scenario")
        else:
            listed = ", ".join(sorted(entries)) or "none"
            raise ScenarioError(source, COMPARE_KEY, f"unknown strategy or variant {name!r}; "
                                f"registered strategies: {', '.join(known)}; variants in "
                                f"{COMPARE_KEY}: {listed}")
        variant_data = copy.deepcopy(base)
        if "strategy" in entry:
            variant_data["strategy"] = copy.deepcopy(dict(entry["strategy"]))
        strategy_name = (variant_data.get("strategy") or {}).get("name")
        if strategy_name not in registry:
            raise ScenarioError(source, f"{COMPARE_KEY}.{name}.strategy.name",
                                f"unknown strategy; registered: {', '.join(known)}",
                                strategy_name)
        try:
            scenario = scenario_from_dict(variant_data, source=source,
                                          base_dir=Path(path).parent,
                                          overrides=[*entry["set"], *overrides], seed=seed)
        except ScenarioError as exc:
            raise ScenarioError(exc.file, exc.path, f"{exc.expected} (variant {name})",
                                exc.value, line=exc.line, column=exc.column) from None
        variants.append(Variant(name, scenario, str(entry.get("description", ""))))
    return variants
