"""Resource budgets of a run (geosim.budget): the memory estimate against a measured
build, the wall-time projection, and the command line's one-line refusals."""

from __future__ import annotations

import gc
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from geosim.budget import (
    BYTES_PER_PARTITION_REGION,
    Budget,
    BudgetExceeded,
    Watch,
    check_before,
    estimated_memory,
)
from geosim.runner import build
from geosim.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "stretch-3-regions.yaml"


def built_bytes(partitions: int) -> int:
    scenario = load_scenario(SCENARIO, [f"workload.omb.partitionsPerTopic={partitions}"])
    gc.collect()
    tracemalloc.start()
    try:
        world = build(scenario, 0)
        gc.collect()
        size = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    del world
    return size


def test_the_per_partition_figure_bounds_a_measured_kafka_build() -> None:
    # the difference of two builds is what the partitions hold (brokers, clients and
    # the rest are the same in both)
    per_partition = (built_bytes(20_000) - built_bytes(2_000)) / 18_000
    assert BYTES_PER_PARTITION_REGION / 2 <= per_partition <= BYTES_PER_PARTITION_REGION


def test_the_estimate_names_its_driver_and_refuses_over_budget() -> None:
    scenario = load_scenario(SCENARIO, ["workload.omb.topics=1000",
                                        "workload.omb.partitionsPerTopic=1000"])
    need, driver = estimated_memory(scenario)
    assert need == BYTES_PER_PARTITION_REGION * 1_000_000 * 3
    assert driver.startswith("1,000,000 partitions")
    with pytest.raises(BudgetExceeded, match="--max-memory") as err:
        check_before(scenario, Budget(memory_bytes=need - 1))
    assert "\n" not in str(err.value)
    check_before(scenario, Budget(memory_bytes=need))


def test_the_wall_time_projection_uses_the_measured_rate_after_the_grace_period() -> None:
    watch = Watch(Budget(wall_seconds=100.0, memory_bytes=None, grace_seconds=5.0),
                  end=1000.0, now=0.0)
    watch.check(10.0, 4.0)     # inside the grace period: no projection
    watch.check(600.0, 6.0)    # 100 simulated s per wall s: 6 + 4 = 10 s in all
    with pytest.raises(BudgetExceeded, match=r"--max-wall") as err:
        watch.check(10.0, 6.0)  # 1.67 simulated s per wall s: about 600 s in all
    assert "1.67 simulated s per wall s" in str(err.value)


def test_memory_is_read_at_most_once_per_interval_and_refused_when_over(monkeypatch) -> None:
    import geosim.budget as budget_module
    reads: list[float] = []
    peak = {"bytes": 100}

    def peak_memory() -> int:
        reads.append(1.0)
        return peak["bytes"]

    monkeypatch.setattr(budget_module, "peak_memory", peak_memory)
    assert budget_module.MEMORY_CHECK_INTERVAL == 1.0
    watch = Watch(Budget(memory_bytes=1000), end=100.0, now=0.0)
    for now in (0.0, 0.5, 0.99, 1.0, 1.2, 2.5):
        watch.check(1.0, now)
    assert len(reads) == 3  # at 0, 1.0 and 2.5 wall s
    peak["bytes"] = 1001
    watch.check(2.0, 3.0)
    with pytest.raises(BudgetExceeded, match="--max-memory"):
        watch.check(3.0, 3.6)


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "geosim", *args], capture_output=True,
                          text=True, timeout=300, cwd=ROOT)


def test_the_command_line_refuses_over_budget_in_one_line(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = cli("run", str(SCENARIO), "--quiet", "--out", str(out), "--max-memory", "1MiB",
               "--set", "workload.omb.partitionsPerTopic=1000")
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "--max-memory" in done.stderr and "partitions" in done.stderr
    assert not out.exists()
    done = cli("run", str(SCENARIO), "--quiet", "--out", str(out), "--max-memory", "1MiB",
               "--no-budget", "--set", "simulation.duration=20s", "--set", "faults=[]",
               "--set", "simulation.drain=0s", "--set", "simulation.warmup=5s")
    assert done.returncode == 0, done.stderr


def test_validate_and_a_sweep_plan_refuse_over_budget_before_building(tmp_path: Path) -> None:
    big = ["--set", "workload.omb.topics=1000000", "--set", "workload.omb.partitionsPerTopic=4"]
    done = cli("validate", str(SCENARIO), *big, "--max-memory", "1GiB")
    assert done.returncode == 2 and "4,000,000 partitions" in done.stderr
    assert done.stderr.count("\n") == 1
    done = cli("sweep", str(SCENARIO), "--grid", "workload.omb.partitionsPerTopic=6,100000",
               "--out", str(tmp_path / "sweep"), "--quiet", "--max-memory", "300MiB")
    assert done.returncode == 2
    assert "grid point workload.omb.partitionsPerTopic=100000" in done.stderr
    assert not (tmp_path / "sweep").exists()
