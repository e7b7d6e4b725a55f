"""Sweeps: planning, executors (local processes and a real local Dask cluster), the run
store's skip-on-rerun, failure recording and interruption, and the command line."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from geosim import cli
from geosim.output.frames import load_run, load_sweep
from geosim.runner import run
from geosim.scenario.loader import load_scenario
from geosim.sweep import worker
from geosim.sweep.driver import run_sweep, sweep
from geosim.sweep.executors import LocalExecutor
from geosim.sweep.grid import GridError, parse_factor, parse_factors, parse_seeds, plan
from geosim.sweep.store import SweepStore
from geosim.version import RESULTS_REVISION

REPO = Path(__file__).resolve().parents[1]
QUICKSTART = REPO / "scenarios" / "quickstart.yaml"
#: A 30 s quickstart with a 10 s outage: a run takes well under a second.
SHORT = ("simulation.duration=30s", "simulation.warmup=5s", "simulation.drain=5s",
         "faults[0].at=10s", "faults[0].duration=10s")
GRID = ["strategy.flush_interval=100ms,250ms"]
SEEDS = "1-3"


def small_plan():
    return plan(QUICKSTART, parse_factors(GRID), parse_seeds(SEEDS), SHORT)


def files_in(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


# --- planning -------------------------------------------------------------------------

@pytest.mark.parametrize("text, seeds", [("1-3", [1, 2, 3]), ("7", [7]),
                                         ("5,1-2,2", [1, 2, 5]), ("0-0", [0])])
def test_parse_seeds(text, seeds):
    assert parse_seeds(text) == seeds


@pytest.mark.parametrize("text", ["", "a", "3-1", "1-", "-2", "1,,2", "1-2-3"])
def test_malformed_seeds(text):
    with pytest.raises(GridError, match="--seeds"):
        parse_seeds(text)


def test_seed_ranges_are_bounded_before_they_are_built():
    with pytest.raises(GridError, match=r"--seeds 1-100000000: 100,000,000 seeds, more "
                       r"than the 1,000,000 runs a sweep may have \(--max-runs N"):
        parse_seeds("1-100000000")
    with pytest.raises(GridError, match="10,000,000,000,000,000,001 seeds"):
        parse_seeds("0-10000000000000000000")
    with pytest.raises(GridError, match="3 seeds, more than the 2 runs"):
        parse_seeds("1-3", max_runs=2)
    assert parse_seeds("0-5,3-8", max_runs=9) == list(range(9))  # overlaps count once
    assert len(parse_seeds("1-2000000", max_runs=None)) == 2_000_000


def test_a_plan_of_too_many_runs_is_refused_before_any_point_is_loaded():
    factors = parse_factors(["strategy.flush_interval=100ms,250ms,1s"])
    with pytest.raises(GridError, match=r"the sweep has 9 runs \(3 grid points x 3 seeds\), "
                       r"more than 8 \(--max-runs N"):
        plan(REPO / "no-such-file.yaml", factors, [1, 2, 3], max_runs=8)


def test_parse_factor_keeps_bracketed_values_whole():
    factor = parse_factor("object_store.regions=[us-west1, us-west2],[us-west1,us-west3]")
    assert factor.values == ("[us-west1, us-west2]", "[us-west1,us-west3]")
    assert factor.parsed() == [["us-west1", "us-west2"], ["us-west1", "us-west3"]]


@pytest.mark.parametrize("text", ["strategy.flush_interval", "=1,2", "a=1,,2", "a=1,1"])
def test_malformed_factor(text):
    with pytest.raises(GridError, match="--grid"):
        parse_factor(text)


def test_plan_is_the_cartesian_product_in_order():
    specs = plan(QUICKSTART, parse_factors([*GRID, "strategy.flush_bytes=1MiB,2MiB"]),
                 [4, 2], SHORT)
    assert [(dict(s.factors)["strategy.flush_interval"], dict(s.factors)["strategy.flush_bytes"],
             s.seed) for s in specs] == [
        (fi, fb, seed) for fi in ("100ms", "250ms") for fb in ("1MiB", "2MiB")
        for seed in (4, 2)]
    # one hash per grid point, shared by its seeds; distinct run ids
    assert len({s.scenario_hash for s in specs}) == 4
    assert len({s.run_id for s in specs}) == 8


# --- results -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def serial_sweep(tmp_path_factory):
    """The small sweep run in this process (jobs=1); reused by several tests."""
    out = tmp_path_factory.mktemp("serial")
    outcome = run_sweep(small_plan(), out, LocalExecutor(1))
    return out, outcome


def test_sweep_table_has_a_row_per_run_with_identification(serial_sweep):
    out, outcome = serial_sweep
    table = load_sweep(out)
    assert len(table) == 6 and outcome.ran == 6 and not outcome.failed
    assert list(table.columns[:3]) == ["strategy.flush_interval", "seed", "run_id"]
    assert table["strategy.flush_interval"].tolist() == ["100ms"] * 3 + ["250ms"] * 3
    assert table["seed"].tolist() == [1, 2, 3] * 2
    assert set(table["status"]) == {"ok"}
    assert table["geosim_version"].nunique() == 1
    assert table.groupby("strategy.flush_interval")["scenario_hash"].nunique().eq(1).all()
    # a real measurement: a shorter flush interval lowers publish latency
    p50 = table.groupby("strategy.flush_interval")["latency.publish.before.p50"].mean()
    assert p50["100ms"] < p50["250ms"]
    pd.testing.assert_frame_equal(pd.read_csv(out / "results.csv"), table,
                                  check_dtype=False)


def test_a_sweep_run_equals_the_same_run_on_its_own(serial_sweep):
    out, _ = serial_sweep
    table = load_sweep(out)
    row = table.iloc[4]
    scenario = load_scenario(QUICKSTART, [*SHORT, "strategy.flush_interval=250ms"])
    direct = run(scenario, 2).summary
    from geosim.output.writer import summary_json
    saved = (out / "runs" / row["run_id"] / "summary.json").read_text()
    assert saved == summary_json(direct)
    assert load_run(out / "runs" / row["run_id"]).summary == direct


def test_two_jobs_give_the_same_table(serial_sweep, tmp_path):
    out, _ = serial_sweep
    run_sweep(small_plan(), tmp_path, LocalExecutor(2))
    assert (tmp_path / "results.csv").read_bytes() == (out / "results.csv").read_bytes()
    pd.testing.assert_frame_equal(load_sweep(tmp_path), load_sweep(out))


def test_rerun_runs_only_the_missing_runs(serial_sweep, tmp_path):
    import shutil
    out, _ = serial_sweep
    shutil.copytree(out, tmp_path / "s")
    specs = small_plan()
    shutil.rmtree(tmp_path / "s" / "runs" / specs[1].run_id)
    shutil.rmtree(tmp_path / "s" / "runs" / specs[5].run_id)
    seen = []

    class Counting(LocalExecutor):
        def map_unordered(self, tasks):
            seen.extend(task["run_id"] for task in tasks)
            return super().map_unordered(tasks)

    again = run_sweep(specs, tmp_path / "s", Counting(1))
    assert sorted(seen) == sorted([specs[1].run_id, specs[5].run_id])
    assert (again.ran, again.skipped) == (2, 4)
    assert (tmp_path / "s" / "results.csv").read_bytes() == (out / "results.csv").read_bytes()


def test_runs_of_another_results_revision_are_run_again(serial_sweep, tmp_path):
    """A fix that moves results bumps ``geosim.version.RESULTS_REVISION``: a resumed
    sweep must not mix stored runs of the old model with new ones."""
    import shutil
    out, _ = serial_sweep
    shutil.copytree(out, tmp_path / "s")
    specs = small_plan()
    row = tmp_path / "s" / "runs" / specs[2].run_id / "row.json"
    stored = json.loads(row.read_text())
    assert stored["results_revision"] == RESULTS_REVISION
    stored["results_revision"] = RESULTS_REVISION - 1
    row.write_text(json.dumps(stored))
    again = run_sweep(specs, tmp_path / "s", LocalExecutor(1))
    assert (again.ran, again.skipped) == (1, 5)
    assert (tmp_path / "s" / "results.csv").read_bytes() == (out / "results.csv").read_bytes()


def test_a_failing_run_is_recorded_and_the_sweep_goes_on(tmp_path, monkeypatch):
    real = worker.run_task

    def flaky(task):
        if task["run_id"].endswith("-seed-2"):
            raise RuntimeError("disk on fire\nsecond line")
        return real(task)

    monkeypatch.setattr(worker, "run_task", flaky)
    outcome = run_sweep(small_plan(), tmp_path, LocalExecutor(1))
    table = load_sweep(tmp_path)
    failed = table[table["status"] == "error"]
    assert len(failed) == 2 and sorted(outcome.failed) == sorted(failed["run_id"])
    assert set(failed["seed"]) == {2}
    assert set(failed["error"]) == {"RuntimeError: disk on fire"}
    assert failed["latency.publish.before.p50"].isna().all()
    assert (table[table["status"] == "ok"]["records.acked"] > 0).all()
    row = json.loads((tmp_path / "runs" / failed["run_id"].iloc[0] / "row.json").read_text())
    assert "disk on fire" in row["traceback"]
    # a rerun retries the failed runs only
    monkeypatch.setattr(worker, "run_task", real)
    again = run_sweep(small_plan(), tmp_path, LocalExecutor(1))
    assert again.ran == 2 and not again.failed
    assert set(load_sweep(tmp_path)["status"]) == {"ok"}


def test_interrupt_keeps_finished_runs_and_nothing_half_written(tmp_path):
    specs = small_plan()

    class Interrupted(LocalExecutor):
        def map_unordered(self, tasks):
            for index, outcome in enumerate(super().map_unordered(tasks)):
                if index == 2:
                    raise KeyboardInterrupt
                yield outcome

    with pytest.raises(KeyboardInterrupt):
        run_sweep(specs, tmp_path, Interrupted(1))
    runs = sorted(p.name for p in (tmp_path / "runs").iterdir())
    assert runs == sorted(s.run_id for s in specs[:2])
    assert not [p for p in tmp_path.rglob("*") if ".tmp" in p.name]
    assert not (tmp_path / "results.parquet").exists()
    for name in runs:
        assert {p.name for p in (tmp_path / "runs" / name).iterdir()} == {
            "row.json", "scenario.yaml", "summary.json"}
    timings = pd.read_csv(tmp_path / "timings.csv")
    assert sorted(timings["run_id"]) == runs  # the interrupted invocation's runs too
    again = run_sweep(specs, tmp_path, LocalExecutor(1))
    assert (again.ran, again.skipped) == (4, 2)
    timings = pd.read_csv(tmp_path / "timings.csv")
    assert sorted(timings["run_id"]) == sorted(s.run_id for s in specs)
    assert list(timings.columns) == ["run_id", "status", "wall_seconds", "worker",
                                     "executor"]
    assert (timings["status"] == "ok").all() and (timings["wall_seconds"] > 0).all()


def test_store_removes_leftovers_of_a_killed_sweep(tmp_path):
    (tmp_path / "runs" / ".abc-seed-1.123.ff.tmp").mkdir(parents=True)
    (tmp_path / ".results.1.tmp.csv").write_text("half")
    SweepStore(tmp_path).open()
    assert files_in(tmp_path) == ["runs"]


def test_store_drops_timing_lines_of_runs_never_stored(tmp_path):
    """A killed sweep may have appended a run's timing line and died before renaming its
    directory into place (or mid-line): reopening keeps only lines of stored runs, so the
    resumed sweep, which runs that run again, does not list it twice."""
    store = SweepStore(tmp_path)
    store.open()
    (store.runs / "aaa-seed-1").mkdir()
    store.append_timing("aaa-seed-1", {"status": "ok", "wall_seconds": 1.5,
                                       "worker": "h:1", "executor": "local, 2 jobs"})
    store.append_timing("bbb-seed-1", {"status": "ok", "wall_seconds": 2.0,
                                       "worker": "h:2", "executor": "local, 2 jobs"})
    with (tmp_path / "timings.csv").open("a") as half:
        half.write("ccc-seed-1,ok,3.")
    SweepStore(tmp_path).open()
    assert (tmp_path / "timings.csv").read_text() == (
        "run_id,status,wall_seconds,worker,executor\n"
        "aaa-seed-1,ok,1.5,h:1,\"local, 2 jobs\"\n")


def test_python_api(tmp_path):
    table = sweep(QUICKSTART, {"strategy.flush_interval": ["100ms"]}, seeds=[1, 2],
                  out=tmp_path, overrides=SHORT)
    assert table["seed"].tolist() == [1, 2] and set(table["status"]) == {"ok"}


# --- Dask -----------------------------------------------------------------------------

@pytest.fixture(scope="session")
def dask_scheduler():
    """A real local Dask cluster (2 worker processes) importing geosim from this tree."""
    distributed = pytest.importorskip("distributed")
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), old]))
    try:
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1,
                                           processes=True, dashboard_address=None,
                                           silence_logs=40)
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH")
        else:
            os.environ["PYTHONPATH"] = old
    yield cluster.scheduler_address
    cluster.close()


def test_dask_cluster_gives_the_same_table(serial_sweep, dask_scheduler, tmp_path, capsys):
    out, _ = serial_sweep
    status = cli.main(["sweep", str(QUICKSTART), "--grid", GRID[0], "--seeds", SEEDS,
                       "--scheduler", dask_scheduler, "--out", str(tmp_path), "--no-progress",
                       *(arg for item in SHORT for arg in ("--set", item))])
    printed = capsys.readouterr().out
    assert status == 0, printed
    assert "dask" in printed and "6 to run" in printed
    assert (tmp_path / "results.csv").read_bytes() == (out / "results.csv").read_bytes()
    pd.testing.assert_frame_equal(load_sweep(tmp_path), load_sweep(out))
    workers = pd.read_csv(tmp_path / "timings.csv")["worker"]
    assert workers.str.contains(":").all() and len(workers) == 6


def test_dask_workers_import_this_tree(dask_scheduler):
    from geosim.sweep.executors import DaskExecutor

    executor = DaskExecutor(dask_scheduler)
    try:
        assert executor.worker_paths == [str(REPO / "geosim")]
    finally:
        executor.close()


# --- command line -----------------------------------------------------------------------

def sweep_cli(capsys, *argv):
    status = cli.main(["sweep", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize("args, fragment", [
    (["--grid", "strategy.bogus=1,2"], "strategy.bogus: unknown field"),
    (["--grid", "strategy.flush_interval"], "expected KEY=V1,V2"),
    (["--grid", "strategy.flush_interval=-1s,1s"], "grid point strategy.flush_interval=-1s"),
    (["--seeds", "1-x"], "--seeds 1-x"),
    (["--seeds", "5-2"], "--seeds 5-2"),
    (["--jobs", "0"], "--jobs"),
    (["--seeds", "1-100000000"], "--seeds 1-100000000: 100,000,000 seeds"),
    (["--seeds", "1-3", "--max-runs", "2"], "3 seeds, more than the 2 runs"),
    (["--grid", "strategy.flush_interval=1s,2s", "--seeds", "1-3", "--max-runs", "5"],
     "the sweep has 6 runs (2 grid points x 3 seeds), more than 5"),
    (["--max-runs", "0"], "--max-runs"),
    # passes the schema, fails the checks the build needs: refused before any run
    (["--grid", "strategy.brokers={us-west1: 2, us-west2: 2},{us-west1: 2, us-west2-a: 2}"],
     "workload.producers.us-west2: places producers in zone us-west2-b, which has no "
     "broker (strategy.brokers places them in us-west1-a, us-west1-b, us-west2-a); "
     "diskless producers write to a broker of their own zone (grid point "
     "strategy.brokers={us-west1: 2, us-west2-a: 2})"),
])
def test_bad_input_is_one_line_and_writes_nothing(capsys, tmp_path, args, fragment):
    status, out, err = sweep_cli(capsys, str(QUICKSTART), *args, "--out",
                                 str(tmp_path / "s"))
    assert status == 2 and out == ""
    assert err.startswith("geosim: error: ") and err.count("\n") == 1
    assert fragment in err
    assert not (tmp_path / "s").exists()


def test_cli_sweep_and_rerun(capsys, tmp_path):
    argv = [str(QUICKSTART), "--grid", "strategy.flush_interval=100ms", "--seeds", "1-2",
            "--out", str(tmp_path), "--no-progress",
            *(arg for item in SHORT for arg in ("--set", item))]
    status, out, _ = sweep_cli(capsys, *argv)
    assert status == 0 and "0 already done, 2 to run" in out
    assert f"results: {tmp_path / 'results.parquet'}" in out
    status, out, _ = sweep_cli(capsys, *argv)
    assert status == 0 and "2 already done, 0 to run" in out and "done: 0 run, 2 skipped" in out
    assert json.loads((tmp_path / "sweep.json").read_text())["seeds"] == [1, 2]


def test_module_entry_point_reports_sweep_errors_as_user_errors(tmp_path):
    """``python -m geosim.cli`` (geosim/cli/__main__.py): sweep errors still exit 2."""
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-m", "geosim.cli", "sweep", str(QUICKSTART),
                           "--seeds", "2-1", "--out", str(tmp_path / "s")],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == "geosim: error: --seeds 2-1: '2-1' is not a range of " \
                          "non-negative integers N-M with N <= M\n"


def test_progress_bar_counts_runs_with_an_eta(capsys, tmp_path):
    status, out, err = sweep_cli(capsys, str(QUICKSTART), "--seeds", "1-2", "--out",
                                 str(tmp_path), *(arg for item in SHORT
                                                  for arg in ("--set", item)))
    assert status == 0
    assert "sweep: 100%" in err and "2/2" in err
    assert "run/s" in err or "s/run" in err
    assert "<" in err  # tqdm's elapsed<remaining


def test_a_sweep_killed_midway_finishes_only_the_missing_runs(serial_sweep, tmp_path):
    """SIGKILL (no cleanup at all) the command-line sweep of the small plan once a few
    runs are stored; the rerun skips them, leaves no temporary file, and its table equals
    the uninterrupted sweep's byte for byte."""
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "geosim.cli", "sweep", str(QUICKSTART), "--grid", *GRID,
           "--seeds", SEEDS, "--jobs", "2", "--out", str(out), "--no-progress",
           *[arg for item in SHORT for arg in ("--set", item)]]
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    runs = out / "runs"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if runs.exists() and sum(not d.name.startswith(".") for d in runs.iterdir()) >= 2:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = sum(not d.name.startswith(".") for d in runs.iterdir())
    assert 2 <= done < 6, "the sweep must be killed midway"
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert f"{done} already done, {6 - done} to run" in again.stdout + again.stderr
    assert not [p for p in out.rglob("*") if p.name.startswith(".") and p.name.endswith(
        ".tmp")]
    reference, _ = serial_sweep
    assert (out / "results.csv").read_bytes() == (reference / "results.csv").read_bytes()
    # every stored run has its timing line, once, the killed invocation's ones included
    timings = pd.read_csv(out / "timings.csv")
    assert sorted(timings["run_id"]) == sorted(load_sweep(reference)["run_id"])


def _children(pid: int) -> list[int]:
    """Live (not zombie) processes whose parent is ``pid``, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == pid and state != "Z":
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_workers_exit_when_the_sweep_is_killed(tmp_path):
    """kill -9 of a ``--jobs 2`` sweep (the parent only, not its process group): its
    worker processes exit within a few seconds instead of waiting on their pipe."""
    import signal
    import subprocess
    import sys
    import time

    long_runs = ("simulation.duration=600s", "simulation.warmup=5s", "simulation.drain=5s",
                 "faults[0].at=10s", "faults[0].duration=10s")
    cmd = [sys.executable, "-m", "geosim", "sweep", str(QUICKSTART), "--seeds", "1-4",
           "--jobs", "2", "--out", str(tmp_path / "s"), "--no-progress",
           *[arg for item in long_runs for arg in ("--set", item)]]
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None and len(workers) < 2:
            workers = _children(proc.pid)
            time.sleep(0.1)
        assert len(workers) >= 2, "the sweep must have started its two workers"
        time.sleep(0.5)  # the workers are running their first tasks
        workers = _children(proc.pid)  # all of them (a resource tracker would count too)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(_alive(w) for w in workers):
            time.sleep(0.1)
        assert not [w for w in workers if _alive(w)]
    finally:
        for pid in [proc.pid, *workers]:  # only what this test started
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        proc.wait()


def test_a_worker_exits_once_its_parent_changes():
    """The portable fallback: the watcher thread ends the process once ``os.getppid()``
    is no longer the parent it started with (here, a parent that never was)."""
    import subprocess
    import sys
    import time

    code = ("import threading, time\n"
            "from geosim.sweep import executors\n"
            "executors.PARENT_CHECK_INTERVAL = 0.05\n"
            "threading.Thread(target=executors._watch_parent, args=(-1,), daemon=True)"
            ".start()\n"
            "time.sleep(30)\n")
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-c", code], timeout=20)
    assert done.returncode == 1 and time.monotonic() - start < 15
