"""What a run used, over a window of simulated time: the quantities the bill prices.

The network and the object store count cumulatively; :class:`CounterSnapshots` copies
their counters at chosen simulated times (the end of warmup, the first fault's start,
the end of production), so :func:`usage_between` can give the usage of the steady state
and of the outage separately. A :class:`Usage` holds totals over ``seconds``; the bill
extrapolates its per-second rates to a month.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import simpy

ByteKey = tuple[str, str, str]  # (source id, destination id, purpose)


@dataclass(frozen=True)
class Snapshot:
    """Cumulative counters at simulated time ``t``."""

    t: float
    bytes: Mapping[ByteKey, int]
    counters: Mapping[str, int]


@dataclass(frozen=True)
class Usage:
    """Totals over a window of ``seconds`` (all values may be fractional after scaling).

    ``bytes``: physical bytes by (source, destination, purpose) as the network counts
    them; ``object_puts`` / ``object_gets``: object-store requests; ``object_put_bytes`` /
    ``object_get_bytes``: bytes written to buckets (every copy a PUT made) and read from
    them; ``metadata_commits`` / ``metadata_reads``: metadata-store requests;
    ``written_bytes`` / ``written_compressed_bytes``: acknowledged application bytes,
    uncompressed and as stored.
    """

    seconds: float
    bytes: Mapping[ByteKey, float] = field(default_factory=dict)
    object_puts: float = 0.0
    object_gets: float = 0.0
    object_put_bytes: float = 0.0
    object_get_bytes: float = 0.0
    metadata_commits: float = 0.0
    metadata_reads: float = 0.0
    written_bytes: float = 0.0
    written_compressed_bytes: float = 0.0

    def scaled(self, factor: float, seconds: float | None = None) -> Usage:
        """Every total times ``factor``; the window becomes ``seconds`` (default scaled)."""
        return Usage(
            seconds=self.seconds * factor if seconds is None else seconds,
            bytes={k: v * factor for k, v in self.bytes.items()},
            object_puts=self.object_puts * factor, object_gets=self.object_gets * factor,
            object_put_bytes=self.object_put_bytes * factor,
            object_get_bytes=self.object_get_bytes * factor,
            metadata_commits=self.metadata_commits * factor,
            metadata_reads=self.metadata_reads * factor,
            written_bytes=self.written_bytes * factor,
            written_compressed_bytes=self.written_compressed_bytes * factor)

    def per_second(self) -> Usage:
        """The average rates: totals divided by the window (a window of 1 s)."""
        if self.seconds <= 0:
            return Usage(seconds=1.0)
        return self.scaled(1.0 / self.seconds, seconds=1.0)

    def minus(self, other: Usage) -> Usage:
        """``self - other`` item by item, over ``self``'s window (for excess usage)."""
        keys = set(self.bytes) | set(other.bytes)
        return Usage(
            seconds=self.seconds,
            bytes={k: self.bytes.get(k, 0.0) - other.bytes.get(k, 0.0) for k in sorted(keys)},
            object_puts=self.object_puts - other.object_puts,
            object_gets=self.object_gets - other.object_gets,
            object_put_bytes=self.object_put_bytes - other.object_put_bytes,
            object_get_bytes=self.object_get_bytes - other.object_get_bytes,
            metadata_commits=self.metadata_commits - other.metadata_commits,
            metadata_reads=self.metadata_reads - other.metadata_reads,
            written_bytes=self.written_bytes - other.written_bytes,
            written_compressed_bytes=self.written_compressed_bytes
            - other.written_compressed_bytes)


def usage_between(a: Snapshot, b: Snapshot, *, written_bytes: float,
                  compression_ratio: float) -> Usage:
    """The usage from snapshot ``a`` to snapshot ``b``.

    ``written_bytes`` (uncompressed, acknowledged in the window) comes from the metrics;
    ``compression_ratio`` turns it into stored bytes.
    """
    keys = set(a.bytes) | set(b.bytes)
    diff = {k: float(b.bytes.get(k, 0) - a.bytes.get(k, 0)) for k in sorted(keys)}
    counter = lambda name: float(b.counters.get(name, 0) - a.counters.get(name, 0))  # noqa: E731
    return Usage(
        seconds=b.t - a.t,
        bytes={k: v for k, v in diff.items() if v},
        object_puts=counter("object_puts"), object_gets=counter("object_gets"),
        object_put_bytes=counter("object_put_bytes"),
        object_get_bytes=counter("object_get_bytes"),
        metadata_commits=counter("metadata_commits"), metadata_reads=counter("metadata_reads"),
        written_bytes=float(written_bytes),
        written_compressed_bytes=float(written_bytes) / max(compression_ratio, 1e-12))


class CounterSnapshots:
    """Copies cumulative counters at given simulated times (a few callbacks, no process).

    ``read()`` returns ``(bytes by key, counters)``. Times at or past the end of the run
    (SimPy stops before processing events at ``until``) are taken by :meth:`finish`.
    """

    def __init__(self, env: simpy.Environment,
                 read: Callable[[], tuple[Mapping[ByteKey, int], Mapping[str, int]]],
                 times: Iterable[float]):
        self.env = env
        self._read = read
        self.taken: dict[float, Snapshot] = {}
        self._times = sorted({float(t) for t in times})
        for t in self._times:
            if t <= 0:
                self.taken[t] = Snapshot(t, {}, {})
                continue
            env.timeout(t - env.now).callbacks.append(self._taker(t))

    def _taker(self, t: float) -> Callable[[simpy.Event], None]:
        """The timeout callback that snapshots the counters as of time ``t``."""
        def take(_event: simpy.Event) -> None:
            self._take(t)
        return take

    def _take(self, t: float) -> None:
        counts, counters = self._read()
        self.taken[t] = Snapshot(t, dict(counts), dict(counters))

    def finish(self) -> None:
        """Take the snapshots the run ended before reaching (at its final time)."""
        for t in self._times:
            if t not in self.taken and t >= self.env.now - 1e-9:
                self._take(t)

    def __getitem__(self, t: float) -> Snapshot:
        return self.taken[float(t)]
