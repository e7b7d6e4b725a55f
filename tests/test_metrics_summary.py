"""build_summary: the summary.json contract (docs/summary.md), values and determinism."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from geosim.core.events import (
    Delivered,
    ObjectCommitted,
    ObjectStored,
    ProduceAcked,
    Recorder,
    RegionState,
    Row,
)
from geosim.metrics import SCHEMA_VERSION, MetricsCollector, build_summary
from geosim.metrics.summary import normalize

DOCS = Path(__file__).resolve().parent.parent / "docs" / "summary.md"

META = {
    "scenario": "hand-built", "strategy": "diskless", "seed": 42, "geosim_version": "test",
    "faults": [{"kind": "region-outage", "target": "b", "start": 100.0, "end": 130.0},
               {"kind": "region-destruction", "target": "a", "start": 150.0, "end": None}],
    "counters": {"object_puts": 3},
}


def _row(object_id: int, seq: int, offset: int, send: float, records: int = 100) -> Row:
    return Row(fleet=1, partition=0, seq=seq, records=records,
               bytes_uncompressed=10 * records, bytes_compressed=5 * records,
               send_first=send, send_last=send + 0.5, offset=offset, object_id=object_id)


def _report():
    """A small run: steady acks in a and b, an outage of b, then a destroyed."""
    recorder = Recorder()
    collector = MetricsCollector(
        recorder, regions=["a", "b"], warmup=10.0,
        fault_windows=[(100.0, 130.0), (150.0, 150.0)], production_end=200.0,
        bin_width=1.0, offered_bytes_per_s={"a": 1000.0, "b": 1000.0})
    offset = 0
    for i, second in enumerate(range(20, 200, 10)):
        for region, writer_copy in (("a", {"a": second + 0.9}), ("b", {"b": second + 0.9})):
            if region == "b" and 100 <= second < 130 or region == "a" and second >= 150:
                continue
            object_id = 2 * i + (region == "b")
            row = _row(object_id, seq=object_id, offset=offset, send=float(second))
            offset += row.records
            copies = {**writer_copy, ("b" if region == "a" else "a"): second + 500.0}
            recorder.emit(ObjectStored(t=second + 0.9, object_id=object_id, writer_region=region,
                                       size=500, copies=tuple(copies.items())))
            recorder.emit(ObjectCommitted(t=second + 0.95, object_id=object_id, region=region,
                                          rows=(row,)))
            recorder.emit(ProduceAcked(t=second + 1.0, region=region, fleet=1, rows=(row,)))
            recorder.emit(Delivered(t=second + 2.0, region=region, group=1,
                                    rows=(row,)))
        if second == 100:
            recorder.emit(RegionState(t=100.0, region="b", up=False))
        if second == 130:
            recorder.emit(RegionState(t=130.0, region="b", up=True))
        if second == 150:
            recorder.emit(RegionState(t=150.0, region="a", up=False, destroyed=True))
    return collector.finalize(
        260.0, bytes_by_pair={("a-1", "b-1", "object_replication"): 3000,
                              ("a-1", "a-2", "consume"): 1000},
        zone_region={"a-1": "a", "a-2": "a", "b-1": "b"}, counters={"object_puts": 2})


@pytest.fixture(scope="module")
def summary():
    return build_summary(_report(), meta=META)


def test_identification_and_records(summary):
    assert summary["schema_version"] == SCHEMA_VERSION == 1
    assert (summary["scenario"], summary["strategy"], summary["seed"]) == (
        "hand-built", "diskless", 42)
    assert summary["geosim_version"] == "test"
    assert summary["simulated_seconds"] == 260.0
    assert summary["faults"][1] == {"kind": "region-destruction", "target": "a",
                                    "start": 150.0, "end": None}
    # a acked at 20..140 (13 rows), b at 20..90 and 130..190 (8 + 7 rows)
    assert summary["records"] == {"accepted": 0, "acked": 2800, "backlog": 0, "blocked": 0,
                                  "delivered": 2800, "failed": 0, "info": 0,
                                  "offered": 0}
    assert summary["counters"] == {"object_puts": 3}   # meta overrides the report's


def test_loss_and_unavailability(summary):
    loss = summary["loss"]
    # Nothing replicated (copies due 500 s after the write): all of a's 13 rows are lost,
    # the oldest acked at 21 s, the destruction at 150 s.
    assert loss["lost_records"] == 1300 and loss["lost_bytes"] == 13000
    assert loss["rpo_seconds"] == 129.0
    assert loss["by_region"] == {"a": {"lost_bytes": 13000, "lost_records": 1300,
                                       "rpo_seconds": 129.0}}
    assert loss["untracked_records"] == 0
    unavailable = summary["unavailable"]
    # b's 8 rows acked before its outage were unreadable from 100 to 130 s.
    assert unavailable["records"] == 800 and unavailable["bytes"] == 8000
    assert unavailable["intervals"] == [[100.0, 130.0]]
    assert unavailable["max_seconds"] == 30.0 and unavailable["open_records"] == 0
    assert unavailable["by_region"] == {"b": {"bytes": 8000, "max_seconds": 30.0,
                                              "records": 800}}


def test_rto_latency_bytes_checks(summary):
    producers = summary["rto"]["b"]["producers"]
    assert producers["first_success"] == 31.0          # sent 130, acked 131
    assert producers["longest_gap"] == 40.0            # 91 -> 131
    # the first fault is b's outage: a's producers went on (until a was destroyed)
    assert summary["rto"]["a"]["producers"]["first_success"] == 1.0
    # 8 acks of 1000 B in the 90 whole bins between warmup (10 s) and the fault (100 s)
    assert summary["rto"]["a"]["producers"]["baseline_bytes_per_s"] == pytest.approx(
        8000 / 90, rel=1e-8)
    assert set(summary["rto"]["a"]) == {"producers", "consumers"}
    publish = summary["latency"]["publish"]
    assert set(publish) == {"all", "a", "b"}
    assert set(publish["a"]) == {"warmup", "before", "during", "after", "drain"}
    before = publish["all"]["before"]
    # every row: sent over [s, s + 0.5], acked at s + 1 -> uniform on [0.5, 1]
    assert before["p50"] == 0.75 and before["p90"] == 0.95 and before["p999"] == 0.9995
    assert before["max"] == 1.0 and before["mean"] == 0.75 and before["records"] == 1600
    assert publish["a"]["warmup"] == {"max": None, "mean": None, "p50": None, "p90": None,
                                      "p99": None, "p999": None, "records": 0}
    # the destruction lasts until the end of production: nothing is "after"
    assert summary["latency"]["e2e"]["b"]["during"]["p50"] == 1.75
    assert summary["latency"]["e2e"]["b"]["after"]["records"] == 0
    assert summary["bytes"]["cross_region"] == {
        "by_pair": {"a->b": 3000}, "by_purpose": {"object_replication": 3000},
        "rate": 15.0, "total": 3000}
    assert summary["bytes"]["inter_zone"]["by_pair"] == {"a-1->a-2": 1000}
    assert summary["checks"] == {"duplicate_writes": 0, "duplicates": 0,
                                 "redelivered_after_rebalance": 0, "reorders": 0, "skips": 0}


def test_values_are_plain_rounded_and_keys_sorted(summary):
    def walk(node, path="$"):
        if isinstance(node, dict):
            assert list(node) == sorted(node), path
            for key, value in node.items():
                assert isinstance(key, str)
                walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}[{i}]")
        else:
            assert node is None or type(node) in (int, float, str, bool), (path, node)
            if type(node) is float:
                assert math.isfinite(node) and float(f"{node:.9g}") == node, path
    walk(summary)
    assert normalize({"b": float("nan"), "a": (1 / 3, float("inf"), -0.0)}) == {
        "a": [0.333333333, None, 0.0], "b": None}


def test_same_events_give_byte_identical_json():
    first = json.dumps(build_summary(_report(), meta=META), sort_keys=True)
    second = json.dumps(build_summary(_report(), meta=META), sort_keys=True)
    assert first == second
    # keys are already sorted: serialising without sort_keys gives the same bytes
    assert json.dumps(build_summary(_report(), meta=META)) == first


def test_byte_identical_across_processes_and_hash_seeds():
    script = (
        f"import json, sys; sys.path.insert(0, {str(Path(__file__).resolve().parent)!r});"
        "import test_metrics_summary as t;"
        "from geosim.metrics import build_summary;"
        "print(json.dumps(build_summary(t._report(), meta=t.META)))"
    )
    outputs = set()
    for hash_seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                              text=True, check=True)
        outputs.add(done.stdout)
    assert len(outputs) == 1
    assert json.loads(outputs.pop())["loss"]["lost_records"] == 1300


def test_every_key_is_documented(summary):
    documented = set(re.findall(r"`([a-z_0-9]+)`", DOCS.read_text()))
    dynamic = {"rto", "latency", "by_region", "by_pair", "by_purpose", "counters"}
    missing = []

    def walk(node, parent=None):
        if not isinstance(node, dict) or parent in dynamic:
            return
        for key, value in node.items():
            if key not in documented:
                missing.append(key)
            walk(value, key)
    walk(summary)
    # the dynamic levels' own keys
    walk(summary["rto"]["b"])
    walk(summary["latency"]["publish"]["all"])
    for item in summary["faults"]:
        walk(item)
    assert missing == []
