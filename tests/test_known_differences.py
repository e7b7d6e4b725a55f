"""Known differences from Kafka, pinned: each test states what Kafka does (the source
that decides it is named) and is a strict xfail while the model does otherwise, so the
fix that closes a README known limitation turns its test green and must remove the mark.

They were found by reviews of the model against apache/kafka's source (README, "Known
limitations": idempotent producers across a leader failover, the KRaft controller and
the ISR, consumer groups).
"""

from __future__ import annotations

import pytest

from geosim.clients.consumer import ConsumerGroup, ConsumerSettings, Member
from geosim.core.context import Context, call_later
from geosim.core.events import Delivered, Row


def _group(members: int, partitions: int):
    """A consumer group whose commits take 1 ms and whose rows are readable at once."""
    ctx = Context(seed=0)
    seen: list[tuple[int, int]] = []
    ctx.recorder.subscribe(Delivered, lambda ev: seen.extend(
        (r.partition, r.offset) for r in ev.rows))
    group_members = [Member(i, "z-a", "r") for i in range(members)]
    group = ConsumerGroup(ctx, 0, group_members, partitions, ConsumerSettings(),
                          lambda zone, size, done: call_later(ctx.env, 0.001, done, True),
                          is_ready=lambda row, zone: True, request=lambda row, zone: None)
    ctx.env.process(group.run_commits())
    offsets = [0] * partitions

    def produce(p: int) -> None:
        group.appended(Row(0, p, offsets[p], 1, 100, 100, ctx.env.now, ctx.env.now,
                           offset=offsets[p]), -1)
        offsets[p] += 1
        group.ready([p])

    return ctx, group, group_members, seen, produce


@pytest.mark.xfail(strict=True, reason=(
    "known limitation: partitions moved between live members are re-read from the "
    "last auto commit"))
def test_partitions_moved_between_live_members_are_not_read_again():
    """Kafka's ``ConsumerCoordinator.onJoinPrepare`` commits the positions (auto
    commit) before revoking, so a partition handed from one live member to another is
    not read again. Here a member rejoins after a session-timeout rebalance, between
    two auto commits, and round-robin moves partitions between the live members."""
    ctx, group, members, seen, produce = _group(3, 6)
    group.member_down(members[2])
    ctx.env.run(until=51.0)            # the session-timeout rebalance at 48 s
    for p in range(6):
        produce(p)                     # read at once; the next auto commit is at 55 s
    group.member_up(members[2])
    ctx.env.run(until=60.0)            # the rejoin rebalance at 54 s
    assert len(seen) == len(set(seen)) == 6
