"""Typed events emitted by the model, and the recorder that fans them out.

Model code emits; metrics subscribe from outside (style.md). An event is a small
record (treat it as immutable: it is not frozen only because frozen dataclasses cost
several times more to build, and millions are built per run); the recorder delivers
it synchronously to every subscriber of its type, in subscription order, so metric
state is a deterministic fold over the event stream. The recorder keeps nothing
itself unless a trace is requested, so memory does not grow with simulated time.

Batches travel as :class:`Rows`: one row is the data one producer fleet handed to
one broker during one flush window, with its record count, uncompressed and
compressed bytes, target partition, assigned base offset and the interval over
which its records were sent. Events therefore scale with flushes and requests,
never with records.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Row:
    """One batch row: records sent by one fleet to one broker in one flush window.

    ``send_first``/``send_last`` bound the application send times of its records,
    which are taken as uniformly spread between them (latency percentiles are
    record-weighted). ``seq`` is the fleet's per-partition sequence number, as the
    idempotent producer assigns it; ``offset`` the base offset in ``partition``,
    set when the row is committed (-1 before).
    """

    fleet: int
    partition: int
    seq: int
    records: int
    bytes_uncompressed: int
    bytes_compressed: int
    send_first: float
    send_last: float
    offset: int = -1
    object_id: int = -1
    attempts: int = 0
    acked_at: float = -1.0  # when the producer learned of its ack (-1: not acked)
    mirror: int = -1        # the replication flow that wrote this copy (-1: a producer)


@dataclass(slots=True)
class Event:
    t: float


# --- producers -------------------------------------------------------------------

@dataclass(slots=True)
class ProduceAcked(Event):
    """A broker acknowledged rows to a fleet (outcome ok)."""
    region: str
    fleet: int
    rows: tuple[Row, ...]


@dataclass(slots=True)
class ProduceFailed(Event):
    """Rows whose send ended without an ack.

    ``outcome`` is ``"fail"`` (definitely not written) or ``"info"`` (unknown: a
    timeout or a lost response; the data may or may not be in the log).
    """
    region: str
    fleet: int
    rows: tuple[Row, ...]
    outcome: str
    reason: str


@dataclass(slots=True)
class ProduceRetried(Event):
    """Rows handed back to their fleet after a retriable error; they will be resent."""
    region: str
    fleet: int
    rows: tuple[Row, ...]
    reason: str


@dataclass(slots=True)
class Offered(Event):
    """Application load of a fleet since its previous Offered event: ``records``
    offered (intended to be sent), ``accepted`` into the producers' buffers,
    ``blocked`` (accepted after waiting in ``send()`` for ``buffer.memory``),
    ``send_failed`` (never written: ``send()`` threw after ``max.block.ms``, or the
    records were still in the buffers when the producers crashed), and the ``backlog`` now:
    records offered that no request has carried yet (waiting in ``send()`` or in the
    accumulator)."""
    region: str
    fleet: int
    records: int
    bytes_uncompressed: int
    accepted: int = 0
    blocked: int = 0
    send_failed: int = 0
    backlog: int = 0


@dataclass(slots=True)
class RateAdjusted(Event):
    """A max-rate run's controller set the total offered ``rate`` (records/s), having
    seen ``published`` acked and ``received`` delivered records so far."""
    rate: float
    published: int
    received: int


# --- consumers -------------------------------------------------------------------

@dataclass(slots=True)
class WindowRows(Event):
    """What the window engine computed over a window (the Kafka engine's
    ``simulation.engine: window``), emitted when the event engine takes the data path
    back: ``times``, ``first``, ``last``, ``records`` and ``bytes`` are arrays, one entry
    per row (when it was answered or delivered, its send window, its records and
    uncompressed bytes); ``rows`` stand for the window's rows per partition (their
    records, offsets and sequence number), for folds that count per partition."""
    region: str
    times: Any
    first: Any
    last: Any
    records: Any
    bytes: Any
    rows: tuple[Row, ...]


@dataclass(slots=True)
class WindowAcked(WindowRows):
    """One fleet's answers over a window (its rows acknowledged at their last answer)."""
    fleet: int


@dataclass(slots=True)
class WindowDelivered(WindowRows):
    """Deliveries to consumers in one region over a window (records counted once per
    group reading them); for ``group`` (-1: none) the rows standing for what its members
    read per partition."""
    group: int


@dataclass(slots=True)
class Delivered(Event):
    """Rows handed to members of a consumer group in one region at one instant, in offset
    order per partition."""
    region: str
    group: int
    rows: tuple[Row, ...]


@dataclass(slots=True)
class Rebalanced(Event):
    """A group's partitions were assigned anew; ``reassigned`` partitions resume from
    their committed offsets (they changed owner, or every member gave everything up:
    an eager rebalance; or a member took them back without a new generation)."""
    group: int
    members: tuple[int, ...]
    reason: str
    reassigned: tuple[int, ...] = ()


@dataclass(slots=True)
class OffsetsCommitted(Event):
    group: int
    offsets: tuple[tuple[int, int], ...]  # (partition, next offset to read)


# --- storage and metadata ---------------------------------------------------------

@dataclass(slots=True)
class ObjectStored(Event):
    """An object's durable copies: ``copies`` maps region -> time the copy exists.

    A copy time may lie in the future (asynchronous replication); ``inf`` means the
    copy will never be made. ``acked`` says nothing yet: acknowledgements follow.
    """
    object_id: int
    writer_region: str
    size: int
    copies: tuple[tuple[str, float], ...]


@dataclass(slots=True)
class ObjectCommitted(Event):
    """The metadata store committed an object's offsets; its rows are in the log."""
    object_id: int
    region: str
    rows: tuple[Row, ...]


@dataclass(slots=True)
class ReadBlocked(Event):
    """A read of an object failed because no reachable region holds a copy."""
    object_id: int
    region: str


@dataclass(slots=True)
class MetadataLeaderChanged(Event):
    store: str
    leader_region: str | None


# --- Kafka brokers -----------------------------------------------------------------

@dataclass(slots=True)
class PartitionChanged(Event):
    """A partition's leader or ISR changed (committed by the controller).

    ``leader_region`` is None while the partition is offline (no leader).
    ``under_min_isr``: the ISR is smaller than ``min.insync.replicas``.
    """
    partition: int
    leader_region: str | None
    isr_size: int
    under_min_isr: bool
    reason: str


@dataclass(slots=True)
class BrokerFenced(Event):
    """The controller fenced (``fenced=True``) or unfenced a broker."""
    broker: int
    zone: str
    fenced: bool


@dataclass(slots=True)
class RowsTruncated(Event):
    """Rows removed from a partition's log: by an election onto a replica that lacks
    them, or because every replica holding them was destroyed. Rows with
    ``acked_at >= 0`` had been acknowledged: acknowledged data lost."""
    partition: int
    region: str          # the writer region of ``rows``
    rows: tuple[Row, ...]
    cause: str


@dataclass(slots=True)
class PartitionErased(Event):
    """Every replica of ``partition`` (run-wide id) was destroyed, so what its log held
    below the rows a :class:`RowsTruncated` named is gone too: the prefix the engine no
    longer keeps row by row (every replica held it and every reader had passed it).
    Emitted only where no other cluster holds copies of that prefix."""
    partition: int
    cause: str


@dataclass(slots=True)
class WalUploaded(Event):
    """A shared-storage broker's WAL upload committed: ``partition`` (run-wide id)
    is in object storage up to ``end`` (an offset); its WAL in ``zone`` no longer
    holds anything of it below that."""
    partition: int
    end: int
    zone: str


# --- world -----------------------------------------------------------------------

@dataclass(slots=True)
class FaultStarted(Event):
    fault: int
    kind: str
    target: str
    destroys: bool = False


@dataclass(slots=True)
class FaultEnded(Event):
    fault: int
    kind: str
    target: str


@dataclass(slots=True)
class RegionState(Event):
    """A region went down (``up=False``), came back, or was destroyed."""
    region: str
    up: bool
    destroyed: bool = False


# --- cross-cluster (MirrorMaker 2, Cluster Linking) ---------------------------------
# Facts only: which clients use which cluster, which flow copies what where, copies
# acknowledged, reachability and failover decisions. Lag, RPO and the offsets' errors
# are folds over them (geosim.metrics.mirror), never measured by the model.

@dataclass(slots=True)
class ClientsAttached(Event):
    """Producer fleets (by index) and consumer groups (by id) now use ``cluster``: at
    the start, and when a failover moves them (the fleets are new instances).
    ``partition_base`` is the run-wide number of the cluster's partition 0: a fleet's
    rows name cluster-local partitions, :class:`PartitionChanged` and
    :class:`RowsTruncated` run-wide ones (``partition_base + i``); ``partitions``
    counts the cluster's partitions (0: not given)."""
    cluster: str
    fleets: tuple[int, ...]
    groups: tuple[int, ...]
    partition_base: int = 0
    partitions: int = 0


@dataclass(slots=True)
class MirrorFlowStarted(Event):
    """A replication flow exists (emitted once, at the start): it copies partition ``i``
    (``0 <= i < partitions``, the source's local topic) into partition
    ``target_base + i`` of the target (partitions are cluster-local, as in rows).

    The cadences say how old the offsets a failed-over group starts from may be:
    ``mark_interval`` between refreshes of the marks (checkpoints, plus the group
    offset sync when it is on; offset syncs of a cluster link), ``commit_interval``
    the consumers' ``auto.commit.interval.ms``; ``offset_lag_max`` the offset-sync
    spacing (MirrorMaker 2)."""
    flow: str             # "<source>-><target>"
    source: str
    target: str
    partitions: int
    target_base: int
    offset_preserving: bool
    offset_lag_max: int
    mark_interval: float
    commit_interval: float


@dataclass(slots=True)
class MirrorCopied(Event):
    """The target acknowledged a flow's copy of source partition ``partition`` up to
    upstream offset ``upstream_end``; the copy ends at ``downstream_end`` in the target.
    In upstream order, as the flow's task learns of it; a copy written again after a
    task restart is reported again (same upstream end, a later downstream end)."""
    flow: str
    partition: int
    upstream_end: int
    downstream_end: int
    records: int
    bytes: int            # compressed


@dataclass(slots=True)
class WindowMirrored(Event):
    """A flow's copies over a window of the window engine, emitted at the hand-back
    after the :class:`MirrorCopied` of the rows standing for the window: per source row
    sent in the window from ``start`` on (arrays), when its producer heard the ack,
    when the flow's acknowledged position passed its copy, and its compressed bytes
    (for folds that sample what was uncopied at instants inside the window)."""
    flow: str
    start: float
    acked: Any
    copied: Any
    bytes: Any


@dataclass(slots=True)
class LogTruncated(Event):
    """A cross-cluster partition's log was cut at ``offset`` (cluster-local partition):
    its rows from there on are gone from that cluster, whoever else holds copies."""
    cluster: str
    partition: int
    offset: int


@dataclass(slots=True)
class ClusterReachability(Event):
    """Every zone of ``cluster`` is down (``reachable=False``, emitted as the last one
    goes, before its brokers stop), or one is back."""
    cluster: str
    reachable: bool


@dataclass(slots=True)
class TranslationAvailable(Event):
    """A flow's first checkpoint (or consumer offset sync) was written: from now on a
    consumer group failing over to its target has a translated offset."""
    flow: str


@dataclass(slots=True)
class FailedOver(Event):
    """The clients of ``source`` moved to ``target``: the flows out of ``source`` stop;
    ``unreachable_since`` is when the decision counted the source lost from (the
    switch itself for a planned cut-over). :class:`GroupMoved` events follow."""
    source: str
    target: str
    reason: str
    unreachable_since: float


@dataclass(slots=True)
class GroupMoved(Event):
    """Consumer group ``group`` of ``source`` continues as group ``new_group`` in
    ``target``. ``starts`` holds, per partition of ``target`` (cluster-local), the
    offset it starts from, the partition's log end then, and whether the start came
    from a translated (or synced) offset rather than ``auto.offset.reset``."""
    group: int
    new_group: int
    source: str
    target: str
    starts: tuple[tuple[int, int, int, bool], ...]  # (partition, start, log end, translated)


Subscriber = Callable[[Any], None]


@dataclass
class Recorder:
    """Synchronous fan-out of events to subscribers, by exact event type."""

    trace: list | None = None
    _subscribers: dict[type, list[Subscriber]] = field(
        default_factory=lambda: defaultdict(list))

    def subscribe(self, kind: type, callback: Subscriber) -> None:
        self._subscribers[kind].append(callback)

    def subscribers(self, kind: type) -> list[Subscriber]:
        """The callbacks subscribed to ``kind`` (a copy)."""
        return list(self._subscribers.get(kind, ()))

    def emit(self, event: Event) -> None:
        for callback in self._subscribers.get(type(event), ()):
            callback(event)
        if self.trace is not None:
            self.trace.append(event)


#: Counter name prefix, followed by a declared topic's name: the compressed bytes the
#: Kafka engine replicated for that topic's partitions between regions (the engine
#: counts them; :mod:`geosim.metrics.topics` reports them).
TOPIC_REPLICATION_COUNTER = "topic_replication_cross_region_bytes."
