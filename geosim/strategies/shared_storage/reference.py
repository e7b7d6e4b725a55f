"""Extra tables of the scenario reference: the AutoMQ configs of `storage.config`."""

from __future__ import annotations

from geosim.kafka.reference import Table, broker_config_tables, config_table
from geosim.kafka.storage_spec import KEYS


def tables() -> list[Table]:
    return broker_config_tables() + [config_table(
        "Shared-storage configs (`strategy.storage.config`, "
        "`strategy.shared_storage.config`)", KEYS)]


__all__ = ["tables"]
