"""The ``strategy:`` block of the observers strategy."""

from __future__ import annotations

from typing import Literal

from geosim.kafka.spec import KafkaSpec
from geosim.scenario.types import described


class ObserversSpec(KafkaSpec):
    """Stretch plus asynchronous observer replicas (Confluent Multi-Region Clusters)."""

    name: Literal["observers"] = "observers"
    observer_placement: dict[str, int] = described(
        {}, "Observer count per region or zone id: asynchronous replicas never counted in "
        "the ISR.", source="figures.md C1")
    observer_promotion_policy: Literal["under-min-isr", "under-replicated",
                                       "leader-is-observer"] = described(
        "under-min-isr", "When a caught-up observer joins the ISR automatically: the ISR "
        "is smaller than min.insync.replicas; smaller than the sync replica count; or only "
        "by manual unclean election.", source="figures.md C2")
