"""The plug-in protocol, proved by a strategy that lives only under tests/.

``tests/plugin_strategy`` holds the ``single-log`` strategy (one broker holds every
partition, no replication) and a ``.dist-info`` folder declaring it as an entry point of
the ``geosim.strategies`` group. With that folder on the path, geosim finds it like any
installed plug-in: the scenario schema accepts its block, ``geosim strategies`` lists it,
``geosim run`` and ``geosim compare`` run it, the reference gets its table and property
searches use its generator and probe. No file of ``geosim/`` names it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from geosim.scenario import plugins
from geosim.scenario.errors import ScenarioError

HERE = Path(__file__).resolve().parent
PLUGIN_DIR = HERE / "plugin_strategy"
SCENARIO = PLUGIN_DIR / "single-log.yaml"
GEOSIM = HERE.parent / "geosim"
CLI = "import sys; from geosim.cli import main; sys.exit(main())"


@pytest.fixture
def single_log(monkeypatch):
    """The test plug-in installed (its folder on the path, entry points read again)."""
    monkeypatch.syspath_prepend(str(PLUGIN_DIR))
    plugins.rediscover()
    yield plugins.plugin("single-log")
    monkeypatch.undo()
    for name in [m for m in sys.modules if m.startswith("geosim_singlelog")]:
        del sys.modules[name]
    plugins.rediscover()


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(PLUGIN_DIR), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    return subprocess.run([sys.executable, "-c", CLI, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def test_geosim_names_no_test_strategy():
    for path in GEOSIM.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "single-log" not in text and "singlelog" not in text, path


def test_entry_point_registers_the_plugin(single_log):
    assert single_log.name == "single-log"
    assert single_log.load("model").__name__ == "SingleLogStrategy"
    from geosim.scenario.loader import load_scenario
    scenario = load_scenario(SCENARIO)
    assert scenario.strategy.name == "single-log"
    assert scenario.strategy.home == "us-west1-a"


def test_without_the_plugin_the_block_is_refused():
    from geosim.scenario.loader import load_scenario
    with pytest.raises(ScenarioError) as info:
        load_scenario(SCENARIO)
    assert "strategy" in str(info.value) and "single-log" in str(info.value)


def test_plugin_checks_run_with_one_line_errors(single_log):
    from geosim.scenario.loader import load_scenario
    with pytest.raises(ScenarioError) as info:
        load_scenario(SCENARIO, ["strategy.home=us-west9-a"])
    message = str(info.value)
    assert "\n" not in message
    assert "single-log.yaml: strategy.home:" in message and "us-west9-a" in message


def test_reference_includes_the_plugin(single_log):
    from geosim.scenario.reference import render_reference
    text = render_reference()
    assert "### `name: single-log`" in text
    assert "`strategy.home`" in text
    assert "### single-log events" in text


def test_region_outage_and_destruction(single_log):
    from geosim.runner import run
    from geosim.scenario.loader import load_scenario

    outage = run(load_scenario(SCENARIO)).summary
    # The broker's region was out for 30 s: nothing acknowledged was lost, every
    # acknowledged record was delivered once the broker came back (the consumers that
    # restarted there read again from their group's last commit: new members), and
    # producers in both regions waited for it.
    assert outage["loss"]["lost_records"] == 0
    again = outage["checks"]["redelivered_after_rebalance"]
    assert again > 0 and outage["checks"]["duplicates"] == 0
    assert outage["records"]["acked"] == outage["records"]["delivered"] - again > 0
    assert outage["rto"]["us-west2"]["producers"]["longest_gap"] == pytest.approx(30, abs=1)

    destroyed = run(load_scenario(SCENARIO, [
        "faults[0]={kind: region-destruction, region: us-west1, at: 20s}"])).summary
    # With the only copy destroyed, everything acknowledged before the fault is lost,
    # from both regions' producers: every acknowledged record (nothing is acknowledged
    # after), about 2,000 records/s over the 20 s before the destruction.
    lost = destroyed["loss"]
    assert lost["lost_records"] == destroyed["records"]["acked"]
    assert 2_000 * 19 <= lost["lost_records"] <= 2_000 * 20
    assert set(lost["by_region"]) == {"us-west1", "us-west2"}
    assert 19 <= lost["rpo_seconds"] <= 20


def test_geosim_run_and_strategies_on_the_command_line(tmp_path):
    listed = _cli("strategies", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "single-log" in listed.stdout
    ran = _cli("run", str(SCENARIO), "--set", "simulation.duration=40s", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    summaries = list(tmp_path.glob("results/single-log-outage/seed-*/summary.json"))
    assert len(summaries) == 1
    summary = json.loads(summaries[0].read_text())
    assert summary["strategy"] == "single-log"
    assert summary["records"]["acked"] > 0


def test_geosim_compare_runs_it_next_to_diskless(tmp_path):
    done = _cli("compare", str(SCENARIO), "--strategies", "single-log,diskless",
                "--set", "simulation.duration=40s", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    reports = list(tmp_path.glob("results/single-log-outage/compare-seed-*/*.md"))
    assert reports, done.stdout
    text = reports[0].read_text()
    assert "single-log" in text and "diskless" in text


def test_claim_search_finds_the_loss(single_log, tmp_path):
    from hypothesis import HealthCheck, settings

    from geosim.testing import (
        configs,
        find_counterexample,
        no_acked_loss,
        region_faults,
        scenarios,
        simulations,
        workloads,
    )

    space = scenarios(configs("single-log"), faults=region_faults(["region-destruction"]),
                      workload=workloads(partitions=(1, 2), rate=(100, 200)),
                      simulation=simulations(duration=(30, 30), drain=30))
    found = find_counterexample(
        no_acked_loss(), space, directory=str(tmp_path), quiet=True, max_examples=5,
        settings=settings(derandomize=True, database=None, deadline=None,
                          suppress_health_check=list(HealthCheck)))
    assert "acknowledged" in str(found.violation) or found.violation is not None
    assert found.data["strategy"]["name"] == "single-log"
    assert [f["kind"] for f in found.data["faults"]] == ["region-destruction"]
    # The counterexample is a scenario file of the plug-in's strategy that replays.
    assert "single-log" in Path(found.path).read_text()


def test_a_plugin_contributes_a_report_section(single_log, tmp_path):
    """The ``log`` section of tests/plugin_strategy (geosim.metrics.sections): its fold
    sees the run's events, and its figures reach the summary, the time series, the
    results directory, the loader, the sweep row, the table and the plots, while
    geosim names neither the strategy nor the section."""
    from geosim.output import format_summary, load_run, write_results
    from geosim.runner import run
    from geosim.scenario.loader import load_scenario

    result = run(load_scenario(SCENARIO, ["simulation.duration=30s"]), 0)
    section = result.summary["log"]
    # The section's fold and the core's count the same acknowledgements.
    assert section["acked_records"] == result.summary["records"]["acked"] > 0
    series = result.report.timeseries
    mine = series[(series["region"] == "log") & (series["metric"] == "log_acked_records")]
    assert mine["value"].sum() == section["acked_records"]
    assert result.to_row()["log.acked_records"] == section["acked_records"]
    assert "Single log  " in format_summary(result.summary)

    out = write_results(result, tmp_path / "run", plots=True)
    assert (out / "log-acks.csv").is_file() and (out / "log-acks.png").is_file()
    assert not (out / "bytes-pairs.png").exists()   # the section stands in for it
    assert (out / "timeline.png").is_file()
    saved = load_run(out)
    assert saved.to_dataframe("log").equals(result.to_dataframe("log"))
    assert saved.to_row() == result.to_row()
    with pytest.raises(ValueError, match="or a report section .*'log'"):
        result.to_dataframe("nonsense")
    assert not (GEOSIM / "output").joinpath("log-acks.csv").exists()
    for path in GEOSIM.rglob("*.py"):
        assert "log-acks" not in path.read_text(encoding="utf-8"), path


def test_a_section_may_not_take_a_core_summary_key(single_log, monkeypatch):
    from geosim_singlelog.section import LogSection

    from geosim.runner import run
    from geosim.scenario.loader import load_scenario

    monkeypatch.setattr(LogSection, "name", "loss")
    with pytest.raises(ValueError, match="report section 'loss'"):
        run(load_scenario(SCENARIO, ["simulation.duration=25s"]), 0)
