"""MirrorFold on hand-built cross-cluster facts, with exact expected numbers: lag, RPO at
failover, divergence at failback, and the offsets of moved consumer groups."""

from __future__ import annotations

import pytest

from geosim.core.events import (
    ClientsAttached,
    ClusterReachability,
    Delivered,
    FailedOver,
    GroupMoved,
    LogTruncated,
    MirrorCopied,
    MirrorFlowStarted,
    OffsetsCommitted,
    ProduceAcked,
    Rebalanced,
    Recorder,
    Row,
)
from geosim.metrics.mirror import MirrorFold

FLOW = "A->B"


def prow(partition: int, offset: int, records: int = 100, *, fleet: int = 1) -> Row:
    """A row of ``records`` at ``offset`` of ``partition`` (10 B a record uncompressed,
    5 compressed), written by ``fleet`` (1 on A, 2 on B)."""
    return Row(fleet=fleet, partition=partition, seq=offset, records=records,
               bytes_uncompressed=10 * records, bytes_compressed=5 * records,
               send_first=0.0, send_last=0.0, offset=offset)


def row(offset: int, records: int = 100) -> Row:
    return prow(0, offset, records)


def attached(first_fault: float | None, a_groups=(), *, b_groups=(), b_fleets=(2,)):
    """A MirrorFold on its recorder, with cluster A (producer fleet 1 and ``a_groups``)
    and cluster B (``b_fleets`` and ``b_groups``) attached."""
    recorder = Recorder()
    mirror = MirrorFold(first_fault)
    mirror.subscribe(recorder)
    emit = recorder.emit
    emit(ClientsAttached(0.0, "A", (1,), tuple(a_groups)))
    emit(ClientsAttached(0.0, "B", tuple(b_fleets), tuple(b_groups)))
    return mirror, emit


def fold(first_fault: float | None = None, groups=(10,)):
    mirror, emit = attached(first_fault, tuple(groups), b_fleets=())
    emit(MirrorFlowStarted(0.0, FLOW, "A", "B", partitions=1, target_base=0,
                           offset_preserving=False, offset_lag_max=100, mark_interval=60.0,
                           commit_interval=5.0))
    return mirror, emit


def copied(t: float, u_end: int, d_end: int, records: int = 100) -> MirrorCopied:
    return MirrorCopied(t, FLOW, 0, u_end, d_end, records, 5 * records)


def test_lag_rpo_and_divergence_follow_acks_copies_and_cuts():
    mirror, emit = fold(first_fault=2.0)
    emit(ProduceAcked(0.2, "a", 1, (row(0), row(100))))
    emit(copied(0.5, 100, 100))
    emit(ProduceAcked(1.5, "a", 1, (row(200),)))
    emit(ProduceAcked(1.8, "a", 1, (row(300),)))
    emit(ClusterReachability(2.0, "A", False))
    emit(LogTruncated(2.0, "A", 0, 300))     # the destruction cuts [300, 400) afterwards
    emit(copied(2.5, 200, 200))               # a response already on the wire lands
    emit(FailedOver(10.0, "A", "B", "region unreachable", 2.0))
    emit(ClusterReachability(20.0, "A", True))
    report = mirror.finalize(30.0)
    assert report is not None
    lag = report.flows[FLOW]
    # samples at 1 s: [100, 200) acked at 0.2; at 2 s also [200, 300) (acked 1.5), the
    # cut row gone; from 3 s [200, 300) alone; none from the failover at 10 s on
    assert [(t, round(s, 9), b) for t, s, b in lag.samples] == [
        (1.0, 0.8, 500), (2.0, 1.8, 1000), *((float(t), t - 1.5, 500) for t in range(3, 10))]
    assert lag.max_seconds == 7.5 and lag.max_bytes == 1000
    assert lag.mean_seconds_before_fault == pytest.approx(0.8)
    # RPO: what was uncopied at the loss (the cut row included) and still is at failover
    [fo] = report.failovers
    assert fo["unreplicated_records"] == 200 and fo["unreplicated_bytes"] == 2000
    assert fo["rpo_seconds"] == pytest.approx(0.5)
    assert (fo["t"], fo["source"], fo["target"], fo["unreachable_since"]) == (
        10.0, "A", "B", 2.0)
    # failback: the source holds [200, 300) only, which the target never received
    assert report.failbacks == [{"t": 20.0, "cluster": "A", "target": "B",
                                 "diverged_records": 100, "diverged_bytes": 1000}]


def test_planned_cut_over_counts_what_is_uncopied_at_the_switch():
    mirror, emit = fold()
    emit(ProduceAcked(0.2, "a", 1, (row(0), row(100))))
    emit(copied(0.5, 100, 100))
    emit(FailedOver(3.0, "A", "B", "planned cut-over", 3.0))
    [fo] = mirror.finalize(5.0).failovers
    assert fo["unreplicated_records"] == 100 and fo["rpo_seconds"] == pytest.approx(2.8)


def test_moved_groups_reprocess_skip_and_bound_from_their_true_positions():
    mirror, emit = fold(groups=(10, 11))
    emit(copied(0.5, 100, 100))
    emit(copied(0.6, 200, 200))
    emit(copied(0.7, 300, 300))
    emit(Delivered(0.8, "a", 10, (row(0), row(100))))
    emit(Delivered(0.8, "a", 11, (row(0),)))
    emit(Delivered(20.0, "a", 10, (row(200),)))
    emit(OffsetsCommitted(25.0, 10, ((0, 200),)))
    # the partition changes owner: group 10 resumes from its commit (true position 200)
    emit(Rebalanced(30.0, 10, (0,), "member left", (0,)))
    emit(ClusterReachability(80.0, "A", False))
    emit(FailedOver(90.0, "A", "B", "region unreachable", 80.0))
    # group 10: partition 0 translated to 100, partition 1 (B's own topic) reset
    emit(GroupMoved(90.0, 10, 12, "A", "B", ((0, 100, 300, True), (1, 0, 50, False))))
    # group 11 (true position 100) starts past it
    emit(GroupMoved(90.0, 11, 13, "A", "B", ((0, 300, 300, True),)))
    [fo] = mirror.finalize(91.0).failovers
    assert (fo["translated"], fo["reset"]) == (2, 1)
    assert fo["reprocessed"] == 200 - 100
    assert fo["skipped"] == 300 - 100
    # bound: true position minus the one at the snapshot of 80 - (60 + 5 + 1) = 14 s,
    # plus the offset-sync spacing (offset.lag.max 100): (200 - 200 + 100) + (100 - 100 + 100)
    assert fo["reprocess_bound"] == 200


@pytest.mark.parametrize("since", [80.0, 30.0], ids=["snapshot", "no-snapshot"])
def test_a_group_moving_back_to_its_records_home_is_bounded_from_the_copy_it_read(since):
    """Renamed topics both ways (A's partition 0 copied into B's 1, B's 0 into A's 1):
    groups of A that read B's records through their copy in A fail over to B, where
    they are B's own partition 0. A group's image there is the upstream end of the
    newest backward copy at or below its true position in the copy (0 if it never read
    the copy); its bound is that true position minus the one in the window's snapshot
    (0 when there is no snapshot, at ``since`` = 30 s, or it lacks the partition), never
    below 0, plus the backward flow's offset-sync spacing."""
    mirror, emit = attached(None, (10, 11))
    for name, source, target in (("A->B", "A", "B"), ("B->A", "B", "A")):
        emit(MirrorFlowStarted(0.0, name, source, target, partitions=1, target_base=1,
                               offset_preserving=False, offset_lag_max=100,
                               mark_interval=60.0, commit_interval=5.0))
    emit(MirrorCopied(0.5, "B->A", 0, 100, 100, 100, 500))
    emit(MirrorCopied(0.6, "B->A", 0, 250, 200, 150, 750))
    # A's own partition before the window's snapshot (80 - 66 = 14 s); the copy after
    emit(Delivered(0.8, "a", 10, (row(0),)))
    emit(Delivered(0.8, "a", 11, (row(0),)))
    emit(Delivered(20.0, "a", 10, (prow(1, 100, fleet=2),)))
    emit(ClusterReachability(since, "A", False))
    emit(FailedOver(90.0, "A", "B", "region unreachable", since))
    emit(GroupMoved(90.0, 10, 12, "A", "B", ((0, 50, 250, True),)))
    emit(GroupMoved(90.0, 11, 13, "A", "B", ((0, 0, 250, True),)))
    [fo] = mirror.finalize(91.0).failovers
    # group 10: true position 200 in the copy -> image 250 upstream, started at 50;
    # group 11 never read the copy: image 0, started at 0
    assert fo["skipped"] == 0 and fo["reprocessed"] == 250 - 50
    # max(offset.lag.max 100, largest copy 150) each, plus 200 - 0 and 0 - 0
    assert fo["reprocess_bound"] == (200 + 150) + (0 + 150)


def test_image_uses_the_newest_copy_at_or_below_the_position():
    # a task restart wrote [100, 200) again: the newest copy of it ends at 400 downstream
    mirror, emit = fold()
    for t, u, d in ((0.5, 100, 100), (0.6, 200, 200), (0.7, 300, 300), (0.8, 200, 400)):
        emit(copied(t, u, d))
    emit(Delivered(0.9, "a", 10, (row(0), row(100), row(200))))
    emit(FailedOver(2.0, "A", "B", "planned cut-over", 2.0))
    emit(GroupMoved(2.0, 10, 11, "A", "B", ((0, 250, 400, True),)))
    [fo] = mirror.finalize(3.0).failovers
    assert fo["reprocessed"] == 400 - 250 and fo["skipped"] == 0


def test_nothing_without_flows():
    recorder = Recorder()
    mirror = MirrorFold(None)
    mirror.subscribe(recorder)
    recorder.emit(ProduceAcked(0.2, "a", 1, (row(0),)))
    assert mirror.finalize(10.0) is None
    assert ProduceAcked not in recorder._subscribers


def test_a_flow_that_keeps_up_reports_zero_lag_and_its_first_translation():
    from geosim.core.events import TranslationAvailable

    mirror, emit = fold(first_fault=5.0)
    emit(ProduceAcked(0.2, "a", 1, (row(0),)))
    emit(copied(0.3, 100, 100))                    # copied before any sample
    emit(TranslationAvailable(2.5, FLOW))
    emit(TranslationAvailable(4.5, FLOW))          # the first one counts
    lag = mirror.finalize(8.0).flows[FLOW]
    assert (lag.max_seconds, lag.max_bytes, lag.mean_seconds_before_fault) == (0.0, 0, 0.0)
    assert lag.translation_from == 2.5
    assert [(t, s, b) for t, s, b in lag.samples] == [(float(t), 0.0, 0) for t in range(1, 8)]


def test_a_translation_without_a_flow_still_makes_the_fold_report():
    from geosim.core.events import TranslationAvailable

    recorder = Recorder()
    mirror = MirrorFold(None)
    mirror.subscribe(recorder)
    recorder.emit(TranslationAvailable(3.0, FLOW))
    report = mirror.finalize(5.0)
    assert report is not None and report.flows[FLOW].translation_from == 3.0
    assert report.flows[FLOW].mean_seconds_before_fault == 0.0


def test_source_records_count_each_upstream_range_once_between_the_bounds():
    from collections import deque
    from types import SimpleNamespace

    from geosim.metrics.mirror import _source_records

    # acknowledged copies (upstream end, downstream end, records), ack order: a copy
    # written again after a restart (200 again) counts once, one overlapping the last
    # (380, 60 records) only past it; rows not copied yet: [300, 350) is covered by
    # the copies, [350, 400) in part, [400, 450) not at all
    flow = SimpleNamespace(
        pairs=[deque([(100, 100, 100), (200, 200, 100), (200, 205, 100), (350, 360, 150),
                      (380, 390, 60)])],
        uncopied=[[(300, 350, 50, 0, 0, 0.0), (350, 400, 50, 0, 0, 0.0),
                   (400, 450, 50, 0, 0, 0.0)]])
    # copies: [50, 100) 50 + [100, 200) 100 + [200, 350) 150 + [350, 380) 30; rows:
    # [380, 400) 20 + [400, 420) 20
    assert _source_records(flow, 0, 50, 420) == 370
    assert _source_records(flow, 0, 0, 1000) == 450
    assert _source_records(flow, 0, 420, 420) == 0
    assert _source_records(flow, 0, 500, 600) == 0


@pytest.mark.parametrize("planned", [False, True], ids=["unreachable", "planned"])
def test_the_reprocess_bound_looks_back_one_window_of_marks_commits_and_a_sample(planned):
    # window = 60 s of marks + 5 s of commits + 1 s: from 80 s the snapshot of 14 s,
    # when the group was at 100 (it reached 200 at 15.5 s); a planned cut-over at 80 s
    # looks back from its own time
    mirror, emit = fold()
    emit(copied(0.5, 100, 100))
    emit(copied(0.6, 200, 200))
    emit(Delivered(13.5, "a", 10, (row(0),)))
    emit(Delivered(15.5, "a", 10, (row(100),)))
    if planned:
        emit(FailedOver(80.0, "A", "B", "planned cut-over", 80.0))
    else:
        emit(ClusterReachability(80.0, "A", False))
        emit(FailedOver(90.0, "A", "B", "region unreachable", 80.0))
    emit(GroupMoved(90.0, 10, 12, "A", "B", ((0, 200, 200, True),)))
    [fo] = mirror.finalize(91.0).failovers
    assert (fo["reprocessed"], fo["skipped"]) == (0, 0)
    assert fo["reprocess_bound"] == (200 - 100) + 100


def test_a_failover_to_a_cluster_no_flow_feeds_counts_nothing_unreplicated():
    mirror, emit = fold()
    emit(ProduceAcked(0.2, "a", 1, (row(0),)))       # uncopied on A -> B
    emit(FailedOver(5.0, "A", "C", "region unreachable", 4.0))
    [fo] = mirror.finalize(6.0).failovers
    assert (fo["unreplicated_records"], fo["unreplicated_bytes"], fo["rpo_seconds"]) == (
        0, 0, 0.0)


@pytest.mark.parametrize("groups_on_b", [(), (20,)], ids=["no-reader-upstream", "reader"])
def test_pruned_copy_pairs_keep_what_a_reader_of_the_copy_still_needs(groups_on_b):
    """Every 256th copy drops the pairs below *both* sides' readers: the upstream end at
    or below every source group's commit and the downstream end at or below every
    target group's. Renamed topics both ways; group 10 on A has committed 100 in A's
    partition 1 (the copy of B's 0) and read that far. After 256 copies of B's
    partition 0 (ends 100, 200, ..., 25,600 on both sides) only pairs with a downstream
    end past 100 may go, whatever B's readers (none, so no upstream bound; or one at
    25,600): the pair (100, 100) stays, and group 10, failing over to B's own partition
    0, maps its true position 100 in the copy to upstream 100."""
    mirror, emit = attached(None, (10,), b_groups=groups_on_b)
    for name, source, target in (("A->B", "A", "B"), ("B->A", "B", "A")):
        emit(MirrorFlowStarted(0.0, name, source, target, partitions=1, target_base=1,
                               offset_preserving=False, offset_lag_max=100,
                               mark_interval=60.0, commit_interval=5.0))
    emit(Delivered(0.1, "a", 10, (prow(1, 0, fleet=2),)))
    # A's own partition 0 (25,600 committed) bounds nothing of B's flow
    emit(OffsetsCommitted(0.2, 10, ((0, 25_600), (1, 100))))
    for g in groups_on_b:
        emit(OffsetsCommitted(0.2, g, ((0, 25_600),)))
    for k in range(1, 257):
        emit(MirrorCopied(0.3, "B->A", 0, 100 * k, 100 * k, 100, 500))
    emit(FailedOver(2.0, "A", "B", "planned cut-over", 2.0))
    emit(GroupMoved(2.0, 10, 12, "A", "B", ((0, 100, 25_600, True),)))
    [fo] = mirror.finalize(3.0).failovers
    assert (fo["reprocessed"], fo["skipped"]) == (0, 0)


def kept_names_fold(b_first: bool = False):
    """Kept names both ways (Replicator): A's partition 0 holds A's own [0, 100) and
    the copies of B's own [100, 200) at [100, 200); B's holds the copies of A's [0, 100)
    at [0, 100), then its own [100, 200) (copied to A) and [200, 300) (not copied yet).
    Group 10 on A has read A's partition to 200: all of A's own records and B's
    [100, 200) through their copies. ``b_first``: B's own records came first, [0, 100)
    copied to A's [100, 200), and A's copies follow at B's [100, 200) (B's own
    [200, 300) not copied)."""
    mirror, emit = attached(None, (10,))
    for name, source, target in (("A->B", "A", "B"), ("B->A", "B", "A")):
        emit(MirrorFlowStarted(0.0, name, source, target, partitions=1, target_base=0,
                               offset_preserving=False, offset_lag_max=100,
                               mark_interval=60.0, commit_interval=5.0))
    b_own = tuple(prow(0, s, fleet=2) for s in ((0, 200) if b_first else (100, 200)))
    emit(ProduceAcked(0.1, "b", 2, b_own))
    emit(MirrorCopied(0.2, "A->B", 0, 100, 200 if b_first else 100, 100, 500))
    emit(MirrorCopied(0.3, "B->A", 0, 100 if b_first else 200, 200, 100, 500))
    emit(Delivered(0.4, "a", 10, (row(0), row(100))))
    return mirror, emit


@pytest.mark.parametrize(("b_first", "start", "reprocessed", "skipped"), [
    (False, 200, 0, 0),       # exactly past what it read, through either flow
    (False, 300, 0, 100),     # past B's [200, 300), which never reached A
    (False, 50, 150, 0),      # again A's copies [50, 100) and B's own [100, 200)
    (False, 0, 200, 0),
    # B's own [0, 100) lies below the forward image (200): read through its copy
    (True, 0, 200, 0),
    (True, 150, 50, 0),       # again A's copies [150, 200)
    (True, 300, 0, 100),      # past B's own [200, 300)
])
def test_kept_names_count_the_targets_own_records_read_through_their_copies_as_read(
        b_first, start, reprocessed, skipped):
    """The forward image (the copy in B of A's last record the group read) does not
    say what it read of B's own records: those it read through their copies in A, up
    to the backward flow's image of its position. Started at ``start`` in B, it reads
    again what it read past the start and skips what it never read below it. B's
    partition 1, which no flow copies (and which is empty), has neither image."""
    mirror, emit = kept_names_fold(b_first)
    emit(FailedOver(2.0, "A", "B", "planned cut-over", 2.0))
    emit(GroupMoved(2.0, 10, 11, "A", "B", ((0, start, 300, True), (1, 0, 0, False))))
    [fo] = mirror.finalize(3.0).failovers
    assert (fo["reprocessed"], fo["skipped"]) == (reprocessed, skipped)


def flow_started(name: str, source: str, target: str, *, partitions: int = 1,
                 base: int = 0, preserving: bool = False,
                 lag_max: int = 100) -> MirrorFlowStarted:
    return MirrorFlowStarted(0.0, name, source, target, partitions=partitions,
                             target_base=base, offset_preserving=preserving,
                             offset_lag_max=lag_max, mark_interval=60.0,
                             commit_interval=5.0)


def test_an_offset_preserving_image_is_the_true_position_capped_at_what_was_copied():
    """Cluster Linking keeps offsets: the image of a true position is itself, capped at
    the copied end; its bound needs no offset-sync spacing, and with no snapshot one
    window before (66 s before 2 s) it is the true position itself."""
    mirror, emit = attached(None, (10, 11), b_fleets=())
    emit(flow_started(FLOW, "A", "B", partitions=2, preserving=True))
    emit(MirrorCopied(0.5, FLOW, 0, 200, 200, 200, 1000))   # partition 1: nothing copied
    emit(Delivered(0.8, "a", 10, (prow(0, 0, 300), prow(1, 0, 50))))
    emit(Delivered(0.8, "a", 11, (prow(0, 0, 100),)))
    emit(FailedOver(2.0, "A", "B", "planned cut-over", 2.0))
    for old, new in ((10, 12), (11, 13)):
        emit(GroupMoved(2.0, old, new, "A", "B", ((0, 200, 200, True), (1, 0, 0, True))))
    [fo] = mirror.finalize(3.0).failovers
    # group 10: images min(300, 200) = 200 and min(50, 0) = 0, both its starts;
    # group 11: image 100 in partition 0, started at 200; nothing in partition 1
    assert (fo["translated"], fo["reset"]) == (4, 0)
    assert (fo["reprocessed"], fo["skipped"]) == (0, 200 - 100)
    assert fo["reprocess_bound"] == 300 + 50 + 100 + 0


def test_renamed_copies_and_the_targets_own_partitions_at_a_moved_groups_start():
    """A's partition 0 is copied into B's 1 (``target_base`` 1), nothing copied yet and
    ``offset.lag.max`` 0: the group's start in B's 1 is translated against an image of
    0, its bound the true position 100 plus a spacing of max(0, largest copy 0); B's
    own partition 0 has no image (no bound), reset there when it holds a record."""
    mirror, emit = attached(None, (10, 11, 14), b_fleets=())
    emit(flow_started(FLOW, "A", "B", base=1, lag_max=0))
    emit(Delivered(0.8, "a", 10, (row(0),)))
    emit(FailedOver(2.0, "A", "B", "planned cut-over", 2.0))
    emit(GroupMoved(2.0, 10, 12, "A", "B", ((1, 0, 0, True), (0, 0, 1, False))))
    emit(GroupMoved(2.0, 11, 13, "A", "B", ((0, 3, 3, True),)))
    emit(GroupMoved(2.0, 14, 15, "A", "B", ((0, 0, 0, False),)))   # empty: no reset
    [fo] = mirror.finalize(3.0).failovers
    assert (fo["translated"], fo["reset"], fo["reprocess_bound"]) == (2, 1, 100)
    assert (fo["reprocessed"], fo["skipped"]) == (0, 0)


def test_a_reassigned_partition_without_a_commit_resumes_from_zero():
    mirror, emit = fold()
    emit(copied(0.5, 100, 100))
    emit(Delivered(0.8, "a", 10, (row(0),)))
    emit(Rebalanced(1.0, 10, (0,), "member left", (0,)))   # no offset committed
    emit(FailedOver(2.0, "A", "B", "planned cut-over", 2.0))
    emit(GroupMoved(2.0, 10, 12, "A", "B", ((0, 0, 100, True),)))
    [fo] = mirror.finalize(3.0).failovers
    # true position 0: image 0 (no copy ends at or below it), bound 0 + spacing 100
    assert (fo["reprocessed"], fo["skipped"], fo["reprocess_bound"]) == (0, 0, 100)


def two_way_fold():
    """Flows both ways; A's rows acked exactly at the first sample (1 s), at 1.2 s, and
    one whose ack the producer hears (2.5 s) after its copy landed (1.5 s); B's log cut
    at 0 (2.7 s); a planned cut-over at 4 s; the first fault at 3 s."""
    mirror, emit = attached(3.0, (10,))
    emit(flow_started(FLOW, "A", "B"))
    emit(flow_started("B->A", "B", "A"))
    emit(MirrorFlowStarted(0.0, "C->A", "C", "A", partitions=1, target_base=0,
                           offset_preserving=False, offset_lag_max=100,
                           mark_interval=60.0, commit_interval=5.0))
    emit(ProduceAcked(1.0, "a", 1, (row(300),)))
    emit(ProduceAcked(1.2, "a", 1, (row(200),)))
    emit(copied(1.5, 100, 100))        # [0, 100), its ack not heard yet; no row to drop
    emit(ProduceAcked(2.5, "a", 1, (row(0),)))   # already copied: never uncopied
    emit(Delivered(2.6, "a", 10, (row(0), row(100), row(200))))
    emit(LogTruncated(2.7, "B", 0, 0))           # B's log: neither A's rows nor its group
    emit(ProduceAcked(2.8, "a", 1, (prow(1, 0),)))   # A's partition 1: no flow copies it
    emit(LogTruncated(2.9, "A", 1, 0))
    emit(FailedOver(4.0, "A", "B", "planned cut-over", 4.0))
    emit(GroupMoved(4.0, 10, 11, "A", "B", ((0, 0, 100, True),)))
    return mirror


def test_lag_samples_count_acks_at_their_instant_and_only_the_flows_from_their_cluster():
    report = two_way_fold().finalize(5.0)
    # at 1 s the row acked at 1 s (lag 0 s, 500 B); at 2 s and 3 s [200, 400), the
    # oldest acked at 1 s; none after the cut-over stops the flow
    assert report.flows[FLOW].samples == [(1.0, 0.0, 500), (2.0, 1.0, 1000),
                                          (3.0, 2.0, 1000)]
    assert report.flows[FLOW].mean_seconds_before_fault == (0.0 + 1.0) / 2
    assert report.flows["B->A"].samples == [(float(t), 0.0, 0) for t in range(1, 5)]
    [fo] = report.failovers
    assert (fo["unreplicated_records"], fo["rpo_seconds"]) == (200, 4.0 - 1.0)
    # the group's true position 300 maps to 100 through the only copy; started at 0
    assert (fo["reprocessed"], fo["skipped"], fo["reprocess_bound"]) == (100, 0, 300 + 100)


def test_the_lag_series_keeps_each_bins_largest_sample():
    mirror = two_way_fold()
    series = mirror.series(2, 2.0)
    assert [name for name, _kind, _v in series] == ["A->B", "B->A", "C->A"]
    values = {name: list(v) for name, _kind, v in series}
    # bins (0, 2] and (2, 4]: A->B's samples 0 s and 1 s, then 2 s; nothing after 4 s
    assert values[FLOW] == [1.0, 2.0]
    assert values["B->A"] == [0.0, 0.0]
    # the last bin takes the samples past its end: C->A sampled at 1 to 4 s, all 0
    assert mirror.series(1, 2.0)[0][2].tolist() == [2.0]


def test_a_translation_before_its_flow_leaves_the_flows_mean_lag_its_own():
    from geosim.core.events import TranslationAvailable

    recorder = Recorder()
    mirror = MirrorFold(10.0)
    mirror.subscribe(recorder)
    emit = recorder.emit
    emit(ClientsAttached(0.0, "A", (1,), ()))
    emit(TranslationAvailable(0.0, FLOW))
    emit(flow_started(FLOW, "A", "B"))
    emit(ProduceAcked(0.6, "a", 1, (row(0),)))
    lag = mirror.finalize(3.0).flows[FLOW]
    assert lag.translation_from == 0.0
    assert [s for _t, s, _b in lag.samples] == pytest.approx([0.4, 1.4])
    assert lag.mean_seconds_before_fault == pytest.approx((0.4 + 1.4) / 2)


def test_pairs_below_every_reader_leave_only_the_newest():
    """Readers on both sides past every copy: the prune keeps the newest pair alone,
    enough to map a position at or past it."""
    mirror, emit = attached(None, (), b_groups=(20,), b_fleets=())
    emit(flow_started(FLOW, "A", "B"))
    emit(Delivered(0.1, "a", 20, (row(25_500),)))
    emit(OffsetsCommitted(0.2, 20, ((0, 25_600),)))
    for k in range(1, 257):
        emit(copied(0.3, 100 * k, 100 * k))
    assert list(mirror._flows[FLOW].pairs[0]) == [(25_600, 25_600, 100)]


def test_a_group_moving_back_maps_each_copy_partition_through_its_own_pairs():
    """B's partitions 0 and 1 are copied into A's 2 and 3; group 10 on A read A's 3
    (B's 1) to 100 by 13.5 s and to 200 by 15.5 s, and never A's 2; it committed 200
    there, and 25,600 in A's own 1. 254 more copies of B's 1 make 256, so the pairs
    below its commit in A's 3 go. Failing over to B at 80 s (planned) it starts B's 1
    at 50 and B's 0 at 0: B's 1 maps through its own pairs to 250 (the newest copy
    whose downstream end is at or below 200), B's 0 to 0."""
    mirror, emit = attached(None, (10,))
    emit(flow_started("B->A", "B", "A", partitions=2, base=2))
    emit(flow_started(FLOW, "A", "B", partitions=2, base=2))   # A's window: 66 s
    emit(MirrorCopied(0.5, "B->A", 1, 100, 100, 100, 500))
    emit(MirrorCopied(0.6, "B->A", 1, 250, 200, 150, 750))
    emit(Delivered(13.5, "a", 10, (prow(3, 0, 100),)))
    emit(Delivered(15.5, "a", 10, (prow(3, 100, 100),)))
    emit(OffsetsCommitted(16.0, 10, ((3, 200), (1, 25_600))))
    for k in range(1, 255):
        emit(MirrorCopied(20.0, "B->A", 1, 250 + 100 * k, 200 + 100 * k, 100, 500))
    emit(FailedOver(80.0, "A", "B", "planned cut-over", 80.0))
    emit(GroupMoved(80.0, 10, 12, "A", "B", ((1, 50, 250, True), (0, 0, 0, True))))
    [fo] = mirror.finalize(81.0).failovers
    assert (fo["reprocessed"], fo["skipped"]) == (250 - 50, 0)
    # bounds from the snapshot of 80 - 66 = 14 s (A's 3 at 100): 200 - 100 and 0 - 0,
    # each plus its partition's spacing, max(offset.lag.max 100, largest copy): 150
    # for B's 1, 100 for B's 0 (no copy)
    assert fo["reprocess_bound"] == (200 - 100 + 150) + (0 + 100)


def test_the_bound_counts_partitions_missing_from_the_snapshot_from_zero_and_never_below():
    """Two partitions: at the window's snapshot (14 s) the group had read partition 1
    to 100 and partition 0 not at all; it then read partition 0 to 200, and a cut of
    partition 1 at 50 (20 s) moved it back below its snapshot. A copy of 100 records
    and ``offset.lag.max`` 0 make the spacing 100 in partition 0 and 0 in 1."""
    mirror, emit = attached(None, (10,), b_fleets=())
    emit(flow_started(FLOW, "A", "B", partitions=2, lag_max=0))
    emit(copied(0.5, 100, 100))
    emit(Delivered(13.5, "a", 10, (prow(1, 0, 100),)))
    emit(Delivered(15.5, "a", 10, (prow(0, 0, 200),)))
    emit(LogTruncated(20.0, "A", 1, 50))
    emit(FailedOver(80.0, "A", "B", "planned cut-over", 80.0))
    emit(GroupMoved(80.0, 10, 12, "A", "B", ((0, 100, 200, True), (1, 0, 50, True))))
    [fo] = mirror.finalize(81.0).failovers
    # images: 100 in partition 0 (the copy), 0 in 1 (none): both starts
    assert (fo["reprocessed"], fo["skipped"]) == (0, 0)
    assert fo["reprocess_bound"] == (200 - 0 + 100) + (0 + 0)


def test_a_reader_upstream_keeps_the_pairs_its_position_maps_through():
    """Group 20 on B has read and committed B's partition 0 to 200; group 10 on A has
    read and committed the copy (A's 1) to 25,600. The copies end 50 further upstream
    than downstream ((150, 100), (250, 200), ...). After 256 copies only pairs whose
    successor's upstream end is at or below 200 may go, and (250, 200)'s is not: B's
    group, moving to A, maps 200 through (150, 100) to 100."""
    mirror, emit = attached(None, (10,), b_groups=(20,))
    emit(flow_started("B->A", "B", "A", base=1))
    emit(Delivered(0.1, "a", 20, (row(0, 200),)))
    emit(Delivered(0.1, "a", 10, (prow(1, 25_500),)))
    emit(OffsetsCommitted(0.2, 20, ((0, 200),)))
    emit(OffsetsCommitted(0.2, 10, ((1, 25_600),)))
    for k in range(1, 257):
        emit(MirrorCopied(0.3, "B->A", 0, 100 * k + 50, 100 * k, 100, 500))
    emit(FailedOver(2.0, "B", "A", "planned cut-over", 2.0))
    emit(GroupMoved(2.0, 20, 21, "B", "A", ((1, 100, 25_600, True),)))
    [fo] = mirror.finalize(3.0).failovers
    assert (fo["reprocessed"], fo["skipped"]) == (0, 0)


def test_kept_names_read_the_targets_own_records_up_to_the_upstream_end_of_their_copy():
    """Kept names both ways, A's partition longer than B's: A's own [0, 150) (B holds
    the copy of [0, 100) at [0, 100)), then at A's [150, 250) the copy of B's own
    [100, 200); B's own [200, 300) never reached A. Group 10 read A's partition to 250:
    through the copy it read B's own records up to B's 200 (the copy's upstream end,
    not its downstream end 250). Started at B's 300, it skipped B's [200, 300) only."""
    mirror, emit = attached(None, (10,))
    emit(flow_started(FLOW, "A", "B"))
    emit(flow_started("B->A", "B", "A"))
    b_own = tuple(prow(0, s, fleet=2) for s in (100, 200))
    emit(ProduceAcked(0.1, "b", 2, b_own))
    emit(MirrorCopied(0.2, FLOW, 0, 100, 100, 100, 500))
    emit(MirrorCopied(0.3, "B->A", 0, 200, 250, 100, 500))
    emit(Delivered(0.4, "a", 10, (row(0, 150), row(150))))
    emit(FailedOver(2.0, "A", "B", "planned cut-over", 2.0))
    emit(GroupMoved(2.0, 10, 11, "A", "B", ((0, 300, 300, True),)))
    [fo] = mirror.finalize(3.0).failovers
    # B's [100, 300) past the forward image 100: its own [100, 200) was read, [200,
    # 300) was not
    assert (fo["reprocessed"], fo["skipped"]) == (0, 100)


def test_kept_names_a_group_that_never_read_the_partition_read_none_of_its_copies():
    """Kept names both ways; B's own first record [0, 1) was copied to A's [0, 1), and
    group 11 never read A's partition: started at B's 1, it skipped that record."""
    mirror, emit = attached(None, (11,))
    emit(flow_started(FLOW, "A", "B"))
    emit(flow_started("B->A", "B", "A"))
    emit(MirrorCopied(0.3, "B->A", 0, 1, 1, 1, 5))
    emit(FailedOver(2.0, "A", "B", "planned cut-over", 2.0))
    emit(GroupMoved(2.0, 11, 12, "A", "B", ((0, 1, 1, True),)))
    [fo] = mirror.finalize(3.0).failovers
    assert (fo["reprocessed"], fo["skipped"]) == (0, 1)


def test_a_window_amends_the_lag_samples_taken_inside_it_and_counts_on_after_it():
    """The window engine reports a window's rows at its hand-back (here at 3.5 s, the
    window from 0.5 s): the samples already taken at 1, 2 and 3 s count the rows
    acknowledged and not yet copied at each, and the sample at 4 s counts the one still
    uncopied then (copied at 4.2 s); the mean before the fault at 5 s follows."""
    import numpy as np

    from geosim.core.events import WindowMirrored

    mirror, emit = fold(first_fault=5.0)
    emit(OffsetsCommitted(3.4, 10, ((0, 0),)))   # takes the samples at 1, 2 and 3 s
    acked = np.array([0.6, 0.9, 1.5, 2.8])
    copied_at = np.array([0.7, 2.5, 1.6, 4.2])
    size = np.array([50, 60, 70, 80])
    emit(WindowMirrored(3.5, FLOW, 0.5, acked, copied_at, size))
    report = mirror.finalize(5.5)
    assert report is not None
    lag = report.flows[FLOW]
    # 1 s: the row acked at 0.9 (copied 2.5); 2 s: the same; 3 s: the row acked at 2.8;
    # 4 s: that row still; 5 s: nothing
    assert [(t, round(s, 9), b) for t, s, b in lag.samples] == [
        (1.0, 0.1, 60), (2.0, 1.1, 60), (3.0, 0.2, 80), (4.0, 1.2, 80), (5.0, 0.0, 0)]
    assert lag.max_seconds == pytest.approx(1.2) and lag.max_bytes == 80
    assert lag.mean_seconds_before_fault == pytest.approx((0.1 + 1.1 + 0.2 + 1.2) / 4)
