"""Observers (Confluent Multi-Region Clusters): stretch plus asynchronous replicas.

Observers fetch like followers but are never counted in the ISR, so ``acks=all`` does
not wait for them. With ``observer_promotion_policy`` ``under-min-isr`` (ISR smaller
than ``min.insync.replicas``) or ``under-replicated`` (smaller than the sync replica
count), a caught-up observer joins the ISR automatically and leaves it once the sync
replicas are back; ``leader-is-observer`` promotes only through an unclean election.
"""

from __future__ import annotations

from typing import Any, ClassVar

from geosim.kafka.placement import ObserverSetup
from geosim.strategies.kafka_family import KafkaClusterStrategy


class ObserversStrategy(KafkaClusterStrategy):
    name: ClassVar[str] = "observers"

    def observers(self, spec: Any) -> ObserverSetup | None:
        """``observer_placement`` and ``observer_promotion_policy`` of the block."""
        if not spec.observer_placement:
            return None
        return ObserverSetup(spec.observer_placement, spec.observer_promotion_policy)


__all__ = ["ObserversStrategy"]
