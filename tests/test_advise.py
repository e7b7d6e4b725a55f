"""``geosim advise``: the objectives file's checks, the advised design rerun from its
written scenario files, demotion by the property search, an infeasible objective set and
its nearest misses, the run cache, NSGA-II's determinism, and a kill -9 midway.

The case is scenarios/advise-small.yaml shortened (60 s, 1,000 messages/s) with diskless
designs only (bucket x flush interval: 4 candidates), whose runs take a fraction of a
second each."""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from geosim import cli
from geosim.advise import advise, load_objectives, objectives_from_dict
from geosim.advise.verdict import measures, steady_values
from geosim.runner import run
from geosim.scenario.errors import ScenarioError
from geosim.scenario.loader import load_scenario

REPO = Path(__file__).resolve().parents[1]
SCENARIO = REPO / "scenarios" / "advise-small.yaml"
SHORT = ("simulation.duration=60s", "simulation.drain=20s", "workload.omb.producerRate=1000")
QUORUM = ["object_store.kind=regional", "object_store.regions=[us-west1, us-west2, us-west3]",
          "strategy.write_quorum=2"]

#: Survive a 20 s outage of us-west2 with nothing lost; the declared failure set of the
#: property search also holds destructions of us-west2, which a multi-region bucket's
#: replication window turns into loss.
OBJECTIVES = {
    "failures": [{"name": "us-west2-outage", "faults": [
        {"kind": "region-outage", "region": "us-west2", "at": "30s", "duration": "20s"}]}],
    "limits": {"rpo": {"records": 0, "seconds": 0}, "rto": {"producers": "15s"},
               "publish_p99": {"steady": "1s"}, "e2e_p99": {"during": "60s"},
               "budget": 5000},
    "designs": {"diskless": {"variant": "diskless", "vary": {
        "bucket": {"multi-region": [], "quorum-2-of-3": QUORUM},
        "strategy.flush_interval": ["100ms", "250ms"]}}},
    "search": {"method": "grid", "seeds": [1, 2], "population": 4, "generations": 1,
               "steady_duration": "20s", "steady_drain": "5s"},
    "property_search": {"kinds": ["region-destruction"], "regions": ["us-west2"],
                        "at": ["25s", "40s"], "examples": 3},
}


def write_objectives(tmp_path: Path, data: dict, name: str = "objectives.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def advised(tmp_path_factory):
    """One advise run of the small case (in this process); its advice and directory."""
    out = tmp_path_factory.mktemp("advise")
    objectives = objectives_from_dict(copy.deepcopy(OBJECTIVES), "objectives.yaml")
    return advise(SCENARIO, objectives, out, overrides=SHORT), out


# --- the objectives file ----------------------------------------------------------------

def test_the_example_objectives_file_loads():
    objectives = load_objectives(REPO / "scenarios" / "objectives/advise-small.yaml")
    assert [d.name for d in objectives.designs] == ["diskless", "stretch", "mirrormaker2"]
    assert objectives.limits.budget == 3500
    destroyed = objectives.failures[2]
    assert destroyed.limits.e2e_p99_during == 60 and objectives.limits.e2e_p99_during == 50
    assert destroyed.limits.rpo_records == 0   # the top-level limits apply too


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["limits"].update(budget="lots"),
     "objectives.yaml: limits.budget: must be a number, got 'lots'"),
    (lambda d: d["limits"]["rpo"].update(seconds="1 fortnight"),
     "objectives.yaml: limits.rpo.seconds: must be a duration (e.g. 30s, 500ms), got "
     "'1 fortnight'"),
    (lambda d: d["limits"].update(latency=1),
     "objectives.yaml: limits.latency: unknown field; expected one of: rpo, rto, "
     "publish_p99, e2e_p99, budget"),
    (lambda d: d["failures"][0].update(faults=[]),
     "objectives.yaml: failures[0].faults: must be a non-empty list of faults (as in a "
     "scenario's faults:), got []"),
    (lambda d: d["search"].update(seeds=[1, 1]),
     "objectives.yaml: search.seeds: must be a list of distinct non-negative integers, "
     "got [1, 1]"),
    (lambda d: d["designs"]["diskless"]["vary"].update({"strategy.flush_interval": []}),
     "objectives.yaml: designs.diskless.vary.strategy.flush_interval: must list at least "
     "one value, got []"),
    (lambda d: d["search"].update(method="annealing"),
     "objectives.yaml: search.method: must be auto, nsga2 or grid, got 'annealing'"),
    (lambda d: d["property_search"].update(kinds=["zone-outage"]),
     "objectives.yaml: property_search.kinds: must be a list of region-outage, "
     "region-destruction, got ['zone-outage']"),
])
def test_objectives_errors_are_one_line(edit, message):
    data = copy.deepcopy(OBJECTIVES)
    edit(data)
    with pytest.raises(ScenarioError) as caught:
        objectives_from_dict(data, "objectives.yaml")
    assert str(caught.value) == message


def test_cli_refuses_a_knob_the_scenario_lacks(tmp_path, capsys):
    data = copy.deepcopy(OBJECTIVES)
    data["designs"]["diskless"]["vary"] = {"strategy.flush_intervall": ["100ms"]}
    status = cli.main(["advise", str(SCENARIO), "--objectives",
                       str(write_objectives(tmp_path, data)), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1
    assert "strategy.flush_intervall" in err and "(design diskless (strategy." in err
    assert not (tmp_path / "o").exists()


# --- the answer -------------------------------------------------------------------------

def test_advised_design_meets_every_objective_when_rerun_from_its_files(advised):
    advice, out = advised
    objectives = advice.objectives
    winner = advice.evaluation(advice.winner)
    assert winner.feasible and winner.candidate.labels[0] == ("bucket", "quorum-2-of-3")
    folder = out / "designs" / winner.id
    steady, failures = {}, {"us-west2-outage": {}}
    for seed in objectives.search.seeds:
        steady[seed] = run(load_scenario(folder / "steady.yaml"), seed=seed).summary
        failures["us-west2-outage"][seed] = run(load_scenario(folder / "us-west2-outage.yaml"),
                                                seed=seed).summary
    again = measures(steady, failures, objectives.limits, objectives.failures)
    assert all(m.met for m in again), [(m.name, m.value, m.limit) for m in again if not m.met]
    # the numbers are the search's own: the same runs
    assert [(m.name, m.by_seed) for m in again] == [(m.name, m.by_seed)
                                                    for m in winner.measures]
    assert steady_values(steady[1])["cost"] == winner.measure("cost").by_seed[1]
    # scenario.yaml is the design under the scenario's own faults
    own = load_scenario(folder / "scenario.yaml")
    assert own.object_store.kind == "regional" and own.strategy.write_quorum == 2
    assert [f.kind for f in own.faults] == ["region-outage"]


def test_property_search_demotes_a_design_a_destruction_breaks(advised):
    advice, out = advised
    first, second = advice.robustness
    cheapest = advice.evaluation(first.candidate_id)
    assert advice.feasible[0].id == first.candidate_id != advice.winner
    assert dict(cheapest.candidate.labels)["bucket"] == "multi-region"
    assert first.broken and "rpo.records" in first.violation
    assert first.counterexample.parent == out / "counterexamples"
    replayed = run(load_scenario(first.counterexample)).summary
    kinds = {f["kind"] for f in replayed["faults"]}
    assert kinds == {"region-destruction"} and replayed["loss"]["lost_records"] > 0
    assert not second.broken and second.candidate_id == advice.winner
    frame = advice.frame
    assert frame.set_index("id").loc[first.candidate_id, "demoted"]
    assert frame["winner"].sum() == 1
    report = (out / "report.md").read_text()
    assert f"Property search of `{first.candidate_id}`: **broken**" in report
    assert f"**Advised design: `{advice.winner}`" in report
    assert (out / "front.png").stat().st_size > 0


def test_table_and_front(advised):
    advice, out = advised
    frame = pd.read_csv(out / "advice.csv")
    assert len(frame) == 4 and set(frame["status"]) == {"evaluated"}
    assert {"knob.bucket", "knob.strategy.flush_interval", "cost", "rpo_seconds",
            "binding", "rto.producers@us-west2-outage.margin"} <= set(frame.columns)
    front = set(frame[frame["front"]]["id"])
    assert front == set(advice.front) and advice.winner is not None
    points = frame.set_index("id")[["cost", "rpo_seconds", "latency"]]
    for cid in front:   # nothing evaluated is at least as good everywhere and better once
        p = points.loc[cid]
        assert not any((q <= p).all() and (q < p).any() for _, q in points.iterrows())


def test_infeasible_objectives_report_the_nearest_misses(tmp_path, capsys):
    """A zero RPO under a destruction, with only the multi-region bucket allowed: every
    design loses data; the report and the command say so and name what was missed."""
    data = copy.deepcopy(OBJECTIVES)
    data["failures"] = [{"name": "us-west2-destroyed", "faults": [
        {"kind": "region-destruction", "region": "us-west2", "at": "30s"}]}]
    data["designs"]["diskless"]["vary"]["bucket"] = {"multi-region": []}
    data["limits"]["budget"] = 3200
    data["search"]["seeds"] = [1]
    data.pop("property_search")
    out = tmp_path / "out"
    status = cli.main(["advise", str(SCENARIO), "--objectives",
                       str(write_objectives(tmp_path, data)), "--out", str(out),
                       *(a for item in SHORT for a in ("--set", item))])
    printed = capsys.readouterr().out
    assert status == 3
    assert "infeasible: no design meets every objective; nearest misses:" in printed
    report = (out / "report.md").read_text()
    assert "**Infeasible: no design meets every objective.**" in report
    frame = pd.read_csv(out / "advice.csv").set_index("id")
    assert not frame["feasible"].any()
    # the 250 ms design is within budget and only loses data; the 100 ms one costs more
    evaluated = frame[frame["status"] == "evaluated"]
    assert len(evaluated) >= 1 and (evaluated["rpo.records@us-west2-destroyed"] > 0).all()
    for cid, row in frame.iterrows():
        assert cid in report
        if row["status"] == "screened-out":
            assert "cost $" in row["reason"] and "> $3,200/month" in row["reason"]
    misses = report.split("Nearest misses")[1].split("##")[0]
    assert "rpo.records@us-west2-destroyed" in misses


# --- cache, determinism, kill -----------------------------------------------------------

def test_nsga2_is_deterministic_and_a_rerun_reuses_every_run(tmp_path):
    data = copy.deepcopy(OBJECTIVES)
    data.pop("property_search")
    data["search"].update(method="nsga2", population=3, generations=2, seeds=[1])
    objectives = objectives_from_dict(data, "objectives.yaml")
    first = advise(SCENARIO, objectives, tmp_path, overrides=SHORT, write=False)
    again = advise(SCENARIO, objectives, tmp_path, overrides=SHORT, write=False)
    assert first.log.method == "nsga2" and first.log.asked == 6
    assert again.log.generations == first.log.generations
    assert first.counts.executed > 0 and again.counts.executed == 0
    assert again.counts.cached == first.counts.executed + first.counts.cached
    assert [e.cost for e in again.evaluations] == [e.cost for e in first.evaluations]


def test_a_killed_advise_loses_and_repeats_no_run(advised, tmp_path):
    """kill -9 the command once a few runs are stored; the rerun executes only the
    others (one timing line per run, none twice) and writes the same table as the
    uninterrupted search."""
    advice, reference = advised
    objectives = write_objectives(tmp_path, copy.deepcopy(OBJECTIVES))
    out = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    cmd = [sys.executable, "-m", "geosim.cli", "advise", str(SCENARIO), "--objectives",
           str(objectives), "--out", str(out),
           *(a for item in SHORT for a in ("--set", item))]
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=env)
    runs = out / "cache" / "runs"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if runs.exists() and sum(not d.name.startswith(".") for d in runs.iterdir()) >= 3:
            break
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {d.name for d in runs.iterdir() if not d.name.startswith(".")}
    total = advice.counts.executed
    assert 3 <= len(before) < total, "the search must be killed midway"
    again = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert again.returncode == 0, again.stderr
    assert f"{total - len(before)} runs executed, {len(before)} from the cache" in again.stdout
    timings = pd.read_csv(out / "cache" / "timings.csv")
    assert timings["run_id"].is_unique and len(timings) == total
    after = {d.name for d in runs.iterdir() if not d.name.startswith(".")}
    assert set(timings["run_id"]) == after and len(after) == total
    assert (out / "advice.csv").read_text() == (reference / "advice.csv").read_text()


def test_the_report_says_which_designs_ran_coarser_than_the_reference(advised):
    """Designs whose runs were coarser than the reference resolution (summary.json's
    ``resolution``, e.g. a Kafka send tick of 50 ms) are named with the latency caveat;
    diskless runs have no such setting, so the small case's report has no note."""
    from geosim.advise.report import format_report

    advice, _out = advised
    assert all(e.resolution == {} for e in advice.evaluations)
    assert "Coarser than the reference" not in format_report(advice)
    coarse = copy.copy(advice)
    coarse.evaluations = [copy.copy(e) for e in advice.evaluations]
    coarse.evaluations[0].resolution = {"send_tick": 0.05}
    text = format_report(coarse)
    assert (f"Coarser than the reference resolution: {coarse.evaluations[0].id} at send "
            f"tick 50ms.") in text
    assert "Latency objectives are not settled for these designs" in text
