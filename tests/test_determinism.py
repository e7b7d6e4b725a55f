"""Same seed, byte-identical summary.json — also across processes and PYTHONHASHSEED."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from geosim.runner import run
from geosim.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = ROOT / "scenarios" / "quickstart.yaml"

STRETCH = ROOT / "scenarios" / "stretch-3-regions.yaml"
STRETCH_SHORT = ["simulation.duration=50s", "simulation.drain=10s",
                 "faults=[{kind: region-outage, region: us-west2, at: 20s, duration: 15s}]"]

SCRIPT = """
import json, sys
from geosim.runner import run
from geosim.scenario.loader import load_scenario
result = run(load_scenario(sys.argv[1], sys.argv[3:]), int(sys.argv[2]))
sys.stdout.write(json.dumps(result.summary, indent=2, sort_keys=True))
"""


def summary_json(seed: int) -> str:
    return json.dumps(run(load_scenario(QUICKSTART), seed).summary, indent=2, sort_keys=True)


def other_hash_seed(*candidates: str) -> str:
    """A PYTHONHASHSEED that differs from this process's (random unless the caller set
    one), so one subprocess compares two hash seeds."""
    return next(c for c in candidates if c != os.environ.get("PYTHONHASHSEED"))


def in_subprocess(seed: int, hashseed: str, path: Path = QUICKSTART,
                  overrides: tuple[str, ...] = ()) -> str:
    env = {**os.environ, "PYTHONHASHSEED": hashseed}
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(path), str(seed), *overrides],
                         capture_output=True, text=True, env=env, check=True, cwd=ROOT)
    return out.stdout


def test_same_seed_same_summary_in_process():
    assert summary_json(7) == summary_json(7)


def test_same_seed_same_summary_across_processes_and_hash_seeds():
    here = summary_json(7)
    assert in_subprocess(7, other_hash_seed("0", "12345")) == here


def test_different_seeds_differ():
    a, b = json.loads(summary_json(7)), json.loads(summary_json(8))
    assert a["latency"]["e2e"]["all"]["before"] != b["latency"]["e2e"]["all"]["before"]
    assert a["seed"] == 7 and b["seed"] == 8


def test_kafka_strategy_same_seed_same_summary_across_processes():
    """The stretch model (sets of brokers, dicts of partitions) is deterministic too."""
    here = json.dumps(run(load_scenario(STRETCH, STRETCH_SHORT), 3).summary, indent=2,
                      sort_keys=True)
    assert in_subprocess(3, other_hash_seed("1", "999"), STRETCH, tuple(STRETCH_SHORT)) == here


MM2 = ROOT / "scenarios" / "mm2-active-active.yaml"
MM2_SHORT = ["simulation.duration=40s", "simulation.drain=5s", "strategy.append_interval=10ms",
             "strategy.failover.detection=2s", "strategy.failover.decision=3s",
             "strategy.mirror_config={emit.checkpoints.interval.seconds: 5}",
             "faults=[{kind: region-outage, region: us-west1, at: 15s, duration: 15s}]"]


def test_cross_cluster_strategy_same_seed_same_summary_across_processes():
    """Two clusters, two flows and a failover (dicts of flows, groups, checkpoints)."""
    here = json.dumps(run(load_scenario(MM2, MM2_SHORT), 5).summary, indent=2,
                      sort_keys=True)
    assert json.loads(here)["mirror"]["failovers"], "the run must include a failover"
    assert in_subprocess(5, other_hash_seed("1", "4242"), MM2, tuple(MM2_SHORT)) == here
