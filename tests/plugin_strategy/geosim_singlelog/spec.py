"""The ``strategy:`` block of ``single-log``."""

from __future__ import annotations

from typing import Literal

from geosim.scenario.sections import StrategySpecBase
from geosim.scenario.types import Duration, described


class SingleLogSpec(StrategySpecBase):
    """Every partition on one broker in the ``home`` zone; nothing is replicated."""

    name: Literal["single-log"] = "single-log"
    home: str = described(..., "Zone id of the one broker.")
    append_interval: Duration = described(
        0.005, "The broker takes what producers sent at most this often.", unit="s",
        source="test plug-in assumption")
