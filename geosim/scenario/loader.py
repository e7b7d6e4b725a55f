"""Loading scenarios: the build pipeline and the public entry points.

The pipeline, each step in its own module of :mod:`geosim.scenario`::

    YAML text --yamlfile--> dict --overrides (--set)--> dict --omb_files (OMB references)-->
      dict --schema (pydantic)--> Scenario --checks (cross-field)--> Scenario

Every problem a user can cause surfaces as one :class:`ScenarioError` whose message is a
single line naming the file, the field path, the value and what was expected. The
returned :class:`Scenario` is self-contained: OMB workload and driver references are
replaced by the parsed files, so :func:`dump_scenario` writes a complete "resolved
scenario" (canonical units, every default filled in) that reloads to an equal object.

The names callers use (``read_yaml``, ``load_omb_workload``, ``load_omb_driver``,
``bundled_omb_files``, ``BUNDLED_OMB_DIR``, ``client_configs``, ``check_scenario``) are
importable from here; where each is defined is listed in :mod:`geosim.scenario`.
"""

from __future__ import annotations

import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from geosim.scenario.checks import check_scenario
from geosim.scenario.errors import (
    INLINE,
    NO_VALUE,
    ScenarioError,
    from_validation_error,
)
from geosim.scenario.omb import client_configs
from geosim.scenario.omb_files import (
    BUNDLED_OMB_DIR,
    OMB_MODELS,
    bundled_omb_files,
    load_omb,
    load_omb_driver,
    load_omb_workload,
)
from geosim.scenario.overrides import Overrides, RecursiveData, plain_copy
from geosim.scenario.schema import Scenario, WorkloadSpec
from geosim.scenario.yamlfile import read_yaml

__all__ = [
    "BUNDLED_OMB_DIR",
    "bundled_omb_files",
    "check_scenario",
    "client_configs",
    "dump_scenario",
    "load_omb_driver",
    "load_omb_workload",
    "load_scenario",
    "read_yaml",
    "scenario_from_dict",
]


class _Build:
    """State of one load: where the scenario came from, and where its OMB parts came from."""

    def __init__(self, source: str, base_dir: Path | None) -> None:
        self.source = source
        self.base_dir = base_dir
        self.origins: dict[str, str] = {}

    def fail(self, path: str, expected: str, value: Any = NO_VALUE) -> typing.NoReturn:
        raise ScenarioError(self.source, path, expected, value)

    def resolve_ref(self, kind: str, ref: Any) -> Any:
        """Replace an OMB reference string by the parsed model; record its origin."""
        if not isinstance(ref, str):
            return ref
        model, display = load_omb(kind, ref, self.base_dir, self.source, f"workload.{kind}")
        self.origins[f"workload.{kind}"] = display
        return model

    def build(self, data: Any, overrides: Iterable[str], seed: int | None) -> Scenario:
        """The checked Scenario of the raw ``data`` (not modified), after ``overrides``
        and ``seed`` (written into ``simulation.seed``)."""
        if data is None:
            self.fail("", "is empty; expected a mapping with name, topology, object_store, "
                      "workload and strategy")
        if not isinstance(data, Mapping):
            self.fail("", f"top level must be a mapping of scenario fields, got "
                      f"{type(data).__name__}")
        try:
            data = plain_copy(data)
        except RecursiveData:
            self.fail("", "contains itself (a YAML alias used inside its own anchor)")
        data.pop("compare", None)  # variants for `geosim compare` (geosim.compare.variants)
        if isinstance(overrides, str):
            overrides = [overrides]
        engine = Overrides(self.source, self.resolve_ref)
        for item in overrides:
            engine.apply(data, item)
        if seed is not None:
            engine.apply(data, f"simulation.seed={int(seed)}")
        workload = data.get("workload")
        if isinstance(workload, dict):
            workload.setdefault("driver", WorkloadSpec.model_fields["driver"].get_default())
            for kind in OMB_MODELS:
                if kind in workload:
                    workload[kind] = self.resolve_ref(kind, workload[kind])
        try:
            scenario = Scenario.model_validate(data)
        except ValidationError as exc:
            raise from_validation_error(exc, file=self.source, data=data,
                                        model=Scenario) from None
        origins = dict(self.origins)
        if "workload.omb.producerRate" in engine.overridden:
            origins.pop("workload.omb", None)  # the rate no longer comes from the OMB file
        check_scenario(scenario, source=self.source, origins=origins)
        return scenario


# --- public entry points ----------------------------------------------------------------------


def load_scenario(path: str | Path, overrides: Iterable[str] = (), *,
                  seed: int | None = None) -> Scenario:
    """Load, override, resolve and check a scenario file.

    ``overrides`` are ``--set`` items (``faults[0].at=5m``,
    ``workload.producer_config.linger.ms=5``); ``seed`` replaces ``simulation.seed``.
    OMB references are resolved against the scenario's folder (or the bundled copies for
    ``omb:`` names), so the result is self-contained. Raises :class:`ScenarioError`.
    """
    display = str(path)
    data = read_yaml(path, display)
    return _Build(display, Path(path).parent).build(data, overrides, seed)


def scenario_from_dict(data: Mapping[str, Any], *, source: str = INLINE,
                       base_dir: str | Path | None = None, overrides: Iterable[str] = (),
                       seed: int | None = None) -> Scenario:
    """Build a checked Scenario from a dict (notebooks, tests, Hypothesis strategies).

    Same pipeline as :func:`load_scenario`; ``source`` names the dict in messages and
    ``base_dir`` anchors relative OMB paths (default: the working directory). ``data`` is
    not modified.
    """
    base = Path(base_dir) if base_dir is not None else None
    return _Build(source, base).build(data, overrides, seed)


def dump_scenario(scenario: Scenario) -> str:
    """The resolved scenario as YAML: canonical units, every default filled in.

    Written next to results, it records exactly what ran; loading it gives an equal
    Scenario.
    """
    body = yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False,
                          allow_unicode=True, default_flow_style=False, width=100)
    header = ("# geosim resolved scenario: every default filled in; durations in seconds,\n"
              "# sizes in bytes, rates in bytes/s. Reloads to the same scenario.\n")
    return header + body
