"""``geosim calibrate`` (issue 15, item 6): recovering known parameters of a synthetic
target, the targets file's errors, and overlays."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from geosim.calibrate import fit, load_targets
from geosim.calibrate.targets import field_value
from geosim.runner import run
from geosim.scenario.errors import ScenarioError
from geosim.scenario.loader import load_scenario
from geosim.scenario.overlay import read_overlay

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "quickstart.yaml"
FAST = ["faults=[]", "simulation.duration=40s", "simulation.warmup=10s",
        "simulation.drain=5s"]
PUBLISH = "latency.publish.all.before.p50"
E2E = "latency.e2e.all.before.p50"


def synthetic(flush: float, seeds=(0, 1)) -> dict[str, float]:
    """What the scenario reports at a known flush interval (the target to recover)."""
    out = {}
    for metric in (PUBLISH, E2E):
        values = []
        for seed in seeds:
            summary = run(load_scenario(SCENARIO, [*FAST, f"strategy.flush_interval={flush}"]),
                          seed).summary
            node = summary
            for part in metric.split("."):
                node = node[part]
            values.append(node)
        out[metric] = sum(values) / len(values)
    return out


def targets_file(tmp_path: Path, observed: dict[str, float], **extra) -> Path:
    data = {"parameters": [{"path": "strategy.flush_interval", "bounds": ["100ms", "1s"],
                            "start": "600ms"}],
            "observed": [{"metric": m, "value": v} for m, v in observed.items()],
            "seeds": [0, 1], "set": FAST, **extra}
    path = tmp_path / "targets.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_calibrate_recovers_a_known_flush_interval(tmp_path):
    truth = 0.3
    path = targets_file(tmp_path, synthetic(truth))
    targets = load_targets(path, SCENARIO)
    [param] = targets.parameters
    assert (param.low, param.high, param.start, param.log) == (0.1, 1.0, 0.6, True)
    result = fit(SCENARIO, targets, max_evaluations=40)
    [fitted] = result.best.values
    assert fitted == pytest.approx(truth, rel=0.05)
    assert result.best.objective < 1e-3 < result.start.objective
    assert all(abs(r) < 0.03 for r in result.residuals())
    # common random numbers: the same point gives the same evaluation
    again = fit(SCENARIO, targets, max_evaluations=3)
    assert again.start == result.start


def test_the_command_line_prints_the_fit_and_writes_an_overlay_it_applies(tmp_path):
    path = targets_file(tmp_path, synthetic(0.3))
    overlay = tmp_path / "fit.yaml"
    done = subprocess.run(
        [sys.executable, "-m", "geosim", "calibrate", str(SCENARIO), "--targets", str(path),
         "--out", str(overlay), "--max-evals", "30", "--quiet"],
        capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "strategy.flush_interval" in done.stdout and "residual" in done.stdout
    [item] = read_overlay(overlay)
    assert item.startswith("strategy.flush_interval=")
    fitted = float(item.split("=")[1])
    assert fitted == pytest.approx(0.3, rel=0.05)
    # nothing changed until the overlay is applied; then the scenario carries the fit
    assert field_value(load_scenario(SCENARIO), "strategy.flush_interval") != fitted
    out = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-m", "geosim", "run", str(SCENARIO), "--overlay", str(overlay),
         "--set", "faults=[]", "--set", "simulation.duration=15s", "--set", "simulation.warmup=5s",
         "--quiet", "--out", str(out)], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    resolved = yaml.safe_load((out / "scenario.yaml").read_text())
    assert resolved["strategy"]["flush_interval"] == pytest.approx(fitted)


@pytest.mark.parametrize(("change", "field", "says"), [
    ({"parameters": []}, "parameters", "must be a list of 1 to 8"),
    ({"parameters": [{"path": "strategy.nope", "bounds": [1, 2]}]}, "parameters[0]",
     "not a valid strategy.nope"),
    ({"parameters": [{"path": "strategy.flush_interval", "bounds": ["1s", "100ms"]}]},
     "parameters[0].bounds", "low < high"),
    ({"parameters": [{"path": "strategy.flush_interval", "bounds": ["100ms", "1s"],
                      "start": "5s"}]}, "parameters[0].start", "within the bounds"),
    ({"parameters": [{"path": "strategy.flush_interval", "bounds": ["100ms", "1s"],
                      "scale": "cubic"}]}, "parameters[0].scale", "log"),
    ({"observed": [{"metric": PUBLISH, "value": 0}]}, "observed[0].value", "not be 0"),
    ({"observed": [{"metric": PUBLISH, "value": ".nan"}]}, "observed[0].value", "finite"),
    ({"seeds": [-1]}, "seeds", "integers >= 0"),
    ({"extra": 1}, "extra", "unknown field"),
])
def test_targets_errors_are_one_line(tmp_path, change, field, says):
    path = targets_file(tmp_path, {PUBLISH: 0.3}, **{})
    data = yaml.safe_load(path.read_text())
    data.update(change)
    text = yaml.safe_dump(data).replace("'.nan'", ".nan")
    path.write_text(text)
    with pytest.raises(ScenarioError) as err:
        load_targets(path, SCENARIO)
    message = str(err.value)
    assert message.startswith(f"{path}: {field}"), message
    assert says in message and "\n" not in message


def test_overlay_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("set: [not-an-item]\n")
    with pytest.raises(ScenarioError, match=r"set\[0\]: must be a key=value item"):
        read_overlay(bad)
    done = subprocess.run(
        [sys.executable, "-m", "geosim", "validate", str(SCENARIO), "--overlay", str(bad)],
        capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
