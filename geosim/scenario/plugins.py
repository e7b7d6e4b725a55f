"""The strategy registry: every replication strategy is a plug-in found by name.

A strategy ships one :class:`StrategyPlugin` and declares it as a Python entry point in
the group ``geosim.strategies`` (``name = "package.module:PLUGIN"``), so a strategy may
come from another distribution as well as from ``geosim.strategies``. The core names no
strategy: the scenario schema's strategy union, the scenario checks, ``geosim
strategies``, the scenario reference, ``geosim compare`` and the property-test
generators are all built from :func:`plugins`.

A plug-in's entry point is loaded while :mod:`geosim.scenario.schema` is being imported
(the schema's union needs the spec models), so the module it names must import only its
spec (and what the spec needs: :mod:`geosim.scenario.sections`, ``types``); everything
else is named by an import path (``"package.module:attribute"``) and imported when it is
first used. ``docs/writing-a-strategy.md`` describes the protocol.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from geosim.scenario.sections import StrategySpecBase

#: Entry-point group that strategies are declared in.
ENTRY_POINT_GROUP = "geosim.strategies"


@dataclass(frozen=True)
class StrategyPlugin:
    """Everything the core needs to know of one strategy.

    ``description`` is the line ``geosim strategies`` prints. ``spec`` is the pydantic
    model of the scenario's ``strategy:`` block (a subclass of
    :class:`~geosim.scenario.sections.StrategySpecBase` whose ``name`` is a ``Literal``
    of the plug-in's name). The other parts are import paths, loaded on first use:

    - ``model``: the :class:`geosim.strategies.base.Strategy` subclass a run builds;
    - ``checks``: ``check(checker, spec)``, scenario-time checks with one-line errors
      (``checker`` is a :class:`geosim.scenario.checks.Checker`);
    - ``generator``: ``generator(draft, **bounds) -> SearchStrategy[dict]``, the
      Hypothesis generator of the strategy's configuration (see
      :func:`geosim.testing.generators.register_config_generator`);
    - ``probes``: coverage-probe classes (:class:`geosim.core.probes.Probe`) attached to
      the strategy's runs in property searches;
    - ``helpers``: public functions users build configurations with in property tests
      (``stretch(rf=(2, 3))``); :mod:`geosim.testing` offers each under its own name;
    - ``reference``: ``sections() -> list[tuple[str, str]]``, extra (title, Markdown)
      sections of the generated scenario reference, such as config-key tables (a title
      several plug-ins give appears once);
    - ``sections``: the strategy's report sections
      (:class:`geosim.metrics.sections.ReportSection` instances): figures of its own in
      the summary, the results directory, the tables and the plots.
    """

    name: str
    description: str
    spec: type[StrategySpecBase]
    model: str
    checks: str | None = None
    generator: str | None = None
    probes: tuple[str, ...] = ()
    helpers: tuple[str, ...] = ()
    reference: str | None = None
    sections: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        declared = self.spec.model_fields["name"].default
        if declared != self.name:
            raise ValueError(f"strategy plug-in {self.name!r}: its spec "
                             f"{self.spec.__name__} has name {declared!r}")

    def load(self, part: str) -> Any:
        """The object a part's import path names (``"model"``, ``"checks"``...), or None."""
        return load_path(getattr(self, part))

    def load_probes(self) -> list[Any]:
        return [load_path(path) for path in self.probes]

    def load_sections(self) -> list[Any]:
        """The report sections (:class:`geosim.metrics.sections.ReportSection`)."""
        return [load_path(path) for path in self.sections]


def load_path(path: str | None) -> Any:
    """Import ``"package.module:attribute"`` (None for None)."""
    if path is None:
        return None
    module, _, attribute = path.partition(":")
    if not attribute:
        raise ValueError(f"{path!r}: expected 'package.module:attribute'")
    return getattr(importlib.import_module(module), attribute)


class _Registry:
    """The plug-ins by name: those of the entry points, then those registered at run
    time (which win on a name clash, so a test can stand in for a strategy)."""

    def __init__(self) -> None:
        self._found: dict[str, StrategyPlugin] | None = None
        self._registered: dict[str, StrategyPlugin] = {}
        self._listeners: list[Callable[[], None]] = []

    def _discover(self) -> dict[str, StrategyPlugin]:
        found: dict[str, StrategyPlugin] = {}
        for point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda p: p.name):
            plugin = point.load()
            if not isinstance(plugin, StrategyPlugin):
                raise TypeError(f"entry point {point.name} = {point.value} in group "
                                f"{ENTRY_POINT_GROUP}: expected a StrategyPlugin, got "
                                f"{type(plugin).__name__}")
            if plugin.name != point.name:
                raise ValueError(f"entry point {point.name} = {point.value}: the plug-in "
                                 f"is named {plugin.name!r}")
            if plugin.name in found:  # the same distribution installed twice
                continue
            found[plugin.name] = plugin
        return found

    def all(self) -> dict[str, StrategyPlugin]:
        if self._found is None:
            self._found = self._discover()
        return {**self._found, **self._registered}

    def register(self, plugin: StrategyPlugin) -> None:
        self._registered[plugin.name] = plugin
        self._changed()

    def unregister(self, name: str) -> None:
        if self._registered.pop(name, None) is not None:
            self._changed()

    def rediscover(self) -> None:
        """Read the entry points again (after installing a distribution at run time)."""
        self._found = None
        self._changed()

    def on_change(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in self._listeners:
            listener()


_REGISTRY = _Registry()


def plugins() -> dict[str, StrategyPlugin]:
    """Every available strategy plug-in by its scenario name, in name order of the entry
    points, then those registered at run time."""
    return _REGISTRY.all()


def plugin(name: str) -> StrategyPlugin:
    """One plug-in by name; a KeyError names the known ones."""
    found = plugins()
    if name not in found:
        raise KeyError(f"unknown strategy {name!r} (known: {', '.join(found)})")
    return found[name]


def register(plugin: StrategyPlugin) -> None:
    """Add (or replace) a plug-in at run time: the schema's strategy union is rebuilt.
    Entry points are the way to ship a strategy; this is for tests and notebooks."""
    _REGISTRY.register(plugin)


def unregister(name: str) -> None:
    """Remove a plug-in added with :func:`register`."""
    _REGISTRY.unregister(name)


def rediscover() -> None:
    """Read the ``geosim.strategies`` entry points again."""
    _REGISTRY.rediscover()


def on_change(listener: Callable[[], None]) -> None:
    """Call ``listener()`` whenever the set of plug-ins changes."""
    _REGISTRY.on_change(listener)
