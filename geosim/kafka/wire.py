"""What the Kafka engine's requests weigh on the wire, and the TCP window's bound.

Sizes are those of the requests the model sends besides the data itself (assumptions
of the order of Kafka's headers); the data's bytes are the rows' compressed bytes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from geosim.world.network import window_delay

if TYPE_CHECKING:
    from geosim.world.network import Network

ACK_BYTES = 128                   # a produce response, an offset commit's answer
FETCH_REQUEST_BYTES = 64          # per fetch request (or response header), plus
FETCH_PARTITION_BYTES = 32        # per partition asked for
CONTROLLER_RECORD_BYTES = 128     # a partition-change or broker record (assumption)
HEARTBEAT_BYTES = 64              # a BrokerHeartbeat request or response (assumption)
OFFSET_SYNC_BYTES = 64            # one MirrorMaker 2 offset-sync record (assumption)
CHECKPOINT_BYTES = 96             # one checkpoint record per group and partition (assumption)


def window_wait(net: Network, src: str, dst: str, size: int, window: int | None,
                connections: int) -> float:
    """The extra time ``size`` bytes take from ``src`` to ``dst`` over ``connections``
    TCP connections of ``window`` bytes (``topology.tcp_window``; none: no bound): each
    connection moves at most one window per round trip (domain.md §2), so each window
    beyond the first waits for a round trip, less its sending time over the link
    (:func:`geosim.world.network.window_delay`, at the link's median RTT)."""
    if not window:
        return 0.0
    # equivalent: a fast path (per fetch response): window_delay gives 0 there too
    if size <= window * connections:  # mutate: equivalent
        return 0.0
    return window_delay(size, window * connections, net.rtt_estimate(src, dst),
                        net.link_bandwidth(src, dst))


__all__ = ["ACK_BYTES", "CHECKPOINT_BYTES", "CONTROLLER_RECORD_BYTES", "FETCH_PARTITION_BYTES",
           "FETCH_REQUEST_BYTES", "HEARTBEAT_BYTES", "OFFSET_SYNC_BYTES", "window_wait"]
