"""One Kafka broker's state: where it runs, whether it is up, fenced or destroyed.

The cluster model times brokers per zone (:mod:`geosim.kafka.cluster`); what decides
outcomes stays per broker: liveness, fencing by the controller, the heartbeat phase,
and whether it came back from an unclean shutdown (KIP-966).
"""

from __future__ import annotations

from geosim.kafka.placement import BrokerInfo


class Broker:
    __slots__ = ("id", "zone", "region", "rack", "alive", "fenced", "destroyed",
                 "last_heartbeat", "heard", "phase", "unclean_restart", "refused_until",
                 "stopping", "heartbeats")

    def __init__(self, info: BrokerInfo, phase: float, cluster: str = "cluster"):
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
        # Restarted while its old session was valid: the controller refuses the new
        # incarnation's registration until then (its heartbeats do not count).
        self.refused_until = 0.0
        self.stopping = False         # in a controlled shutdown, not stopped yet
        # its heartbeats and their answers: a message family (Network.delay's stream)
        self.heartbeats = f"{cluster}.heartbeat{info.id}"


__all__ = ["Broker"]
