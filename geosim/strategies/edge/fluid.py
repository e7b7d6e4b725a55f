"""One edge site as a fluid: its log, the replication out of it, and retention.

Positions are bytes of the site's log (on disk, as sent: compressed), counted from the
start of the site's current life (a destroyed site is rebuilt empty). The site produces
at ``rate`` while it lives and has enough brokers; ``head`` is its log end, ``start``
its log start (retention moves it, a segment at a time), ``position`` how far the
central copy reaches. Between two calls of :meth:`FluidSite.advance` nothing changes
regime (the caller stops at every :meth:`FluidSite.next_change`), so every quantity is
linear in time there.

Replication (:mod:`geosim.strategies.edge.uplink`): behind, the position advances at
the link's capacity; caught up, it trails the head by the caught-up lag (``rate x
lag`` bytes), moving at the produce rate; after the lag grew (a slower path), it
waits for the head.

Retention (Kafka's, per partition; partitions are symmetric, so one stands for all):
segments roll every ``segment.bytes`` or ``segment.ms``; at each check (every
``log.retention.check.interval.ms`` from 30 s after the broker started) a closed
segment whose newest record is older than ``retention.ms`` is deleted, and the oldest
segments are deleted while the partition exceeds ``retention.bytes`` by at least a
segment (apache/kafka UnifiedLog ``deleteRetentionMsBreachedSegments``,
``deleteRetentionSizeBreachedSegments``). Deleted bytes past ``position`` are lost: the
fetcher's next fetch is out of range, and it resumes at the new log start (MirrorMaker
2's source consumer resets to the earliest offset; a cluster link is assumed to do
the same).
"""

from __future__ import annotations

import math

from geosim.strategies.edge.config import FIRST_CHECK_DELAY, SiteLogConfig
from geosim.strategies.edge.uplink import DOWN, LinkNow

INF = math.inf


class FluidSite:
    """The fluid state of one site (standing for every site of its class)."""

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
        self.lost_retention = 0.0
        self.lost_failure = 0.0
        self.newest = 0.0            # produce time of the newest record in the central copy
        self.brokers_lost = 0
        self.alive = True
        self.link: LinkNow = DOWN

    # --- regime -------------------------------------------------------------------
    def producing(self) -> bool:
        return (self.alive and self.t < self.production_end
                and self.brokers - self.brokers_lost >= max(self.min_insync, 1))

    def _produce_rate(self) -> float:
        return self.rate if self.producing() else 0.0

    def _target(self) -> float:
        """Where the position heads: the head less what the caught-up lag holds back."""
        if not self.producing():
            return self.head
        return self.head - self.rate * self.link.lag

    def _eps(self) -> float:
        return 1e-9 * max(1.0, self.head)

    def regime(self) -> str:
        """``behind`` (the position moves at the capacity), ``caught`` (it follows the
        target) or ``ahead`` (it waits for the target)."""
        capacity = self.link.capacity if self.alive else 0.0
        gap = self._target() - self.position
        eps = self._eps()
        if gap > eps or (capacity < self._produce_rate() and gap >= -eps):
            return "behind"
        if gap >= -eps:
            return "caught"
        return "ahead"

    def speed(self) -> float:
        """d position / dt now."""
        regime = self.regime()
        if regime == "behind":
            return self.link.capacity if self.alive else 0.0
        if regime == "caught":
            return self._produce_rate()
        return 0.0

    # --- time ---------------------------------------------------------------------
    def advance(self, t: float) -> float:
        """Move to ``t`` (no change of regime in between); returns the bytes copied."""
        dt = t - self.t
        if dt <= 0:
            return 0.0
        speed = self.speed()
        behind = self.regime() == "behind"
        self.head += self._produce_rate() * dt
        moved = speed * dt
        new = self.position + moved
        if behind:
            new = min(new, self._target_at(self.head))
        moved = max(new - self.position, 0.0)
        self.position += moved
        self.replicated += moved
        if moved > 0:
            self.newest = self.life_start + self.position / self.rate
        self.t = t
        return moved

    def _target_at(self, head: float) -> float:
        if not self.producing():
            return head
        return head - self.rate * self.link.lag

    def next_change(self) -> float:
        """The next time the regime changes by itself (catching up, the target
        reaching a waiting position), or the next retention check that deletes
        something, or the end of production."""
        out = INF
        produce = self._produce_rate()
        gap = self._target() - self.position
        regime = self.regime()
        if regime == "behind":
            capacity = self.link.capacity if self.alive else 0.0
            if capacity > produce:
                out = self.t + max(gap, 0.0) / (capacity - produce)
        elif regime == "ahead" and produce > 0:
            out = self.t - gap / produce
        if self.producing():
            out = min(out, self.production_end)
        return min(out, self.next_check())

    # --- retention ----------------------------------------------------------------
    def _check_time(self, due: float) -> float:
        """The first retention check at or after ``due``."""
        first = self.life_start + FIRST_CHECK_DELAY
        interval = self.config.check_interval
        if due <= first:
            return first
        k = math.ceil((due - first) / interval - 1e-12)
        return first + k * interval

    def next_check(self) -> float:
        """The first retention check (after now) that deletes a segment."""
        if not self.alive:
            return INF
        cfg = self.config
        produce = self._produce_rate()
        due = INF
        closed_end = self.start + self.segment   # end of the oldest segment
        if closed_end <= self.head + self._eps():
            due = self.life_start + closed_end / self.rate + cfg.retention_time
        elif produce > 0:
            due = self.life_start + closed_end / self.rate + cfg.retention_time
        if cfg.retention_bytes >= 0:
            need = self.start + self.partitions * cfg.retention_bytes + self.segment
            if self.head >= need - self._eps():
                due = min(due, self.t)
            elif produce > 0:
                due = min(due, self.t + (need - self.head) / produce)
        if due == INF:
            return INF
        check = self._check_time(max(due, self.t))
        if check <= self.t + 1e-9:
            check = self._check_time(self.t + 1e-6)
            if check <= self.t:
                check += cfg.check_interval
        return check

    def is_check_time(self) -> bool:
        """Whether now is one of the broker's retention check instants."""
        first = self.life_start + FIRST_CHECK_DELAY
        if self.t < first - 1e-9:
            return False
        k = round((self.t - first) / self.config.check_interval)
        return abs(first + k * self.config.check_interval - self.t) < 1e-6

    def retention_check(self) -> float:
        """Delete what retention deletes now; returns the bytes lost (deleted before
        they were copied)."""
        if not self.alive:
            return 0.0
        cfg = self.config
        segment = self.segment
        closed = math.floor((self.head + self._eps()) / segment) * segment
        new_start = self.start
        expired = self.rate * (self.t - cfg.retention_time - self.life_start)
        if expired > self.start:
            new_start = max(new_start, min(closed, math.floor(
                (expired + self._eps()) / segment) * segment))
        if cfg.retention_bytes >= 0:
            excess = (self.head - self.start) / self.partitions - cfg.retention_bytes
            per_partition = segment / self.partitions
            if excess >= per_partition - self._eps() / self.partitions:
                k = math.floor((excess + self._eps()) / per_partition)
                new_start = max(new_start, min(closed, self.start + k * segment))
        self.start = max(self.start, new_start)
        lost = max(self.start - self.position, 0.0)
        if lost > 0:
            self.lost_retention += lost
            self.position = self.start
        return lost

    # --- faults -------------------------------------------------------------------
    def lose_brokers(self, count: int) -> float:
        """``count`` more brokers of the site are destroyed (disks lost). With all
        replicas gone (``count`` reaches the replication factor) the site's log is gone:
        what was not copied is lost, and the site is down until :meth:`rebuild`."""
        self.brokers_lost = min(self.brokers_lost + count, self.brokers)
        if self.brokers_lost < self.replication_factor:
            return 0.0
        lost = max(self.head - self.position, 0.0)
        self.lost_failure += lost
        self.alive = False
        self.head = self.start = self.position = 0.0
        return lost

    def rebuild(self) -> None:
        """The destroyed brokers are replaced: an empty log from now (a new broker
        start, so retention checks restart too)."""
        self.brokers_lost = 0
        if not self.alive:
            self.alive = True
            self.life_start = self.t
            self.head = self.start = self.position = 0.0

    # --- what a fold needs ---------------------------------------------------------
    def snapshot(self) -> dict:
        """Values now and their rates until the next change."""
        speed = self.speed()
        produce = self._produce_rate()
        newest, newest_rate = self.newest, 0.0
        if speed > 0:
            newest = self.life_start + self.position / self.rate
            newest_rate = speed / self.rate
        return {"alive": self.alive, "caught_up": self.regime() != "behind",
                "backlog": self.head - self.position, "backlog_rate": produce - speed,
                "newest": newest, "newest_rate": newest_rate,
                "replicated": self.replicated, "throughput": speed,
                "lost_retention": self.lost_retention, "lost_failure": self.lost_failure}


__all__ = ["FluidSite"]
