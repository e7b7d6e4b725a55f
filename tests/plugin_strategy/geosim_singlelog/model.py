"""The ``single-log`` model: one broker holds every partition's only copy.

Every ``append_interval`` the broker takes what each producer fleet sent it (one produce
request per fleet over the network seam), appends it with idempotent sequence checks and
answers; a lost request or response times out after ``request.timeout.ms`` and the fleet
retries. Each consumer zone learns of new data one network hop after the append. While
the home zone is down its partitions are offline; if its region is destroyed, the log is
gone (``RowsTruncated``) and restarts empty.
"""

from __future__ import annotations

from typing import ClassVar

from geosim.clients.consumer import ConsumerGroup
from geosim.clients.producer import OUT_OF_ORDER, ProducerFleet, expire_retries_every
from geosim.core.events import PartitionChanged, Row, RowsTruncated
from geosim.kafka.idempotence import PartitionLog
from geosim.strategies.base import Strategy, World
from geosim_singlelog.spec import SingleLogSpec

BROKER = 0
ACK_BYTES = 128


class SingleLogStrategy(Strategy):
    """One broker, every partition, no replication."""

    name: ClassVar[str] = "single-log"

    def __init__(self, world: World):
        super().__init__(world)
        self.spec: SingleLogSpec = world.scenario.strategy
        self.env = world.ctx.env
        self.net = world.network
        self.home = self.spec.home
        self.home_region = world.topology.region_of(self.home)
        wl = world.workload
        self.partitions = wl.partitions
        self.request_timeout = wl.producer_settings.request_timeout
        self.log = PartitionLog(self.partitions)
        self.rows: list[list[Row]] = [[] for _ in range(self.partitions)]
        self.alive = True
        self.fleets: list[ProducerFleet] = wl.make_fleets(world.ctx)
        for fleet in self.fleets:
            fleet.route({BROKER: list(range(self.partitions))}, connections=1)
        self.groups: list[ConsumerGroup] = wl.make_groups(
            world.ctx, commit=world.metadata.commit, is_ready=self._is_ready,
            request=self._request, release=lambda _object_id: None)
        # readable[zone][p]: offsets below this are readable by consumers in the zone
        self.readable: dict[str, list[int]] = {}
        self._requested: set[tuple[str, int]] = set()
        self.appends = 0

    # --- lifecycle --------------------------------------------------------------------
    def start(self) -> None:
        self.env.process(self._append_clock())
        for group in self.groups:
            self.env.process(group.run_commits())
        self.env.process(expire_retries_every(self.env, self.fleets))

    def _append_clock(self):
        """Every ``append_interval``: one produce request per live fleet to the broker."""
        while True:
            yield self.env.timeout(self.spec.append_interval)
            if not self.alive:
                continue
            for fleet in self.fleets:
                one_way = 0.5 * self.net.rtt_estimate(fleet.zone, self.home)
                rows = fleet.cut(BROKER, self.env.now, one_way)
                if rows:
                    self._send(fleet, rows)

    # --- produce ----------------------------------------------------------------------
    def _send(self, fleet: ProducerFleet, rows: list[Row]) -> None:
        size = sum(row.bytes_compressed for row in rows)
        delay = self.net.delay(fleet.zone, self.home, size, "produce")
        if delay is None:
            self._later(self.request_timeout, fleet.failed, rows, "request timed out",
                        written_maybe=False)
            return
        self._later(delay, self._arrive, fleet, rows)

    def _arrive(self, fleet: ProducerFleet, rows: list[Row]) -> None:
        """The request reaches the broker: append, then answer."""
        if not self.alive:
            self._later(self.request_timeout, fleet.failed, rows, "request timed out",
                        written_maybe=False)
            return
        appended, rejected, duplicates = self.log.append(rows)
        self.appends += 1
        for row in appended:
            self.rows[row.partition].append(row)
            for group in self.groups:
                group.appended(row, -1)
        if appended:
            self._publish({row.partition for row in appended})
        back = self.net.delay(self.home, fleet.zone, ACK_BYTES, "produce-ack")
        if back is None:
            self._later(self.request_timeout, fleet.failed, appended + duplicates,
                        "response lost", written_maybe=True)
        elif appended or duplicates:
            done = appended + duplicates
            self._later(back, lambda: fleet.acked(done, self.env.now))
        if rejected:
            fleet.failed(rejected, OUT_OF_ORDER, written_maybe=False)

    # --- consume ----------------------------------------------------------------------
    def _consumer_zones(self) -> set[str]:
        return {m.zone for group in self.groups for m in group.members if m.alive}

    def _publish(self, partitions: set[int]) -> None:
        """New data at the broker reaches each consumer zone one hop later."""
        ends = {p: self.log.next_offset[p] for p in partitions}
        for zone in sorted(self._consumer_zones()):
            delay = self.net.delay(self.home, zone, 64 * len(ends), "fetch")
            if delay is not None:
                self._later(delay, self._readable, zone, ends)

    def _readable(self, zone: str, ends: dict[int, int]) -> None:
        if not self.alive:
            return
        offsets = self.readable.setdefault(zone, [0] * self.partitions)
        for p, end in ends.items():
            offsets[p] = max(offsets[p], min(end, self.log.next_offset[p]))
        for group in self.groups:
            group.ready(sorted(ends))

    def _is_ready(self, row: Row, zone: str) -> bool:
        offsets = self.readable.get(zone)
        return offsets is not None and row.offset < offsets[row.partition]

    def _request(self, row: Row, zone: str) -> None:
        """A consumer in ``zone`` waits on ``row``: fetch its partition again."""
        key = (zone, row.partition)
        if key in self._requested or not self.alive:
            return
        self._requested.add(key)
        delay = self.net.delay(self.home, zone, row.bytes_compressed, "fetch")
        if delay is None:
            self._requested.discard(key)   # lost: the next delivery asks again
            return
        self._later(delay, self._fetched, zone, row.partition,
                    self.log.next_offset[row.partition])

    def _fetched(self, zone: str, partition: int, end: int) -> None:
        """The answer to a consumer's fetch: one fetch per zone and partition is in
        flight at a time (a new append's news does not start another)."""
        self._requested.discard((zone, partition))
        self._readable(zone, {partition: end})

    # --- faults -----------------------------------------------------------------------
    def zone_state(self, zone: str, up: bool, destroyed: bool = False) -> None:
        if zone == self.home:
            self._broker_state(up, lost=destroyed)
        self.crash_clients("all", zone, up)

    def crash_brokers(self, zone: str, count: int, up: bool) -> None:
        if zone == self.home:
            self._broker_state(up, lost=False)

    def _broker_state(self, up: bool, *, lost: bool) -> None:
        if up == self.alive:
            return
        self.alive = up
        self._requested.clear()
        now = self.env.now
        for p in range(self.partitions):
            self.world.ctx.recorder.emit(PartitionChanged(
                now, p, self.home_region if up else None, 1 if up else 0, False,
                "broker up" if up else "broker down"))
        if lost:
            for p in range(self.partitions):
                if self.rows[p]:
                    by_region: dict[str, list[Row]] = {}
                    for row in self.rows[p]:
                        by_region.setdefault(self.fleets[row.fleet].region, []).append(row)
                    for region, rows in sorted(by_region.items()):
                        self.world.ctx.recorder.emit(RowsTruncated(
                            now, p, region, tuple(rows), "home zone destroyed"))
                self.rows[p] = []
                self.log.truncate(p, 0, [])
                for group in self.groups:
                    group.truncate(p, 0)
            self.readable.clear()
        if up:
            self._publish(set(range(self.partitions)))

    def unclean_election(self) -> None:
        """No replicas to elect (the checks refuse the fault)."""

    def counters(self) -> dict[str, int]:
        return {"single_log_appends": self.appends}

    # --- helpers ----------------------------------------------------------------------
    def _later(self, delay: float, fn, *args, **kwargs) -> None:
        """Call ``fn(*args, **kwargs)`` after ``delay`` simulated seconds."""
        event = self.env.timeout(max(delay, 0.0))
        event.callbacks.append(lambda _event: fn(*args, **kwargs))
