"""Reading YAML files: a strict loader, and every reading problem as one ScenarioError.

Scenario files, OMB workload and driver files and ``compare:`` variant files are all read
by :func:`read_yaml`, and ``--set`` values by :func:`parse_value`. The loader is PyYAML's
``SafeLoader`` except that a mapping may not give a key twice, and that hostile input
is refused before it costs time or memory: a file larger than :data:`MAX_BYTES`, nesting
deeper than :data:`MAX_DEPTH` (PyYAML's composer recurses once per level), and aliases
that would expand the document beyond :data:`MAX_NODES` nodes (anchors referring to
anchors grow exponentially: a few lines can stand for billions of nodes, which every
later walk of the data would visit). No scenario comes near these limits: the largest
committed one has a few hundred nodes and a nesting depth of 6. A missing, unreadable,
malformed or refused file is a one-line :class:`~geosim.scenario.errors.ScenarioError`
naming the file (and for a syntax error, the line and column).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from geosim.scenario.errors import ScenarioError

__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_NODES", "StrictLoader", "parse_value",
           "parse_yaml", "read_yaml"]

#: Largest YAML text read (bytes): a scenario is a few kilobytes.
MAX_BYTES = 4 * 2**20
#: Deepest nesting of sequences and mappings.
MAX_DEPTH = 64
#: Most nodes a document may stand for with its aliases expanded.
MAX_NODES = 200_000


class StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate mapping keys and hostile documents.

    PyYAML silently keeps the last of two equal keys; in a scenario that hides a mistake
    (two ``faults:`` blocks, say), so it is an error here. Nesting beyond
    :data:`MAX_DEPTH` and alias expansion beyond :data:`MAX_NODES` are refused.
    """

    _depth = 0

    def compose_node(self, parent, index):
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise yaml.composer.ComposerError(
                    None, None, f"nesting deeper than {MAX_DEPTH} levels", mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def get_single_node(self):
        node = super().get_single_node()
        if node is not None:
            size, depth = _expanded_size(node)
            if size > MAX_NODES:
                raise yaml.composer.ComposerError(
                    None, None, f"aliases expand the document beyond {MAX_NODES:,} nodes",
                    node.start_mark)
            if depth > MAX_DEPTH + 1:
                raise yaml.composer.ComposerError(
                    None, None, f"aliases nest the document deeper than {MAX_DEPTH} levels",
                    node.start_mark)
        return node


def _expanded_size(root: yaml.Node) -> tuple[int, int]:
    """Nodes and depth of the document with every alias expanded, counted in time
    linear in the composed graph (an alias is the node it names, so sizes are shared by
    identity). Iterative, since aliases can chain deeper than the nesting limit; a node
    that contains itself (an alias inside its own anchor) counts once here and is
    refused later with its own message."""
    sizes: dict[int, tuple[int, int]] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            total, depth = 1, 1
            for child in _children(node):
                size, deep = sizes.get(id(child), (1, 1))
                total = min(total + size, MAX_NODES + 1)
                depth = max(depth, deep + 1)
            sizes[key] = (total, depth)
            continue
        if key in sizes:
            continue
        sizes[key] = (1, 1)  # in progress: a cycle back to it counts 1
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)
    return sizes[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


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
    if len(text) > MAX_BYTES:
        raise ScenarioError(display, "", f"is larger than {MAX_BYTES // 2**20} MiB; "
                            "a scenario is a few kilobytes")
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
        if Path(path).stat().st_size > MAX_BYTES:
            raise ScenarioError(display, "", f"is larger than {MAX_BYTES // 2**20} MiB; "
                                "a scenario is a few kilobytes")
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


def parse_value(text: str) -> Any:
    """One YAML value (a ``--set`` value) with the limits of :class:`StrictLoader`;
    raises ``yaml.YAMLError`` when it is malformed or refused."""
    if len(text) > MAX_BYTES:
        raise yaml.YAMLError(f"longer than {MAX_BYTES} characters")
    return yaml.load(text, Loader=StrictLoader)  # noqa: S506 (a SafeLoader subclass)
