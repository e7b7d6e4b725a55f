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
  broker leading its partitions, and a fleet of n producers n times that. The room is
  kept per target (a broker, or a zone's leaders taken together), so one target's
  requests never use another's room (Kafka's ``Sender`` checks
  ``InFlightRequests.canSendMore(node)`` per node). Data beyond it waits in the
  producer (the window/RTT bound, domain.md §2).
* Requests (:meth:`ProducerFleet.drain`, the Kafka engine's path): per target, rows of
  at most n x ``batch.size`` bytes (each of the n producers holds one batch per
  partition), one per partition in turn from where the last drain stopped
  (``RecordAccumulator.drain``'s round-robin over a node's partitions from its
  ``drainIndex``), grouped into requests of at most one row per partition and n x
  connections x ``max.request.size`` bytes.
* ``buffer.memory`` and ``max.block.ms``: the application's sends wait for buffer
  memory and fail after ``max.block.ms`` without any (:mod:`geosim.clients.send_buffer`).
* Retries with exponential backoff (``retry.backoff.ms`` to ``retry.backoff.max.ms``)
  until ``delivery.timeout.ms``; idempotence keeps each partition's rows in sequence and
  new data behind its retries; a row rejected out of order while earlier rows of its
  partition are unanswered is retried as it is (sequence numbers, epochs and retry
  order: :mod:`geosim.clients.sequences`).
* A partition whose leader moved waits until the fleet hears from the old leader, and
  for its own rows still in flight there (:mod:`geosim.clients.leader_moves`).
* Each row ends ok (acked), fail (never sent) or info (sent, outcome unknown).
"""

from __future__ import annotations

import math
from collections import deque

from geosim.clients.fleet_lifecycle import FleetLifecycle
from geosim.clients.leader_moves import LeaderMoves
from geosim.clients.partitioner import Rotation
from geosim.clients.send_buffer import WHOLE_RECORD_SLACK, OfferedLoad, SendBuffer
from geosim.clients.sequences import Sequences
from geosim.clients.settings import ProducerSettings
from geosim.clients.window_cuts import WindowCuts
from geosim.core.context import Context
from geosim.core.events import Offered, ProduceAcked, ProduceFailed, ProduceRetried, Row

OUT_OF_ORDER = "OutOfOrderSequenceException"




class ProducerFleet(FleetLifecycle, WindowCuts):
    """The producers of one zone. Brokers pull rows with :meth:`cut` or :meth:`drain`."""

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
        # The partitions this fleet writes to (a declared topic's), or None: all.
        self.only: frozenset[int] | None = None
        self.outstanding = 0
        # Per target: bytes sent and not yet answered, and the room it may use.
        self._out: dict[int, int] = {}
        self._window: dict[int, int] = {}
        self._request_cap: dict[int, int] = {}
        # (partition, seq) -> target a row in flight was sent to. Not id(row): a broker may
        # answer a copy of the row (a diskless retry placed in a new object).
        self._sent_to: dict[tuple[int, int], int] = {}
        # Per target broker: intended time up to which accepted records were handed out.
        self._cursor: dict[int, float] = {}
        self._targets: list[int] = []
        self._share: dict[int, float] = {}
        self._partitions: dict[int, list[int]] = {}
        self._rotation = Rotation(fleet_id)
        self._seqs = Sequences()              # sequence numbers, epochs, retry queues
        self._pset: dict[int, frozenset[int]] = {}
        self._inflight: dict[int, int] = {}   # partition -> rows sent, not yet answered
        self._moves = LeaderMoves()           # partitions waiting on an old leader
        self._bytes_per_record = message_size / compression_ratio
        self.load = OfferedLoad(start, stop, records_per_s)
        self.buffer = SendBuffer(self.load, capacity=max(producers, 1) * settings.buffer_memory,
                                 bytes_per_record=self._bytes_per_record,
                                 max_block=settings.max_block, producers=max(producers, 1))
        # Records accepted for targets that went away, waiting for any target:
        # [first send time, last send time, records]; and the fraction of a record
        # those targets' shares left over.
        self._orphans: deque[list] = deque()
        # Per target: records owed to it before its share changed, waiting likewise.
        self._waiting: dict[int, deque[list]] = {}
        self._orphan_fraction = 0.0
        self._uncovered_from: float | None = None  # since when no target took records
        self.taken = 0          # records handed out in new rows (or dropped unsent)
        # The window engine hands out the records (geosim.clients.window_cuts): a
        # rewiring meanwhile moves no records to waiting chunks.
        self.held = False
        self.dropped = 0        # records in the buffers when the producers crashed
        self._advanced = -1.0   # the last time the application's sends were advanced
        self._reported = (0, 0, 0, 0, 0)  # offered, accepted, blocked, failed, backlog
        self._set_accumulation(records_per_s)

    def _set_accumulation(self, records_per_s: float) -> None:
        # Records wait in the accumulator until a batch fills or linger.ms passes.
        s = self.settings
        per_producer_bytes = records_per_s * self._bytes_per_record / max(self.producers, 1)
        fill = s.batch_size / per_producer_bytes if per_producer_bytes > 0 else 0.0
        self.accumulation = min(s.linger, fill)

    def set_rate(self, records_per_s: float) -> None:
        """From now on the application offers ``records_per_s`` (a max-rate run's
        controller adjusts it, as OMB's ``adjustPublishRate`` does)."""
        self.records_per_s = records_per_s
        if self.alive:
            self.load.set_rate(self.env.now, records_per_s)
        self._set_accumulation(records_per_s)

    @property
    def window_bytes(self) -> int:
        """The fleet's in-flight room over all its targets."""
        return sum(self._window.values())

    # --- wiring -----------------------------------------------------------------------
    def route(self, partitions_by_broker: dict[int, list[int]], *,
              connections: int | dict[int, int] | None = None) -> None:
        """Set the targets (brokers, or a zone's leaders taken together) and the
        partitions each leads for this fleet; ``connections`` is the number of brokers a
        producer connects to, in all (spread evenly over the targets) or per target
        (default: one per target)."""
        now = self.env.now
        self._advance(now)
        only = self.only
        if only is not None:
            partitions_by_broker = {b: [p for p in ps if p in only]
                                    for b, ps in partitions_by_broker.items()}
        routed = sum(len(p) for p in partitions_by_broker.values())
        share = {b: len(p) / routed for b, p in partitions_by_broker.items() if p}
        for broker in list(self._cursor):
            if self.held:
                # the window engine sends what was owed until it hands back
                # (WindowCuts.window_release sets the cursors)
                if broker not in share:
                    del self._cursor[broker]
            elif broker not in share:
                self._orphan(broker)
            elif share[broker] != self._share.get(broker):
                self._settle(broker)
        self._partitions = {b: p for b, p in partitions_by_broker.items() if p}
        self._pset = {b: frozenset(p) for b, p in self._partitions.items()}
        # A partition whose leader moved waits for its old leader (LeaderMoves).
        self._moves.routed(self._pset, self._sent_to, self._out)
        self._targets = sorted(self._partitions)
        # Each producer writes to every partition, so it holds one connection to each
        # broker leading some of them, each with its own in-flight requests.
        s = self.settings
        if isinstance(connections, dict):
            links = {b: max(connections.get(b, 1), 1) for b in self._targets}
        else:
            total = len(self._targets) if connections is None else connections
            links = {b: total / len(self._targets) for b in self._targets} \
                if self._targets else {}
        # Records go to partitions evenly, so each target gets its partitions' share.
        self._share = share
        self._request_cap = {b: int(self.producers * n * s.max_request_size)
                             for b, n in links.items()}
        self._window = {b: cap * s.max_in_flight for b, cap in self._request_cap.items()}
        if not self._cursor and self._uncovered_from is None:
            # No target left: what the application sends from now on waits in the
            # buffers until a target appears.
            self._uncovered_from = self.buffer.accepted_upto
        start = self.buffer.accepted_upto
        if not self._cursor and self._uncovered_from is not None and self._targets:
            start = self._uncovered_from  # the new targets take what waited
        for broker in self._targets:
            self._cursor.setdefault(broker, start)
        if self._targets:
            self._uncovered_from = None

    def _owed(self, broker: int) -> list | None:
        """The records accepted for ``broker``'s partitions since its cursor, at its
        current share, as a waiting chunk ``[first, last, records]`` (whole records;
        the fraction joins the fleet's); its cursor moves to what was accepted."""
        cursor = self._cursor[broker]
        load = self.load
        upto = self.buffer.accepted_upto
        owed = self._share.get(broker, 0.0) * max(load.records(upto) - load.records(cursor),
                                                   0.0) + self._orphan_fraction
        whole = int(owed)
        self._orphan_fraction = owed - whole
        self._cursor[broker] = max(upto, cursor)
        return [cursor, upto, whole] if whole else None

    def _settle(self, broker: int) -> None:
        """``broker``'s share is about to change: what it was owed at the old share stays
        its own (those records' batches are for its partitions) and the new share
        applies from what was accepted on."""
        chunk = self._owed(broker)
        if chunk is not None:
            self._waiting.setdefault(broker, deque()).append(chunk)

    def _orphan(self, broker: int) -> None:
        """``broker`` is no longer a target: the records accepted for its partitions and
        not yet sent stay in the producers' buffers and go to whichever target serves
        them next (the accumulator's batches follow their partitions' new leaders)."""
        chunk = self._owed(broker)
        del self._cursor[broker]
        self._orphans.extend(self._waiting.pop(broker, ()))
        if chunk is not None:
            self._orphans.append(chunk)

    @property
    def rate_per_broker(self) -> float:
        return self.records_per_s / len(self._targets) if self._targets else 0.0

    def compressed_rate_per_broker(self) -> float:
        return self.rate_per_broker * self.message_size / self.compression_ratio

    # --- the application's sends ----------------------------------------------------
    def _used(self) -> float:
        """Buffer memory in use: accepted records not yet sent, batches in flight and
        batches waiting to be retried (memory is freed when a batch completes)."""
        unsent = max(self.buffer.accepted() - self.taken, 0) * self._bytes_per_record
        retry = sum(row.bytes_compressed for q in self._retry.values() for _d, row in q) \
            if self._retry else 0
        return unsent + self.outstanding + retry

    def _advance(self, now: float) -> None:
        """The application's sends up to ``now`` enter the buffers as memory allows."""
        if now == self._advanced or not self.alive:
            return
        self._advanced = now
        self.buffer.advance(now, self._used())

    def report(self) -> None:
        """Emit what changed in the application's counts since the last report."""
        b = self.buffer
        now = self.env.now
        offered = b.offered(now)
        counts = (offered, b.accepted(), b.blocked, b.failed + self.dropped,
                  max(offered - self.taken - b.failed, 0))
        last = self._reported
        if counts == last:
            return
        self._reported = counts
        records = offered - last[0]
        self.ctx.recorder.emit(Offered(
            now, self.region, self.id, records, records * self.message_size,
            accepted=counts[1] - last[1], blocked=counts[2] - last[2],
            send_failed=counts[3] - last[3], backlog=counts[4]))

    def finished(self) -> bool:
        """Whether no cut can give rows until something else happens (a row failing
        into a retry, a rewiring): production is over, every record it offered was
        accepted and handed out, and none waits to be retried or served."""
        return (self.buffer.accepted_upto >= self.load.stop and not self._retry
                and not self._waiting and not self._orphans
                and self.taken >= self.buffer.accepted())

    # --- the pull ---------------------------------------------------------------------
    def drain(self, target: int, now: float, *, report: bool = True) -> list[list[Row]]:
        """Produce requests for ``target`` (the Kafka engine's send clock): rows of at
        most n x ``batch.size`` bytes, one partition each in turn, grouped into requests
        of at most one row per partition and the target's request cap. ``report``: as
        for :meth:`cut`."""
        rows = self.cut(target, now, 0.0, batches=True, report=report)
        if not rows:
            return []
        cap = self._request_cap.get(target, 0)
        per_request = len(self._partitions.get(target, ())) or 1
        requests: list[list[Row]] = []
        current: list[Row] = []
        size = 0
        seen: set[int] = set()
        for row in rows:
            if current and (size + row.bytes_compressed > cap or len(current) >= per_request
                            or row.partition in seen):
                requests.append(current)
                current, size, seen = [], 0, set()
            current.append(row)
            size += row.bytes_compressed
            seen.add(row.partition)
        requests.append(current)
        return requests

    def cut(self, broker: int, now: float, one_way: float, split: int = 1, *,
            batches: bool = False, report: bool = True) -> list[Row]:
        """Rows for ``broker``: due retries first, then records accepted since its last cut.

        ``one_way`` is the client-to-broker delay; the row's send times end that much
        before ``now``. Rows respect the target's in-flight room. ``split``: the target
        stands for that many brokers (a diskless writer), so the new records become that
        many rows, each for the next partition in the rotation, as the brokers' own cuts
        would have been. ``batches``: rows are producer batches, at most n x
        ``batch.size`` bytes each (more rows, each for the next partition).
        ``report``: emit what changed in the application's counts now; a caller cutting
        for several targets at one instant passes False and calls :meth:`report` once
        after the last cut (the counts between two cuts of one instant are not a state
        the producers were ever in).
        """
        rows: list[Row] = []
        if not self.alive:
            return rows
        self._advance(now)
        self._rotation.begin(broker, len(self._partitions.get(broker, ())), split)
        room = self._window.get(broker, 0) - self._out.get(broker, 0)
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
        blocked = self._skipped()
        own = self._waiting.get(broker)
        if own:
            room = self._serve(own, broker, room, blocked, batches, split, rows)
            if not own:
                del self._waiting[broker]
        if self._orphans:
            room = self._serve(self._orphans, broker, room, blocked, batches, split, rows)
        cursor = self._cursor.get(broker)
        share = self._share.get(broker, 0.0)
        if cursor is not None and share > 0:
            load = self.load
            upto = min(now - one_way, self.stop_time, self.buffer.accepted_upto)
            if upto > cursor:
                bytes_per_record = self._bytes_per_record
                base = load.records(cursor)
                due = share * (load.records(upto) - base)
                # A record whose intended time is the cut's (in exact arithmetic) is
                # due now; the float sums of the load curve may leave it a hair short.
                records = int(due + WHOLE_RECORD_SLACK)
                if upto >= self.stop_time and due + self._orphan_fraction > records:
                    # The last cut: each target's floor leaves a fraction of a record,
                    # and those fractions add up to whole records the application
                    # sent. Targets round up, in order, until every accepted record
                    # is handed out (never more).
                    records = min(math.ceil(due + self._orphan_fraction),
                                  self.buffer.accepted() - self.taken)
                    self._orphan_fraction = 0.0
                if records * bytes_per_record > room:
                    records = int(max(room, 0) / bytes_per_record)
                parts = min(split, records)
                if batches and records:
                    parts = max(parts, math.ceil(records / self._batch_records()))
                # Whole records only: the fraction left over stays for the next cut.
                end = min(load.time_of(base + records / share), upto) if records else upto
                made = self._rows(broker, records, parts, cursor, end, blocked, rows)
                if made:
                    self._cursor[broker] = end if made == records \
                        else load.time_of(base + made / share)
                    self.taken += made
        for row in rows:
            row.attempts += 1
            self.outstanding += row.bytes_compressed
            self._out[broker] = self._out.get(broker, 0) + row.bytes_compressed
            self._sent_to[row.partition, row.seq] = broker
            self._inflight[row.partition] = self._inflight.get(row.partition, 0) + 1
        if report:
            self.report()
        return rows

    def _serve(self, queue: deque[list], broker: int, room: float, blocked: set[int] | None,
               batches: bool, split: int, rows: list[Row]) -> float:
        """Rows for ``broker`` from waiting chunks of ``queue``, oldest first, within
        ``room`` bytes (at least one record), cut as new records are (``split`` rows,
        or batches); returns the room left."""
        per_row = self._batch_records() if batches else 0
        while queue and room > 0:
            first, last, waiting = queue[0]
            count = min(waiting, max(int(room / self._bytes_per_record), 1))
            parts = min(split, count)
            if batches:
                count = min(count, per_row)
                parts = 1
            before = len(rows)
            made = self._rows(broker, count, parts, first, last, blocked, rows)
            room -= sum(row.bytes_compressed for row in rows[before:])
            if not made:
                break
            self.taken += made
            if made == waiting:
                queue.popleft()
            else:
                queue[0][2] = waiting - made
        return room

    def _skipped(self) -> set[int] | None:
        """The partitions the cuts skip now (None: none). New data never overtakes a
        batch waiting to be retried in its partition (the idempotent producer retries
        in order), nor a partition's rows in flight to another target or its wait on
        word from an old leader (:class:`~geosim.clients.leader_moves.LeaderMoves`)."""
        retry = self._retry
        moves = self._moves
        if retry or moves.moved or moves.unheard:
            return set(retry) | moves.moved | moves.unheard.keys()
        return None

    def _batch_records(self) -> int:
        """Records in one producer batch of the fleet (n x ``batch.size``, at most n x
        ``max.request.size``)."""
        s = self.settings
        return max(int(self.producers * min(s.batch_size, s.max_request_size)
                       / self._bytes_per_record), 1)

    def _rows(self, broker: int, records: int, parts: int, start: float, end: float,
              blocked: set[int] | None, rows: list[Row]) -> int:
        """``records`` sent over ``[start, end]`` as ``parts`` rows, each for the next
        partition in the rotation, appended to ``rows``; returns the records placed
        (fewer when every partition waits on a retry)."""
        made = 0
        for i in range(parts):
            count = records * (i + 1) // parts - records * i // parts
            row = self._new_row(broker, count, start, end, blocked)
            if row is None:
                break
            rows.append(row)
            made += count
        return made

    def _new_row(self, broker: int, records: int, start: float, end: float,
                 blocked: set[int] | None = None) -> Row | None:
        partition = self._rotation.choose(broker, self._partitions[broker], blocked)
        if partition is None:
            return None  # every partition waits on a retry: records stay buffered
        size = records * self.message_size
        return Row(self.id, partition, self._seqs.next(partition), records, size,
                   int(size / self.compression_ratio), start - self.accumulation, end)

    def _answered(self, row: Row) -> None:
        size = row.bytes_compressed
        self.outstanding -= size
        target = self._sent_to.pop((row.partition, row.seq), None)
        if target is not None:
            self._out[target] = self._out.get(target, 0) - size
            moves = self._moves
            if moves.waiting_on or moves.silent:
                moves.heard_from(target)
        partition = row.partition
        left = self._inflight.get(partition, 0) - 1
        if left > 0:
            self._inflight[partition] = left
        else:
            self._inflight.pop(partition, None)
            self._moves.moved.discard(partition)

    def silent(self, target: int) -> int | None:
        """``target`` fell silent (its zone went down): partitions moved off it wait
        until the caller's timer (``request.timeout.ms``, with the token returned) or
        an answer from it (:class:`LeaderMoves`). None: the fleet was not sending to it."""
        if target not in self._cursor and self._out.get(target, 0) <= 0:
            return None
        return self._moves.fell_silent(target)

    def heard_from(self, target: int, token: int | None = None) -> None:
        """See :meth:`LeaderMoves.heard_from`."""
        self._moves.heard_from(target, token)

    @property
    def epoch(self) -> int:
        """The newest producer epoch."""
        return self._seqs.epoch

    @property
    def _retry(self) -> dict[int, deque[tuple[float, Row]]]:
        return self._seqs.retry

    # --- outcomes ---------------------------------------------------------------------
    def acked(self, rows: list[Row], at: float) -> None:
        """The ack for ``rows`` reaches the producers at ``at`` (they must be alive)."""
        for row in rows:
            self._answered(row)
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
            self._answered(row)
            if self.alive and now - row.send_first < s.delivery_timeout:
                backoff = min(s.retry_backoff * 2 ** max(row.attempts - 1, 0),
                              s.retry_backoff_max)
                self._seqs.requeue(row, now + backoff)
                retried.append(row)
            else:
                expired.append(row)
        # A gap in a partition's sequences: rows that expired, or an out-of-order
        # rejection with nothing earlier unanswered (the broker lost what came before,
        # e.g. a truncation) take a new epoch for that partition. Out of order behind
        # unanswered rows is retried as it is (TransactionManager.canRetry).
        gap = {row.partition for row in expired}
        if reason == OUT_OF_ORDER:
            gap.update(row.partition for row in retried
                       if not self._seqs.earlier_unanswered(row, self._sent_to))
        if gap:
            self._seqs.bump(gap)
        self._seqs.renumber_stale(retried)
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
        self._seqs.retry = keep
        if expired:
            self._seqs.bump({row.partition for row in expired})
            self.ctx.recorder.emit(ProduceFailed(now, self.region, self.id, tuple(expired),
                                                 "info", "delivery.timeout.ms expired"))

    def successor(self, fleet_id: int, start: float) -> ProducerFleet:
        """New producer instances of the same zone and load, sending from ``start``
        (the application restarted against another cluster)."""
        fleet = ProducerFleet(
            self.ctx, fleet_id, self.zone, self.region, producers=self.producers,
            records_per_s=self.records_per_s, message_size=self.message_size,
            compression_ratio=self.compression_ratio, settings=self.settings,
            start=start, stop=self.stop_time)
        fleet.only = self.only
        return fleet

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

