"""Hostile and absurd input (issue 19): every numeric field finite and bounded, YAML
bombs refused, each as one line naming file, field and value, and quickly (nothing is
simulated or expanded first)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from geosim.scenario.errors import ScenarioError
from geosim.scenario.loader import load_scenario
from geosim.scenario.yamlfile import MAX_DEPTH

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "stretch-3-regions.yaml"

# (overrides separated by "||", the field the error must name, what it must say)
CORPUS = [
    ("simulation.duration=.inf", "simulation.duration", "finite"),
    ("simulation.duration=1e30s", "simulation.duration", "at most 366 days"),
    ("simulation.duration=1e400s", "simulation.duration", "finite"),
    ("simulation.duration=.nan", "simulation.duration", "finite"),
    ("simulation.duration=40d", "simulation.duration", "<= 2592000"),
    ("simulation.drain=.inf", "simulation.drain", "finite"),
    ("simulation.warmup=-.inf", "simulation.warmup", "finite"),
    ("simulation.bin=1e-9", "simulation.bin", ">= 0.001"),
    ("simulation.bin=0.001||simulation.duration=3h", "simulation.bin", "at most 10,000,000"),
    ("workload.omb.producerRate=.inf", "workload.omb.producerRate", "finite"),
    ("workload.omb.producerRate=1e30", "workload.omb.producerRate", "<= 10000000000"),
    ("workload.omb.messageSize=9223372036854775808", "workload.omb.messageSize",
     "<= 2147483647"),
    ("workload.omb.partitionsPerTopic=1000000000", "workload.omb.partitionsPerTopic",
     "<= 10000000"),
    ("workload.omb.topics=100000000", "workload.omb.topics", "<= 10000000"),
    ("workload.omb.topics=1000||workload.omb.partitionsPerTopic=20000",
     "workload.omb.partitionsPerTopic", "at most 10,000,000"),
    ("workload.omb.producersPerTopic=1e12", "workload.omb.producersPerTopic", ""),
    ("workload.omb.testDurationMinutes=.nan", "workload.omb.testDurationMinutes", "finite"),
    ("strategy.brokers={us-west1: 1000000}", "strategy.brokers.us-west1", "at most 10,000"),
    ("topology.tcp_window=.inf", "topology.tcp_window", "finite"),
    ("topology.tcp_window=1e30", "topology.tcp_window", "at most 1 PiB"),
    ("topology.links=[{between: [us-west1, us-west2], bandwidth: .inf}]",
     "topology.links[0].bandwidth", "finite"),
    ("faults[0].at=.inf", "faults[0].at", "finite"),
    ("simulation.send_tick=0", "simulation.send_tick", ">= 0.0001"),
    ("simulation.send_tick=1ns", "simulation.send_tick", ">= 0.0001"),
    ("strategy.append_interval=0", "strategy.append_interval", ">= 0.0001"),
    ("simulation.send_tick=2s", "simulation.send_tick", "<= 1"),
    ("simulation.send_tick=.nan", "simulation.send_tick", "finite"),
    ("topology.same_zone_rtt={dist: constant, value: 0}"
     "||workload.consumer_config.enable.auto.commit=true"
     "||workload.consumer_config.auto.commit.interval.ms=0",
     "workload.consumer_config.auto.commit.interval.ms", "same_zone_rtt is 0"),
    ("topology.same_zone_rtt={dist: empirical, samples: [0, 0, 1ms]}"
     "||workload.consumer_config.enable.auto.commit=false"
     "||workload.consumer_config.fetch.max.wait.ms=0",
     "workload.consumer_config.fetch.max.wait.ms", "a poll would take no time"),
]


@pytest.mark.parametrize(("override", "field", "says"), CORPUS,
                         ids=[c[0] for c in CORPUS])
def test_absurd_numbers_are_one_line_errors(override: str, field: str, says: str) -> None:
    start = time.perf_counter()
    with pytest.raises(ScenarioError) as err:
        load_scenario(SCENARIO, overrides=override.split("||"))
    text = str(err.value)
    assert time.perf_counter() - start < 5
    assert "\n" not in text
    assert text.startswith(f"{SCENARIO}: {field}:"), text
    assert says in text, text


def bomb(levels: int = 9, fan: int = 10) -> str:
    lines = ["name: bomb", "a0: &a0 [" + ", ".join(["x"] * fan) + "]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * fan) + "]")
    lines.append(f"description: *a{levels - 1}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(("text", "says"), [
    (bomb(), "aliases expand the document beyond 200,000 nodes"),
    ("name: deep\ndescription: " + "[" * 5000 + "]" * 5000 + "\n",
     f"nesting deeper than {MAX_DEPTH} levels"),
    ("name: chain\n" + "".join(f"a{i}: &a{i} [{f'*a{i - 1}' if i else 'x'}]\n"
                               for i in range(300)), "aliases nest the document deeper"),
], ids=["billion-laughs", "deep-nesting", "alias-chain"])
def test_yaml_bombs_are_refused_quickly(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "hostile.yaml"
    path.write_text(text)
    start = time.perf_counter()
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert time.perf_counter() - start < 5
    assert "\n" not in str(err.value)
    assert says in str(err.value)


def test_a_huge_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("w") as out:
        out.write("name: huge\ndescription: '")
        out.write("x" * (5 * 2**20))
        out.write("'\n")
    with pytest.raises(ScenarioError, match="larger than 4 MiB"):
        load_scenario(path)


def test_a_bomb_in_a_set_value_is_refused() -> None:
    value = "[" * 5000 + "]" * 5000
    with pytest.raises(ScenarioError) as err:
        load_scenario(SCENARIO, overrides=[f"description={value}"])
    assert "not valid YAML" in str(err.value)


def test_the_command_line_exits_2_with_one_line_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "geosim", "run", str(SCENARIO), "--quiet", "--out", str(out),
         "--set", "simulation.duration=.inf"],
        capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "simulation.duration" in done.stderr
    assert not out.exists()


def test_committing_after_every_poll_runs_to_the_end() -> None:
    """Manual commits after each poll with ``fetch.max.wait.ms`` 0 (and automatic ones
    with ``auto.commit.interval.ms`` 0) commit once per same-zone round trip, the
    shortest a poll takes; they once looped for ever at one instant."""
    from geosim.runner import build, run

    for overrides in (["workload.consumer_config.enable.auto.commit=false",
                       "workload.consumer_config.fetch.max.wait.ms=0"],
                      ["workload.consumer_config.enable.auto.commit=true",
                       "workload.consumer_config.auto.commit.interval.ms=0"]):
        scenario = load_scenario(ROOT / "scenarios" / "mm2-active-passive.yaml", overrides=[
            "faults=[]", "simulation.duration=2s", "simulation.warmup=1s",
            "simulation.drain=1s", "topology.same_zone_rtt={dist: constant, value: 0.5ms}",
            *overrides])
        _ctx, world, _strategy = build(scenario, 1)
        assert world.workload.consumer_settings.auto_commit_interval == 0.5e-3
        start = time.perf_counter()
        result = run(scenario)
        assert time.perf_counter() - start < 60
        assert result.summary["simulated_seconds"] == 3.0
