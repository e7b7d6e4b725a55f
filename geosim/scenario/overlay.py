"""Overlay files: a named, reviewable list of ``--set`` items, applied with ``--overlay``.

An overlay is how a fitted value (``geosim calibrate``) or any other deliberate change
travels: a YAML mapping with a ``set:`` list of ``key=value`` items, exactly as ``--set``
takes them, and optional ``description`` and ``source`` (what produced it). Applying it
is the user's declared choice: nothing reads an overlay unless ``--overlay FILE`` names
it, and an overlay never edits a preset or a scenario file.
::

    description: fitted by geosim calibrate against targets.yaml
    source: geosim calibrate scenarios/quickstart.yaml --targets targets.yaml
    set:
      - strategy.flush_interval=0.2513
"""

from __future__ import annotations

from pathlib import Path

import yaml

from geosim.scenario.errors import ScenarioError
from geosim.scenario.yamlfile import read_yaml

__all__ = ["dump_overlay", "read_overlay"]

_KEYS = ("description", "source", "set")


def read_overlay(path: str | Path) -> list[str]:
    """The ``--set`` items of an overlay file; :class:`ScenarioError` if malformed."""
    display = str(path)
    data = read_yaml(path, display)
    if not isinstance(data, dict):
        raise ScenarioError(display, "", "must be a mapping with a `set:` list of "
                            "key=value items", data)
    unknown = sorted(str(k) for k in data if k not in _KEYS)
    if unknown:
        raise ScenarioError(display, unknown[0], f"unknown field; expected one of: "
                            f"{', '.join(_KEYS)}")
    items = data.get("set")
    if not isinstance(items, list) or not items:
        raise ScenarioError(display, "set", "must be a non-empty list of key=value items",
                            items)
    for i, item in enumerate(items):
        if not isinstance(item, str) or "=" not in item:
            raise ScenarioError(display, f"set[{i}]", "must be a key=value item, as "
                                "--set takes", item)
    return list(items)


def dump_overlay(items: list[str], *, description: str, source: str) -> str:
    """The YAML text of an overlay of ``items``."""
    return ("# geosim overlay: apply with --overlay FILE (see geosim/scenario/overlay.py)\n"
            + yaml.safe_dump({"description": description, "source": source,
                              "set": list(items)}, sort_keys=False, width=100))
