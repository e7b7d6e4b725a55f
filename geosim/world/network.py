"""The network: the one seam every message between two nodes passes through.

``Network.delay(src, dst, size, purpose)`` returns the one-way delivery delay of a
message (propagation drawn from the link's RTT distribution, plus queueing behind
earlier transfers when the link has a bandwidth) and counts its bytes by source,
destination and purpose; or returns ``None`` when the message is lost (endpoint down,
partition, random loss). Callers schedule delivery themselves, so the network needs no
SimPy process per message. Faults act here through ``set_down``, ``partition`` and
``degrade``.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter, defaultdict
from dataclasses import dataclass

from geosim.core.context import Context
from geosim.world.topology import Topology

# The blocks of draws of a message family's stream (``Network.delay``'s ``stream``):
# the first, and the largest the doubling reaches (a run holds thousands of families,
# each with at most one block of floats: 256 of them take about 8 KiB).
FAMILY_FIRST_BLOCK = 16
FAMILY_MAX_BLOCK = 256

PURPOSES = ("produce", "replicate", "consume", "mirror", "object_put", "object_get",
            "object_replication", "metadata", "ack")


def window_round_trips(size: float, window: float | None) -> int:
    """The windows ``size`` bytes take beyond the first over a connection whose window
    holds ``window`` bytes (None: unbounded), domain.md §2: the sender puts at most one
    window in flight per round trip, so the data takes ``ceil(size / window)`` windows
    and the first rides the exchange's own trip."""
    if not window or size <= window:
        return 0
    return math.ceil(size / window) - 1


def window_gap(window: float, rtt: float, bandwidth: float | None = None) -> float:
    """How long each window beyond the first waits, domain.md §2: for the
    acknowledgements of the one before, a round trip after it started, less the time it
    took to send over a link of ``bandwidth`` bytes/s (None: unbounded); nothing on a
    link whose bandwidth-delay product exceeds the window."""
    idle = rtt - window / bandwidth if bandwidth else rtt
    return idle if idle > 0 else 0.0


def window_delay(size: float, window: float | None, rtt: float,
                 bandwidth: float | None = None) -> float:
    """The time ``size`` bytes in one direction wait on the TCP window beyond their
    round trip and their bytes over the link (``size / bandwidth``, counted apart): a
    :func:`window_gap` per window beyond the first. ``window``: the connections'
    windows together; ``bandwidth``: the link's (None: unbounded).

    Connections are taken as warm (congestion windows open to ``window``); Linux
    restarts slow start on a connection idle past its retransmission timeout
    (``tcp_slow_start_after_idle``), which geosim does not model."""
    extra = window_round_trips(size, window)
    if not extra or window is None:
        return 0.0
    return extra * window_gap(window, rtt, bandwidth)


@dataclass(frozen=True)
class Degradation:
    extra_latency: float = 0.0
    bandwidth: float | None = None
    loss: float = 0.0


def combined(held: list[Degradation]) -> Degradation:
    """Several degradations of one path at once: their extra latencies add up, the
    narrowest bandwidth holds, and a message is lost when any of them loses it."""
    bandwidths = [d.bandwidth for d in held if d.bandwidth is not None]
    through = 1.0
    for d in held:
        through *= 1.0 - d.loss
    return Degradation(sum(d.extra_latency for d in held),
                       min(bandwidths) if bandwidths else None, 1.0 - through)


class Interconnect:
    """A capacity several region pairs share (``topology.interconnects``): one FIFO
    queue per direction, and the bytes it carried per time bin and direction (a
    message's bytes leave at the full rate between its start and its end, so no bin
    carries more than ``bandwidth x bin width``)."""

    __slots__ = ("name", "bandwidth", "busy_until", "bins", "bin_width")

    def __init__(self, name: str, bandwidth: float, bin_width: float):
        self.name = name
        self.bandwidth = float(bandwidth)
        self.busy_until = [0.0, 0.0]                 # forward, reverse
        self.bins: tuple[array, array] = (array("d"), array("d"))
        self.bin_width = bin_width

    def through(self, now: float, direction: int, size: int) -> float:
        """Time until ``size`` bytes entering now in ``direction`` have left (FIFO)."""
        start = max(now, self.busy_until[direction])
        done = start + size / self.bandwidth
        self.busy_until[direction] = done
        column = self.bins[direction]
        width = self.bin_width
        first, last = int(start // width), int(done // width)
        if last >= len(column):
            column.frombytes(bytes(8 * (last + 1 - len(column) + 64)))
        if first == last:
            column[first] += size
        else:
            rate = self.bandwidth
            column[first] += ((first + 1) * width - start) * rate
            for k in range(first + 1, last):
                column[k] += width * rate
            column[last] += (done - last * width) * rate
        return done - now


class _Route:
    """A directed (src, dst, purpose) path: its link's sampler and limits, the shared
    interconnect it crosses (if any), and the bytes sent along it and returned on it
    (counted here, summed by ``Network.bytes``)."""

    __slots__ = ("sampler", "bandwidth", "loss", "queue", "sent", "returned", "gate",
                 "direction", "loss_rng")

    def __init__(self, sampler, bandwidth, loss, queue, gate=None, direction=0):
        self.sampler = sampler
        self.bandwidth = bandwidth
        self.loss = loss
        self.queue = queue
        self.gate: Interconnect | None = gate
        self.direction = direction    # 0: the pair's forward direction, 1: reverse
        self.sent = 0
        self.returned = 0
        self.loss_rng = None  # a message family's own loss draws, on first use


class Network:
    """Delays, losses and byte counts for messages between topology nodes."""

    def __init__(self, ctx: Context, topology: Topology, *, bin_width: float = 1.0):
        self.ctx = ctx
        self.topology = topology
        self._region = topology.zone_region
        self._counted: dict[tuple[str, str, str], int] = defaultdict(int)
        self.messages = 0
        self._samplers: dict[tuple[str, ...], object] = {}
        self._routes: dict[tuple[str, ...], _Route] = {}
        self._busy_until: dict[tuple[str, str], float] = {}
        self._down: set[str] = set()
        # Holds, so that overlapping faults and link schedules compose: a path is blocked
        # while any partition holds it, and degraded by every brownout holding it.
        self._blocked: Counter[tuple[str, str]] = Counter()
        self._degradations: dict[tuple[str, str], list[Degradation]] = {}
        self._degraded: dict[tuple[str, str], Degradation] = {}
        self._loss_rng = ctx.rng("network.loss")
        self._impaired = False
        self._window = topology.spec.tcp_window
        # Shared interconnects by directed region pair: (interconnect, direction).
        self.interconnects: dict[str, Interconnect] = {}
        self._gates: dict[tuple[str, str], tuple[Interconnect, int]] = {}
        for spec in topology.spec.interconnects:
            gate = self.interconnects[spec.name] = Interconnect(spec.name, spec.bandwidth,
                                                                bin_width)
            for a, b in spec.between:
                self._gates[(a, b)] = (gate, 0)
                self._gates[(b, a)] = (gate, 1)

    # --- the seam -------------------------------------------------------------------------
    def delay(self, src: str, dst: str, size: int, purpose: str, *,
              stream: str | None = None, queued: bool = True) -> float | None:
        """One-way delay (s) for ``size`` bytes from ``src`` to ``dst``, or None if lost.

        Counts the bytes under ``(src, dst, purpose)`` whenever the message leaves ``src``
        (a message lost in flight was still sent and billed).

        ``stream``: the message's *family*, a sequence of messages that draws its
        delays and losses from random streams of its own, one per direction (the
        link's distribution, not its draws): fleet f's produce requests to zone z, the
        replica fetches of one zone pair, the deliveries of one partition to one zone.
        The n-th message of a family gets the n-th draw of its streams whatever else
        crosses the link and in whatever order, so adding messages to a model (another
        consumer group, a mirror) leaves every other family's draws as they were, and a
        bulk engine that knows a family's messages can reproduce its draws. Without a
        family, a message draws from the one stream that every such message between
        the two nodes shares, in the order they are sent.

        ``queued=False``: a small control message on a connection of its own (a broker's
        heartbeat). Connections share a bottleneck packet by packet, so it waits for
        its own bytes at the link's (or a brownout's) rate, not behind the bytes other
        connections have queued on the link or an interconnect (its bytes still join
        their queues, so the capacity they take is counted); it still sees the link's
        delay, jitter, loss and partitions.
        """
        if self._impaired and not self._reachable(src, dst):
            return None
        key = (src, dst, purpose) if stream is None else (src, dst, purpose, stream)
        route = self._routes.get(key)
        if route is None:
            route = self._routes[key] = self._route(src, dst, stream, purpose)
        route.sent += size
        self.messages += 1
        bandwidth = route.bandwidth
        loss = route.loss
        one_way = 0.5 * route.sampler()
        if self._impaired:
            degradation = self._degradation(src, dst)
            if degradation is not None:
                one_way += degradation.extra_latency
                if degradation.bandwidth is not None:
                    bandwidth = degradation.bandwidth
                loss = max(loss, degradation.loss)
        if loss and (self._loss_rng if stream is None
                     else self._family_loss_rng(route, key)).random() < loss:
            return None
        base = one_way
        if bandwidth:
            queue_time = self._serialize(route.queue, bandwidth, size)
            one_way += queue_time if queued else size / bandwidth
        gate = route.gate
        if gate is not None:
            # through when both the link and the interconnect let it through
            gate_time = gate.through(self.ctx.env.now, route.direction, size)
            one_way = max(one_way, base + (gate_time if queued else size / gate.bandwidth))
        return one_way

    def _serialize(self, queue: tuple, bandwidth: float, size: int) -> float:
        """Time until ``size`` bytes have left through the link's queue (FIFO)."""
        now = self.ctx.env.now
        start = max(now, self._busy_until.get(queue, now))
        done = start + size / bandwidth
        self._busy_until[queue] = done
        return done - now

    def round_trip(self, src: str, dst: str, size_out: int, size_back: int,
                   purpose: str, *, windowed: bool = True,
                   parallel: int = 1, stream: str | None = None) -> float | None:
        """A request of ``size_out`` bytes and its reply of ``size_back``: the round-trip
        time (one draw of the link's RTT, plus serialization), or None if either is lost.

        ``windowed``: the exchange runs over one client TCP connection, whose throughput
        is at most window / RTT: in each direction, each window's worth of payload beyond
        the first waits about one more round trip (``topology.tcp_window``,
        :func:`window_delay`). Provider-internal transfers pass False.
        ``parallel``: the sizes are the sum of that many equal exchanges made at once over
        their own connections (a modelled writer standing for several brokers): each
        connection's window bound sees its share; the link serializes all the bytes.
        ``stream``: the exchange's message family, as for :meth:`delay` (its request's
        direction names the family's streams).
        """
        if self._impaired and not (self._reachable(src, dst) and self._reachable(dst, src)):
            return None
        key = (src, dst, purpose) if stream is None else (src, dst, purpose, stream)
        route = self._routes.get(key)
        if route is None:
            route = self._routes[key] = self._route(src, dst, stream, purpose)
        route.sent += size_out
        route.returned += size_back
        self.messages += 2 * parallel
        rtt = route.sampler()  # a round trip is one draw of the link's RTT distribution
        base = rtt
        window = self._window
        if windowed and window and max(size_out, size_back) > window * parallel:
            # each direction has its own windows: the request's, then the reply's
            rtt += window_delay(size_out, window * parallel, base, route.bandwidth) \
                + window_delay(size_back, window * parallel, base, route.bandwidth)
        if route.bandwidth:
            rtt += self._serialize(route.queue, route.bandwidth, size_out)
        loss = route.loss
        losses = None
        if loss:
            losses = self._loss_rng if stream is None else self._family_loss_rng(route, key)
            if losses.random() < loss or losses.random() < loss:
                return None  # the request or the reply was lost
        if self._impaired:
            degradation = self._degradation(src, dst)
            if degradation is not None:
                rtt += 2 * degradation.extra_latency
                base += 2 * degradation.extra_latency
                if degradation.bandwidth:
                    rtt += self._serialize(route.queue, degradation.bandwidth, size_out)
                if degradation.loss:
                    if losses is None:
                        losses = (self._loss_rng if stream is None
                                  else self._family_loss_rng(route, key))
                    if losses.random() < degradation.loss:
                        return None
        gate = route.gate
        if gate is not None:
            # the request's bytes, then the reply's, through the shared capacity
            now = self.ctx.env.now
            queued = gate.through(now, route.direction, size_out)
            queued += gate.through(now + queued, 1 - route.direction, size_back)
            rtt = max(rtt, base + queued)
        return rtt

    def round_trips(self, src: str, dsts, size_out: int, size_back: int,
                    purpose: str, *, parallel: int = 1) -> list[float]:
        """Round-trip times from ``src`` to each of ``dsts`` and back, for those reachable.

        Used for quorum protocols, which wait for the k-th fastest; lost ones are left out.
        """
        out = []
        for dst in dsts:
            rtt = self.round_trip(src, dst, size_out, size_back, purpose, parallel=parallel)
            if rtt is not None:
                out.append(rtt)
        return out

    def count(self, src: str, dst: str, purpose: str, size: int) -> None:
        """Count bytes a managed service moves itself (e.g. bucket replication)."""
        self._counted[(src, dst, purpose)] += size

    @property
    def bytes(self) -> dict[tuple[str, str, str], int]:
        """Bytes by (source, destination, purpose), everything counted so far."""
        out: dict[tuple[str, str, str], int] = defaultdict(int)
        for (src, dst, purpose, *_stream), route in self._routes.items():
            if route.sent:
                out[(src, dst, purpose)] += route.sent
            if route.returned:
                out[(dst, src, purpose)] += route.returned
        for key, size in self._counted.items():
            out[key] += size
        return out

    def interconnect_usage(self) -> dict[str, tuple[float, tuple[list[float], list[float]]]]:
        """Per interconnect: its bandwidth and the bytes that entered it per time bin,
        forward and reverse (what :mod:`geosim.metrics.interconnects` folds)."""
        return {name: (gate.bandwidth, (gate.bins[0].tolist(), gate.bins[1].tolist()))
                for name, gate in sorted(self.interconnects.items())}

    def _route(self, src: str, dst: str, stream: str | None = None,
               purpose: str = "") -> _Route:
        link = self.topology.link(src, dst)
        if stream is None:
            # the pair's one shared stream, both directions
            pair = (src, dst) if src <= dst else (dst, src)
            sampler = self._samplers.get(pair)
            if sampler is None:
                sampler = self._samplers[pair] = link.rtt.sampler(
                    self.ctx.rng(f"network.{pair[0]}|{pair[1]}"))
        else:
            # a message family's own stream in this direction; families are many and
            # most send little, so its first block of draws is small
            sampler = link.rtt.sampler(
                self.ctx.rng(f"network.{src}>{dst}.{purpose}.{stream}"),
                first_block=FAMILY_FIRST_BLOCK, max_block=FAMILY_MAX_BLOCK)
        # One serialization queue per link and direction: zone pairs that resolve to the
        # same region-pair link share its bandwidth.
        rs, rd = self._region[src], self._region[dst]
        forward = (rs, src) <= (rd, dst)
        gate, direction = self._gates.get((rs, rd), (None, 0))
        return _Route(sampler, link.bandwidth, link.loss, (id(link), forward), gate, direction)

    def _family_loss_rng(self, route: _Route, key: tuple[str, ...]):
        """A family's loss draws (``key``: its route's (src, dst, purpose, stream))."""
        rng = route.loss_rng
        if rng is None:
            src, dst, purpose, stream = key
            rng = route.loss_rng = self.ctx.rng(f"network.loss.{src}>{dst}.{purpose}.{stream}")
        return rng

    def link_bandwidth(self, a: str, b: str) -> float | None:
        """The bandwidth (bytes/s) of the link between two nodes (None: unbounded)."""
        return self.topology.link(a, b).bandwidth

    def rtt_estimate(self, a: str, b: str) -> float:
        """Median RTT between two nodes, for components that need a typical value."""
        return self.topology.median_rtt(a, b)

    def reachable(self, src: str, dst: str) -> bool:
        return not self._impaired or self._reachable(src, dst)

    # --- faults ---------------------------------------------------------------------------
    def set_down(self, node: str, down: bool = True) -> None:
        """Mark a zone or region down: messages to or from it are lost."""
        (self._down.add if down else self._down.discard)(node)
        self._update()

    def partition(self, a: str, b: str, *, one_way: bool = False, active: bool = True) -> None:
        """Drop messages from ``a`` to ``b`` (and back unless ``one_way``); nodes or regions."""
        pairs = [(a, b)] if one_way else [(a, b), (b, a)]
        blocked = self._blocked
        for pair in pairs:
            if active:
                blocked[pair] += 1
            elif blocked[pair] > 1:
                blocked[pair] -= 1
            else:
                blocked.pop(pair, None)
        self._update()

    def degrade(self, a: str, b: str, degradation: Degradation, *,
                active: bool = True) -> None:
        """Start (or with ``active=False``, end) a brownout on the path between ``a`` and
        ``b``; brownouts that overlap on a path combine (:func:`combined`)."""
        for pair in ((a, b), (b, a)):
            held = self._degradations.setdefault(pair, [])
            if active:
                held.append(degradation)
            elif degradation in held:
                held.remove(degradation)
            if held:
                self._degraded[pair] = held[0] if len(held) == 1 else combined(held)
            else:
                self._degradations.pop(pair, None)
                self._degraded.pop(pair, None)
        self._update()

    @property
    def impaired(self) -> bool:
        """Whether any node is down, any path cut or any path degraded now."""
        return self._impaired

    @property
    def links_impaired(self) -> bool:
        """Whether any path is cut or degraded now (nodes down aside)."""
        return bool(self._blocked or self._degraded)

    def fault_state(self) -> tuple:
        """What the network's faults hold now (the nodes down, the paths cut, the paths
        degraded), for a reader that must notice any change of it."""
        return (frozenset(self._down), frozenset(self._blocked), frozenset(self._degraded))

    def is_down(self, node: str) -> bool:
        return node in self._down or self._region.get(node) in self._down

    # --- internals ------------------------------------------------------------------------
    def _update(self) -> None:
        self._impaired = bool(self._down or self._blocked or self._degraded)

    def _reachable(self, src: str, dst: str) -> bool:
        down = self._down
        rs, rd = self._region[src], self._region[dst]
        if down and (src in down or dst in down or rs in down or rd in down):
            return False
        blocked = self._blocked
        if blocked and ((src, dst) in blocked or (rs, rd) in blocked or (src, rd) in blocked
                        or (rs, dst) in blocked):
            return False
        return True

    def _degradation(self, src: str, dst: str) -> Degradation | None:
        if not self._degraded:
            return None
        rs, rd = self._region[src], self._region[dst]
        for pair in ((src, dst), (rs, rd), (src, rd), (rs, dst)):
            found = self._degraded.get(pair)
            if found is not None:
                return found
        return None
