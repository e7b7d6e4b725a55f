"""The ``strategy:`` block of the stretch strategy."""

from __future__ import annotations

from typing import Literal

from geosim.kafka.spec import KafkaSpec


class StretchSpec(KafkaSpec):
    """One Kafka cluster spread over regions, synchronous ISR replication."""

    name: Literal["stretch"] = "stretch"
