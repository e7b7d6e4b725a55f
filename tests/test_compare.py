"""Comparisons: variants from a scenario's compare: block, the report's numbers against
the individual runs, the cost hook, and one-line errors."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
import yaml

from geosim import cli
from geosim.compare import checks, report_markdown, resolve_variants
from geosim.output.frames import load_run, summary_row
from geosim.runner import run
from geosim.scenario.errors import ScenarioError
from geosim.scenario.loader import load_scenario

REPO = Path(__file__).resolve().parents[1]
QUICKSTART = REPO / "scenarios" / "quickstart.yaml"
SHORT = ("simulation.duration=30s", "simulation.warmup=5s", "simulation.drain=5s",
         "faults[0].at=10s", "faults[0].duration=10s")
VARIANTS = ["diskless-bucket", "diskless-quorum"]


def with_compare(tmp_path: Path, block) -> Path:
    data = yaml.safe_load(QUICKSTART.read_text())
    data["compare"] = block
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_variants_share_everything_but_the_strategy_and_their_overrides():
    bucket, quorum = resolve_variants(QUICKSTART, VARIANTS, SHORT, seed=3)
    assert bucket.scenario == load_scenario(QUICKSTART, SHORT, seed=3)
    assert quorum.scenario.strategy.write_quorum == 2
    assert quorum.scenario.object_store.kind == "regional"
    for field in ("workload", "topology", "faults", "simulation", "metadata"):
        assert getattr(bucket.scenario, field) == getattr(quorum.scenario, field)


def test_the_scenarios_own_strategy_name_is_the_scenario_as_written():
    (own,) = resolve_variants(QUICKSTART, ["diskless"])
    assert own.scenario == load_scenario(QUICKSTART)


def test_run_ignores_the_compare_block():
    assert load_scenario(QUICKSTART).name == "quickstart"


@pytest.mark.parametrize("block, name, fragment", [
    ({}, "bogus", "unknown strategy or variant 'bogus'; registered strategies: "
                  "cluster-linking, diskless, edge, mirrormaker2,"),
    ({"x": {"strategy": {"name": "nope"}}}, "x", "compare.x.strategy.name: unknown strategy"),
    ({"x": {"stratgy": {}}}, "x", "compare.x.stratgy: unknown field"),
    ({"x": {"set": ["strategy.write_quorum=2"]}}, "x",
     "strategy.write_quorum: requires object_store.kind regional"),
    ([1, 2], "x", "compare: must be a mapping"),
])
def test_bad_variants_are_scenario_errors(tmp_path, block, name, fragment):
    with pytest.raises(ScenarioError, match=None) as info:
        resolve_variants(with_compare(tmp_path, block), [name])
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_a_registered_strategy_without_parameters_is_named():
    with pytest.raises(ScenarioError, match="strategy observers has no parameters here; add "
                       "compare.observers.strategy"):
        resolve_variants(QUICKSTART, ["diskless", "observers"])


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("compare") / "report"
    status = cli.main(["compare", str(QUICKSTART), "--strategies", ",".join(VARIANTS),
                       "--seed", "4", "--out", str(out), "--quiet",
                       *(arg for item in SHORT for arg in ("--set", item))])
    assert status == 0
    return out


def test_report_numbers_match_the_individual_runs(report_dir):
    table = pd.read_csv(report_dir / "comparison.csv")
    assert table["variant"].tolist() == VARIANTS
    for variant in resolve_variants(QUICKSTART, VARIANTS, SHORT, seed=4):
        direct = run(variant.scenario).summary
        assert load_run(report_dir / variant.name).summary == direct
        expected = pd.DataFrame([{"variant": variant.name, **summary_row(direct)}])
        expected = pd.read_csv(io.StringIO(expected.to_csv(index=False)))  # None -> NaN
        got = table[table["variant"] == variant.name].reset_index(drop=True)
        pd.testing.assert_frame_equal(got[expected.columns], expected, check_dtype=False)
        # columns only the other variant has (a purpose it never used) are empty here
        assert got.drop(columns=expected.columns).isna().all(axis=None)
    report = (report_dir / "report.md").read_text()
    bucket = load_run(report_dir / "diskless-bucket").summary
    # the quorum variant keeps every acked record readable; the bucket one does not
    assert bucket["unavailable"]["records"] > 0
    assert f"| {bucket['unavailable']['records']:,} | 0 |" in report
    assert "| All acknowledged data readable throughout | ✗ | ✓ |" in report
    assert "| No acknowledged write lost | ✓ | ✓ |" in report
    assert {p.name for p in report_dir.iterdir()} >= {
        "report.md", "comparison.csv", "comparison.png", "latency.png", *VARIANTS}
    assert not [p for p in report_dir.parent.iterdir() if ".tmp" in p.name]


def test_cost_is_side_by_side(report_dir):
    summaries = {name: load_run(report_dir / name).summary for name in VARIANTS}
    bills = [s["cost"] for s in summaries.values()]
    assert all(bill and bill["total_usd_per_month"] > 0 for bill in bills)
    text = report_markdown(summaries)
    totals = " | ".join(f"{bill['total_usd_per_month']:,.2f}" for bill in bills)
    assert f"| total per month | {totals} |" in text
    table = pd.read_csv(report_dir / "comparison.csv")
    assert table["cost.total_usd_per_month"].tolist() == pytest.approx(
        [bill["total_usd_per_month"] for bill in bills])
    # an unfamiliar bill is shown leaf by leaf; no bill at all is said so
    odd = {**summaries["diskless-bucket"], "cost": {"monthly": {"total": 1234.5}}}
    assert summary_row(odd)["cost.monthly.total"] == 1234.5
    assert "| monthly.total | 1,234.50 |" in report_markdown({"a": odd})
    assert "Not in these summaries" in report_markdown(
        {"a": {**summaries["diskless-bucket"], "cost": None}})


def test_cost_cells_say_what_was_left_out(report_dir):
    # a Connect worker group whose instance type the price book lacks, beside a bill
    # that declares no instances: neither reads as free
    summary = load_run(report_dir / "diskless-bucket").summary
    bill = summary["cost"]
    worker = {"category": "instances", "item": "connect-workers: 2 x n2-standard-4",
              "price_key": "instance.n2-standard-4.on_demand", "usd": None}
    unpriced = {**bill, "lines": [*bill["lines"], worker],
                "by_category": {**bill["by_category"], "instances": 0.0},
                "unpriced": ["instance.n2-standard-4.on_demand"]}
    text = report_markdown({"a": {**summary, "cost": unpriced}, "b": summary})
    total = f"{bill['total_usd_per_month']:,.2f}"
    assert f"| total per month | {total} + unpriced | {total} |" in text
    assert "|   instances | unpriced | not declared |" in text
    assert "Unpriced: `instance.n2-standard-4.on_demand`." in text


def test_checks_follow_the_summary(report_dir):
    summary = load_run(report_dir / "diskless-bucket").summary
    lost = {**summary, "loss": {**summary["loss"], "lost_records": 5, "rpo_seconds": 2.0}}
    verdicts = dict(checks(lost))
    assert verdicts["No acknowledged write lost"] is False and verdicts["RPO = 0"] is False


@pytest.mark.parametrize("names, fragment", [
    ("diskless-bucket,bogus", "unknown strategy or variant 'bogus'"),
    ("diskless-bucket,,x", "no empty names"),
    ("diskless,diskless", "listed twice"),
])
def test_cli_errors_are_one_line(capsys, tmp_path, names, fragment):
    status = cli.main(["compare", str(QUICKSTART), "--strategies", names, "--out",
                       str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and fragment in err
    assert not (tmp_path / "r").exists()


def test_the_flagships_stretch_variant_is_seed_000s_stretch_scenario():
    """`compare: stretch` of the flagship and scenarios/kafka-stretch-seed000.yaml are one
    scenario (figures.md B12) but for their names: seed 000's question in one command
    cannot drift from the scenario the README times."""
    flagship = REPO / "scenarios" / "bufstream-multi-region.yaml"
    (variant,) = resolve_variants(flagship, ["stretch"], seed=5)
    alone = load_scenario(REPO / "scenarios" / "kafka-stretch-seed000.yaml", seed=5)
    assert variant.scenario.strategy.name == "stretch"
    assert variant.scenario.model_copy(update={"name": alone.name,
                                               "description": alone.description}) == alone


def test_the_quickstart_stretch_variant_resolves():
    """The stretch block of quickstart's compare: stays valid (running it takes ~15 s)."""
    (stretch,) = resolve_variants(QUICKSTART, ["stretch"])
    assert stretch.scenario.strategy.name == "stretch"
    assert stretch.scenario.metadata.preset == "kraft"
    assert stretch.scenario.workload == load_scenario(QUICKSTART).workload


def test_kafka_failover_parts_are_reported(report_dir):
    summary = load_run(report_dir / "diskless-bucket").summary
    kafka = {**summary, "strategy": "stretch", "partitions": {
        "partitions": 6, "leader_changes": 4, "offline_windows": [[0, 40.0, 49.5]],
        "failover": {"detection_seconds": 9.0, "election_seconds": 0.5,
                     "client_seconds": None}}}
    row = summary_row(kafka)
    assert (row["partitions.leader_changes"], row["partitions.offline_windows"]) == (4, 1)
    assert row["partitions.failover.detection_seconds"] == 9.0
    text = report_markdown({"diskless": summary, "stretch": kafka})
    assert "| failover: detection (fault to fencing) | - | 9.0s |" in text
    assert "| failover: clients (leader to first ack) | - | - |" in text
