"""Producer fleets: the OMB producers placed in one zone, as one fluid source.

A fleet offers ``rate`` records per second (the OMB ``producerRate`` share of its
producers) while it is alive and production lasts. Brokers *cut* rows from it at their
flush times: the records offered since the previous cut for that broker become one
:class:`~geosim.core.events.Row`. No event is scheduled per record or per Kafka batch.

Producer behaviour kept from Kafka (figures.md §5):

* ``linger.ms``/``batch.size``: records wait in the accumulator until a batch fills or
  ``linger.ms`` passes, so a row's send times start up to that much earlier.
* ``max.in.flight.requests.per.connection`` x ``max.request.size``: at most that many
  unacknowledged bytes per producer connection; a producer holds a connection to each
  zone-local broker leading its partitions, and a fleet of n producers n times that.
  Data beyond it waits in the producer (the window/RTT bound, domain.md §2).
* Retries with exponential backoff (``retry.backoff.ms`` to ``retry.backoff.max.ms``)
  until ``delivery.timeout.ms``; idempotence keeps each partition's rows in sequence.
  A row's ``seq`` is ``epoch << 32 | n``: the producer epoch and the n-th row of the
  partition in that epoch. A restarted producer, or one whose sequence broke (a row
  expired or was rejected out of order), takes a new epoch and numbers its pending rows
  afresh from 0, as the idempotent producer does after a restart or an epoch bump
  (KIP-360).
* Each row ends ok (acked), fail (never sent) or info (sent, outcome unknown).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from geosim.core.context import Context
from geosim.core.events import Offered, ProduceAcked, ProduceFailed, ProduceRetried, Row

EPOCH_SHIFT = 32  # seq = producer epoch << 32 | sequence number within the epoch
OUT_OF_ORDER = "OutOfOrderSequenceException"


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


class ProducerFleet:
    """The producers of one zone. Brokers pull rows with :meth:`cut`."""

    def __init__(self, ctx: Context, fleet_id: int, zone: str, region: str, *,
                 producers: int, records_per_s: float, message_size: int,
                 compression_ratio: float, settings: ProducerSettings,
                 start: float, stop: float):
        self.ctx = ctx
        self.env = ctx.env
        self.id = fleet_id
        self.zone = zone
        self.region = region
        self.producers = producers
        self.records_per_s = records_per_s
        self.message_size = message_size
        self.compression_ratio = compression_ratio
        self.settings = settings
        self.start_time = start
        self.stop_time = stop
        self.alive = True
        self.window_bytes = 0  # set by route(): it depends on the live brokers
        self.outstanding = 0
        # Per target broker: time up to which offered records were handed out.
        self._cursor: dict[int, float] = {}
        self._targets: list[int] = []
        self._share: dict[int, float] = {}
        self._partitions: dict[int, list[int]] = {}
        self._rotation: dict[int, int] = {}
        self._seq: dict[int, int] = {}
        self.epoch = 0
        # Rows waiting to be retried, per partition in sequence order: (due time, row).
        self._retry: dict[int, deque[tuple[float, Row]]] = {}
        self._pset: dict[int, frozenset[int]] = {}
        self._inflight: dict[int, int] = {}   # partition -> rows sent, not yet answered
        self._moved: set[int] = set()         # partitions waiting on an old leader
        self._offered_mark = start
        # Records wait in the accumulator until a batch fills or linger.ms passes.
        per_producer_bytes = records_per_s * message_size / compression_ratio / max(producers, 1)
        fill = settings.batch_size / per_producer_bytes if per_producer_bytes > 0 else 0.0
        self.accumulation = min(settings.linger, fill)

    # --- wiring -----------------------------------------------------------------------
    def route(self, partitions_by_broker: dict[int, list[int]], *,
              connections: int | None = None) -> None:
        """Set the targets (brokers, or a zone's leaders taken together) and the
        partitions each leads for this fleet; ``connections`` is the number of brokers a
        producer connects to (default: one per target)."""
        now = self.env.now
        self._partitions = {b: p for b, p in partitions_by_broker.items() if p}
        old_target = {p: b for b, ps in self._pset.items() for p in ps}
        self._pset = {b: frozenset(p) for b, p in self._partitions.items()}
        # A partition whose leader moved while requests to the old one are unanswered
        # waits for them (ack, error or request.timeout.ms) before sending to the new
        # one: the idempotent producer keeps a partition's batches in order.
        for b, ps in self._pset.items():
            for p in ps:
                if self._inflight.get(p) and old_target.get(p, b) != b:
                    self._moved.add(p)
        self._targets = sorted(self._partitions)
        # Each producer writes to every partition, so it holds one connection to each
        # broker leading some of them, each with its own in-flight requests.
        s = self.settings
        links = len(self._targets) if connections is None else connections
        # Records go to partitions evenly, so each target gets its partitions' share.
        routed = sum(len(p) for p in self._partitions.values())
        self._share = {b: len(p) / routed for b, p in self._partitions.items()}
        self.window_bytes = self.producers * links * s.max_in_flight * s.max_request_size
        for broker in self._targets:
            self._cursor.setdefault(broker, max(now, self.start_time))
        for broker in list(self._cursor):
            if broker not in self._partitions:
                # Records offered to a broker that vanished are re-offered to the others.
                del self._cursor[broker]

    @property
    def rate_per_broker(self) -> float:
        return self.records_per_s / len(self._targets) if self._targets else 0.0

    def compressed_rate_per_broker(self) -> float:
        return self.rate_per_broker * self.message_size / self.compression_ratio

    # --- the pull ---------------------------------------------------------------------
    def cut(self, broker: int, now: float, one_way: float, split: int = 1) -> list[Row]:
        """Rows for ``broker``: due retries first, then records offered since its last cut.

        ``one_way`` is the client-to-broker delay; the row's send times end that much
        before ``now``. Rows respect the fleet's in-flight window. ``split``: the target
        stands for that many brokers (a diskless writer), so the new records become that
        many rows, each for the next partition in the rotation, as the brokers' own cuts
        would have been.
        """
        rows: list[Row] = []
        if not self.alive:
            return rows
        room = self.window_bytes - self.outstanding
        retry = self._retry
        if retry:
            mine = self._pset.get(broker, frozenset())
            for partition in [p for p in retry if p in mine]:
                queue = retry[partition]
                while queue and queue[0][0] <= now and room >= queue[0][1].bytes_compressed:
                    row = queue.popleft()[1]
                    rows.append(row)
                    room -= row.bytes_compressed
                if not queue:
                    del retry[partition]
        # New data never overtakes a batch waiting to be retried in its partition
        # (the idempotent producer retries in order), so those partitions are skipped.
        blocked = (set(retry) | self._moved) if retry or self._moved else None
        cursor = self._cursor.get(broker)
        if cursor is not None:
            upto = min(now - one_way, self.stop_time)
            rate = self.records_per_s * self._share.get(broker, 0.0)
            if upto > cursor and rate > 0:
                bytes_per_record = self.message_size / self.compression_ratio
                records = int(rate * (upto - cursor))
                if records * bytes_per_record > room:
                    records = int(max(room, 0) / bytes_per_record)
                # Whole records only: the fraction left over stays for the next cut.
                upto = cursor + records / rate
                parts = min(split, records)
                made = 0
                for i in range(parts):
                    share = records * (i + 1) // parts - records * i // parts
                    row = self._new_row(broker, share, cursor, upto, blocked)
                    if row is None:
                        break
                    rows.append(row)
                    made += share
                if made:
                    if made < records:  # every partition waits on a retry: keep the rest
                        upto = cursor + made / rate
                    self._cursor[broker] = upto
                    self._offer(made, upto)
        for row in rows:
            row.attempts += 1
            self.outstanding += row.bytes_compressed
            self._inflight[row.partition] = self._inflight.get(row.partition, 0) + 1
        return rows

    def _new_row(self, broker: int, records: int, start: float, end: float,
                 blocked: set[int] | None = None) -> Row | None:
        partitions = self._partitions[broker]
        k = self._rotation.get(broker, 0)
        partition = partitions[k % len(partitions)]
        if blocked and partition in blocked:
            partition = next((q for i in range(1, len(partitions) + 1)
                              if (q := partitions[(k + i) % len(partitions)]) not in blocked),
                             None)
            if partition is None:
                return None  # every partition waits on a retry: records stay buffered
        self._rotation[broker] = k + 1
        size = records * self.message_size
        return Row(self.id, partition, self._next_seq(partition), records, size,
                   int(size / self.compression_ratio), start - self.accumulation, end)

    def _answered(self, partition: int) -> None:
        left = self._inflight.get(partition, 0) - 1
        if left > 0:
            self._inflight[partition] = left
        else:
            self._inflight.pop(partition, None)
            self._moved.discard(partition)

    def _next_seq(self, partition: int) -> int:
        n = self._seq.get(partition, 0)
        self._seq[partition] = n + 1
        return self.epoch << EPOCH_SHIFT | n

    def _bump_epoch(self) -> None:
        """A new producer epoch: sequences restart, pending retries are renumbered."""
        self.epoch += 1
        self._seq = {}
        for queue in self._retry.values():
            for _due, row in queue:
                row.seq = self._next_seq(row.partition)

    def _offer(self, records: int, upto: float) -> None:
        if upto > self._offered_mark:
            self._offered_mark = upto
        self.ctx.recorder.emit(Offered(self.env.now, self.region, self.id, records,
                                       records * self.message_size))

    # --- outcomes ---------------------------------------------------------------------
    def acked(self, rows: list[Row], at: float) -> None:
        """The ack for ``rows`` reaches the producers at ``at`` (they must be alive)."""
        for row in rows:
            self.outstanding -= row.bytes_compressed
            self._answered(row.partition)
            if self.alive:
                row.acked_at = at
        if self.alive:
            self.ctx.recorder.emit(ProduceAcked(at, self.region, self.id, tuple(rows)))
        else:
            self.ctx.recorder.emit(ProduceFailed(at, self.region, self.id,
                                                 tuple(rows), "info", "producer down"))

    def failed(self, rows: list[Row], reason: str, *, written_maybe: bool) -> None:
        """A request failed: retry within ``delivery.timeout.ms``, else give up.

        ``written_maybe`` says whether the data could be in the log (a timeout or a
        lost response) — then an expired row ends ``info``, otherwise ``fail``.
        """
        now = self.env.now
        s = self.settings
        retried, expired = [], []
        for row in rows:
            self.outstanding -= row.bytes_compressed
            self._answered(row.partition)
            if self.alive and now - row.send_first < s.delivery_timeout:
                backoff = min(s.retry_backoff * 2 ** max(row.attempts - 1, 0),
                              s.retry_backoff_max)
                queue = self._retry.get(row.partition)
                if queue is None:
                    queue = self._retry[row.partition] = deque()
                queue.append((now + backoff, row))
                retried.append(row)
            else:
                expired.append(row)
        if expired or reason == OUT_OF_ORDER:
            self._bump_epoch()  # the partition sequences have a gap now
        else:
            for row in retried:
                if row.seq >> EPOCH_SHIFT != self.epoch:
                    row.seq = self._next_seq(row.partition)  # sent before an epoch bump
        if retried:
            self.ctx.recorder.emit(ProduceRetried(now, self.region, self.id, tuple(retried),
                                                  reason))
        if expired:
            outcome = "info" if written_maybe or any(r.attempts > 1 for r in expired) \
                else "fail"
            self.ctx.recorder.emit(ProduceFailed(now, self.region, self.id, tuple(expired),
                                                 outcome, reason))

    def expire_retries(self) -> None:
        """Give up on queued retries older than ``delivery.timeout.ms``."""
        now = self.env.now
        keep: dict[int, deque[tuple[float, Row]]] = {}
        expired = []
        for partition, queue in self._retry.items():
            for due, row in queue:
                if now - row.send_first >= self.settings.delivery_timeout or not self.alive:
                    expired.append(row)
                else:
                    keep.setdefault(partition, deque()).append((due, row))
        self._retry = keep
        if expired:
            self._bump_epoch()
            self.ctx.recorder.emit(ProduceFailed(now, self.region, self.id, tuple(expired),
                                                 "info", "delivery.timeout.ms expired"))

    def successor(self, fleet_id: int, start: float) -> ProducerFleet:
        """New producer instances of the same zone and load, sending from ``start``
        (the application restarted against another cluster)."""
        return ProducerFleet(
            self.ctx, fleet_id, self.zone, self.region, producers=self.producers,
            records_per_s=self.records_per_s, message_size=self.message_size,
            compression_ratio=self.compression_ratio, settings=self.settings,
            start=start, stop=self.stop_time)

    def crash(self) -> None:
        """The fleet's producers die: unsent data is gone, pending retries end ``info``."""
        self.alive = False
        self.expire_retries()

    def restart(self) -> None:
        """The producers come back as new producer instances (a new epoch)."""
        now = self.env.now
        self.alive = True
        self._bump_epoch()
        for broker in self._cursor:
            self._cursor[broker] = max(now, self._cursor[broker])

    @property
    def pending_retries(self) -> int:
        return sum(len(queue) for queue in self._retry.values())


#: Simulated seconds between sweeps of expired retries (:func:`expire_retries_every`).
RETRY_SWEEP = 1.0


def expire_retries_every(env, fleets: list[ProducerFleet], period: float = RETRY_SWEEP):
    """Process: every ``period``, queued retries past ``delivery.timeout.ms`` end as info
    (:meth:`ProducerFleet.expire_retries`); ``fleets`` is read at each sweep, so fleets
    added later are swept too."""
    while True:
        yield env.timeout(period)
        for fleet in fleets:
            if fleet.pending_retries:
                fleet.expire_retries()

