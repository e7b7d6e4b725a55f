"""One edge site: its log, the replication out of it, and retention, as a fluid with
fetch responses.

Positions are bytes of the site's log (on disk, as sent: compressed), counted from the
start of the site's current life (a destroyed site is rebuilt empty). The site produces
at ``rate`` while it lives and has enough brokers; ``head`` is its log end, ``start``
its log start (retention moves it, a segment at a time), ``position`` how far the
central copy reaches. The caller advances the site from change to change
(:meth:`FluidSite.next_change`), so that between two steps every quantity is linear in
time.

Replication (:mod:`geosim.strategies.edge.uplink`) runs in one of four regimes:

- **fetching**: one response in flight, of ``min(fetch budget, what the site holds past
  the position when the request reaches it)``, arriving after the link's cycle for its
  size; the central copy grows by the response at its arrival, and the next request
  leaves at once. A fetcher behind moves by whole responses, as the cross-cluster
  engine's flow does (and as a consumer receives them). A request that finds nothing
  on a link with no round trip and less capacity than production takes the budget as
  it is produced (production outruns the link).
- **caught up**: once a fetch finds no more than two caught-up cycles of data (on a
  link faster than production), the copy
  trails the head by the caught-up lag (``LinkNow.caught_up_lag``) as a fluid, at the
  produce rate (fetching a cycle at a time would cost an event per
  round trip); the switch moves the position by at most that much.
- **ahead**: the lag grew (a slower path): the copy waits for the head.
- **stopped**: the link is down or not yet retried, or the site is gone.

A change of the link (up, slow, down) drops the response in flight: a new path is a
new connection, so the fetcher asks again on it (after a cut, at its next retry).

Retention (Kafka's, per partition; partitions are symmetric, so one stands for all):
segments roll every ``segment.bytes`` or ``segment.ms``; at each check (every
``log.retention.check.interval.ms`` from 30 s after the broker started) a segment whose
newest record is older than ``retention.ms`` is deleted, and the oldest segments are
deleted while the partition exceeds ``retention.bytes`` by at least a segment
(apache/kafka UnifiedLog ``deleteRetentionMsBreachedSegments``,
``deleteRetentionSizeBreachedSegments``). ``UnifiedLog.deletableSegments`` spares only an
empty last segment: the active segment goes too once its newest record has expired
(production stopped) or, with ``retention.bytes`` 0, whenever it holds a record, and
Kafka rolls a new segment at the log end first, from which later segments roll. (Kafka
also needs the high watermark at the log end to delete the active segment; the site's
replicas are taken to hold everything, as everywhere in this model.) A record's age
is that of its produce time: production pauses (an outage of the site, brokers under
``min.insync.replicas``), so the site keeps its runs of production to map positions to
times. Deleted bytes past what the fetcher has read are lost; it resumes at the new log
start (MirrorMaker 2's source consumer resets to the earliest offset,
``MirrorConnectorConfig``'s ``auto.offset.reset=earliest``; a cluster link is assumed to
do the same).
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from geosim.strategies.edge.config import FIRST_CHECK_DELAY, SiteLogConfig
from geosim.strategies.edge.uplink import DOWN, LinkNow

INF = math.inf
#: seconds within which the clock is at a retention check (the caller's step time and
#: the check instant are computed apart)
CHECK_SLACK = 1e-6


@dataclass
class _Response:
    """A fetch response in flight: requested at ``sent``, ``size`` bytes from the
    position, arriving at ``arrives``."""

    sent: float
    arrives: float
    size: float


class FluidSite:
    """The state of one site (standing for every site of its class)."""

    def __init__(self, *, rate: float, partitions: int, config: SiteLogConfig,
                 production_end: float, brokers: int, replication_factor: int,
                 min_insync: int):
        self.rate = float(rate)
        self.partitions = partitions
        self.config = config
        per_partition = min(float(config.segment_bytes),
                            self.rate / partitions * config.segment_time)
        self.segment = per_partition * partitions   # site bytes per round of segments
        self.production_end = production_end
        self.brokers = brokers
        self.replication_factor = replication_factor
        self.min_insync = min_insync
        self.t = 0.0
        self.life_start = 0.0
        self.head = 0.0
        self.start = 0.0
        self.position = 0.0
        self.replicated = 0.0        # cumulative bytes copied to the central cluster
        self.copied = 0.0            # bytes copied since the caller last took them
        self.lost_retention = 0.0
        self.lost_failure = 0.0
        self.newest = 0.0            # produce time of the newest record in the central copy
        self.brokers_lost = 0
        self.alive = True
        self.link: LinkNow = DOWN
        self.response: _Response | None = None
        self.regime = "stopped"
        # equivalent: _refresh, below, sets it before anything reads it
        self.produce = 0.0  # mutate: equivalent
        self.out = False             # the site's region or zone is down (an outage)
        self.check_at = INF          # the next retention check that deletes something
        # Where the segments of this life roll from: 0, or the log end where Kafka rolled
        # a new (empty) segment after deleting the active one.
        self.seg_base = 0.0
        # The production runs of this life, oldest first: the log end and the time at
        # which each began. Production pauses (an outage, brokers under
        # min.insync.replicas), so a position's produce time is not ``position / rate``.
        self._run_heads: list[float] = []
        self._run_times: list[float] = []
        self._lag_of: LinkNow | None = None
        # equivalent: read only once lag() has set it with _lag_of
        self._lag = 0.0  # mutate: equivalent
        self._refresh()

    # --- what is produced ---------------------------------------------------------
    def producing(self) -> bool:
        return self.produce > 0

    def _refresh(self) -> None:
        """The produce rate now (it changes only at the end of production and with the
        site's brokers, each a step of the caller); a run of production that begins now
        is recorded."""
        on = (self.alive and not self.out and self.t < self.production_end
              and self.brokers - self.brokers_lost >= max(self.min_insync, 1))
        if on and self.produce == 0:
            self._run_heads.append(self.head)
            self._run_times.append(self.t)
        self.produce = self.rate if on else 0.0

    def time_of(self, position: float) -> float:
        """When the record ending at ``position`` of this life was produced (for a
        position past the head while producing: when it will be); the life's start for
        position 0."""
        heads = self._run_heads
        k = bisect_left(heads, position) - 1
        if k < 0:
            return self.life_start
        return self._run_times[k] + (position - heads[k]) / self.rate

    def position_at(self, t: float) -> float:
        """The log end at time ``t`` of this life (``t`` no later than now)."""
        times = self._run_times
        k = bisect_right(times, t) - 1
        if k < 0:
            return 0.0
        heads = self._run_heads
        end = heads[k + 1] if k + 1 < len(heads) else self.head
        return min(heads[k] + self.rate * (t - times[k]), end)

    def _produce_rate(self) -> float:
        return self.produce

    def _eps(self) -> float:
        return 1e-9 * max(1.0, self.head)

    def lag(self) -> float:
        """The caught-up lag now (0 once production has stopped: the last fetch takes
        everything)."""
        if not self.producing():
            return 0.0
        if self._lag_of is not self.link:
            self._lag_of, self._lag = self.link, self.link.caught_up_lag(self.rate)
        return self._lag

    def _target(self) -> float:
        return self.head - self._produce_rate() * self.lag()

    # --- regimes ------------------------------------------------------------------
    def decide(self) -> None:
        """Choose the regime now (after a change); may send a fetch request."""
        if not self.alive or self.out or not self.link.moves:
            self._drop_response()
            self.regime = "stopped"
            return
        if self.response is not None:
            self.regime = "fetching"
            return
        produce = self._produce_rate()
        gap = self.head - self.position
        lag = self.lag()
        if produce < self.link.capacity and gap <= 2 * produce * lag + self._eps():
            target = self._target()
            if self.position < target:
                self._copy(target - self.position)
            self.regime = "caught" if self.position <= target + self._eps() else "ahead"
            return
        # a fetch request: it reaches the site half a round trip from now (past the end
        # of production, nothing more is produced: produce is 0 from then on)
        reach = min(self.t + self.link.rtt / 2, self.production_end)
        there = self.head + produce * (reach - self.t)
        size = min(float(self.link.budget), there - self.position)
        if size <= 0:
            if produce < self.link.capacity:
                self.regime = "caught"
                return
            # Nothing to take yet on a link with no round trip that is slower than
            # production: the response carries records as they are produced (they come
            # faster than the link sends them), a full one unless production ends first.
            size = min(float(self.link.budget), produce * (self.production_end - self.t))
        self.response = _Response(self.t, self.t + self.link.cycle(size), size)
        self.regime = "fetching"

    def _drop_response(self) -> None:
        """The response in flight is lost with its connection: what retention deleted
        of it meanwhile is lost now (the rest was counted at the check)."""
        response = self.response
        if response is None:
            return
        self.response = None
        # equivalent: at start == position the branch adds 0 and moves nothing
        if self.start > self.position:  # mutate: equivalent
            self.lost_retention += min(self.start, self.position + response.size) \
                - self.position
            self.position = self.start

    def set_link(self, link: LinkNow) -> None:
        """The link changed (or not): a change drops the response in flight."""
        if link != self.link:
            self._drop_response()
            self.link = link
        self.decide()

    def _copy(self, size: float) -> None:
        self.position += size
        self.replicated += size
        self.copied += size
        self.newest = self.time_of(self.position)

    def take_copied(self) -> float:
        """Bytes copied to the central cluster since the last call."""
        out, self.copied = self.copied, 0.0
        return out

    # --- time ---------------------------------------------------------------------
    def advance(self, t: float) -> None:
        """Move to ``t`` (no change of regime before it); a response arriving at ``t``
        lands, and the regime is chosen again."""
        dt = t - self.t
        if dt > 0:
            produce = self._produce_rate()
            self.head += produce * dt
            if self.regime == "caught" and produce > 0:
                self._copy(produce * dt)
            self.t = t
            self._refresh()
        response = self.response
        if response is not None and response.arrives <= t + 1e-9:
            self.response = None
            self._copy(response.size)
            # retention may have cut past the response meanwhile
            self.position = max(self.position, self.start)
            self.decide()
        elif self.regime == "ahead" and self.position <= self._target() + self._eps():
            self.decide()

    def next_change(self) -> float:
        """The next time the site changes by itself: a response arriving, the head
        catching up with a waiting position, the end of production, or the next
        retention check that deletes something."""
        out = INF
        if self.response is not None:
            out = self.response.arrives
        elif self.regime == "ahead":     # only while producing (else the target is the head)
            out = self.t + (self.position - self._target()) / self._produce_rate()
        if self.producing():
            out = min(out, self.production_end)
        return min(out, self.next_check())

    # --- retention ----------------------------------------------------------------
    def _check_time(self, due: float) -> float:
        """The first retention check at or after ``due``."""
        first = self.life_start + FIRST_CHECK_DELAY
        interval = self.config.check_interval
        k = max(math.ceil((due - first) / interval - 1e-12), 0)
        return first + k * interval

    def next_check(self) -> float:
        """The first retention check (after now) that deletes a segment."""
        self.check_at = INF
        if not self.alive:
            return INF
        cfg = self.config
        produce = self._produce_rate()
        due = INF
        closed_end = self.start + self.segment   # end of the oldest segment
        if closed_end <= self.head + self._eps() or produce > 0:
            due = self.time_of(closed_end) + cfg.retention_time
        elif self.head > self.start + self._eps():
            # production stopped within the oldest segment, the active one: it goes
            # once its newest record has expired
            due = self.time_of(self.head) + cfg.retention_time
        if cfg.retention_bytes >= 0:
            need = self.start + self.partitions * cfg.retention_bytes + self.segment
            if self.head >= need - self._eps() or (cfg.retention_bytes == 0 and (
                    produce > 0 or self.head > self.start + self._eps())):
                # (at 0 the active segment goes as soon as it holds a record)
                due = min(due, self.t)
            elif produce > 0:
                due = min(due, self.t + (need - self.head) / produce)
        if due == INF:
            return INF
        check = self._check_time(due)   # overdue: the instant after now, below
        if check <= self.t + 1e-9:
            check = self._check_time(self.t + 1e-6)
        self.check_at = check
        return check

    def is_check_time(self) -> bool:
        """Whether now is the retention check :meth:`next_check` last found (other
        check instants delete nothing)."""
        off = abs(self.t - self.check_at)
        # equivalent: times from 30 s on differ by multiples of 2**-48 s, never by 1e-6
        return off < CHECK_SLACK  # mutate: equivalent

    def retention_check(self) -> float:
        """Delete what retention deletes now; returns the bytes lost (deleted before
        the fetcher read them: a response in flight was read)."""
        if not self.alive:
            return 0.0
        cfg = self.config
        segment = self.segment
        base, head, eps = self.seg_base, self.head, self._eps()
        closed = base + math.floor((head - base + eps) / segment) * segment
        active = head > closed + eps    # the active segment holds records
        new_start = self.start
        expired = self.position_at(self.t - cfg.retention_time)
        # equivalent: at expired == start the floor below gives start itself back
        if expired > self.start:  # mutate: equivalent
            new_start = max(new_start, min(closed, base + math.floor(
                (expired - base + eps) / segment) * segment))
            if active and expired >= head - eps:
                new_start = head   # the active segment's newest record expired too
        if cfg.retention_bytes >= 0:
            excess = (head - self.start) / self.partitions - cfg.retention_bytes
            per_partition = segment / self.partitions
            if excess >= per_partition - eps / self.partitions:
                k = math.floor((excess + eps) / per_partition)
                new_start = max(new_start, min(closed, self.start + k * segment))
            if cfg.retention_bytes == 0 and active:
                new_start = head   # nothing may stay: the active segment goes too
        if new_start >= head - eps and active:
            # Kafka rolls a new, empty active segment before deleting the old one
            # (UnifiedLog.deleteSegments): later segments roll from here
            self.seg_base = head
        self.start = max(self.start, new_start)
        read = self.position + (self.response.size if self.response is not None else 0.0)
        lost = max(self.start - read, 0.0)
        if lost > 0:
            self.lost_retention += lost
            if self.response is None:
                self.position = self.start
                self.decide()
        return lost

    # --- faults -------------------------------------------------------------------
    def lose_brokers(self, count: int) -> float:
        """``count`` more brokers of the site are destroyed (disks lost). With all
        replicas gone (``count`` reaches the replication factor) the site's log is gone:
        what was not copied (a response in flight included) is lost, and the site is
        down until :meth:`rebuild`."""
        self.brokers_lost = min(self.brokers_lost + count, self.brokers)
        if self.brokers_lost < self.replication_factor:
            self._refresh()
            self.decide()
            return 0.0
        lost = max(self.head - self.position, 0.0)
        self.lost_failure += lost
        self.alive = False
        self.head = self.start = self.position = 0.0
        self._refresh()
        self.decide()
        return lost

    def set_out(self, out: bool) -> None:
        """The site's zone went down (its brokers and producers stop; the log stays)
        or came back."""
        self.out = out
        self._refresh()
        self.decide()

    def rebuild(self) -> None:
        """The destroyed brokers are replaced: an empty log from now (a new broker
        start, so retention checks restart too)."""
        self.brokers_lost = 0
        if not self.alive:
            self.alive = True
            self.life_start = self.t
            self.head = self.start = self.position = self.seg_base = 0.0
            self._run_heads, self._run_times = [], []
        self._refresh()
        self.decide()

    # --- what a fold needs ---------------------------------------------------------
    def snapshot(self) -> dict:
        """Values now and their rates until the next change. While a response is in
        flight its bytes cross the link at an even rate (``throughput``), but the
        central copy (``replicated``, ``newest``, ``backlog``) grows only when it
        lands."""
        produce = self._produce_rate()
        response = self.response
        caught = self.regime == "caught"
        speed = produce if caught else 0.0
        throughput = speed
        if response is not None:
            span = response.arrives - response.sent
            throughput = response.size / span if span > 0 else 0.0
        return {"copy_rate": speed, "alive": self.alive,
                "caught_up": self.regime in ("caught", "ahead"),
                "backlog": self.head - self.position, "backlog_rate": produce - speed,
                "newest": self.newest, "newest_rate": speed / self.rate,
                "replicated": self.replicated, "throughput": throughput,
                "lost_retention": self.lost_retention, "lost_failure": self.lost_failure}


__all__ = ["FluidSite"]
