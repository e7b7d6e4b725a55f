"""One Kafka broker's state: where it runs, whether it is up, fenced or destroyed.

The cluster model times brokers per zone (:mod:`geosim.kafka.cluster`); what decides
outcomes stays per broker: liveness, fencing by the controller, the heartbeat phase,
and whether it came back from an unclean shutdown (KIP-966).
"""

from __future__ import annotations

from geosim.kafka.placement import BrokerInfo


class Broker:
    __slots__ = ("id", "zone", "region", "rack", "alive", "fenced", "destroyed",
                 "last_heartbeat", "heard", "phase", "unclean_restart")

    def __init__(self, info: BrokerInfo, phase: float):
        self.id = info.id
        self.zone = info.zone
        self.region = info.region
        self.rack = info.rack
        self.alive = True
        self.fenced = False
        self.destroyed = False
        self.last_heartbeat = 0.0     # when the controller last heard from it
        self.heard = False            # a heartbeat reached the controller since its check
        self.phase = phase            # heartbeat offset within the interval
        self.unclean_restart = False  # came back from a crash, not yet re-registered


__all__ = ["Broker"]
