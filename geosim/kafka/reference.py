"""Config-key tables of the Kafka-family strategies for the generated scenario reference:
the broker and topic configs (``strategy.config``) and the flow configs
(``strategy.mirror_config``), from the tables the model resolves them with."""

from __future__ import annotations

from collections.abc import Iterable

from geosim.kafka.config import KEYS
from geosim.kafka.mirror_config import LINK_KEYS, MM2_KEYS

#: A table of the reference: (title, column names, rows of cell texts).
Table = tuple[str, list[str], list[list[str]]]

COLUMNS = ["key", "unit", "default", "description", "source of default"]
_UNITS = {"ms": "ms", "s": "s", "bytes": "bytes", "int": "", "bool": ""}


def _table(title: str, keys: Iterable) -> Table:
    rows = []
    for key in keys:
        default = str(key.default).lower() if isinstance(key.default, bool) \
            else f"{key.default}"
        rows.append([f"`{key.key}`", _UNITS.get(key.kind, ""), default, key.help,
                     key.source])
    return title, list(COLUMNS), rows


def broker_config_tables() -> list[Table]:
    """Broker and topic configs (``strategy.config``) of a Kafka cluster."""
    return [_table("Broker and topic configs (`strategy.config`)", KEYS)]


def mirrormaker2_config_tables() -> list[Table]:
    """The cluster's configs, then MirrorMaker 2's (``strategy.mirror_config``)."""
    return [*broker_config_tables(),
            _table("MirrorMaker 2 configs (`strategy.mirror_config`, mirrormaker2)",
                   MM2_KEYS)]


def cluster_link_config_tables() -> list[Table]:
    """The cluster's configs, then the cluster link's (``strategy.mirror_config``)."""
    return [*broker_config_tables(),
            _table("Cluster link configs (`strategy.mirror_config`, cluster-linking)",
                   LINK_KEYS)]
