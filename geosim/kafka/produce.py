"""The produce path of a Kafka cluster: produce requests, appends, acks, timeouts.

A *send clock* ticks every ``append_interval`` (the cluster's ``send_tick``); at each
tick each producer fleet sends each zone's leaders produce requests with what it
buffered for them, within its in-flight room for that zone (rows of at most n x
``batch.size`` bytes rotating over the zone's partitions, at most one row per partition
and n x leaders x ``max.request.size`` bytes per request:
:meth:`~geosim.clients.producer.ProducerFleet.drain`; the interval plays the producers'
``linger.ms``). The request crosses the network seam like every other message
(``Network.delay``: the link's RTT draw, a brownout's extra latency and loss,
serialization behind the link's other traffic); requests of one fleet to one zone arrive
in the order they were sent (one connection: TCP keeps its order). A request lost on the
way, or one that would arrive after ``request.timeout.ms``, fails at the producer when
that timeout expires (nothing was appended; the producer retries, and idempotence keeps
retries from duplicating).

On arrival the leaders append the rows. ``acks=0|1`` rows are acknowledged at once;
``acks=all`` rows when the high watermark passes them
(:meth:`~geosim.kafka.replication.Replication.advance_hw`), or fail with
NotEnoughReplicas when the ISR is smaller than ``min.insync.replicas``. Rows already
appended when the ISR shrinks below it wait: the HW does not move under
``min.insync.replicas`` (Kafka's ``Partition.maybeIncrementLeaderHW``), so they are
acknowledged if the ISR grows back in time. Kafka's NotEnoughReplicasAfterAppend needs
the ISR to shrink between a HW move and the check of the waiting request, which the
model does at one instant, so it never arises. A produce request unanswered for
``request.timeout.ms`` times out at the producer (outcome unknown).

Copies written by a cross-cluster flow (:meth:`ProducePath.append_mirrored`) take the
same path with ``acks=all``; their answers go to the flow (``mirror_sinks``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from geosim.clients.producer import OUT_OF_ORDER, ProducerFleet
from geosim.core.context import call_later
from geosim.core.events import Row
from geosim.kafka.wire import ACK_BYTES

if TYPE_CHECKING:
    from simpy import Event

    from geosim.kafka.cluster import KafkaCluster
    from geosim.kafka.partition import PartitionState

NOT_LEADER = "NotLeaderOrFollower"
NOT_ENOUGH = "NotEnoughReplicas"
#: The connection to the leader was closed (its process stopped on a live host).
DISCONNECTED = "NetworkException: connection closed"
#: While the window engine holds the data path, the send clock looks at most this
#: many ticks ahead (geosim.kafka.window.mode watches every 50 ms).
SUSPENDED_TICKS = 10
#: A produce request lost on the way or slower than request.timeout.ms: the producer
#: sees a timeout (the text says why, for traces).
NEVER_ARRIVED = "request timed out: it never reached the leaders"


def _ticks_ahead(now: float, interval: float, n: int) -> float:
    """The step that lands a clock at ``now`` where ``n`` steps of ``interval`` would:
    the clock's instants are sums of ``interval``, one tick at a time, so a suspended
    clock that steps several ticks at once must land on the same floats (a tick and a
    fault at one nominal instant keep their order: before, a window's suspended clock
    left the last bits different, and a region outage on a tick boundary found one
    more tick's records unsent in window mode than in events). ``landing - now`` is
    exact (Sterbenz: the two are within a factor of two once ``now`` is past ``n``
    ticks; before that, one tick), so ``now + step`` is the landing itself."""
    if n <= 1 or now < n * interval:
        return interval
    landing = now
    for _ in range(n):
        landing += interval
    return landing - now


class ProducePath:
    """Producers' requests to one cluster's leaders, and their answers."""

    def __init__(self, cluster: KafkaCluster):
        self.cluster = cluster
        self.env = cluster.env
        self.net = cluster.net
        # The live leaders of each zone's partitions, as of the last rewiring.
        self.leaders_by_zone: dict[str, list[PartitionState]] = {}
        self._appended: dict[str, Event] = {}  # per leader zone: its next append
        # produces waiting on a dead leader: (row, arrival, the leader's zone)
        self._orphans: list[tuple[Row, float, str | None]] = []
        # Requests lost to a zone that is down, until they time out or it comes back:
        # (zone, fleet, rows) by request number.
        self._lost: dict[int, tuple[str, ProducerFleet, list[Row]]] = {}
        self._lost_count = 0
        # Per (fleet, leader zone) connection: when its last request arrives (in order).
        self._arrival: dict[tuple[int, str], float] = {}
        # Per fleet: its requests' and its acknowledgements' message families (each
        # fleet and leader zone draws its own delays, Network.delay's stream).
        self._families: dict[int, tuple[str, str]] = {}
        # The window engine's hand-over (geosim.kafka.window.mode): :meth:`suspend`,
        # :meth:`resume_at` and :meth:`cancel_suspension`. ``last_tick``: the clock's
        # last cutting tick.
        self.suspended = False
        self.resuming_at: float | None = None
        self._on_resume: Callable[[], None] | None = None
        self.last_tick = 0.0

    # ========================================================================= routing
    def route(self) -> None:
        """Producers send each partition to its leader's zone (target = zone index)."""
        c = self.cluster
        table: dict[int, list[int]] = {}
        # A producer holds one connection to each broker leading its partitions.
        connections: dict[int, int] = {}
        local = c.local_partitions
        for zone, parts in self.leaders_by_zone.items():
            ids = [p.id for p in parts if p.id < local]
            if ids:
                target = c.zone_index[zone]
                table[target] = ids
                connections[target] = len({p.leader for p in parts if p.id < local})
        for fleet in c.producing:
            fleet.route(table, connections=connections)

    def attach_fleets(self, fleets: list[ProducerFleet]) -> None:
        """Producers (failed over from another cluster) now write to this one."""
        self.cluster.producing.extend(fleets)
        self.route()

    def detach_fleets(self, fleets: list[ProducerFleet]) -> None:
        producing = self.cluster.producing
        for fleet in fleets:
            if fleet in producing:
                producing.remove(fleet)

    # ====================================================================== send clocks
    def start(self) -> None:
        """The cluster's send clock."""
        for zone in self.cluster.zones:
            self._appended[zone] = self.env.event()
        self.env.process(self._send_clock())

    def _send_clock(self):
        """Every ``append_interval``, for each zone with live leaders in turn, each live
        fleet that can reach the zone sends its leaders what it buffered for them
        (records wait in the producers' buffers while no leader lives there or the zone
        is cut off from the fleet). One clock for all zones: every zone's sends of a
        tick happen at the same instant, zone after zone in name order."""
        c = self.cluster
        interval = c.send_tick
        zones = [(zone, c.zone_index[zone]) for zone in c.zones]
        net = self.net
        step = interval
        while True:
            yield self.env.timeout(step)
            step = interval
            now = self.env.now
            if self.suspended:
                resume_at = self.resuming_at
                if resume_at is None or now < resume_at - 1e-9:
                    # nothing to cut: look again in up to SUSPENDED_TICKS ticks (a window
                    # may end earlier than planned, at a tick its watch picks)
                    if resume_at is not None:
                        ahead = int((resume_at - now) / interval + 1e-9)
                        step = _ticks_ahead(now, interval, max(1, min(ahead, SUSPENDED_TICKS)))
                    continue
                hook = self._on_resume
                self.cancel_suspension()
                if hook is not None:
                    hook()
            self.last_tick = now
            leaders = self.leaders_by_zone  # rebuilt at each rewiring
            drained: dict[int, ProducerFleet] = {}
            # (a fleet done producing cuts nothing: after production ends, the clock
            # only looks for retries)
            cutting = [f for f in c.producing if f.alive and not f.finished()]
            for zone, target in zones:
                if not leaders[zone]:
                    continue  # no live leader here (the table holds live leaders only)
                for fleet in cutting:
                    if not net.reachable(fleet.zone, zone):
                        continue
                    drained[fleet.id] = fleet
                    for rows in fleet.drain(target, now, report=False):
                        self._send(zone, fleet, rows, now)
            for fleet in drained.values():
                fleet.report()  # the fleet's counts once the tick's sends are all out

    def suspend(self) -> float:
        """The send clock stops cutting (the producers' records wait in their buffers)
        until :meth:`resume_at`'s tick or :meth:`cancel_suspension`; returns its last
        cutting tick."""
        self.suspended = True
        return self.last_tick

    def resume_at(self, at: float, then: Callable[[], None] | None = None) -> None:
        """A suspended clock cuts again at its first tick at or after ``at``, calling
        ``then`` before it cuts (called again, it moves the tick)."""
        self.resuming_at = at
        if then is not None:
            self._on_resume = then

    def cancel_suspension(self) -> None:
        """The clock cuts again from its next tick, without a hook."""
        self.suspended, self.resuming_at, self._on_resume = False, None, None

    def _send(self, zone: str, fleet: ProducerFleet, rows: list[Row], now: float) -> None:
        """One produce request from ``fleet`` to the leaders in ``zone``, through the
        network: appended on arrival, or failed at ``request.timeout.ms`` if lost or
        slower than that."""
        size = sum(r.bytes_compressed for r in rows)
        delay = self.net.delay(fleet.zone, zone, size, "produce",
                               stream=self._family(fleet.id)[0])
        timeout = self.cluster.request_timeout
        if delay is not None:
            key = (fleet.id, zone)
            arrival = max(now + delay, self._arrival.get(key, now))
            self._arrival[key] = arrival
            if arrival - now <= timeout:
                call_later(self.env, arrival - now, self._arrive, zone, fleet, rows, now)
                return
        self._time_out(fleet, rows, now, zone)

    def _family(self, fleet_id: int) -> tuple[str, str]:
        """Fleet ``fleet_id``'s produce requests' and acknowledgements' families."""
        names = self._families.get(fleet_id)
        if names is None:
            prefix = f"{self.cluster.name}.fleet{fleet_id}"
            names = self._families[fleet_id] = (f"{prefix}.produce", f"{prefix}.ack")
        return names

    def _time_out(self, fleet: ProducerFleet, rows: list[Row], sent: float,
                  zone: str) -> None:
        """The request never reached the leaders: the producer learns at its timeout,
        or, if ``zone`` is down, when it comes back first (:meth:`zone_back`)."""
        wait = max(sent + self.cluster.request_timeout - self.env.now, 0.0)
        if self.net.is_down(zone):
            key = self._lost_count
            self._lost_count += 1
            self._lost[key] = (zone, fleet, rows)
            call_later(self.env, wait, self._lost_timed_out, key)
            return
        call_later(self.env, wait, partial(fleet.failed, written_maybe=False), rows,
                   NEVER_ARRIVED)

    def stranded(self, fleet_id: int) -> int:
        """Compressed bytes of fleet ``fleet_id``'s requests stranded in a zone that is
        down (lost on their way there, or waiting on a leader that died there): they
        end at the producers' ``request.timeout.ms`` or when the zone comes back."""
        down = self.net.is_down
        n = sum(row.bytes_compressed for zone, fleet, rows in self._lost.values()
                if fleet.id == fleet_id and down(zone) for row in rows)
        return n + sum(row.bytes_compressed for row, _t, zone in self._orphans
                       if zone is not None and row.fleet == fleet_id and down(zone))

    def _lost_timed_out(self, key: int) -> None:
        entry = self._lost.pop(key, None)
        if entry is not None:
            _zone, fleet, rows = entry
            fleet.failed(rows, NEVER_ARRIVED, written_maybe=False)

    def zone_silent(self, zone: str) -> None:
        """``zone`` went down: the producers sending to its leaders are not told
        (:meth:`ProducerFleet.silent`); they learn at ``request.timeout.ms``, or when
        it comes back (:meth:`zone_back`)."""
        target = self.cluster.zone_index[zone]
        for fleet in self.cluster.producing:
            token = fleet.silent(target)
            if token is not None:
                call_later(self.env, self.cluster.request_timeout, fleet.heard_from,
                           target, token)

    def zone_back(self, zone: str) -> None:
        """``zone``'s brokers are back after an outage. Their hosts restarted, so the
        connections the producers kept to them are reset at the producers' next
        retransmission: every request still waiting on them fails now (a disconnect),
        the ones that never arrived and the ones orphaned by their leader's death,
        unless ``request.timeout.ms`` ended them first."""
        lost = [key for key, entry in self._lost.items() if entry[0] == zone]
        for key in lost:
            _zone, fleet, rows = self._lost.pop(key)
            fleet.failed(rows, DISCONNECTED, written_maybe=False)
        if any(z == zone for _r, _t, z in self._orphans):
            rows = [r for r, _t, z in self._orphans if z == zone]
            self._orphans = [o for o in self._orphans if o[2] != zone]
            self.fail(rows, DISCONNECTED, written_maybe=True)
        target = self.cluster.zone_index[zone]
        for fleet in self.cluster.producing:
            fleet.heard_from(target)

    def _arrive(self, zone: str, fleet: ProducerFleet, rows: list[Row], sent: float) -> None:
        """A produce request reached ``zone``: its leaders append it (unless the zone
        went down meanwhile: then the request is lost and times out)."""
        if self.net.is_down(zone):
            self._time_out(fleet, rows, sent, zone)
            return
        if self._produce(zone, fleet, rows, self.env.now):
            self.signal_appended(zone)

    def signal_appended(self, zone: str) -> None:
        """Wake the mirror fetches waiting on ``zone``'s leaders: new data was appended
        (replica fetches are woken per partition, ``Replication.appended``)."""
        event = self._appended.get(zone)
        if event is not None and event.callbacks:  # nobody waiting: it stays the next one
            self._appended[zone] = self.env.event()
            event.succeed()

    def appended_event(self, zone: str) -> Event | None:
        """The event the zone's next append triggers (a mirror fetch waits on it)."""
        return self._appended.get(zone)

    # ========================================================================= requests
    def _produce(self, zone: str, fleet: ProducerFleet, rows: list[Row], now: float) -> bool:
        """A produce request reached the leaders in ``zone``; returns whether it appended."""
        c = self.cluster
        parts, brokers = c.parts, c.brokers
        storage = c.storage
        # Shared storage answers acks=1 as acks=all: both once the WAL write is durable.
        acks = fleet.settings.acks
        acks_all = acks == "all" or (storage is not None and acks == "1")
        ok_rows, refused = [], []
        for row in rows:
            p = parts[row.partition]
            if p.leader is None or brokers[p.leader].zone != zone \
                    or not brokers[p.leader].alive:
                refused.append(row)
            elif acks_all and len(p.isr) < p.min_isr:
                c.counters_["not_enough_replicas"] += 1
                fleet.failed([row], NOT_ENOUGH, written_maybe=False)
            else:
                ok_rows.append(row)
        if refused:
            fleet.failed(refused, NOT_LEADER, written_maybe=False)
        if not ok_rows:
            return False
        appended, rejected, duplicates = c.log.append(ok_rows)
        if rejected:
            c.counters_["rows_rejected_out_of_order"] += len(rejected)
            fleet.failed(rejected, OUT_OF_ORDER, written_maybe=False)
        for row in appended:
            self._append(parts[row.partition], row, now)
        if storage is not None and appended:
            storage.appended(appended)
        if acks_all:
            for row in appended:
                parts[row.partition].pending.append((row, now))
            # A duplicate is answered once its first copy is committed.
            done = []
            for row in duplicates:
                p = parts[row.partition]
                if row.offset + row.records <= p.hw:
                    done.append(row)
                else:
                    p.pending.append((row, now))
            if done:
                self.ack(zone, done)
        else:
            self.ack(zone, appended + duplicates)
        if acks_all and storage is None:
            # A leader alone in its ISR commits at once.
            for pid in {r.partition for r in appended}:
                p = parts[pid]
                if len(p.isr) == 1:
                    c.replication.advance_hw(p)
        return bool(appended)

    def _append(self, p: PartitionState, row: Row, now: float) -> None:
        """``row`` (its offset assigned) joins the leader's log and the groups' logs
        (with shared storage the leader's LEO stays at its WAL's durable end; its
        partitions have one replica, so no follower fetches them)."""
        if self.cluster.storage is not None and p.leader is not None:
            durable = p.leo[p.leader]
            p.append(row, now)
            p.leo[p.leader] = durable
        else:
            p.append(row, now)
            self.cluster.replication.appended(p)
        for group in self.cluster.groups:
            group.appended(row, -1)

    def append_mirrored(self, rows: list[Row]) -> list[Row]:
        """A mirror's produce request reached the leaders: append copies (``row.mirror``
        names the flow; ``row.offset`` >= 0 asks for that offset, as offset-preserving
        mirror topics do, otherwise the log end). Acks and failures go to
        ``mirror_sinks[row.mirror]``; returns the rows refused at once."""
        c = self.cluster
        now = self.env.now
        parts, brokers = c.parts, c.brokers
        refused: list[Row] = []
        touched: set[int] = set()
        for row in rows:
            p = parts[row.partition]
            if p.leader is None or not brokers[p.leader].alive:
                refused.append(row)
                continue
            if len(p.isr) < p.min_isr:  # mirror producers use acks=all
                c.counters_["not_enough_replicas"] += 1
                refused.append(row)
                continue
            end = p.log_end
            if row.offset >= 0:
                if row.offset + row.records <= end:
                    # already here (a re-sent fetch): answered once committed
                    if row.offset + row.records <= p.hw:
                        c.mirror_sinks[row.mirror].acked(row)
                    else:
                        p.pending.append((row, now))
                    continue
                if row.offset != end:
                    refused.append(row)
                    continue
            else:
                row.offset = end
            c.log.next_offset[p.id] = row.offset + row.records
            self._append(p, row, now)
            p.pending.append((row, now))
            touched.add(p.id)
            if c.storage is not None:
                c.storage.appended([row])
        for pid in touched:
            c.replication.advance_hw(parts[pid])  # a leader alone in its ISR commits at once
        for zone in sorted({brokers[leader].zone for pid in touched
                            if (leader := parts[pid].leader) is not None}):
            self.signal_appended(zone)
        return refused

    # ========================================================================== answers
    def _by_writer(self, rows: list[Row], to_mirror) -> dict[int, list[Row]]:
        """Rows by producer fleet; copies (``row.mirror`` >= 0) go to ``to_mirror(sink,
        row)`` at once."""
        by_fleet: dict[int, list[Row]] = defaultdict(list)
        sinks = self.cluster.mirror_sinks
        for row in rows:
            if row.mirror >= 0:
                to_mirror(sinks[row.mirror], row)
                continue
            by_fleet[row.fleet].append(row)
        return by_fleet

    def ack(self, zone: str, rows: list[Row]) -> None:
        """The leaders in ``zone`` acknowledge ``rows``: each fleet hears it one hop
        later, or its request times out first behind a saturated link."""
        by_fleet = self._by_writer(rows, lambda sink, row: sink.acked(row))
        now = self.env.now
        fleets = self.cluster.fleets
        timeout = self.cluster.request_timeout
        for fleet_id, fleet_rows in by_fleet.items():
            fleet = fleets[fleet_id]
            delay = self.net.delay(zone, fleet.zone, ACK_BYTES, "produce",
                                   stream=self._family(fleet_id)[1])
            if delay is None:
                fleet.failed(fleet_rows, "ack lost", written_maybe=True)
            elif delay > timeout:
                # stuck behind a saturated link: the producer's request times out first
                call_later(self.env, timeout, partial(fleet.failed, written_maybe=True),
                           fleet_rows, "request timed out")
            else:
                fleet.acked(fleet_rows, at=now + delay)

    def fail(self, rows: list[Row], reason: str, *, written_maybe: bool) -> None:
        """The requests carrying ``rows`` end in error ``reason``."""
        by_fleet = self._by_writer(rows, lambda sink, row: sink.failed(row, reason))
        fleets = self.cluster.fleets
        for fleet_id, fleet_rows in by_fleet.items():
            fleets[fleet_id].failed(fleet_rows, reason, written_maybe=written_maybe)

    def orphan(self, pending: list[tuple[Row, float]], zone: str | None = None) -> None:
        """Requests waiting on a leader in ``zone`` that died: nobody answers them, so
        they time out at their producers (or fail when the zone comes back)."""
        self._orphans.extend((row, t, zone) for row, t in pending)

    def time_out(self) -> None:
        """Produce requests waiting longer than ``request.timeout.ms`` time out (outcome
        unknown, retried), and expired producer retries end."""
        c = self.cluster
        # A request waiting since ``deadline`` or earlier has waited request.timeout.ms.
        deadline = self.env.now - c.request_timeout
        if self._orphans:
            expired = [r for r, t, _z in self._orphans if t <= deadline]
            self._orphans = [o for o in self._orphans if o[1] > deadline]
            if expired:
                self.fail(expired, "request timed out", written_maybe=True)
        for p in c.parts:
            # a partition's waiting requests are in arrival order: its first is the oldest
            if p.pending and p.pending[0][1] <= deadline:
                expired = [r for r, t in p.pending if t <= deadline]
                p.pending = [(r, t) for r, t in p.pending if t > deadline]
                self.fail(expired, "request timed out", written_maybe=True)
        for fleet in c.producing:
            if fleet.pending_retries:
                fleet.expire_retries()


__all__ = ["DISCONNECTED", "NOT_ENOUGH", "NOT_LEADER", "ProducePath"]
