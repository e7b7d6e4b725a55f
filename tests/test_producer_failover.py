"""An idempotent producer fleet across a leader failover (geosim.clients.producer), as
Kafka's client decides it: a partition whose leader moved waits for the requests sent
to the old one, retries rejoin their partition in sequence order
(``RecordAccumulator.reenqueue``), and an out-of-order rejection bumps the epoch only
where nothing earlier is unanswered, of that partition alone
(``TransactionManager.canRetry``).

The fleet: one producer offering 1,000 records of 1,000 bytes per second, Kafka's
client defaults (``batch.size`` 16 KiB: 14-15 records a batch), partitions 0 and 1 led
by target 0; each drain at 0.1 s intervals makes requests of one batch per partition."""

from __future__ import annotations

from geosim.clients.producer import OUT_OF_ORDER, ProducerFleet
from geosim.clients.sequences import EPOCH_SHIFT
from geosim.clients.settings import ProducerSettings
from geosim.core.context import Context


def _fleet():
    ctx = Context(seed=0)
    fleet = ProducerFleet(ctx, 0, "z", "r", producers=1, records_per_s=1000,
                          message_size=1000, compression_ratio=1.0,
                          settings=ProducerSettings(), start=0.0, stop=100.0)
    fleet.route({0: [0, 1]})
    return ctx, fleet


def _drain(ctx, fleet, target: int, at: float):
    ctx.env.run(until=at)
    return [row for request in fleet.drain(target, at) for row in request]


def _seqs(rows, partition: int) -> list[tuple[int, int]]:
    """(epoch, sequence number) of ``rows`` of ``partition``, in order."""
    return [(r.seq >> EPOCH_SHIFT, r.seq & ((1 << EPOCH_SHIFT) - 1))
            for r in rows if r.partition == partition]


def test_a_partition_moved_through_a_leaderless_spell_waits_for_its_old_requests():
    """Partition 0's rows are in flight to target 0 when it loses its leader, then
    gets one at target 1. Its new data waits for the rows sent to target 0 (the model
    took the old target from the previous routing, where a leaderless partition has
    none, and sent at once); partition 1, still at target 0, goes on. Once those rows
    fail (a request timeout), their retries go first, then new data."""
    ctx, fleet = _fleet()
    sent = _drain(ctx, fleet, 0, 0.1)
    assert _seqs(sent, 0) == [(0, 0), (0, 1), (0, 2), (0, 3)]
    fleet.route({0: [1]})
    fleet.route({0: [1], 1: [0]})
    assert _drain(ctx, fleet, 1, 0.2) == []
    assert _seqs([r for q in fleet.drain(0, 0.2) for r in q], 1) != []
    fleet.failed([r for r in sent if r.partition == 0], "request timed out",
                 written_maybe=True)
    retried = _drain(ctx, fleet, 1, 0.5)       # after retry.backoff.ms
    assert _seqs(retried, 0)[:4] == [(0, 0), (0, 1), (0, 2), (0, 3)]
    assert len(_seqs(retried, 0)) > 4          # then new data, in sequence


def test_retries_rejoin_their_partition_in_sequence_order():
    """Partition 0's rows 0-3 fail in the order 2, 0, 3, 1: they are retried 0, 1, 2,
    3 (Kafka's ``reenqueue`` inserts by sequence), one per request."""
    ctx, fleet = _fleet()
    rows = {r.seq: r for r in _drain(ctx, fleet, 0, 0.1) if r.partition == 0}
    for n in (2, 0, 3, 1):
        fleet.failed([rows[n]], "request timed out", written_maybe=True)
    assert [row.seq for _due, row in fleet._retry[0]] == [0, 1, 2, 3]
    assert _seqs(_drain(ctx, fleet, 0, 0.5), 0)[:4] == [(0, 0), (0, 1), (0, 2), (0, 3)]


def test_out_of_order_behind_unanswered_rows_is_retried_without_a_bump():
    """Row 3 of partition 0 is rejected out of order while rows 0-2 are unanswered:
    retried as it is, no new epoch (they decide). Then row 0, with nothing earlier
    unanswered, is rejected out of order (the broker lost what came before): partition
    0 alone takes a new epoch and renumbers its pending rows from 0; partition 1 keeps
    its epoch and sequence."""
    ctx, fleet = _fleet()
    sent = _drain(ctx, fleet, 0, 0.1)
    rows = {r.seq: r for r in sent if r.partition == 0}
    fleet.failed([rows[3]], OUT_OF_ORDER, written_maybe=False)
    assert fleet.epoch == 0 and rows[3].seq == 3
    fleet.failed([rows[0]], OUT_OF_ORDER, written_maybe=False)
    assert fleet.epoch == 1
    assert [row.seq for _due, row in fleet._retry[0]] == [1 << EPOCH_SHIFT, 1 << EPOCH_SHIFT | 1]
    later = _drain(ctx, fleet, 0, 0.5)
    assert _seqs(later, 1)[0] == (0, 3)
    assert _seqs(later, 0)[:2] == [(1, 0), (1, 1)]


def test_a_partition_moved_off_a_target_that_owes_answers_waits_to_hear_from_it():
    """Partitions 0-2 at target 0; partition 2's rows are all acknowledged when it
    moves to target 1, while target 0 still owes answers for 0 and 1. Kafka's producer
    learns of the move only from target 0 (an error within a round trip from a live
    broker, a timeout after request.timeout.ms from a silent one), so partition 2 waits
    until target 0 answers anything; then it goes to target 1."""
    ctx = Context(seed=0)
    fleet = ProducerFleet(ctx, 0, "z", "r", producers=1, records_per_s=1000,
                          message_size=1000, compression_ratio=1.0,
                          settings=ProducerSettings(), start=0.0, stop=100.0)
    fleet.route({0: [0, 1, 2]})
    sent = _drain(ctx, fleet, 0, 0.1)
    fleet.acked([r for r in sent if r.partition == 2], 0.1)
    fleet.route({0: [0, 1], 1: [2]})
    assert _drain(ctx, fleet, 1, 0.2) == []
    fleet.acked([next(r for r in sent if r.partition == 0)], 0.2)
    assert _seqs([r for q in fleet.drain(1, 0.2) for r in q], 2) != []


def test_a_partition_moved_off_a_silent_target_waits_for_the_timeout_or_its_return():
    """Target 0 falls silent (its zone went down) with nothing of the fleet in flight:
    Kafka's producer, not told, would send its next batches there and learn only when
    they time out. Partition 1, moved to target 1, waits until the fleet hears from
    target 0 (the request timeout's timer, or the zone's return); a stale timer of an
    earlier silence does not release it."""
    ctx = Context(seed=0)
    fleet = ProducerFleet(ctx, 0, "z", "r", producers=1, records_per_s=1000,
                          message_size=1000, compression_ratio=1.0,
                          settings=ProducerSettings(), start=0.0, stop=100.0)
    fleet.route({0: [0, 1]})
    fleet.acked(_drain(ctx, fleet, 0, 0.1), 0.1)      # nothing in flight
    stale = fleet.silent(0)
    fleet.heard_from(0)                                # it came back
    token = fleet.silent(0)                            # and fell silent again
    fleet.route({0: [0]})
    fleet.route({0: [0], 1: [1]})
    assert _drain(ctx, fleet, 1, 0.2) == []
    fleet.heard_from(0, stale)
    assert _drain(ctx, fleet, 1, 0.3) == []
    fleet.heard_from(0, token)
    assert _seqs([r for q in fleet.drain(1, 0.3) for r in q], 1) != []
    assert fleet.silent(5) is None                     # never sent to: nothing to learn
