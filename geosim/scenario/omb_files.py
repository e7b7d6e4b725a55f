"""OMB files: finding and loading the workload and driver files a scenario names.

``workload.omb`` and ``workload.driver`` name an OpenMessaging Benchmark file either as
``omb:<path>`` (a bundled, unmodified copy under :data:`BUNDLED_OMB_DIR`) or as a path
relative to the scenario's folder. Loading one gives the parsed
:class:`~geosim.scenario.schema.OmbWorkload` / :class:`~geosim.scenario.schema.OmbDriver`
and the name it is given in messages; a missing file or a bad OMB field is a one-line
:class:`~geosim.scenario.errors.ScenarioError` naming that file. What a driver's
properties blocks mean for the Kafka clients is :mod:`geosim.scenario.omb`.
"""

from __future__ import annotations

import difflib
import typing
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ValidationError

from geosim.scenario.errors import INLINE, ScenarioError, from_validation_error
from geosim.scenario.schema import OmbDriver, OmbWorkload
from geosim.scenario.yamlfile import read_yaml

__all__ = ["BUNDLED_OMB_DIR", "OMB_MODELS", "bundled_omb_files", "load_omb",
           "load_omb_driver", "load_omb_workload"]

BUNDLED_OMB_DIR = Path(__file__).resolve().parent.parent / "data" / "omb"
"""Unmodified copies of OMB's ``workloads/`` and ``driver-kafka/`` (see its README)."""

OMB_MODELS: dict[str, type[BaseModel]] = {"omb": OmbWorkload, "driver": OmbDriver}
"""The model of each OMB reference field of ``workload``, by field name."""

_OMB_FOLDERS = {"omb": "workloads", "driver": "driver-kafka"}


def bundled_omb_files(folder: str = "workloads") -> list[str]:
    """``omb:`` names of the bundled files in ``workloads`` or ``driver-kafka``."""
    root = BUNDLED_OMB_DIR / folder
    return sorted(f"omb:{folder}/{p.name}" for p in root.glob("*.yaml"))


def _locate_omb(ref: str, folder: str, base_dir: Path | None, referrer: str,
               field: str) -> tuple[Path, str]:
    """(file to read, how to name it) for an OMB reference string."""
    if ref.startswith("omb:"):
        name = ref[len("omb:"):].strip().lstrip("/")
        root = BUNDLED_OMB_DIR.resolve()
        # `omb:kafka-latency.yaml` is accepted as short for `omb:driver-kafka/...`.
        for candidate in (root / name, root / folder / name):
            resolved = candidate.resolve()
            if resolved.is_relative_to(root) and resolved.is_file():
                return resolved, f"omb:{resolved.relative_to(root).as_posix()}"
        known = bundled_omb_files(folder)
        close = difflib.get_close_matches(f"omb:{folder}/{Path(name).name}", known, n=1)
        hint = f"; did you mean {close[0]}?" if close else (
            f"; bundled files are omb:{folder}/<name>.yaml, see {BUNDLED_OMB_DIR}")
        raise ScenarioError(referrer, field, f"no such bundled OMB file{hint}", ref)
    path = Path(ref).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if not path.is_file():
        raise ScenarioError(referrer, field,
                            f"no such file {str(path)!r} (paths are relative to the "
                            f"scenario file; bundled OMB files are named omb:<path>)", ref)
    return path, str(path)


def load_omb(kind: str, ref: str, base_dir: Path | None, referrer: str,
             field: str) -> tuple[BaseModel, str]:
    """(parsed model, how the file is named) for the OMB reference ``ref``.

    ``kind`` is ``"omb"`` (a workload) or ``"driver"``; ``referrer`` and ``field`` name
    the file and field holding the reference, for a reference that leads nowhere.
    """
    path, display = _locate_omb(ref, _OMB_FOLDERS[kind], base_dir, referrer, field)
    data = read_yaml(path, display)
    model = OMB_MODELS[kind]
    if not isinstance(data, Mapping):
        raise ScenarioError(display, "", f"top level must be a mapping of {model.__name__} "
                            f"fields, got {type(data).__name__}")
    try:
        return model.model_validate(data), display
    except ValidationError as exc:
        raise from_validation_error(exc, file=display, data=data, model=model) from None


def load_omb_workload(ref: str, *, base_dir: str | Path | None = None,
                      referrer: str = INLINE) -> OmbWorkload:
    """Load an OMB workload file: a path (relative to ``base_dir``) or ``omb:<path>``.

    Unknown OMB keys and bad values are ScenarioErrors naming the OMB file.
    """
    base = Path(base_dir) if base_dir is not None else None
    model, _ = load_omb("omb", ref, base, referrer, "workload.omb")
    return typing.cast(OmbWorkload, model)


def load_omb_driver(ref: str, *, base_dir: str | Path | None = None,
                    referrer: str = INLINE) -> OmbDriver:
    """Load an OMB Kafka driver file: a path (relative to ``base_dir``) or ``omb:<path>``."""
    base = Path(base_dir) if base_dir is not None else None
    model, _ = load_omb("driver", ref, base, referrer, "workload.driver")
    return typing.cast(OmbDriver, model)
