"""PartitionLoss (geosim.metrics.partition_loss) on hand-built events, with exact values.

Definitions (domain.md §7): RPO of a loss is the start of the latest fault begun at or
before it minus the earliest ack time among the rows lost, never negative; unavailable
records are those acknowledged in a partition when it goes offline.
"""

from __future__ import annotations

import pytest

from geosim.core.events import (
    ClientsAttached,
    ClusterReachability,
    FaultStarted,
    LogTruncated,
    MirrorCopied,
    MirrorFlowStarted,
    PartitionChanged,
    PartitionErased,
    ProduceAcked,
    Recorder,
    Row,
    RowsTruncated,
)
from geosim.metrics.partition_loss import PartitionLoss


def row(partition: int, records: int, acked_at: float, *, fleet: int = 0) -> Row:
    return Row(fleet=fleet, partition=partition, seq=0, records=records,
               bytes_uncompressed=10 * records, bytes_compressed=5 * records,
               send_first=max(acked_at - 0.01, 0.0), send_last=max(acked_at - 0.01, 0.0),
               acked_at=acked_at)


class Fold:
    """A recorder feeding a PartitionLoss, and helpers to emit the engine's events."""

    def __init__(self) -> None:
        self.recorder = Recorder()
        self.fold = PartitionLoss()
        self.fold.subscribe(self.recorder)

    def fault(self, t: float) -> None:
        self.recorder.emit(FaultStarted(t, fault=0, kind="region-outage", target="b"))

    def leader(self, t: float, partition: int, region: str | None) -> None:
        self.recorder.emit(PartitionChanged(t, partition, region, 1 if region else 0,
                                            False, "test"))

    def ack(self, t: float, region: str, *rows: Row, fleet: int = 0) -> None:
        self.recorder.emit(ProduceAcked(t, region, fleet, tuple(rows)))

    def truncate(self, t: float, partition: int, region: str, *rows: Row) -> None:
        self.recorder.emit(RowsTruncated(t, partition, region, tuple(rows), "election"))

    def erase(self, t: float, partition: int) -> None:
        self.recorder.emit(PartitionErased(t, partition, "every replica was destroyed"))

    def finish(self, t_end: float = 300.0):
        return self.fold.finalize(t_end)


@pytest.fixture
def fold() -> Fold:
    f = Fold()
    f.leader(0.0, 0, "a")
    return f


def test_rpo_of_an_election_after_the_fault_is_measured_from_the_fault_start(fold):
    # Rows acked at 95 and 97; the fault starts at 100; the unclean election that drops
    # them happens 30 s later. RPO = 100 - 95 = 5 (from the truncation it would be 35).
    early, late = row(0, 40, 95.0), row(0, 60, 97.0)
    fold.ack(95.0, "a", early)
    fold.ack(97.0, "a", late)
    fold.fault(100.0)
    fold.leader(100.0, 0, None)
    fold.leader(130.0, 0, "b")
    fold.truncate(130.0, 0, "a", early, late)
    loss, unavailable = fold.finish()
    assert loss.rpo_seconds == 5.0
    assert (loss.records, loss.bytes) == (100, 1000)
    assert loss.by_region["a"].rpo_seconds == 5.0
    # Lost records leave the unavailable counts: nothing else was acked.
    assert unavailable.records == 0
    assert unavailable.intervals == [(100.0, 130.0)]


def test_rpo_uses_the_latest_fault_started_at_or_before_the_loss(fold):
    # Faults at 50 and 120; a loss at 150 of rows acked at 110 and 115: 120 - 110 = 10,
    # not 50 - 110 (< 0) and not 150 - 110 = 40.
    fold.fault(50.0)
    fold.fault(120.0)
    fold.fault(200.0)  # after the loss: ignored
    rows = row(0, 5, 110.0), row(0, 7, 115.0)
    fold.ack(115.0, "a", *rows)
    fold.truncate(150.0, 0, "a", *rows)
    loss, _ = fold.finish()
    assert loss.rpo_seconds == 10.0
    assert loss.records == 12


def test_a_loss_at_the_fault_start_itself_counts_that_fault(fold):
    fold.fault(100.0)
    r = row(0, 3, 99.25)
    fold.ack(99.25, "a", r)
    fold.truncate(100.0, 0, "a", r)
    assert fold.finish()[0].rpo_seconds == 0.75


def test_a_loss_before_any_fault_is_measured_from_the_loss(fold):
    r = row(0, 3, 20.0)
    fold.ack(20.0, "a", r)
    fold.truncate(26.5, 0, "a", r)
    assert fold.finish()[0].rpo_seconds == 6.5


def test_rows_acked_after_the_fault_start_give_zero_rpo_not_negative(fold):
    fold.fault(100.0)
    r = row(0, 9, 104.0)
    fold.ack(104.0, "a", r)
    fold.truncate(110.0, 0, "a", r)
    loss, _ = fold.finish()
    assert (loss.records, loss.rpo_seconds) == (9, 0.0)


def test_unacknowledged_rows_are_truncated_without_loss(fold):
    fold.fault(100.0)
    unacked = row(0, 50, -1.0)
    fold.truncate(130.0, 0, "a", unacked)
    loss, _ = fold.finish()
    assert (loss.records, loss.rpo_seconds, loss.by_region) == (0, 0.0, {})


def test_a_row_removed_while_its_acknowledgement_travels_is_lost_when_it_arrives(fold):
    # The broker appended the row and answered; its zone was destroyed (the row
    # removed) while the answer was on its way; the producer then saw the ack.
    fold.fault(100.0)
    kept = row(0, 4, 99.0)
    fold.ack(99.0, "a", kept)
    doomed = row(0, 7, -1.0)
    doomed.seq, doomed.attempts = 1, 1
    fold.truncate(100.0, 0, "a", doomed)
    doomed.acked_at = 100.01
    fold.ack(100.01, "a", doomed)
    fold.leader(100.0, 0, None)
    loss, unavailable = fold.finish()
    assert (loss.records, loss.bytes, loss.rpo_seconds) == (7, 70, 0.0)
    assert unavailable.records == 4  # the kept row; the lost one is not also unavailable


def test_a_retry_of_a_removed_row_that_lands_elsewhere_is_not_lost(fold):
    doomed = row(0, 7, -1.0)
    doomed.attempts = 1
    fold.truncate(100.0, 0, "a", doomed)
    doomed.attempts, doomed.acked_at = 2, 131.0   # resent after request.timeout.ms
    fold.ack(131.0, "a", doomed)
    loss, _ = fold.finish()
    assert loss.records == 0


def test_rpo_per_region_is_the_largest_of_its_losses(fold):
    fold.fault(100.0)
    fold.truncate(110.0, 0, "a", row(0, 1, 98.0))
    fold.truncate(111.0, 0, "a", row(0, 1, 91.0))
    fold.truncate(112.0, 0, "c", row(0, 1, 99.5))
    loss, _ = fold.finish()
    assert {r: v.rpo_seconds for r, v in loss.by_region.items()} == {"a": 9.0, "c": 0.5}
    assert loss.rpo_seconds == 9.0


def test_offline_partition_counts_its_acked_records_once_minus_the_lost(fold):
    fold.ack(10.0, "a", row(0, 100, 10.0))
    fold.ack(11.0, "c", row(0, 30, 11.0))
    fold.fault(100.0)
    fold.leader(100.0, 0, None)
    fold.leader(105.0, 0, "a")
    lost = row(0, 20, 110.0)
    fold.ack(110.0, "a", lost)    # acked between the episodes: counted at the second
    fold.leader(120.0, 0, None)   # the records of the first count once
    fold.truncate(121.0, 0, "a", lost)  # and leave the unavailable counts again
    loss, unavailable = fold.finish(t_end=150.0)
    assert loss.records == 20
    assert unavailable.by_region["a"].records == 100
    assert unavailable.by_region["c"].records == 30
    assert unavailable.intervals == [(100.0, 105.0), (120.0, 150.0)]
    assert unavailable.max_seconds == 30.0
    assert unavailable.open_records == 130


# --- cross-cluster runs: run-wide partition numbers ----------------------------------------

def test_cross_cluster_rows_meet_the_run_wide_partition_of_their_cluster():
    # Two clusters: A's partitions are 0-1, B's are 2-3 (partition_base 2). Fleet 0
    # writes to A, fleet 1 to B; both write their cluster-local partition 0. Rows carry
    # the cluster-local number; PartitionChanged and RowsTruncated the run-wide one.
    f = Fold()
    f.recorder.emit(ClientsAttached(0.0, "A", (0,), (), partition_base=0))
    f.recorder.emit(ClientsAttached(0.0, "B", (1,), (), partition_base=2))
    for p in range(4):
        f.leader(0.0, p, "A" if p < 2 else "B")
    f.ack(10.0, "A", row(0, 100, 10.0, fleet=0), fleet=0)
    f.ack(10.0, "B", row(0, 7, 10.0, fleet=1), fleet=1)
    f.fault(50.0)
    f.leader(50.0, 2, None)  # B's partition 0 goes offline: fleet 1's 7 records
    loss, unavailable = f.finish(t_end=80.0)
    assert unavailable.records == 7
    assert list(unavailable.by_region) == ["B"]
    assert unavailable.by_region["B"].records == 7
    assert unavailable.open_records == 7
    assert loss.records == 0


def test_a_failed_over_fleet_writes_to_its_new_cluster():
    # Fleet 2 replaces fleet 1 in cluster A after a failover: its rows are A's.
    f = Fold()
    f.recorder.emit(ClientsAttached(0.0, "B", (1,), (), partition_base=2))
    f.recorder.emit(ClientsAttached(0.0, "A", (0,), (), partition_base=0))
    for p in range(4):
        f.leader(0.0, p, "A" if p < 2 else "B")
    f.ack(10.0, "B", row(1, 5, 10.0, fleet=1), fleet=1)
    f.recorder.emit(ClientsAttached(60.0, "A", (2,), (), partition_base=0))
    f.ack(70.0, "B", row(1, 11, 70.0, fleet=2), fleet=2)
    f.leader(90.0, 1, None)  # A's partition 1 (run-wide 1): fleet 2's 11 records
    _, unavailable = f.finish(t_end=100.0)
    assert unavailable.records == 11


def test_client_recovery_places_cross_cluster_rows_by_their_cluster() -> None:
    """A row of a fleet attached to a cluster whose partitions start at 12 names its
    cluster-local partition 0, which is run-wide partition 12: the first such row sent
    after the fault and acknowledged ends the clients' recovery (Failover.client_seconds)."""
    from geosim.core.events import (
        BrokerFenced,
        ClientsAttached,
        FaultStarted,
        PartitionChanged,
        ProduceAcked,
        Row,
    )
    from geosim.metrics.partitions import PartitionTimeline

    fold = PartitionTimeline()
    fold.on_clients(ClientsAttached(0.0, "us-west2", (1,), (), partition_base=12))
    fold.on_partition(PartitionChanged(0.0, 12, "us-west1", 3, False, "initial"))
    fold.on_fault(FaultStarted(10.0, 0, "region-outage", "us-west1"))
    fold.on_fenced(BrokerFenced(19.0, 0, "us-west1-a", True))
    fold.on_partition(PartitionChanged(19.5, 12, "us-west2", 2, False, "leader fenced"))

    def row(partition: int, sent: float) -> Row:
        return Row(1, partition, 0, 10, 10_000, 2_500, sent, sent, offset=0)

    fold.on_acked(ProduceAcked(20.0, "us-west2", 1, (row(12, 19.8),)))  # not partition 12
    assert fold.report().failover.client_seconds is None
    fold.on_acked(ProduceAcked(21.0, "us-west2", 1, (row(0, 19.8),)))   # run-wide 12
    assert fold.report().failover.client_seconds == 21.0 - 19.5


def test_the_partition_series_hold_each_bins_end_state_exactly():
    """Every column of the partition time series on hand-built changes, in 2 s bins:
    leaders per region, offline and under-min-ISR partitions and the mean ISR size at
    the end of each bin; in every bin the leaders and the offline partitions add up to
    the partitions seen so far."""
    import numpy as np

    from geosim.core.events import PartitionChanged
    from geosim.metrics.partitions import PartitionTimeline

    fold = PartitionTimeline()
    for p, region in ((0, "a"), (1, "a"), (2, "b")):
        fold.on_partition(PartitionChanged(0.0, p, region, 3, False, "initial"))
    fold.on_partition(PartitionChanged(2.5, 0, None, 0, True, "offline partition"))
    fold.on_partition(PartitionChanged(3.0, 1, "b", 2, True, "leader fenced"))
    fold.on_partition(PartitionChanged(6.0, 0, "b", 1, True, "unclean election"))
    fold.on_partition(PartitionChanged(7.9, 1, "a", 3, False, "preferred leader"))
    series = {(region, metric): list(values)
              for region, metric, values in fold.series(["a", "b"], 5, 2.0)}
    # bins end at 2, 4, 6, 8, 10 s (a change at 6.0 s belongs to the bin from 6 s)
    assert series == {
        ("a", "leaders"): [2, 0, 0, 1, 1],
        ("b", "leaders"): [1, 2, 2, 2, 2],
        ("all", "offline_partitions"): [0, 1, 1, 0, 0],
        ("all", "under_min_isr_partitions"): [0, 2, 2, 1, 1],
        ("all", "isr_size_mean"): [3.0, 5 / 3, 5 / 3, 7 / 3, 7 / 3],
    }
    for b in range(5):
        total = series[("a", "leaders")][b] + series[("b", "leaders")][b]
        assert total + series[("all", "offline_partitions")][b] == 3
    assert np.isclose(series[("all", "isr_size_mean")][1], (0 + 2 + 3) / 3)
    # before the first change no partition is known: every column is zero
    late = PartitionTimeline()
    late.on_partition(PartitionChanged(3.0, 0, "a", 3, False, "initial"))
    assert {(r, m): list(v) for r, m, v in late.series(["a"], 2, 2.0)} == {
        ("a", "leaders"): [0, 1], ("all", "offline_partitions"): [0, 0],
        ("all", "under_min_isr_partitions"): [0, 0], ("all", "isr_size_mean"): [0.0, 3.0]}


# --- exact accounting: every count of the fold (module enumeration, docs/mutation.md) ----

def test_acks_count_only_once_partitions_are_tracked_and_add_up_exactly():
    f = Fold()
    f.ack(1.0, "a", row(0, 5, 1.0))          # before any partition event: not tracked
    assert (f.fold.active, f.fold.tracked_records) == (False, 0)
    f.leader(2.0, 0, "a")
    f.ack(3.0, "a", row(0, 5, 3.0), row(0, 2, 3.0))
    f.ack(4.0, "c", row(1, 4, 4.0))
    assert f.fold.tracked_records == 11
    f.leader(5.0, 0, None)
    f.leader(5.0, 1, None)
    loss, unavailable = f.finish(t_end=10.0)
    assert {r: (u.records, u.bytes) for r, u in unavailable.by_region.items()} == {
        "a": (7, 70), "c": (4, 40)}
    assert (unavailable.records, unavailable.bytes, unavailable.open_records) == (11, 110, 11)
    assert {r: u.max_seconds for r, u in unavailable.by_region.items()} == {"a": 5.0, "c": 5.0}
    assert (loss.records, loss.by_region) == (0, {})


def test_a_loss_after_the_count_withdraws_its_records_and_bytes_down_to_zero(fold):
    fold.ack(10.0, "a", row(0, 10, 10.0))
    fold.ack(10.0, "c", row(0, 3, 10.0))
    fold.leader(20.0, 0, None)                 # 10 (100 bytes) and 3 (30) unavailable
    fold.ack(20.5, "c", row(0, 2, 20.5))       # acked after the count (a late answer)
    fold.truncate(21.0, 0, "a", row(0, 4, 10.0))
    fold.truncate(21.0, 0, "c", row(0, 3, 10.0), row(0, 2, 20.5))   # more than counted
    loss, unavailable = fold.finish(t_end=30.0)
    assert {r: (u.records, u.bytes) for r, u in unavailable.by_region.items()} == {
        "a": (6, 60)}                          # c's count is 0: not listed
    assert {r: (v.records, v.bytes) for r, v in loss.by_region.items()} == {
        "a": (4, 40), "c": (5, 50)}
    assert fold.fold.lost_by_partition == {0: (9, 90)}
    # the acked totals lost them too: a second episode counts only what is left
    fold.leader(31.0, 0, "a")
    fold.leader(32.0, 0, None)
    _loss, unavailable = fold.finish(t_end=40.0)
    assert unavailable.by_region["a"].records == 6 and unavailable.open_records == 6


def test_a_row_acknowledged_at_the_instant_of_its_removal_leaves_the_acked_totals(fold):
    fold.ack(10.0, "a", row(0, 5, 10.0))
    fold.truncate(10.0, 0, "a", row(0, 5, 10.0))
    fold.leader(11.0, 0, None)
    loss, unavailable = fold.finish(t_end=20.0)
    assert (loss.records, unavailable.records, unavailable.open_records) == (5, 0, 0)


def test_rows_acknowledged_at_time_zero_or_within_the_first_second_are_acknowledged(fold):
    fold.ack(0.0, "a", row(0, 2, 0.0))
    fold.ack(0.5, "a", row(0, 3, 0.5))
    fold.truncate(1.0, 0, "a", row(0, 2, 0.0), row(0, 3, 0.5))
    loss, _ = fold.finish()
    assert (loss.records, loss.bytes, loss.rpo_seconds) == (5, 50, 1.0)


def test_a_mirrored_copy_removed_before_its_ack_is_not_a_producers_loss(fold):
    copy = row(0, 6, -1.0)
    copy.mirror = 0                            # written by replication flow 0
    fold.truncate(50.0, 0, "a", copy)
    copy.acked_at = 50.2
    fold.ack(50.2, "a", copy)
    loss, _ = fold.finish()
    assert loss.records == 0


def test_a_doomed_row_is_lost_in_the_partition_and_region_it_was_removed_from():
    f = Fold()
    f.leader(0.0, 3, "a")
    f.fault(40.0)
    doomed = row(3, 7, -1.0)
    doomed.seq = 4
    f.truncate(41.0, 3, "b", doomed)
    doomed.acked_at = 41.05
    f.ack(41.05, "a", doomed)
    loss, _ = f.finish()
    assert {r: (v.records, v.rpo_seconds) for r, v in loss.by_region.items()} == {
        "b": (7, 0.0)}
    assert f.fold.lost_by_partition == {3: (7, 70)}


def test_an_empty_fold_reports_nothing():
    loss, unavailable = Fold().finish(t_end=10.0)
    assert (loss.records, loss.bytes, loss.rpo_seconds, loss.by_region) == (0, 0, 0.0, {})
    assert (unavailable.records, unavailable.max_seconds, unavailable.intervals,
            unavailable.by_region) == (0, 0.0, [], {})


def test_merging_two_folds_adds_counts_and_keeps_the_largest_figures():
    from geosim.metrics.partition_loss import merge
    from geosim.metrics.report import (
        LossReport,
        RegionLoss,
        RegionUnavailability,
        UnavailabilityReport,
    )

    a = (LossReport(10, 100, 4.0, {"b": RegionLoss(10, 100, 4.0)}, untracked_records=2),
         UnavailabilityReport(5, 50, [(10.0, 20.0)], 10.0, 1,
                              {"b": RegionUnavailability(5, 50, 10.0)}))
    b = (LossReport(7, 70, 6.0, {"b": RegionLoss(3, 30, 6.0), "a": RegionLoss(4, 40, 1.0)},
                    untracked_records=3),
         UnavailabilityReport(8, 80, [(15.0, 30.0), (40.0, 41.0)], 15.0, 2,
                              {"b": RegionUnavailability(6, 60, 15.0),
                               "a": RegionUnavailability(2, 20, 1.0)}))
    loss, unavailable = merge(a, b)
    assert (loss.records, loss.bytes, loss.rpo_seconds, loss.untracked_records) == (
        17, 170, 6.0, 5)
    assert loss.by_region == {"a": RegionLoss(4, 40, 1.0), "b": RegionLoss(13, 130, 6.0)}
    assert list(loss.by_region) == ["a", "b"]
    assert (unavailable.records, unavailable.bytes, unavailable.max_seconds,
            unavailable.open_records) == (13, 130, 15.0, 3)
    assert unavailable.intervals == [(10.0, 30.0), (40.0, 41.0)]
    assert unavailable.by_region == {"a": RegionUnavailability(2, 20, 1.0),
                                     "b": RegionUnavailability(11, 110, 15.0)}
    assert list(unavailable.by_region) == ["a", "b"]


def test_records_acked_after_a_loss_are_counted_with_their_bytes_at_the_next_episode(fold):
    fold.ack(10.0, "a", row(0, 10, 10.0))
    fold.leader(20.0, 0, None)
    fold.truncate(21.0, 0, "a", row(0, 4, 10.0))
    fold.leader(22.0, 0, "a")
    fold.ack(23.0, "a", row(0, 1, 23.0))
    fold.ack(23.0, "c", row(0, 1, 23.0))       # a single record is listed too
    fold.leader(24.0, 0, None)
    _loss, unavailable = fold.finish(t_end=30.0)
    assert {r: (u.records, u.bytes) for r, u in unavailable.by_region.items()} == {
        "a": (7, 70), "c": (1, 10)}


def test_an_erased_partition_loses_every_record_acknowledged_in_it_from_the_oldest(fold):
    # Region a acked 10 records at 20 s and 30 at 40 s, region b 5 at 30 s, in partition
    # 0; partition 1 (region a, 7 at 10 s) is untouched. The fault starts at 100 s; the
    # kept rows (a's 30) are truncated at 120 s, then the forgotten prefix is erased.
    fold.leader(0.0, 1, "a")
    fold.ack(10.0, "a", row(1, 7, 10.0))
    fold.ack(20.0, "a", row(0, 10, 20.0))
    fold.ack(30.0, "b", row(0, 5, 30.0))
    kept = row(0, 30, 40.0)
    fold.ack(40.0, "a", kept)
    fold.fault(100.0)
    fold.truncate(120.0, 0, "a", kept)
    fold.erase(120.0, 0)
    loss, _ = fold.finish()
    assert (loss.records, loss.bytes) == (45, 450)
    assert (loss.by_region["a"].records, loss.by_region["a"].rpo_seconds) == (40, 80.0)
    assert (loss.by_region["b"].records, loss.by_region["b"].rpo_seconds) == (5, 70.0)
    assert fold.fold.lost_by_partition == {0: (45, 450)}
    fold.erase(130.0, 0)             # nothing is left to lose
    assert fold.finish()[0].records == 45


@pytest.mark.parametrize(("lost_at", "acked_again", "fault_at", "erased_at", "rpo"), [
    (50.0, 60.0, 90.0, 95.0, 40.0),     # the erasure's 90 - 60 = 30 is below the first 40
    (50.0, 80.0, 100.0, 130.0, 40.0),   # 50 - 10, not 100 - 10 from the first ack
    (12.0, 80.0, 100.0, 130.0, 20.0),   # 100 - 80: the erased records' own oldest ack
])
def test_after_everything_acked_was_lost_the_next_ack_is_the_oldest_again(
        fold, lost_at, acked_again, fault_at, erased_at, rpo):
    # 4 records acked at 10 s, all lost at ``lost_at``; 6 acked at ``acked_again``, then
    # a fault and the partition erased
    first = row(0, 4, 10.0)
    fold.ack(10.0, "a", first)
    fold.truncate(lost_at, 0, "a", first)
    fold.ack(acked_again, "a", row(0, 6, acked_again))
    fold.fault(fault_at)
    fold.erase(erased_at, 0)
    loss, _ = fold.finish()
    assert loss.records == 10
    assert loss.by_region["a"].rpo_seconds == rpo


# --- between clusters ------------------------------------------------------------------

def mirrored() -> Fold:
    """Cluster ``w`` (partitions 0-1) mirrored into cluster ``c`` (partitions 2-5)."""
    f = Fold()
    emit = f.recorder.emit
    emit(ClientsAttached(0.0, "w", (0,), (), 0, 2))
    emit(ClientsAttached(0.0, "c", (1,), (), 2, 4))
    emit(MirrorFlowStarted(0.0, "w->c", "w", "c", 2, 2, False, 100, 10.0, 5.0))
    for p in range(6):
        f.leader(0.0, p, "w" if p < 2 else "c")
    return f


def at(r: Row, offset: int) -> Row:
    r.offset = offset
    return r


def copied(f: Fold, t: float, partition: int, end: int) -> None:
    f.recorder.emit(MirrorCopied(t, "w->c", partition, end, end, 1, 1))


def reach(f: Fold, t: float, cluster: str, up: bool) -> None:
    f.recorder.emit(ClusterReachability(t, cluster, up))


def test_an_unreachable_cluster_makes_unreadable_only_what_no_reachable_copy_holds():
    f = mirrored()
    f.ack(1.0, "w", at(row(0, 10, 1.0), 0), at(row(0, 5, 2.0), 10), at(row(1, 7, 2.0), 0))
    copied(f, 3.0, 0, 10)       # partition 0's first row has a copy in c; the rest none
    reach(f, 10.0, "w", False)  # w's controller is gone too: no partition changes state
    reach(f, 40.0, "w", True)
    _loss, unavailable = f.finish()
    assert (unavailable.records, unavailable.bytes) == (12, 120)   # 5 + 7 records
    assert unavailable.intervals == [(10.0, 40.0)] and unavailable.max_seconds == 30.0


def test_records_every_reachable_target_holds_leave_no_unavailability():
    f = mirrored()
    f.ack(1.0, "w", at(row(0, 10, 1.0), 0))
    copied(f, 2.0, 0, 10)
    reach(f, 10.0, "w", False)
    f.leader(40.0, 0, None)     # back, then a restart leaves it leaderless a moment
    reach(f, 40.0, "w", True)
    f.leader(40.5, 0, "w")
    _loss, unavailable = f.finish()
    assert unavailable.records == 0 and unavailable.intervals == []


def test_without_a_reachable_target_every_acknowledged_record_counts():
    f = mirrored()
    f.ack(1.0, "w", at(row(0, 10, 1.0), 0))
    copied(f, 2.0, 0, 10)
    reach(f, 5.0, "c", False)
    reach(f, 10.0, "w", False)
    reach(f, 20.0, "w", True)
    _loss, unavailable = f.finish()
    assert unavailable.records == 10 and unavailable.intervals == [(10.0, 20.0)]


def test_rows_later_lost_are_not_also_unavailable_nor_their_interval_counted():
    # the flow's lag at the outage: never copied, cut when the cluster came back
    f = mirrored()
    lag = at(row(0, 4, 9.0), 10)
    f.ack(1.0, "w", at(row(0, 10, 1.0), 0))
    f.ack(9.0, "w", lag)
    copied(f, 2.0, 0, 10)
    reach(f, 10.0, "w", False)
    reach(f, 40.0, "w", True)
    f.truncate(40.0, 0, "w", lag)
    loss, unavailable = f.finish()
    assert loss.records == 4
    assert unavailable.records == 0 and unavailable.intervals == []


def test_rows_are_counted_once_over_a_clusters_episodes():
    f = mirrored()
    f.ack(1.0, "w", at(row(0, 10, 1.0), 0))
    reach(f, 10.0, "w", False)
    reach(f, 20.0, "w", True)
    f.ack(21.0, "w", at(row(0, 3, 21.0), 10))
    reach(f, 30.0, "w", False)
    _loss, unavailable = f.finish(t_end=50.0)
    assert unavailable.records == 13                     # 10, then the 3 acked since
    assert unavailable.intervals == [(10.0, 20.0), (30.0, 50.0)]
    assert unavailable.open_records == 13                # still unreachable at the end


def test_rows_appended_after_a_cut_of_a_mirrored_log_are_counted_at_the_next_episode():
    # an unclean election cuts partition 0 at offset 10: the rows written from there
    # on reuse its offsets and are new records
    f = mirrored()
    f.ack(1.0, "w", at(row(0, 10, 1.0), 0))
    lagging = at(row(0, 4, 2.0), 10)
    f.ack(2.0, "w", lagging)
    copied(f, 3.0, 0, 10)
    f.truncate(5.0, 0, "w", lagging)
    f.ack(6.0, "w", at(row(0, 6, 6.0), 10))
    reach(f, 10.0, "w", False)
    loss, unavailable = f.finish(t_end=20.0)
    assert loss.records == 4
    assert unavailable.records == 6 and unavailable.intervals == [(10.0, 20.0)]
    assert unavailable.open_records == 6


def test_a_row_written_at_the_offsets_of_a_lost_one_is_a_new_record():
    f = mirrored()
    lagging = at(row(0, 4, 2.0), 10)
    f.ack(1.0, "w", at(row(0, 10, 1.0), 0), lagging)
    copied(f, 3.0, 0, 10)
    f.truncate(5.0, 0, "w", lagging)
    f.ack(6.0, "w", at(row(0, 4, 6.0), 10))   # the same offsets, another record
    reach(f, 10.0, "w", False)
    loss, unavailable = f.finish(t_end=20.0)
    assert loss.records == 4
    assert (unavailable.records, unavailable.intervals, unavailable.open_records) == (
        4, [(10.0, 20.0)], 4)


def test_copies_past_a_cut_of_their_source_hold_nothing_written_after_it():
    # the cross-cluster engine reports the cut (LogTruncated) and only the rows no
    # other cluster holds (here none: both were copied)
    f = mirrored()
    f.ack(1.0, "w", at(row(0, 10, 1.0), 0), at(row(0, 4, 1.0), 10))
    copied(f, 3.0, 0, 14)
    f.recorder.emit(LogTruncated(5.0, "w", 0, 10))
    f.ack(6.0, "w", at(row(0, 3, 6.0), 10))
    reach(f, 10.0, "w", False)
    _loss, unavailable = f.finish(t_end=20.0)
    assert unavailable.records == 3 and unavailable.intervals == [(10.0, 20.0)]


def test_an_erased_partitions_records_are_lost_not_also_unavailable():
    f = mirrored()
    f.ack(1.0, "w", at(row(0, 10, 1.0), 0))
    f.erase(5.0, 0)
    reach(f, 10.0, "w", False)
    loss, unavailable = f.finish(t_end=20.0)
    assert loss.records == 10
    assert unavailable.records == 0 and unavailable.intervals == []


def test_copies_unreadable_from_their_targets_outage_on_leave_the_records_unread():
    f = mirrored()
    f.ack(1.0, "w", at(row(0, 10, 1.0), 0))
    copied(f, 2.0, 0, 10)
    reach(f, 10.0, "w", False)   # readable in c
    reach(f, 15.0, "c", False)   # c goes too: unreadable from here
    reach(f, 20.0, "w", True)
    _loss, unavailable = f.finish(t_end=30.0)
    assert unavailable.records == 10 and unavailable.intervals == [(15.0, 20.0)]
