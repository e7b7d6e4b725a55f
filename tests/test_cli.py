"""The ``geosim`` command line: exit codes, one-line errors, nothing written on error.

Errors come from the real loader; the end-to-end test runs a shortened quickstart.
Every test runs in its own temporary working directory, so the default ``results/``
goes there and never into the repository.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from geosim import cli, runner
from geosim.cli import progress as cli_progress
from geosim.cli import strategies as cli_strategies
from geosim.output import writer

REPO = Path(__file__).resolve().parents[1]
QUICKSTART = REPO / "scenarios" / "quickstart.yaml"
# A shorter quickstart: 40 s of production with a 10 s outage of us-west2 at 20 s.
SHORT = ["--set", "simulation.duration=40s", "--set", "simulation.warmup=5s",
         "--set", "simulation.drain=10s", "--set", "faults[0].at=20s",
         "--set", "faults[0].duration=10s"]


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GEOSIM_DEBUG", raising=False)
    return tmp_path


def geosim(capsys, *argv: str) -> tuple[int, str, str]:
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def scenario_file(tmp_path: Path, name: str, old: str = "", new: str = "") -> Path:
    """The quickstart with one textual edit, written to ``tmp_path/name``."""
    text = QUICKSTART.read_text()
    if old:
        assert old in text
        text = text.replace(old, new, 1)
    path = tmp_path / name
    path.write_text(text)
    return path


def assert_one_line_error(status: int, out: str, err: str, *fragments: str) -> None:
    assert status == 2
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("geosim: error: ")
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0]


def listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


# --- user errors -------------------------------------------------------------------------

@pytest.mark.parametrize("edit, fragments", [
    (("  provider: gcp\n", "  provider: [gcp\n"), ["bad.yaml:", "invalid YAML"]),
    (("description:", "descripton:"), ["bad.yaml", "descripton", "unknown field"]),
    (("duration: 30s}", "duration: 30 parsecs}"),
     ["bad.yaml", "faults[0].duration", "parsecs"]),
    (("region: us-west2, at", "region: mars-1, at"),
     ["bad.yaml", "faults[0].region", "mars-1", "us-west1"]),
], ids=["malformed-yaml", "unknown-key", "bad-unit", "unknown-fault-region"])
@pytest.mark.parametrize("command", ["validate", "run"])
def test_scenario_errors_are_one_line_and_write_nothing(capsys, in_tmp, command, edit,
                                                        fragments):
    path = scenario_file(in_tmp, "bad.yaml", *edit)
    status, out, err = geosim(capsys, command, "bad.yaml")
    assert_one_line_error(status, out, err, *fragments)
    assert listing(in_tmp) == [path.name]


def test_missing_file(capsys, in_tmp):
    status, out, err = geosim(capsys, "run", "nowhere.yaml")
    assert_one_line_error(status, out, err, "nowhere.yaml: no such file")
    assert listing(in_tmp) == []


@pytest.mark.parametrize("item, fragment", [
    ("simulation.duration", "--set expects key=value"),
    ("simulation.durtion=5", "simulation.durtion: unknown field"),
    ("simulation.duration=fast", "simulation.duration"),
])
def test_bad_set(capsys, in_tmp, item, fragment):
    status, out, err = geosim(capsys, "run", str(QUICKSTART), "--set", item)
    assert_one_line_error(status, out, err, fragment)
    assert listing(in_tmp) == []


def test_bad_arguments_are_one_line(capsys):
    assert_one_line_error(*geosim(capsys), "required: COMMAND")
    assert_one_line_error(*geosim(capsys, "fly"), "invalid choice: 'fly'")
    assert_one_line_error(*geosim(capsys, "run"), "run: the following arguments are required")
    assert_one_line_error(*geosim(capsys, "run", str(QUICKSTART), "--seed", "-3"),
                          "--seed", "non-negative integer")


def test_unwritable_out_fails_before_running(capsys, in_tmp, monkeypatch):
    def must_not_run(*args, **kwargs):
        raise AssertionError("the run should not start")

    monkeypatch.setattr(runner, "run", must_not_run)
    (in_tmp / "afile").write_text("")
    status, out, err = geosim(capsys, "run", str(QUICKSTART), "--out", "afile/x")
    assert_one_line_error(status, out, err, "--out afile/x", "not a directory")
    status, out, err = geosim(capsys, "run", str(QUICKSTART), "--out", "afile")
    assert_one_line_error(status, out, err, "exists and is not a directory")
    assert listing(in_tmp) == ["afile"]


def test_write_failure_after_run_is_a_user_error(capsys, in_tmp, monkeypatch):
    def full_disk(result, out_dir, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(writer, "write_results", full_disk)
    status, out, err = geosim(capsys, "run", str(QUICKSTART), *SHORT, "--quiet",
                              "--out", "o")
    assert_one_line_error(status, out, err, "cannot write results", "No space left")
    assert listing(in_tmp) == []


# --- internal errors and interruption -------------------------------------------------------

def test_internal_error_is_short_without_debug(capsys, in_tmp, monkeypatch):
    def boom(*args, **kwargs):
        raise ZeroDivisionError("float division by zero")

    monkeypatch.setattr(runner, "run", boom)
    status, out, err = geosim(capsys, "run", str(QUICKSTART))
    assert status == 1
    assert err.splitlines() == ["geosim: internal error: ZeroDivisionError: float division "
                                "by zero (set GEOSIM_DEBUG=1 for the traceback)"]
    assert listing(in_tmp) == []

    monkeypatch.setenv("GEOSIM_DEBUG", "1")
    status, out, err = geosim(capsys, "run", str(QUICKSTART))
    assert status == 1
    assert err.startswith("Traceback") and "ZeroDivisionError" in err


def test_interrupt_writes_nothing(capsys, in_tmp, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "run", interrupted)
    status, out, err = geosim(capsys, "run", str(QUICKSTART))
    assert status == 130
    assert err == "geosim: interrupted; nothing written\n"
    assert listing(in_tmp) == []


# --- validate and strategies ------------------------------------------------------------------

def test_validate_ok(capsys):
    status, out, err = geosim(capsys, "validate", str(QUICKSTART))
    assert (status, out, err) == (0, "ok: quickstart (diskless, 3 regions, 1 fault)\n", "")


def test_validate_applies_overrides(capsys, in_tmp):
    path = scenario_file(in_tmp, "q.yaml")
    status, out, _ = geosim(capsys, "validate", str(path), "--set", "name=renamed",
                            "--set", "faults=[]")
    assert (status, out) == (0, "ok: renamed (diskless, 3 regions, 0 faults)\n")


def test_strategies_lists_the_registry(capsys):
    status, out, err = geosim(capsys, "strategies")
    assert status == 0 and err == ""
    names = [line.split()[0] for line in out.splitlines()]
    assert "diskless" in names
    line = next(line for line in out.splitlines() if line.startswith("diskless"))
    assert "object storage" in line


def test_strategies_format(capsys, monkeypatch):
    class Quorum:
        description = "write quorum of regional buckets\nmore detail here"

    class Mirror:
        description = "asynchronous mirroring between clusters"

    monkeypatch.setattr(cli_strategies, "strategy_registry",
                        lambda: {"quorum": Quorum, "mm2": Mirror})
    status, out, _ = geosim(capsys, "strategies")
    assert status == 0
    assert out.splitlines() == ["mm2     asynchronous mirroring between clusters",
                                "quorum  write quorum of regional buckets"]


# --- progress ----------------------------------------------------------------------------------

class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_progress_bar_appears_only_after_the_delay():
    clock, stream = FakeClock(), io.StringIO()
    progress = cli_progress.ProgressBar(stream, delay_s=2.0, clock=clock)
    clock.now = 1.9
    progress(10.0, 100.0)
    assert progress.bar is None and stream.getvalue() == ""
    clock.now = 2.1
    progress(20.0, 100.0)
    progress(35.0, 100.0)
    assert progress.bar is not None and progress.bar.n == pytest.approx(35.0)
    assert progress.bar.total == 100.0
    progress.close()
    assert "simulated" in stream.getvalue()


def test_short_run_shows_no_progress(capsys, in_tmp):
    status, out, err = geosim(capsys, "run", str(QUICKSTART), *SHORT, "--out", "o")
    assert status == 0 and err == ""


def test_slow_run_shows_progress_unless_disabled(capsys, in_tmp, monkeypatch):
    monkeypatch.setattr(cli_progress, "PROGRESS_DELAY_S", 0.0)  # every run counts as slow
    status, _, err = geosim(capsys, "run", str(QUICKSTART), *SHORT, "--out", "o")
    assert status == 0 and "simulated:" in err and "/50 s" in err
    for disable in (["--no-progress"], ["--quiet"], ["--set", "simulation.progress=false"]):
        status, _, err = geosim(capsys, "run", str(QUICKSTART), *SHORT, "--out", "o",
                                *disable)
        assert status == 0 and err == "", disable


# --- end to end ----------------------------------------------------------------------------------

def test_run_end_to_end(capsys, in_tmp):
    status, out, err = geosim(capsys, "run", str(QUICKSTART), *SHORT, "--seed", "5",
                              "--no-progress")
    assert status == 0, err
    assert err == ""
    target = in_tmp / "results" / "quickstart" / "seed-5"
    lines = out.splitlines()
    assert lines[0].split()[:6] == ["scenario", "quickstart", "strategy", "diskless", "seed",
                                    "5"]
    assert "fault    region-outage us-west2 at 20.0s for 10.0s" in out
    assert "Publish latency (send to ack)" in out and "Network bytes" in out
    assert lines[-1] == f"results: {target}"
    assert {p.name for p in target.iterdir()} == {
        "summary.json", "scenario.yaml", "run-info.json", "timeseries.csv", "latency.csv",
        "latency-cdf.csv", "timeline.png", "latency.png", "bytes.png", "bytes-pairs.png"}
    summary = json.loads((target / "summary.json").read_text())
    assert (summary["scenario"], summary["seed"], summary["simulated_seconds"]) == (
        "quickstart", 5, 50.0)
    assert summary["faults"] == [{"kind": "region-outage", "target": "us-west2",
                                  "start": 20.0, "end": 30.0}]
    assert "wall_seconds" in json.loads((target / "run-info.json").read_text())

    # same seed, same bytes; --quiet prints only the path
    status, out, _ = geosim(capsys, "run", str(QUICKSTART), *SHORT, "--seed", "5",
                            "--quiet", "--out", "again")
    assert status == 0 and out == f"{in_tmp / 'again'}\n"
    assert (in_tmp / "again" / "summary.json").read_bytes() == \
        (target / "summary.json").read_bytes()


def test_console_script_exit_status(in_tmp):
    (in_tmp / "bad.yaml").write_text("name: [unclosed\n")
    proc = subprocess.run([sys.executable, "-m", "geosim.cli", "validate", "bad.yaml"],
                          capture_output=True, text=True, cwd=in_tmp, timeout=120)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("geosim: error: bad.yaml:")


def test_python_dash_m_geosim_runs_the_command():
    proc = subprocess.run([sys.executable, "-m", "geosim", "strategies"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "diskless" in proc.stdout and "stretch" in proc.stdout


def test_python_dash_m_geosim_help(monkeypatch):
    """``python -m geosim --help`` and ``python -m geosim.cli --help`` print the command's
    help, the same as the ``geosim`` console script's parser."""
    env = {**os.environ, "COLUMNS": "100"}
    monkeypatch.setenv("COLUMNS", "100")
    expected = cli.build_parser().format_help()
    for module in ("geosim", "geosim.cli"):
        proc = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True,
                              text=True, env=env, timeout=120)
        assert (proc.returncode, proc.stderr) == (0, ""), module
        assert proc.stdout == expected, module
    assert expected.startswith("usage: geosim ")
    listed = [line.split()[0] for line in expected.splitlines() if line.startswith("    ")
              and not line.startswith("     ")]
    assert listed == ["run", "validate", "cost", "strategies", "sweep", "compare", "advise",
                      "calibrate"]
