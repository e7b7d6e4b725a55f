"""Reading YAML files: a strict loader, and every reading problem as one ScenarioError.

Scenario files, OMB workload and driver files and ``compare:`` variant files are all read
by :func:`read_yaml`. Its loader is PyYAML's ``SafeLoader`` except that a mapping may not
give a key twice; a missing, unreadable or malformed file is a one-line
:class:`~geosim.scenario.errors.ScenarioError` naming the file (and for a syntax error,
the line and column).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from geosim.scenario.errors import ScenarioError

__all__ = ["StrictLoader", "parse_yaml", "read_yaml"]


class StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate mapping keys.

    PyYAML silently keeps the last of two equal keys; in a scenario that hides a mistake
    (two ``faults:`` blocks, say), so it is an error here.
    """


def _construct_mapping(loader: StrictLoader, node: yaml.MappingNode, deep: bool = False):
    loader.flatten_mapping(node)
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            first = seen.get(key)
        except TypeError:
            continue  # unhashable key: construct_mapping reports it with its position
        if first is not None:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first given on line {first + 1})",
                key_node.start_mark)
        seen[key] = key_node.start_mark.line
    return yaml.SafeLoader.construct_mapping(loader, node, deep)


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
                             _construct_mapping)


def parse_yaml(text: str, display: str) -> Any:
    """Parse YAML text with :class:`StrictLoader`; ``display`` names it in errors."""
    try:
        return yaml.load(text, Loader=StrictLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "malformed YAML"
        if exc.context and exc.problem:
            problem = f"{exc.context}, {exc.problem}"
        raise ScenarioError(display, "", f"invalid YAML: {problem}",
                            line=mark.line + 1 if mark else None,
                            column=mark.column + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(display, "", f"invalid YAML: {exc}") from None


def read_yaml(path: str | Path, display: str | None = None) -> Any:
    """Parse a YAML file; any problem (missing, unreadable, malformed) is a ScenarioError.

    ``display`` is how the file is named in messages (default: ``path`` as given).
    """
    display = str(path) if display is None else display
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(display, "", "no such file") from None
    except IsADirectoryError:
        raise ScenarioError(display, "", "is a directory, expected a YAML file") from None
    except PermissionError:
        raise ScenarioError(display, "", "cannot be read (permission denied)") from None
    except UnicodeDecodeError:
        raise ScenarioError(display, "", "is not UTF-8 text") from None
    except OSError as exc:
        raise ScenarioError(display, "", f"cannot be read ({exc.strerror})") from None
    return parse_yaml(text, display)
