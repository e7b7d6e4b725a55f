"""Hypothesis: the partition log's invariants under appends, fetches, truncations."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from geosim.core.events import Row
from geosim.kafka.partition import PartitionState

ops = st.lists(st.one_of(
    st.tuples(st.just("append"), st.integers(1, 50)),
    st.tuples(st.just("fetch"), st.sampled_from([1, 2])),
    st.tuples(st.just("hw"), st.just(0)),
    st.tuples(st.just("elect"), st.sampled_from([0, 1, 2])),
    st.tuples(st.just("prune"), st.just(0)),
), max_size=60)


@settings(max_examples=200, deadline=None)
@given(ops)
def test_offsets_contiguous_and_hw_below_every_isr_leo(operations):
    p = PartitionState(0, [0, 1, 2])
    t = 0.0
    for op, arg in operations:
        t += 1.0
        if op == "append" and p.leader is not None:
            row = Row(0, 0, 0, arg, arg * 10, arg * 5, t, t, offset=p.log_end)
            p.append(row, t)
        elif op == "fetch" and arg != p.leader and p.leader is not None:
            p.leo[arg] = p.leo[p.leader]
            p.view[arg] = p.leo[arg]
        elif op == "hw":
            hw = p.hw_candidate()
            p.hw = max(p.hw, hw)
        elif op == "elect":
            p.leader = arg
            p.view = {}
            p.truncate(p.leo[arg])
        elif op == "prune":
            p.prune(min([p.leo[r] for r in p.all_replicas] + [p.hw]))
        # invariants
        ends = p.ends
        prev = None
        for row, end in zip(p.rows, ends, strict=True):
            assert end == row.offset + row.records
            if prev is not None:
                assert row.offset == prev.offset + prev.records
            prev = row
        for r in p.all_replicas:
            assert p.leo[r] <= p.log_end
        if p.leader is not None:
            assert p.hw <= p.leo[p.leader]
            assert p.leo[p.leader] == p.log_end
        assert p.end_bytes == p.base_bytes + sum(r.bytes_compressed for r in p.rows)


def test_a_follower_serves_only_what_it_knows_to_be_committed():
    """A follower holding more than the high watermark it last heard of serves up to
    that watermark, never its own log end (consumers read committed data only)."""
    from geosim.core.events import Row
    from geosim.kafka.partition import PartitionState

    p = PartitionState(0, [0, 1, 2])
    for i in range(10):
        p.append(Row(0, 0, i, 1, 100, 100, 0.0, 0.0, offset=i), 0.0)
    p.leo[1] = 10           # the follower copied everything
    p.follower_hw[1] = 4    # but heard of a high watermark of 4
    p.hw = 7                # the leader's moved on
    assert p.readable(1) == 4
    assert p.readable(0) == 7
    p.follower_hw[1] = 10
    p.leo[1] = 6
    assert p.readable(1) == 6
