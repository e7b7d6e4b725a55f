"""Histories for external checkers: a run's sends and polls in the form of Jepsen's Kafka
workload (``jepsen.tests.kafka``), for a deterministic sample of probe records.

Jepsen's Kafka workload describes each client operation as an EDN map with
``:type`` (``:invoke``, then ``:ok``, ``:fail`` or ``:info``), ``:f`` (``:send`` or
``:poll``), ``:process``, ``:time`` (nanoseconds) and ``:value``, a vector of
micro-operations: ``[:send key value]`` when invoked, ``[:send key [offset value]]``
when it completes, ``[:poll]`` when invoked and ``[:poll {key [[offset value] ...]}]``
when it completes. Keys stand for topic-partitions and values are unique messages.
Its checker then finds, among others, lost writes (an acknowledged send at an offset
at or below the highest offset any poll observed, never observed itself) and offsets
on which sends and polls disagree.

The mapping from a geosim run:

- **a probe** is the first record of a sampled row (a row is one batch of a fleet to
  one partition); its value is a unique integer, numbered in the order sends complete.
  A row is sampled when its sequence number, at its first acknowledgement or failure,
  is a multiple of the current stride; the stride
  starts at 1 and doubles (dropping the probes it no longer selects) whenever the probes
  exceed the limit, so the sample stays spread over the whole run and is the same for
  the same seed;
- **key**: the run-wide partition number (one topic); **offset**: the row's base
  offset in that partition's log;
- **send**: invoked at the row's first send time, completed ``:ok`` at its
  acknowledgement, ``:fail`` when definitely not written, ``:info`` when unknown (a
  timeout or a lost response); a retry is the same operation (the producer's own
  retries are invisible to the application). Each probe's send is its own process;
- **poll**: each delivery of a probe to a consumer group is a poll of that group's
  process (an ``:invoke`` and an ``:ok`` at the delivery time);
- **final read**: where data lives in partition logs (the Kafka-family strategies), the
  history ends with one poll (``:final true``, its own process) of every probe still in
  its partition's log, as Jepsen's tests end with final reads: an acknowledged probe
  the final read lacks at or below its highest offset is a lost write to Jepsen's
  checker, and one whose offset holds another value an inconsistent offset. geosim's
  logs answer it: the probes no :class:`~geosim.core.events.RowsTruncated` removed
  and no :class:`~geosim.core.events.PartitionErased` erased.
  Object-store strategies have no final read (their loss is per object, of copies in
  destroyed regions; geosim's loss summary reports it).

Copies written by a replication flow into another cluster (MirrorMaker 2, Cluster
Linking) have offsets of their own log, which Jepsen's one-log-at-a-time analysis cannot
relate to the send; their deliveries are left out (geosim's mirror metrics cover
them). Writes and reads of each cluster's own logs are in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from geosim.core.events import (
    ClientsAttached,
    Delivered,
    PartitionChanged,
    PartitionErased,
    ProduceAcked,
    ProduceFailed,
    Recorder,
    Row,
    RowsTruncated,
)

#: Probes kept by default: a few thousand, as the issue asks and as Jepsen's own
#: Kafka tests produce per run.
DEFAULT_PROBES = 5_000
#: Poll processes are numbered from here (send processes are probe numbers).
POLL_PROCESS_BASE = 1_000_000_000
#: The process of the final read.
FINAL_PROCESS = POLL_PROCESS_BASE - 1


@dataclass(slots=True)
class Probe:
    """One sampled record: its send and what became of it."""

    value: int
    key: int
    seq: int
    invoked: float
    outcome: str = ""          # "ok", "fail", "info" ("" while in flight at the end)
    completed: float = -1.0
    offset: int = -1
    records: int = 1           # records of its row (the probe stands for them)
    row: Row | None = None     # held, so that its id names it for the whole run
    removed: bool = False      # removed from its partition's log (RowsTruncated)
    polls: list[tuple[float, int, int]] = field(default_factory=list)  # (t, group, offset)


class HistoryRecorder:
    """Subscribes to a run's events and keeps the probes; :meth:`write` the history."""

    def __init__(self, limit: int = DEFAULT_PROBES):
        if limit < 1:
            raise ValueError("a history needs at least one probe")
        self.limit = limit
        self.stride = 1
        self._probes: dict[int, Probe] = {}   # id(row) -> its probe
        self._next_value = 0
        self._fleet_base: dict[int, int] = {}
        self._group_base: dict[int, int] = {}
        self.partition_logs = False   # the run's data lives in partition logs (Kafka)

    def subscribe(self, recorder: Recorder) -> None:
        for kind, handler in ((ClientsAttached, self._on_clients),
                              (ProduceAcked, self._on_acked),
                              (ProduceFailed, self._on_failed),
                              (Delivered, self._on_delivered),
                              (RowsTruncated, self._on_truncated),
                              (PartitionErased, self._on_erased),
                              (PartitionChanged, self._on_partition_log)):
            recorder.subscribe(kind, handler)

    # --- events ------------------------------------------------------------------------
    def _on_clients(self, ev: ClientsAttached) -> None:
        for fleet in ev.fleets:
            self._fleet_base[fleet] = ev.partition_base
        for group in ev.groups:
            self._group_base[group] = ev.partition_base

    def _probe(self, fleet: int, row: Row) -> Probe | None:
        """The probe of ``row`` if it is sampled (created at its first sight)."""
        ident = id(row)
        probe = self._probes.get(ident)
        if probe is None:
            if row.mirror >= 0 or row.seq % self.stride:
                return None
            probe = Probe(self._next_value, self._fleet_base.get(fleet, 0) + row.partition,
                          row.seq, row.send_first, records=row.records, row=row)
            self._next_value += 1
            self._probes[ident] = probe
            if len(self._probes) > self.limit:
                self._thin()
                return self._probes.get(ident)
        return probe

    def _thin(self) -> None:
        """Double the stride and drop the probes it no longer selects."""
        while len(self._probes) > self.limit:
            self.stride *= 2
            self._probes = {k: p for k, p in self._probes.items()
                            if p.seq % self.stride == 0}

    def _on_acked(self, ev: ProduceAcked) -> None:
        for row in ev.rows:
            probe = self._probe(ev.fleet, row)
            if probe is not None and not probe.outcome:
                probe.outcome, probe.completed, probe.offset = "ok", row.acked_at, row.offset

    def _on_failed(self, ev: ProduceFailed) -> None:
        for row in ev.rows:
            probe = self._probe(ev.fleet, row)
            if probe is not None and not probe.outcome:
                probe.outcome, probe.completed = ev.outcome, ev.t

    def _on_delivered(self, ev: Delivered) -> None:
        base = self._group_base.get(ev.group, 0)
        probes = self._probes
        for row in ev.rows:
            probe = probes.get(id(row))
            if probe is not None and probe.key == base + row.partition:
                probe.polls.append((ev.t, ev.group, row.offset))

    def _on_truncated(self, ev: RowsTruncated) -> None:
        self.partition_logs = True
        probes = self._probes
        for row in ev.rows:
            probe = probes.get(id(row))
            if probe is not None:
                probe.removed = True

    def _on_erased(self, ev: PartitionErased) -> None:
        """Every replica of the partition was destroyed: none of its probes is left."""
        for probe in self._probes.values():
            if probe.key == ev.partition:
                probe.removed = True

    def _on_partition_log(self, _ev: object) -> None:
        self.partition_logs = True

    # --- results -----------------------------------------------------------------------
    @property
    def probes(self) -> list[Probe]:
        return sorted(self._probes.values(), key=lambda p: p.value)

    def operations(self) -> list[dict]:
        """The history as a list of operation maps, in time order, indexed."""
        ops: list[tuple[float, int, dict]] = []
        for probe in self.probes:
            ops.append((probe.invoked, 0, {
                "type": "invoke", "f": "send", "process": probe.value,
                "value": [("send", probe.key, probe.value)]}))
            if probe.outcome:
                offset = probe.offset if probe.outcome == "ok" else None
                ops.append((probe.completed, 1, {
                    "type": probe.outcome, "f": "send", "process": probe.value,
                    "value": [("send", probe.key, (offset, probe.value))],
                    "records": probe.records}))
            for t, group, offset in probe.polls:
                process = POLL_PROCESS_BASE + group
                ops.append((t, 2, {"type": "invoke", "f": "poll", "process": process,
                                   "value": [("poll",)]}))
                ops.append((t, 3, {"type": "ok", "f": "poll", "process": process,
                                   "value": [("poll", {probe.key: [(offset, probe.value)]})]}))
        if self.partition_logs and ops:
            end = max(t for t, _o, _op in ops)
            final: dict[int, list[tuple[int, int]]] = {}
            for probe in self.probes:
                if probe.offset >= 0 and not probe.removed:
                    final.setdefault(probe.key, []).append((probe.offset, probe.value))
            final = {k: sorted(v) for k, v in sorted(final.items())}
            ops.append((end, 4, {"type": "invoke", "f": "poll", "process": FINAL_PROCESS,
                                 "value": [("poll",)], "final": True}))
            ops.append((end, 5, {"type": "ok", "f": "poll", "process": FINAL_PROCESS,
                                 "value": [("poll", final)], "final": True}))
        ops.sort(key=lambda item: (item[0], item[1], item[2]["process"]))
        out = []
        for index, (t, _order, op) in enumerate(ops):
            out.append({"index": index, "time": max(int(round(t * 1e9)), 0), **op})
        return out

    def write(self, path: str | Path) -> int:
        """Write the history as EDN, one operation per line; the number written."""
        ops = self.operations()
        Path(path).write_text("".join(edn(op) + "\n" for op in ops))
        return len(ops)


def edn(value: object) -> str:
    """EDN text of a history value: maps with keyword keys, vectors, keywords for the
    operation names, integers and nil."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return ":" + value
    if isinstance(value, dict):
        items: Iterable[str] = (
            f"{':' + k if isinstance(k, str) else edn(k)} {edn(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(edn(v) for v in value) + "]"
    raise TypeError(f"no EDN form for {type(value).__name__}")


__all__ = ["DEFAULT_PROBES", "HistoryRecorder", "Probe", "edn"]
