"""One partition's replicated log: replicas, leader, ISR, LEOs and the high watermark.

The model keeps one *canonical log* per partition, the current leader's: followers
only ever copy from the leader, so every replica's log is a prefix of it, described
by its log end offset (LEO). An election onto a replica with a shorter log truncates
the canonical log to that replica's LEO (Kafka followers truncate to the new leader's
log), and the rows cut off are returned so that the caller can report any that were
acknowledged. Offsets count records; rows are batches (:class:`~geosim.core.events.Row`).

Invariants (tested with Hypothesis): offsets are contiguous; for every replica
``leo <= log_end``; ``hw <= leader's leo``; the HW never moves backwards while the
leader stays the same.
"""

from __future__ import annotations

from bisect import bisect_right

from geosim.core.events import Row


class PartitionState:
    """State of one partition; mutated by the cluster model, which owns the timing."""

    __slots__ = ("id", "replicas", "observer_replicas", "leader", "epoch", "isr", "elr", "leo",
                 "hw", "follower_hw", "view", "caught_up", "last_fetch_leo",
                 "last_fetch_time", "rows", "ends", "cum", "times", "pending",
                 "offline_since", "base_bytes", "_pruned_end", "min_isr", "reissued_to",
                 "partial", "altering", "joining")

    def __init__(self, pid: int, replicas: list[int], observer_replicas: list[int] | None = None,
                 min_isr: int = 1):
        self.id = pid
        self.min_isr = min_isr                # the topic's min.insync.replicas
        self.replicas = list(replicas)          # sync replicas, preferred leader first
        self.observer_replicas = list(observer_replicas or [])  # asynchronous (Kafka "observers")
        self.leader: int | None = self.replicas[0]
        self.epoch = 0
        self.isr: set[int] = set(self.replicas)
        self.elr: set[int] = set()
        # The leader epoch under which the leader's AlterPartition is in flight (-1:
        # none): Kafka's leader sends no other for the partition meanwhile
        # (Partition.maybeExpandIsr and maybeShrinkIsr: partitionState.isInflight).
        self.altering = -1
        # The follower that AlterPartition adds (-1: none): the HW waits for it from
        # the request on (Kafka's maximal ISR, KIP-497).
        self.joining = -1
        self.leo: dict[int, int] = {b: 0 for b in self.all_replicas}
        self.hw = 0
        self.follower_hw: dict[int, int] = {b: 0 for b in self.all_replicas}
        self.view: dict[int, int] = {}        # follower LEO as the leader last heard it
        self.caught_up: dict[int, float] = {b: 0.0 for b in self.all_replicas}
        self.last_fetch_leo: dict[int, int] = {}
        self.last_fetch_time: dict[int, float] = {}
        self.rows: list[Row] = []             # canonical log, offset order
        self.ends: list[int] = []             # end offset of each row
        self.cum: list[int] = []              # cumulative compressed bytes at each row end
        self.times: list[float] = []          # append time of each row at the leader
        self.pending: list[tuple[Row, float]] = []  # acks=all rows awaiting the HW
        self.offline_since: float | None = None
        self.base_bytes = 0                   # compressed bytes of pruned rows
        self._pruned_end = 0                  # end offset of pruned rows
        # The log end before its last truncation that removed rows: offsets below it
        # are being handed out a second time (to rows with later sequence numbers).
        self.reissued_to = 0
        # Per follower holding part of the row after its LEO (a fetch response that
        # reached replica.fetch.response.max.bytes inside it): (its LEO then, the
        # partition epoch, the bytes it holds). Used only while both still match.
        # (None until a follower first holds part of a row: most partitions never do)
        self.partial: dict[int, tuple[int, int, int]] | None = None

    def settle_elr(self) -> None:
        """KIP-966: eligible replicas exist only while the ISR is below
        min.insync.replicas; Kafka's controller empties the ELR once the ISR reaches it
        (``PartitionChangeBuilder``)."""
        if len(self.isr) >= self.min_isr:
            self.elr.clear()

    def join_isr(self, r: int, at: float) -> None:
        """``r`` joins the ISR at ``at`` (caught up then)."""
        self.isr.add(r)
        self.elr.discard(r)
        self.settle_elr()
        self.caught_up[r] = at

    def shrink_isr(self, removed: set[int], *, elr: bool) -> None:
        """Remove ``removed`` from the ISR in one change. With ELR (KIP-966) an ISR
        below min.insync.replicas makes the old ISR and ELR, less the new ISR, eligible
        (``PartitionChangeBuilder.maybePopulateTargetElr``; sync replicas only: an
        observer is never eligible); at or above it the ELR is empty."""
        isr = self.isr
        old = set(isr)
        isr.difference_update(removed)
        if not elr:
            return
        if len(isr) >= self.min_isr:
            self.elr.clear()
        else:
            replicas = self.replicas
            self.elr = {r for r in self.elr | old if r not in isr and r in replicas}

    @property
    def all_replicas(self) -> list[int]:
        return self.replicas + self.observer_replicas

    @property
    def log_end(self) -> int:
        return self.ends[-1] if self.ends else self._pruned_end

    @property
    def end_bytes(self) -> int:
        return self.cum[-1] if self.cum else self.base_bytes

    def bytes_at(self, offset: int) -> int:
        """Cumulative compressed bytes of the log up to ``offset`` (a row boundary or
        inside a row, rounded down to the row boundary)."""
        i = bisect_right(self.ends, offset)
        return self.cum[i - 1] if i else self.base_bytes

    def offset_within(self, size: int) -> int:
        """End offset of the last whole row within the log's first ``size`` cumulative
        compressed bytes (the inverse of :meth:`bytes_at` at row boundaries)."""
        i = bisect_right(self.cum, size)
        return self.ends[i - 1] if i else self._pruned_end

    def held_partial(self, replica: int, leo: int) -> int:
        """Bytes ``replica`` holds of the row after ``leo`` (its LEO), as fetched."""
        got = self.partial.get(replica) if self.partial else None
        return got[2] if got is not None and got[0] == leo and got[1] == self.epoch else 0

    def append(self, row: Row, now: float) -> None:
        """Append at the canonical log end (the caller assigned ``row.offset``)."""
        end = row.offset + row.records
        self.rows.append(row)
        self.ends.append(end)
        self.cum.append(self.end_bytes + row.bytes_compressed)
        self.times.append(now)
        if self.leader is not None:
            self.leo[self.leader] = end

    def truncate(self, offset: int) -> list[Row]:
        """Cut the canonical log at ``offset``; returns the rows removed (newest last)."""
        i = bisect_right(self.ends, offset)
        # a row straddling ``offset`` cannot exist: replicas copy whole rows
        removed = self.rows[i:]
        if removed:
            self.reissued_to = max(self.reissued_to, self.log_end)
            del self.rows[i:], self.ends[i:], self.cum[i:], self.times[i:]
        leo, follower_hw, view = self.leo, self.follower_hw, self.view
        for b in leo:
            leo[b] = min(leo[b], offset)
            follower_hw[b] = min(follower_hw[b], offset)
        for b in view:
            view[b] = min(view[b], offset)
        self.hw = min(self.hw, offset)
        return removed

    def offset_flushed_before(self, t: float) -> int:
        """End offset of the rows appended at or before ``t`` (flushed by then)."""
        i = bisect_right(self.times, t)
        return self.ends[i - 1] if i else (self.ends[0] - self.rows[0].records
                                           if self.rows else self._pruned_end)

    def prune(self, upto: int) -> None:
        """Forget rows ending at or before ``upto``: every replica holds them."""
        i = bisect_right(self.ends, upto)
        if i <= 0:
            return
        self._pruned_end = self.ends[i - 1]
        self.base_bytes = self.cum[i - 1]
        del self.rows[:i], self.ends[:i], self.cum[:i], self.times[:i]

    def hw_candidate(self, require_min_isr: int = 0) -> int:
        """Smallest LEO over the maximal ISR (the ISR and a follower an AlterPartition
        in flight adds) as the leader knows it (KIP-966: the HW moves only while the
        ISR has ``require_min_isr`` members)."""
        leader = self.leader
        if leader is None:
            return self.hw
        if require_min_isr and len(self.isr) < require_min_isr:
            return self.hw
        hw = self.leo[leader]
        view = self.view
        for r in self.isr:
            if r != leader:
                v = view.get(r, 0)
                if v < hw:  # mutate: equivalent: at v == hw it would keep the same hw
                    hw = v
        joining = self.joining
        if joining >= 0 and self.altering == self.epoch:
            v = view.get(joining, 0)
            if v < hw:
                hw = v
        return hw

    def readable(self, replica: int) -> int:
        """Offset up to which ``replica`` serves consumers (committed data only)."""
        if replica == self.leader:
            return self.hw
        return min(self.leo[replica], self.follower_hw[replica])


__all__ = ["PartitionState"]
