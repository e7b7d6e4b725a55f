"""Jepsen-style histories (issue 17, item 4): ``geosim run --history FILE``.

The checks below re-implement, over the written EDN, the two rules of Jepsen's Kafka
checker (``jepsen.tests.kafka``, analysis steps 2 and 3) that decide loss: sends and
polls must agree on the value at each key and offset, and every acknowledged send at
or below the highest offset polled of its key must have been polled. They hold the
history to geosim's own loss count.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from geosim.core.events import RowsTruncated
from geosim.output.history import HistoryRecorder, edn
from geosim.runner import run
from geosim.scenario.loader import load_scenario
from geosim.testing import LOSS_TICK

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
ALL = 10**7   # more probes than rows: every row is a probe
# Loss and consistency at the engine's fast send tick for questions of loss
# (geosim.testing.LOSS_TICK): a row, and so an operation, per fleet, leader zone and tick.
TICK = f"simulation.send_tick={LOSS_TICK}"


def parse_edn(text: str):
    """The subset of EDN a history uses: maps, vectors, keywords, integers, nil,
    booleans."""
    tokens = re.findall(r"[{}\[\]]|[^\s,{}\[\]]+", text)
    pos = 0

    def value():
        nonlocal pos
        tok = tokens[pos]
        pos += 1
        if tok == "{":
            out = {}
            while tokens[pos] != "}":
                key = value()
                out[key] = value()
            pos += 1
            return out
        if tok == "[":
            items = []
            while tokens[pos] != "]":
                items.append(value())
            pos += 1
            return items
        if tok == "nil":
            return None
        if tok in ("true", "false"):
            return tok == "true"
        if tok.startswith(":"):
            return tok[1:]
        return int(tok)

    result = value()
    assert pos == len(tokens), "trailing tokens"
    return result


def history_of(name: str, *overrides: str, probes: int = ALL):
    """(history operations parsed back from EDN, recorder, removed row ids, summary)."""
    scenario = load_scenario(SCENARIOS / f"{name}.yaml", list(overrides))
    history = HistoryRecorder(probes)
    removed: set[int] = set()

    def subscribe(recorder):
        history.subscribe(recorder)
        recorder.subscribe(RowsTruncated,
                           lambda ev: removed.update(id(row) for row in ev.rows))

    result = run(scenario, subscribe=subscribe)
    text = "".join(edn(op) + "\n" for op in history.operations())
    ops = [parse_edn(line) for line in text.splitlines()]
    return ops, history, removed, result.summary


def jepsen_analysis(ops):
    """(lost values, inconsistent (key, offset) pairs, acknowledged sends) by Jepsen's
    rules 2 and 3, the final read included."""
    highest: dict[int, int] = {}
    polled: set[int] = set()
    at: dict[tuple[int, int], int] = {}
    inconsistent = set()
    sends = []
    for op in ops:
        if op["f"] == "poll" and op["type"] == "ok":
            for _poll, reads in op["value"]:
                for key, pairs in reads.items():
                    for offset, value in pairs:
                        highest[key] = max(highest.get(key, -1), offset)
                        polled.add(value)
                        if at.setdefault((key, offset), value) != value:
                            inconsistent.add((key, offset))
        elif op["f"] == "send" and op["type"] == "ok":
            [(_send, key, (offset, value))] = op["value"]
            sends.append((key, offset, value))
            if at.setdefault((key, offset), value) != value:
                inconsistent.add((key, offset))
    lost = {v for k, o, v in sends if o <= highest.get(k, -1) and v not in polled}
    return lost, inconsistent, sends


def final_read(ops) -> set[int]:
    [final] = [op for op in ops if op.get("final") and op["type"] == "ok"]
    return {value for pairs in final["value"][0][1].values() for _o, value in pairs}


def test_a_run_without_faults_has_no_lost_or_inconsistent_writes():
    ops, history, _removed, summary = history_of(
        "stretch-3-regions", "faults=[]", "simulation.duration=30s", TICK)
    lost, inconsistent, sends = jepsen_analysis(ops)
    assert len(sends) > 1000 and any(op["f"] == "poll" for op in ops)
    assert lost == set() and inconsistent == set()
    assert {v for _k, _o, v in sends} <= final_read(ops)
    assert summary["loss"]["lost_records"] == 0
    # operation shapes as Jepsen's Kafka workload writes them
    invoke = next(op for op in ops if op["f"] == "send" and op["type"] == "invoke")
    assert set(invoke) == {"index", "time", "type", "f", "process", "value"}
    assert invoke["value"][0][0] == "send" and len(invoke["value"][0]) == 3
    assert [op["index"] for op in ops] == list(range(len(ops)))
    assert all(a["time"] <= b["time"] for a, b in zip(ops, ops[1:], strict=False))


def test_acks_1_destruction_jepsen_finds_exactly_the_lost_probes():
    # request.timeout.ms 10 s: the producers learn of the silent leaders' successors
    # at 50 s and write those partitions again before production ends (60 s), so later
    # offsets are read past the lost ones (Jepsen's lost-write rule needs them).
    ops, history, removed, summary = history_of(
        "stretch-3-regions", "workload.producer_config={acks: '1', request.timeout.ms: 10000}",
        "faults=[{kind: region-destruction, region: us-west2, at: 40s}]",
        "simulation.duration=60s", "simulation.drain=20s", TICK)
    assert history.stride == 1   # every row is a probe
    lost, inconsistent, _sends = jepsen_analysis(ops)
    ours = [p for p in history.probes if p.outcome == "ok" and id(p.row) in removed]
    assert lost == {p.value for p in ours} != set()
    assert sum(p.records for p in ours) == summary["loss"]["lost_records"]
    # the lost offsets were written again after the election: Jepsen sees each twice
    assert {(p.key, p.offset) for p in ours} >= inconsistent


def test_last_replica_loss_of_read_data_shows_in_the_final_read():
    # The lost rows had been read before the crash: Jepsen's lost-write rule cannot
    # see them, but the final read lacks them and their offsets carry new values.
    ops, history, removed, summary = history_of("stretch-last-replica")
    lost, inconsistent, _sends = jepsen_analysis(ops)
    ours = {p.value for p in history.probes if p.outcome == "ok" and id(p.row) in removed}
    acked = {p.value for p in history.probes if p.outcome == "ok"}
    assert acked - final_read(ops) == ours
    assert sum(p.records for p in history.probes if p.value in ours) == \
        summary["loss"]["lost_records"] == 60_000
    assert inconsistent and lost == set()


def test_an_erased_partitions_probes_are_missing_from_the_final_read():
    # RF 1: the destroyed region held every replica of its partitions, their whole logs
    # (the prefix the engine had forgotten included) are gone.
    ops, history, _removed, summary = history_of(
        "stretch-3-regions", "strategy.replication_factor=1",
        "strategy.config={min.insync.replicas: 1}",
        "faults=[{kind: region-destruction, region: us-west2, at: 40s}]",
        "simulation.duration=60s", "simulation.drain=20s", TICK)
    acked = [p for p in history.probes if p.outcome == "ok"]
    final = final_read(ops)
    missing = [p for p in acked if p.value not in final]
    assert missing and {p.key for p in missing} < {p.key for p in acked}
    assert all(p.removed for p in missing) and not any(
        p.removed for p in acked if p.key not in {m.key for m in missing})
    assert sum(p.records for p in missing) == summary["loss"]["lost_records"]


def test_the_sample_is_thinned_evenly_and_deterministically():
    first, history, _r, _s = history_of("stretch-3-regions", "faults=[]",
                                        "simulation.duration=30s", probes=500)
    again, _h, _r2, _s2 = history_of("stretch-3-regions", "faults=[]",
                                     "simulation.duration=30s", probes=500)
    assert first == again
    assert len(history.probes) <= 500
    assert history.stride > 1 and history.stride & (history.stride - 1) == 0
    times = sorted(p.invoked for p in history.probes)
    assert times[0] < 1.0 and times[-1] > 25.0   # spread over the run


def test_edn_of_values():
    assert edn({"type": "ok", "value": [("send", 3, (None, 7))]}) == \
        "{:type :ok, :value [[:send 3 [nil 7]]]}"
    with pytest.raises(TypeError):
        edn(1.5)


def test_the_command_line_writes_the_history(tmp_path):
    target = tmp_path / "history.edn"
    done = subprocess.run(
        [sys.executable, "-m", "geosim", "run", str(SCENARIOS / "stretch-3-regions.yaml"),
         "--out", str(tmp_path / "out"), "--no-progress", "--set", "faults=[]",
         "--set", "simulation.duration=15s", "--history", str(target),
         "--history-probes", "200"], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "history:" in done.stdout
    ops = [parse_edn(line) for line in target.read_text().splitlines()]
    assert ops and ops[0]["index"] == 0


@pytest.mark.parametrize(("flags", "says"), [
    (["--history-probes", "10"], "--history-probes: needs --history FILE"),
    (["--history", "/no/such/folder/h.edn"], "expected a file path in an existing folder"),
    (["--history", "h.edn", "--history-probes", "0"], "must be between 1 and 10,000,000"),
])
def test_history_flags_are_checked_before_the_run(tmp_path, flags, says):
    done = subprocess.run(
        [sys.executable, "-m", "geosim", "run", str(SCENARIOS / "stretch-3-regions.yaml"),
         "--out", str(tmp_path / "out"), *flags], capture_output=True, text=True,
        timeout=120, cwd=tmp_path)
    assert done.returncode == 2
    assert says in done.stderr and done.stderr.count("\n") == 1
    assert not (tmp_path / "out").exists()
