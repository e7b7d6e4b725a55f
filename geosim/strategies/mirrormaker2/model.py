"""MirrorMaker 2: independent clusters linked by Connect source tasks.

Each flow consumes the source cluster's topic and produces into the remote topic
``<source>.<topic>`` of the target (``DefaultReplicationPolicy``), so target offsets
differ from source offsets; offset syncs and checkpoints translate consumer group
offsets conservatively, so a failed-over group re-reads and never skips while
translation is available. The model is the cross-cluster engine,
:mod:`geosim.kafka.cross_cluster`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from geosim.kafka.mirror_config import MirrorConfig
from geosim.strategies.kafka_family import CrossClusterStrategy
from geosim.strategies.mirrormaker2 import config


class MirrorMaker2Strategy(CrossClusterStrategy):
    name: ClassVar[str] = "mirrormaker2"

    def mirror_config(self, spec: Any) -> MirrorConfig:
        return config.mirror_config(spec)


__all__ = ["MirrorMaker2Strategy"]
