"""The application side of a producer fleet: the load it offers and ``buffer.memory``.

Two pieces without timing of their own, used by :class:`~geosim.clients.producer.ProducerFleet`:

* :class:`OfferedLoad`: the records the application means to send, as a function of
  their intended send time (piecewise linear: the rate changes when a max-rate run's
  controller adjusts it, and is 0 while the producers are down and after production
  ends). OMB's producers pace their sends by intended time (``UniformRateLimiter``)
  and catch up when they fall behind, measuring latency from the intended time, so a
  record's place in this curve is its send time.
* :class:`SendBuffer`: ``KafkaProducer.send()`` against ``buffer.memory``. A send takes
  buffer memory for its record (``RecordAccumulator.append`` allocates from the
  ``BufferPool``), which is freed when the batch holding it completes (acknowledged or
  failed for good). When the pool is full, ``send()`` blocks in ``BufferPool.allocate``
  until memory is freed, at most ``max.block.ms``; then it throws (a
  ``BufferExhaustedException``, a ``TimeoutException``) and that record is never written
  (apache/kafka, ``clients/.../producer/internals/BufferPool.java`` ``allocate``,
  ``KafkaProducer.doSend``). The application's sends form one queue per producer in
  intended-time order: while one is blocked, the records after it wait (the backlog).
"""

from __future__ import annotations

from bisect import bisect_right

#: How far short of a whole record a cut's due count may fall and still take it: the
#: load curve's float sums (records offered up to a time, and back) err by about 1e-6
#: of a record at seed 000's rates over ten minutes. Without it, at rates where a record's
#: intended time falls on a send tick (2,000 records/s over three zones at 5 ms: every
#: third tick), float noise decides whether that record waits a tick, which moved
#: stretch-last-replica's publish median by 0.5 ms for seconds at a time.
WHOLE_RECORD_SLACK = 1e-4


class OfferedLoad:
    """Cumulative records offered up to an intended send time (piecewise linear)."""

    def __init__(self, start: float, stop: float, rate: float):
        self.start = start
        self.stop = stop
        self._t = [start]
        self._n = [0.0]
        self._r = [max(rate, 0.0)]

    @property
    def rate(self) -> float:
        """The current rate, records/s."""
        return self._r[-1]

    def set_rate(self, t: float, rate: float) -> None:
        """From ``t`` on (not before the last change), records are offered at ``rate``."""
        t = max(t, self._t[-1])
        n = self.records(t)
        if t == self._t[-1]:
            self._n[-1] = n
            self._r[-1] = max(rate, 0.0)
        else:
            self._t.append(t)
            self._n.append(n)
            self._r.append(max(rate, 0.0))

    def segments(self) -> tuple[list[float], list[float], list[float]]:
        """The curve's pieces: start times, records offered by each start, rates."""
        return list(self._t), list(self._n), list(self._r)

    def records(self, t: float) -> float:
        """Records offered with intended send times up to ``t``."""
        t = min(max(t, self.start), self.stop)
        i = bisect_right(self._t, t) - 1
        return self._n[i] + self._r[i] * (t - self._t[i])

    def time_of(self, n: float) -> float:
        """The intended send time by which ``n`` records were offered (the earliest)."""
        i = max(bisect_right(self._n, n) - 1, 0)
        # Skip segments that offer nothing (a pause): the curve is flat there.
        rate = self._r[i]
        if rate <= 0:
            return min(self._t[i], self.stop)
        return min(self._t[i] + (n - self._n[i]) / rate, self.stop)


class SendBuffer:
    """``send()`` calls of a fleet's producers against their ``buffer.memory``.

    ``accepted_upto`` is the intended time up to which the application's records were
    taken into the producers' buffers. :meth:`advance` moves it as far as free memory
    allows; records due but not taken are blocked in ``send()``. When no memory was
    freed for ``max.block.ms`` while sends were blocked, each producer's blocked send
    fails (one record per producer) and the application goes on with its next record.
    """

    def __init__(self, load: OfferedLoad, *, capacity: int, bytes_per_record: float,
                 max_block: float, producers: int):
        self.load = load
        self.capacity = capacity
        self.bytes_per_record = bytes_per_record
        self.max_block = max_block
        self.producers = producers
        self.accepted_upto = load.start
        self.failed = 0            # records whose send() threw after max.block.ms
        self.blocked = 0           # records whose send() waited for memory
        self._due = load.start     # intended time up to which records were due last time
        self._stalled_since: float | None = None

    def accepted(self) -> int:
        """Records taken into the buffers so far (whole records)."""
        return int(self.load.records(self.accepted_upto)) - self.failed

    def offered(self, now: float) -> int:
        """Records offered (intended to be sent) up to ``now`` (whole records)."""
        return int(self.load.records(now))

    def advance(self, now: float, used: float) -> None:
        """Take into the buffers what is due by ``now`` and fits beside ``used`` bytes."""
        load = self.load
        due = min(now, load.stop)
        before = self.accepted_upto
        if due <= before:
            self._due = max(self._due, due)
            self._stalled_since = None
            return
        wanted = load.records(due) - load.records(before)
        room = (self.capacity - used) / self.bytes_per_record
        if room >= wanted:
            self.accepted_upto = due
        elif room > 0:
            self.accepted_upto = load.time_of(load.records(before) + room)
        after = self.accepted_upto
        if before < self._due and after > before:
            # Records intended before the previous step that only now got memory waited.
            self.blocked += int(load.records(min(after, self._due))) - int(load.records(before))
        self._due = due
        if after >= due:
            self._stalled_since = None
        elif after > before or self._stalled_since is None:
            self._stalled_since = now  # memory was freed (or the block starts): wait anew
        elif now - self._stalled_since >= self.max_block:
            # Each producer's blocked send() throws; the application moves past it.
            skip = min(self.producers, int(load.records(due) - load.records(after)))
            if skip > 0:
                self.failed += skip
                self.accepted_upto = load.time_of(load.records(after) + skip)
            self._stalled_since = now


__all__ = ["WHOLE_RECORD_SLACK", "OfferedLoad", "SendBuffer"]
