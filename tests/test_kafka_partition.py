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


# --- exact: each method on a hand-built log ---------------------------------------------

def _row(offset: int, records: int, compressed: int) -> Row:
    return Row(0, 0, 0, records, records * 2, compressed, 0.0, 0.0, offset=offset)


def _log() -> PartitionState:
    """Replicas 1 (leader), 2, 3 and observer 4; rows [0, 10) at t 1 (100 bytes),
    [10, 15) at t 2 (50 bytes) and [15, 30) at t 4 (150 bytes)."""
    p = PartitionState(7, [1, 2, 3], [4])
    for offset, records, size, t in [(0, 10, 100, 1.0), (10, 5, 50, 2.0), (15, 15, 150, 4.0)]:
        p.append(_row(offset, records, size), t)
    return p


def test_a_new_partition_starts_empty_led_by_its_first_replica():
    p = PartitionState(7, [1, 2, 3], [4])
    assert (p.id, p.min_isr, p.leader, p.epoch, p.isr, p.elr) == (7, 1, 1, 0, {1, 2, 3}, set())
    assert p.all_replicas == [1, 2, 3, 4]
    assert p.leo == p.follower_hw == {1: 0, 2: 0, 3: 0, 4: 0}
    assert p.caught_up == {1: 0.0, 2: 0.0, 3: 0.0, 4: 0.0}
    assert (p.hw, p.log_end, p.end_bytes, p.bytes_at(0), p.offline_since) == (0, 0, 0, 0, None)
    assert PartitionState(0, [5], min_isr=2).min_isr == 2


def test_appends_move_the_leaders_leo_and_the_cumulative_bytes():
    p = _log()
    assert (p.log_end, p.end_bytes, p.leo) == (30, 300, {1: 30, 2: 0, 3: 0, 4: 0})
    # bytes up to an offset: rounded down to a row boundary
    assert [p.bytes_at(o) for o in (0, 9, 10, 14, 15, 29, 30, 99)] == [
        0, 0, 100, 100, 150, 150, 300, 300]
    p.leader = None               # a leaderless append moves no LEO
    p.append(_row(30, 1, 1), 5.0)
    assert p.log_end == 31 and p.leo[1] == 30


def test_truncation_cuts_the_log_and_clamps_every_offset_above_it():
    p = _log()
    p.leo.update({2: 15, 3: 10, 4: 30})
    p.follower_hw.update({2: 15, 3: 10, 4: 12})
    p.view = {2: 15, 3: 10}
    p.hw = 15
    removed = p.truncate(10)
    assert [r.offset for r in removed] == [10, 15]
    assert (p.log_end, p.end_bytes, p.times) == (10, 100, [1.0])
    assert p.leo == {1: 10, 2: 10, 3: 10, 4: 10}
    assert p.follower_hw == {1: 0, 2: 10, 3: 10, 4: 10}
    assert (p.view, p.hw) == ({2: 10, 3: 10}, 10)
    assert p.truncate(10) == [] and p.leo[1] == 10     # at the end: nothing changes


def test_the_offset_flushed_by_a_time_is_the_end_of_the_rows_appended_by_then():
    p = _log()
    assert [p.offset_flushed_before(t) for t in (0.5, 1.0, 1.5, 2.0, 3.9, 4.0, 9.0)] == [
        0, 10, 10, 15, 15, 30, 30]
    p.prune(10)                    # the first kept row starts at 10
    assert p.offset_flushed_before(0.5) == 10
    p.prune(30)
    assert p.offset_flushed_before(0.5) == 30    # nothing kept: where the pruned rows ended


def test_pruning_forgets_whole_rows_and_keeps_their_offsets_and_bytes():
    p = _log()
    p.prune(9)                     # inside the first row: nothing goes
    assert len(p.rows) == 3
    p.prune(10)                    # exactly one row
    assert ([r.offset for r in p.rows], p.base_bytes, p.bytes_at(12)) == ([10, 15], 100, 100)
    p.prune(29)
    assert ([r.offset for r in p.rows], p.base_bytes, p.bytes_at(20)) == ([15], 150, 150)
    p.prune(30)
    assert (p.rows, p.log_end, p.end_bytes, p.base_bytes) == ([], 30, 300, 300)


def test_the_hw_candidate_is_the_smallest_leo_the_leader_knows_over_the_isr():
    p = _log()
    p.isr = {1, 2, 3}
    p.view = {2: 15, 3: 25, 4: 0}      # the observer is not in the ISR
    p.hw = 5
    assert p.hw_candidate() == 15
    p.isr = {1, 3}
    assert p.hw_candidate() == 25
    assert p.hw_candidate(require_min_isr=2) == 25
    assert p.hw_candidate(require_min_isr=3) == 5    # KIP-966: the HW stays
    p.isr = {1, 2}
    p.view = {}                        # a member the leader has not heard from yet: 0
    assert p.hw_candidate() == 0
    p.isr = set()                                      # no requirement by default
    assert p.hw_candidate() == 30
    p.isr = {1}
    assert p.hw_candidate(require_min_isr=1) == 30
    p.leader = None
    assert p.hw_candidate() == 5


def test_a_follower_serves_up_to_the_hw_it_heard_of_and_the_leader_to_the_hw():
    p = _log()
    p.hw = 15
    p.leo.update({2: 30, 3: 10})
    p.follower_hw.update({2: 15, 3: 15})
    assert [p.readable(r) for r in (1, 2, 3)] == [15, 15, 10]
