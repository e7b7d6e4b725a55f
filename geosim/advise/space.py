"""The design space: candidates (a design with one value per knob) and their scenarios.

A candidate is a :class:`~geosim.advise.objectives.Design` of the objectives file with
one label chosen per knob. Its scenario is the scenario file without its ``compare:``
block, with the design's strategy block (its own, a ``compare:`` variant's, or the file's),
then the variant's ``set:`` items, the command line's ``--set`` items, the design's
``set:`` and the chosen knobs' items, in that order. Each run of a candidate adds its
fault timeline (a failure of the objectives, or none for the steady state) and seed.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geosim.advise.objectives import Design, Objectives
from geosim.compare.variants import COMPARE_KEY, compare_entries
from geosim.scenario.errors import ScenarioError
from geosim.scenario.loader import read_yaml, scenario_from_dict

__all__ = ["Candidate", "Space"]


@dataclass(frozen=True)
class Candidate:
    """One point of the design space."""

    design: str
    labels: tuple[tuple[str, str], ...]   # (knob, label) in the design's knob order
    overrides: tuple[str, ...]            # every --set item that makes it, in order

    @property
    def id(self) -> str:
        """``<design>-<8 hex digits of the knob labels>``: stable and readable."""
        digest = hashlib.sha256(json.dumps([self.design, self.labels]).encode()).hexdigest()
        return f"{self.design}-{digest[:8]}"

    def describe(self) -> str:
        """``stretch (strategy.replication_factor=3, ...)``."""
        if not self.labels:
            return self.design
        return f"{self.design} ({', '.join(f'{k}={v}' for k, v in self.labels)})"


class Space:
    """The candidates of a scenario file and objectives, and their resolved scenarios."""

    def __init__(self, path: str | Path, objectives: Objectives,
                 overrides: Sequence[str] = ()):
        self.path = Path(path)
        self.source = str(path)
        self.objectives = objectives
        self.overrides = tuple(overrides)
        data = read_yaml(self.path, self.source)
        if not isinstance(data, Mapping):
            raise ScenarioError(self.source, "", "top level must be a mapping of scenario "
                                "fields")
        self.entries = compare_entries(data, self.source)
        self.base = {k: v for k, v in data.items() if k != COMPARE_KEY}
        self.designs = {d.name: d for d in objectives.designs}
        for design in objectives.designs:
            if design.variant is not None and design.variant not in self.entries:
                listed = ", ".join(sorted(self.entries)) or "none"
                raise ScenarioError(objectives.source, f"designs.{design.name}.variant",
                                    f"is not a compare: variant of {self.source} (variants: "
                                    f"{listed})", design.variant)

    # --- candidates ---------------------------------------------------------------------

    def candidate(self, design: str, labels: Mapping[str, str]) -> Candidate:
        """The candidate of ``design`` with ``labels`` (knob -> label) chosen."""
        spec = self.designs[design]
        chosen = tuple((knob.name, labels[knob.name]) for knob in spec.knobs)
        items: list[str] = []
        if spec.variant is not None:
            items += self.entries[spec.variant]["set"]
        items += [*self.overrides, *spec.overrides]
        for knob, label in chosen:
            items += spec.knobs[[k.name for k in spec.knobs].index(knob)].items(label)
        return Candidate(design, chosen, tuple(items))

    def all_candidates(self) -> list[Candidate]:
        """Every candidate, design by design, knobs varying last-fastest."""
        import itertools

        out = []
        for spec in self.objectives.designs:
            for combo in itertools.product(*[k.labels for k in spec.knobs]):
                out.append(self.candidate(spec.name, dict(zip([k.name for k in spec.knobs],
                                                              combo, strict=True))))
        return out

    @property
    def size(self) -> int:
        return sum(d.size for d in self.objectives.designs)

    def first(self, design: Design) -> Candidate:
        """The candidate with every knob at its first value."""
        return self.candidate(design.name, {k.name: k.labels[0] for k in design.knobs})

    # --- scenarios ----------------------------------------------------------------------

    def data(self, candidate: Candidate) -> dict[str, Any]:
        """The scenario dict of ``candidate`` before its overrides."""
        spec = self.designs[candidate.design]
        data = copy.deepcopy(self.base)
        if spec.strategy is not None:
            data["strategy"] = copy.deepcopy(spec.strategy)
        elif spec.variant is not None and "strategy" in self.entries[spec.variant]:
            data["strategy"] = copy.deepcopy(dict(self.entries[spec.variant]["strategy"]))
        return data

    def scenario(self, candidate: Candidate, run: Sequence[str] = (),
                 seed: int | None = None) -> Any:
        """The checked scenario of ``candidate`` with the run's own items (faults,
        durations) applied last; a :class:`ScenarioError` naming the candidate."""
        try:
            return scenario_from_dict(self.data(candidate), source=self.source,
                                      base_dir=self.path.parent,
                                      overrides=[*candidate.overrides, *run], seed=seed)
        except ScenarioError as exc:
            raise ScenarioError(exc.file, exc.path, f"{exc.expected} (design "
                                f"{candidate.describe()})", exc.value, line=exc.line,
                                column=exc.column) from None
