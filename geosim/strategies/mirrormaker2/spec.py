"""The ``strategy:`` block of the mirrormaker2 strategy."""

from __future__ import annotations

from typing import Literal

from geosim.kafka.spec import CrossClusterSpec
from geosim.scenario.types import described


class MirrorMaker2Spec(CrossClusterSpec):
    """MirrorMaker 2: source connector tasks consume remotely and produce locally."""

    name: Literal["mirrormaker2"] = "mirrormaker2"
    mirror_config: dict[str, str | int | float | bool] = described(
        {}, "MirrorMaker 2 configs by key (`offset.lag.max`, "
        "`emit.checkpoints.interval.seconds`, `sync.group.offsets.enabled`, "
        "`offset.flush.interval.ms`, `tasks.max`, ...). Keys and defaults: "
        "geosim/strategies/mirrormaker2/config.py.", source="figures.md §6")
