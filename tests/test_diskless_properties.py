"""Properties of diskless runs under generated fault timelines (Hypothesis).

Invariants checked on every generated run of the quickstart cluster:

* every offered record's send ends exactly once: ok, fail or info;
* a transient fault (everything heals before the drain) loses no acknowledged record,
  and every consumer group eventually reads every acknowledged record;
* deliveries never skip offsets.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from hypothesis import given
from hypothesis import strategies as st

from geosim.core.events import Row
from geosim.kafka.idempotence import PartitionLog
from geosim.testing import (
    TRANSIENT_KINDS,
    around,
    check,
    every_acked_delivered,
    every_send_settled,
    no_acked_loss,
    no_skips,
    region_faults,
    simulation_settings,
    timelines,
    transient_faults,
)

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
BASE = yaml.safe_load((SCENARIOS / "quickstart.yaml").read_text())
BASE["simulation"] = {**BASE["simulation"], "drain": "150s"}


@simulation_settings()
@given(data=around(BASE, faults=transient_faults(count=(1, 2))))
def test_transient_faults_settle_every_send_and_lose_nothing(data):
    # one subscription: after the drain, the group has read every acknowledged record
    check(every_send_settled() & no_acked_loss() & no_skips() & every_acked_delivered(),
          data)


@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 1), st.integers(0, 6)),
                max_size=60))
def test_partition_log_offsets_are_contiguous_and_sequences_gapless(batches):
    log = PartitionLog(2)
    appended_all = []
    for partition, epoch, n in batches:
        row = Row(fleet=0, partition=partition % 2, seq=epoch << 32 | n, records=3,
                  bytes_uncompressed=3, bytes_compressed=3, send_first=0, send_last=0)
        appended, _, _ = log.append([row])
        appended_all += appended
    for partition in (0, 1):
        rows = [r for r in appended_all if r.partition == partition]
        assert [r.offset for r in rows] == [3 * i for i in range(len(rows))]
        # within an epoch, sequences go 0, 1, 2, ... with no gap and no repeat
        by_epoch: dict[int, list[int]] = {}
        for r in rows:
            by_epoch.setdefault(r.seq >> 32, []).append(r.seq & 0xFFFFFFFF)
        for seqs in by_epoch.values():
            assert seqs == list(range(len(seqs)))
        # epochs only move forward
        epochs = [r.seq >> 32 for r in rows]
        assert epochs == sorted(epochs)


QUORUM = yaml.safe_load((SCENARIOS / "warpstream-quorum.yaml").read_text())
NOT_PAUSE = [k for k in TRANSIENT_KINDS if k != "replication-pause"]


@simulation_settings()
@given(data=around(QUORUM, faults=timelines(
    transient_faults(NOT_PAUSE, count=(0, 1), at=(15, 100)),
    region_faults(["region-destruction"], at=(15, 120)))))
def test_quorum_of_buckets_loses_nothing_when_any_region_is_destroyed(data):
    # domain.md §8: RPO = 0 under region destruction for diskless writing to a quorum
    # of 3 regional buckets, also after another fault earlier in the run.
    check(no_acked_loss() & every_send_settled(), data)
