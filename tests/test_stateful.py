"""The region state machine of ``geosim.testing.stateful`` on small diskless clusters.

Rules produce for a while, fail and heal regions, cut and heal links, and (for the
quorum of regional buckets) destroy a region; invariants are checked after every step,
and at teardown the same faults, as a scenario timeline, must lose no acknowledged
record and skip nothing.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from geosim.core.events import Delivered, ObjectCommitted, ProduceAcked, Recorder, Row
from geosim.runner import run
from geosim.scenario.loader import load_scenario
from geosim.testing import ClaimFailed, reads_available
from geosim.testing.stateful import Invariants, region_machine

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
FOUND = Path(__file__).resolve().parent / "counterexamples"


def small(name: str) -> dict:
    """A scenario of the repository, shrunk to a 60 s, 1,000 messages/s run."""
    data = yaml.safe_load((SCENARIOS / name).read_text())
    data = copy.deepcopy(data)
    data["workload"]["omb"].update(producerRate=1000, partitionsPerTopic=4)
    data["simulation"] = {"duration": "60s", "warmup": "5s", "drain": "120s"}
    return data


TestDisklessRegionFaults = region_machine(small("quickstart.yaml")).TestCase
TestQuorumSurvivesDestruction = region_machine(small("warpstream-quorum.yaml"),
                                               destruction=True).TestCase


def test_the_machine_finds_unreadable_data_and_writes_a_replayable_file(tmp_path):
    machine = region_machine(small("quickstart.yaml"), claim=reads_available(),
                             directory=str(tmp_path))
    with pytest.raises(ClaimFailed, match="unreadable for up to"):
        # a fixed rule sequence: produce, fail the writer region, produce; the
        # teardown heals what is still open
        state = machine()
        state.start(seed=1)
        state.produce(step=10)
        state.fail_region(region="us-west2")
        state.produce(step=10)
        state.teardown()
    written = yaml.safe_load((tmp_path / "stateful-counterexample.yaml").read_text())
    outage = written["faults"][0]
    assert outage["kind"] == "region-outage" and outage["region"] == "us-west2"
    assert outage["at"] == "15s" and outage["duration"] == "10s"


def test_no_skips_after_a_partition_and_overlapping_outages():
    """Regression (found by the region machine): a retried row already placed in an
    earlier object was re-labelled with the new object and offset, so the consumer log
    entry of its first copy moved: 186 records skipped, then re-delivered. Retried rows
    are now appended as copies."""
    summary = run(load_scenario(FOUND / "skips-after-partition-and-outages.yaml")).summary
    assert summary["checks"]["skips"] == 0
    assert summary["checks"]["duplicates"] == 0


def row(partition: int, offset: int, seq: int, object_id: int = 1, records: int = 5) -> Row:
    return Row(fleet=0, partition=partition, seq=seq, records=records, bytes_uncompressed=1,
               bytes_compressed=1, send_first=0, send_last=0, offset=offset,
               object_id=object_id)


def test_invariants_catch_uncommitted_acks_duplicate_offsets_and_skips():
    recorder = Recorder()
    checks = Invariants(recorder)
    recorder.emit(ObjectCommitted(1.0, 1, "r", (row(0, 0, 0),)))
    recorder.emit(ProduceAcked(1.1, "r", 0, (row(0, 0, 0),)))
    recorder.emit(Delivered(1.2, "r", 0, (row(0, 0, 0),)))
    recorder.emit(Delivered(1.3, "r", 0, (row(0, 0, 0),)))  # a re-read is not a skip
    assert checks.violations == []
    recorder.emit(ProduceAcked(2.0, "r", 0, (row(0, 5, 1, object_id=2),)))
    recorder.emit(ProduceAcked(2.1, "r", 0, (row(0, 0, 7),)))
    recorder.emit(Delivered(2.2, "r", 0, (row(0, 10, 2),)))
    assert [v.split(":")[1].strip().split(" ")[0] for v in checks.violations] == \
        ["ack", "partition", "group"]
    assert "skipped partition 0 offsets 5..9" in checks.violations[2]
