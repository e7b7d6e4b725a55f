"""What a producer fleet knows of its partitions' leaders moving, and what it waits for.

Kafka's idempotent producer keeps a partition's batches in sequence, and it learns that
a partition's leader moved only from the old leader's connection: a live broker answers
NotLeaderOrFollower within a round trip; a silent one (its zone went down, nothing
closed the connections) only when a request there times out after
``request.timeout.ms``, or when its restarted host resets the connection. A
partition routed to a new target therefore waits:

* for its own rows still in flight to another target (answer, error or timeout:
  ``TransactionManager.canRetry`` would meet an out-of-order rejection at the new
  leader until they resolve), ``moved``;
* until its old target answers anything, if that target owes answers or fell silent,
  ``unheard`` (partition -> targets) and ``waiting_on`` (target -> partitions).

Both go by where the rows went and where the partition was last routed, so a move
through a leaderless spell counts too. :class:`~geosim.clients.producer.ProducerFleet`
keeps one :class:`LeaderMoves` and skips the partitions it holds when it cuts rows.
"""

from __future__ import annotations


class LeaderMoves:
    """One fleet's waits on old leaders; see the module docstring."""

    __slots__ = ("moved", "unheard", "waiting_on", "last_target", "silent", "_silences")

    def __init__(self) -> None:
        self.moved: set[int] = set()                 # partitions waiting on their own rows
        self.unheard: dict[int, set[int]] = {}       # partition -> targets to hear from
        self.waiting_on: dict[int, set[int]] = {}    # target -> partitions waiting on it
        self.last_target: dict[int, int] = {}        # partition -> its last routing
        self.silent: dict[int, int] = {}             # silent target -> its timer's token
        self._silences = 0

    def routed(self, pset: dict[int, frozenset[int]], sent_to: dict[tuple[int, int], int],
               out: dict[int, int]) -> None:
        """The fleet routes ``pset`` (target -> partitions); ``sent_to`` are its rows in
        flight ((partition, seq) -> target), ``out`` its unanswered bytes per target."""
        sent: dict[int, set[int]] = {}
        for (p, _seq), b in sent_to.items():
            sent.setdefault(p, set()).add(b)
        last = self.last_target
        for b, ps in pset.items():
            for p in ps:
                targets = sent.get(p)
                if targets and (len(targets) > 1 or b not in targets):
                    self.moved.add(p)
                old = last.get(p)
                if old is not None and old != b and (out.get(old, 0) > 0
                                                     or old in self.silent):
                    self.unheard.setdefault(p, set()).add(old)
                    self.waiting_on.setdefault(old, set()).add(p)
                last[p] = b

    def fell_silent(self, target: int) -> int:
        """``target``, which the fleet was sending to, fell silent: partitions moved
        off it wait to hear from it; returns the token of its timer."""
        self._silences += 1
        self.silent[target] = self._silences
        return self._silences

    def heard_from(self, target: int, token: int | None = None) -> None:
        """The fleet learns where ``target``'s partitions went: it answered, its
        connection closed or timed out. ``token``: the timer of one silence (ignored
        if the target fell silent again since)."""
        if token is not None and self.silent.get(target) != token:
            return
        self.silent.pop(target, None)
        waiting = self.waiting_on.pop(target, None)
        if waiting:
            for p in waiting:
                targets = self.unheard[p]
                targets.discard(target)
                if not targets:
                    del self.unheard[p]

    def clear(self) -> None:
        """New producer instances: fresh metadata and connections, nothing in flight."""
        self.moved.clear()
        self.unheard.clear()
        self.waiting_on.clear()
        self.silent.clear()


__all__ = ["LeaderMoves"]
