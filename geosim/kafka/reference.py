"""Config-key tables of the Kafka-family strategies for the generated scenario reference:
the broker and topic configs (``strategy.config``), and the table of any key list (a
cross-cluster strategy's ``strategy.mirror_config`` keys), from the tables the model
resolves them with."""

from __future__ import annotations

from collections.abc import Iterable

from geosim.kafka.config import KEYS
from geosim.scenario.kafka_keys import KafkaKey

#: A table of the reference: (title, column names, rows of cell texts).
Table = tuple[str, list[str], list[list[str]]]

COLUMNS = ["key", "unit", "default", "description", "source of default"]


def config_table(title: str, keys: Iterable[KafkaKey]) -> Table:
    """One table of config keys: each key as written, with its default as Kafka spells
    it and the values it accepts."""
    rows = []
    for key in keys:
        default = str(key.default).lower() if isinstance(key.default, bool) \
            else f"{key.default}"
        rows.append([f"`{key.name}`", key.written_unit, default, key.documented,
                     key.source])
    return title, list(COLUMNS), rows


def broker_config_tables() -> list[Table]:
    """Broker and topic configs (``strategy.config``) of a Kafka cluster."""
    return [config_table("Broker and topic configs (`strategy.config`)", KEYS)]


__all__ = ["COLUMNS", "Table", "broker_config_tables", "config_table"]
