"""Consumer group rebalances (geosim.clients.consumer) against Kafka's classic group
protocol: commits before partitions are given up (``ConsumerCoordinator.onJoinPrepare``),
a rebalance that waits for every silent member's session to expire, and a restarted
consumer as a new member.

The group here: members in one zone, commits through a store answering in 1 ms, every
row readable at once, ``session.timeout.ms`` 45 s and heartbeats every 3 s (a silent
member is removed 48 s after it died), auto commits every 5 s."""

from __future__ import annotations

from geosim.clients.consumer import ConsumerGroup, ConsumerSettings, Member
from geosim.core.context import Context, call_later
from geosim.core.events import Delivered, Rebalanced, Row


def _group(members: int, partitions: int):
    ctx = Context(seed=0)
    seen: list[tuple[float, int, int]] = []
    rebalances: list[tuple[float, tuple[int, ...], str]] = []
    ctx.recorder.subscribe(Delivered, lambda ev: seen.extend(
        (ev.t, r.partition, r.offset) for r in ev.rows))
    ctx.recorder.subscribe(Rebalanced, lambda ev: rebalances.append(
        (ev.t, ev.members, ev.reason)))
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

    return ctx, group, group_members, seen, rebalances, produce


def test_partitions_moved_between_live_members_are_not_read_again():
    """Kafka's ``ConsumerCoordinator.onJoinPrepare`` commits the positions (auto
    commit) before revoking, so a partition handed from one live member to another is
    not read again. Here member 2 rejoins after a session-timeout rebalance, between
    two auto commits, and round-robin moves partitions between the live members: the
    members commit at 54 s and the assignment follows the answers, at 54.001 s."""
    ctx, group, members, seen, rebalances, produce = _group(3, 6)
    group.member_down(members[2])
    ctx.env.run(until=51.0)            # the session-timeout rebalance at 48 s
    for p in range(6):
        produce(p)                     # read at once; the next auto commit is at 55 s
    group.member_up(members[2])
    ctx.env.run(until=60.0)            # the rejoin rebalance at 54 s
    assert [(t, m) for t, m, _ in rebalances] == [
        (0.0, (0, 1, 2)), (48.0, (0, 1)), (54.001, (0, 1, 2))]
    assert len(seen) == len({(p, o) for _, p, o in seen}) == 6


def test_a_consumer_restarted_within_its_session_is_a_new_member():
    """Member 2 (partitions 2 and 5) dies at 8 s, after the auto commit of 5 s and
    before that of 10 s, and restarts at 20 s. Kafka's coordinator sees a new member
    and completes the rebalance when the old session expires (8 + 45 + 3 = 56 s): the
    restarted process has lost its positions and owns nothing until then, and resumes
    from the committed offsets, so it reads offset 1 again (read first at 6 s)."""
    ctx, group, members, seen, rebalances, produce = _group(3, 6)
    ctx.env.run(until=1.0)
    for p in range(6):
        produce(p)                     # offset 0, committed at 5 s
    ctx.env.run(until=6.0)
    for p in range(6):
        produce(p)                     # offset 1, read at once, never committed by 2
    ctx.env.run(until=8.0)
    group.member_down(members[2])
    ctx.env.run(until=20.0)
    group.member_up(members[2])
    for p in range(6):
        produce(p)                     # offset 2: nobody reads 2 and 5 before 56 s
    ctx.env.run(until=70.0)
    assert [(t, m, r) for t, m, r in rebalances] == [
        (0.0, (0, 1, 2), "initial"), (56.0, (0, 1, 2), "session timeout")]
    mine = [(t, p, o) for t, p, o in seen if p in (2, 5)]
    assert mine == [(1.0, 2, 0), (1.0, 5, 0), (6.0, 2, 1), (6.0, 5, 1),
                    (56.0, 2, 1), (56.0, 2, 2), (56.0, 5, 1), (56.0, 5, 2)]
    others = [(t, p, o) for t, p, o in seen if p not in (2, 5)]
    assert len(others) == 12 and all(t < 56.0 for t, _, _ in others)


def test_a_rebalance_waits_for_every_silent_members_session():
    """Members 1 and 2 die at 10 s and 30 s. The rebalance the first death starts
    completes only once the second member's session has expired too (30 + 48 = 78 s),
    as Kafka's coordinator waits for every member to rejoin or time out; partitions
    then all go to member 0."""
    ctx, group, members, seen, rebalances, produce = _group(3, 3)
    ctx.env.run(until=10.0)
    group.member_down(members[1])
    ctx.env.run(until=30.0)
    group.member_down(members[2])
    ctx.env.run(until=100.0)
    assert rebalances == [(0.0, (0, 1, 2), "initial"), (78.0, (0,), "session timeout")]
    assert {p: s.owner for p, s in enumerate(group.partitions)} == {0: 0, 1: 0, 2: 0}
