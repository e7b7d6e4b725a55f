"""The producer configs a fleet uses, in canonical units (resolved from Kafka's keys by
:mod:`geosim.scenario.omb`, turned into these by :mod:`geosim.clients.workload`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProducerSettings:
    """The producer configs the fleet model uses, in canonical units."""

    linger: float = 0.005
    batch_size: int = 16384
    max_request_size: int = 1048576
    max_in_flight: int = 5
    retry_backoff: float = 0.1
    retry_backoff_max: float = 1.0
    delivery_timeout: float = 120.0
    request_timeout: float = 30.0
    acks: str = "all"
    idempotence: bool = True
    buffer_memory: int = 33554432
    max_block: float = 60.0


__all__ = ["ProducerSettings"]
