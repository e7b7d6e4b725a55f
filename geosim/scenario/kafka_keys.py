"""Kafka's config keys: the descriptor and the parsing of values.

Every Kafka-side config geosim honours is a :class:`KafkaKey`: the client settings of
:mod:`geosim.scenario.omb`, the broker and topic configs of :mod:`geosim.kafka.config`
and the flow configs of the cross-cluster strategies. A value is written as Kafka spells
it (milliseconds, bytes, ``true``/``false``, as a number or a properties string) and held
in canonical units (seconds, bytes). :func:`resolve_keys` merges layers of settings over
Kafka's defaults; what a layer means (a driver block, ``strategy.config``) and how an error
is shown is the caller's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["BadKafkaValue", "KafkaKey", "ResolvedKeys", "UnknownKafkaKey", "resolve_keys"]

#: Unit of the value as written (the reference's "unit" column), by kind.
_WRITTEN_UNIT = {"ms": "ms", "s": "s", "bytes": "bytes"}
#: The consumer's partition assignors (``partition.assignment.strategy``) by Kafka's
#: class name, and the other spellings accepted for each: the fully qualified class
#: name (matched by its last part) and librdkafka's names.
ASSIGNORS = ("RangeAssignor", "RoundRobinAssignor", "StickyAssignor",
             "CooperativeStickyAssignor")
_ASSIGNOR_ALIASES = {"range": "RangeAssignor", "roundrobin": "RoundRobinAssignor",
                     "cooperative-sticky": "CooperativeStickyAssignor",
                     **{name.lower(): name for name in ASSIGNORS}}
#: Kafka's largest long: an integer key's maximum when it names none.
_LONG_MAX = 2**63 - 1
#: The unit an integer error message names, by kind.
_INT_UNIT = {"ms": " (milliseconds)", "bytes": " (bytes)"}


@dataclass(frozen=True)
class KafkaKey:
    """One Kafka config geosim honours.

    ``attr`` is the field of the resolved record that holds it; ``default`` is spelled
    as Kafka spells it. ``kind`` says how a value is converted: ``ms`` -> seconds (float),
    ``s`` -> seconds (any number >= 0), ``bytes``/``int`` -> int within ``minimum`` and
    ``maximum``, ``bool``, ``choice`` -> one of ``choices`` (lower case; ``aliases`` maps
    another spelling to its canonical choice, as Kafka reads ``acks=-1`` as ``all``),
    ``text`` -> a non-empty string as written (a format such as ``${topic}``),
    ``assignors`` -> a tuple of :data:`ASSIGNORS` (a list, or a comma-separated string,
    of class names).
    """

    name: str
    attr: str
    kind: str
    default: Any
    source: str
    description: str
    choices: tuple[str, ...] = ()
    aliases: tuple[tuple[str, str], ...] = ()
    minimum: int = 0
    maximum: int = _LONG_MAX

    @property
    def unit(self) -> str:
        """Canonical unit of the converted value."""
        return {"ms": "s", "s": "s", "bytes": "bytes"}.get(self.kind, "")

    @property
    def written_unit(self) -> str:
        """Unit of the value as a scenario or a driver writes it."""
        return _WRITTEN_UNIT.get(self.kind, "")

    @property
    def documented(self) -> str:
        """The description as the references print it: with the choices of a choice key
        and the values it accepts."""
        text = self.description
        if self.choices:
            text += f" (one of {', '.join(self.choices)})"
        if self.accepted:
            text += f" (accepted: {self.accepted})"
        return text

    @property
    def accepted(self) -> str:
        """The values accepted as written, for the reference (``integer >= 1``,
        ``integer 0 to 2147483647``, ``number >= 0``); empty for other kinds."""
        if self.kind in ("ms", "bytes", "int"):
            if self.maximum == _LONG_MAX:
                return f"integer >= {self.minimum}"
            return f"integer {self.minimum} to {self.maximum}"
        if self.kind == "s":
            return "number >= 0"
        return ""

    def parse(self, raw: Any) -> Any:
        """``raw`` in canonical units; raises ``ValueError(expected)``, where ``expected``
        says what the value must be (``must be an integer (milliseconds)``)."""
        if self.kind == "ms":
            return self._integer(raw) / 1000.0
        if self.kind in ("bytes", "int"):
            return self._integer(raw)
        if self.kind == "s":
            if (isinstance(raw, bool) or not isinstance(raw, int | float) or math.isnan(raw)
                    or raw < 0):
                raise ValueError("must be a number of seconds >= 0")
            return float(raw)
        if self.kind == "bool":
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("true", "false"):
                return text == "true"
            raise ValueError("must be true or false")
        if self.kind == "text":
            if not isinstance(raw, str) or not raw:
                raise ValueError("must be a non-empty string")
            return raw
        if self.kind == "assignors":
            return _assignors(raw)
        if self.kind == "choice":
            text = str(raw).strip().lower()
            if isinstance(raw, bool) or text not in self.choices:
                raise ValueError(f"must be one of {', '.join(self.choices)}")
            return dict(self.aliases).get(text, text)
        raise TypeError(f"{self.name}: unknown kind {self.kind!r}")

    def default_value(self) -> Any:
        """Kafka's default in canonical units (a default in seconds is kept as written,
        an unset one, Kafka's null, is None)."""
        if self.default is None:
            return None
        return self.default if self.kind == "s" else self.parse(self.default)

    def _integer(self, raw: Any) -> int:
        unit = _INT_UNIT.get(self.kind, "")
        if isinstance(raw, bool):
            raise ValueError(f"must be an integer{unit}")
        if isinstance(raw, int):
            number = raw
        elif isinstance(raw, float) and raw.is_integer():
            number = int(raw)
        else:
            try:
                number = int(str(raw).strip())
            except ValueError:
                raise ValueError(f"must be an integer{unit}") from None
        if number < self.minimum:
            raise ValueError(f"must be >= {self.minimum}{unit}")
        if number > self.maximum:
            raise ValueError(f"must be <= {self.maximum}{unit}")
        return number


def _assignors(raw: Any) -> tuple[str, ...]:
    """``partition.assignment.strategy`` as a tuple of :data:`ASSIGNORS`."""
    expected = f"must be a list of {', '.join(ASSIGNORS)}"
    if isinstance(raw, str):
        items: list[Any] = raw.split(",")
    elif isinstance(raw, list | tuple):
        items = list(raw)
    else:
        raise ValueError(expected)
    out = []
    for item in items:
        if not isinstance(item, str):
            raise ValueError(expected)
        text = item.strip()
        if text.startswith("class "):  # as Kafka prints a class
            text = text[len("class "):].strip()
        name = _ASSIGNOR_ALIASES.get(text.rsplit(".", 1)[-1].lower())
        if name is None:
            raise ValueError(expected)
        out.append(name)
    if not out:
        raise ValueError(expected)
    return tuple(out)


class UnknownKafkaKey(KeyError):
    """A layer that must not name unmodelled keys names one: ``args[0]`` is the key,
    ``layer`` the index of the layer."""

    def __init__(self, key: str, layer: int) -> None:
        super().__init__(key)
        self.key = key
        self.layer = layer


class BadKafkaValue(ValueError):
    """A value that does not parse: ``args[0]`` is ``(key, expected)``; ``layer`` the
    index of the layer, ``raw`` the value as written."""

    def __init__(self, key: str, expected: str, raw: Any, layer: int) -> None:
        super().__init__((key, expected))
        self.key = key
        self.expected = expected
        self.raw = raw
        self.layer = layer


@dataclass(frozen=True)
class ResolvedKeys:
    """Settings merged over Kafka's defaults: ``values`` by key name (canonical units);
    ``set_by`` the index of the layer each explicitly set key came from (the last);
    ``ignored`` the unmodelled keys of lenient layers, with the last layer naming each."""

    values: dict[str, Any]
    set_by: dict[str, int]
    ignored: dict[str, int]

    def by_attr(self, keys: Sequence[KafkaKey]) -> dict[str, Any]:
        """The values by their record field (:attr:`KafkaKey.attr`)."""
        return {key.attr: self.values[key.name] for key in keys}


def resolve_keys(keys: Sequence[KafkaKey], layers: Sequence[Mapping[str, Any]], *,
                 strict: Sequence[int] | None = None) -> ResolvedKeys:
    """Kafka's defaults, then each layer in order (a later one wins).

    A key no entry of ``keys`` names is ignored in a lenient layer and raises
    :class:`UnknownKafkaKey` in a strict one (``strict``: the indices of strict layers;
    default: all). A value that does not parse raises :class:`BadKafkaValue`. Errors come
    in layer order, then key order, so the first mistake a reader meets is the one shown.
    """
    by_name = {key.name: key for key in keys}
    strict_layers = set(range(len(layers)) if strict is None else strict)
    values = {key.name: key.default_value() for key in keys}
    set_by: dict[str, int] = {}
    ignored: dict[str, int] = {}
    for index, layer in enumerate(layers):
        for name, raw in layer.items():
            key = by_name.get(name)
            if key is None:
                if index in strict_layers:
                    raise UnknownKafkaKey(name, index)
                ignored[name] = index
                continue
            try:
                values[name] = key.parse(raw)
            except ValueError as exc:
                raise BadKafkaValue(name, str(exc), raw, index) from None
            set_by[name] = index
    return ResolvedKeys(values, set_by, ignored)
