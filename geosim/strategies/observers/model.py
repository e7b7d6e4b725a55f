"""Observers (Confluent Multi-Region Clusters): stretch plus asynchronous replicas.

Observers fetch like followers but are never counted in the ISR, so ``acks=all`` does
not wait for them. With ``observer_promotion_policy`` ``under-min-isr`` (ISR smaller
than ``min.insync.replicas``) or ``under-replicated`` (smaller than the sync replica
count), a caught-up observer joins the ISR automatically and leaves it once the sync
replicas are back; ``leader-is-observer`` promotes only through an unclean election.
"""

from __future__ import annotations

from typing import ClassVar

from geosim.strategies.kafka_family import KafkaClusterStrategy


class ObserversStrategy(KafkaClusterStrategy):
    name: ClassVar[str] = "observers"
    with_observers: ClassVar[bool] = True


__all__ = ["ObserversStrategy"]
