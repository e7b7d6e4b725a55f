"""Seed 000's multi-region Bufstream bill from a short simulation of the flagship, line by
line against the published table (figures.md B11); the outage's extra cost; the cost
block of summary.json is documented; ``geosim cost``."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import pytest

from geosim.cli import main
from geosim.cost.bill import MONTH_SECONDS
from geosim.runner import run
from geosim.scenario.loader import load_scenario

REPO = Path(__file__).resolve().parent.parent
FLAGSHIP = REPO / "scenarios" / "bufstream-multi-region.yaml"
QUICKSTART = REPO / "scenarios" / "quickstart.yaml"
DOCS = REPO / "docs" / "summary.md"

# A short steady state: 5 s of warmup, 10 s measured, no fault.
SHORT = ["faults=[]", "simulation.warmup=5s", "simulation.duration=15s", "simulation.drain=0s"]

# figures.md B11, $ per month.
SEED = {"brokers": 74_015, "Tier 1 networking": 38_972, "storage": 393_120,
        "object operations": 21_389, "bucket replication": 1_296_000, "Spanner": 16_777,
        "licence": 518_400}
SEED_TOTAL = 2_358_673
CATEGORY = {"brokers": "instances", "Tier 1 networking": "tier1_networking",
            "storage": "object_storage", "object operations": "object_requests",
            "bucket replication": "object_replication", "Spanner": "metadata",
            "licence": "licence"}


@pytest.fixture(scope="module")
def flagship():
    return run(load_scenario(FLAGSHIP, SHORT))


def test_bufstream_bill_matches_the_seed(flagship):
    bill = flagship.bill
    assert bill.unpriced() == []
    by_category = bill.by_category()
    for name, published in SEED.items():
        assert by_category[CATEGORY[name]] == pytest.approx(published, rel=0.05), name
    assert set(by_category) == set(CATEGORY.values())  # no networking fees (B11)
    assert bill.total == pytest.approx(SEED_TOTAL, rel=0.03)


def test_object_request_rates_come_from_the_simulation(flagship):
    lines = {line.item: line for line in flagship.bill.lines
             if line.category == "object_requests"}
    puts = lines["object writes (PUT, class A)"].quantity / MONTH_SECONDS
    gets = lines["object reads (GET, class B)"].quantity / MONTH_SECONDS
    counters = flagship.summary["counters"]
    # The whole run (warmup included) has the same rates as the measured window, to
    # within the warmup's ramp-up.
    assert puts == pytest.approx(counters["object_puts"] / 15.0, rel=0.15)
    assert gets == pytest.approx(counters["object_gets"] / 15.0, rel=0.25)
    # ~800 PUT/s (B11: 744). GETs: a zone fetches an object once, as ranged GETs of
    # strategy.read_range_bytes (16 MiB) of each broker's ~34 MiB share, so about three
    # per fetch and ~0.55 fetches per object: 1-2 GETs per object (B11 implies 2.7).
    assert 700 < puts < 900
    assert 1.0 < gets / puts < 2.5
    assert lines["object reads (GET, class B)"].usd < 2_105


def test_cost_block_is_in_the_summary_and_documented(flagship):
    cost = flagship.summary["cost"]
    json.dumps(cost)
    assert cost["total_usd_per_month"] == pytest.approx(flagship.bill.total, rel=1e-8)
    assert cost["steady_window"] == [5.0, 15.0]
    documented = set(re.findall(r"`([a-z_0-9]+)`", DOCS.read_text()))
    keys = set(cost) | set(cost["lines"][0]) | set(cost["outage"])
    assert keys - documented == set()
    assert set(cost["by_category"]) <= documented


def test_outage_extra_cost_is_reported_separately():
    # The quickstart, shortened: us-west2 down from 20 s to 30 s of 40 s.
    scenario = load_scenario(QUICKSTART, ["simulation.duration=40s", "faults[0].at=20s",
                                          "faults[0].duration=10s", "simulation.drain=10s"])
    result = run(scenario)
    outage = result.summary["cost"]["outage"]
    assert result.summary["cost"]["steady_window"] == [10.0, 20.0]
    assert outage["seconds"] == 20.0
    assert outage["lines"]
    by_item = {line["item"]: line for line in outage["lines"]}
    # us-west2's producers stopped for 10 s: fewer objects than the steady rate.
    assert by_item["object writes (PUT, class A)"]["quantity"] < 0
    assert outage["total_usd"] == pytest.approx(
        sum(line["usd"] for line in outage["lines"]))


def test_a_price_set_in_the_scenario_moves_only_its_line_in_a_run(flagship):
    changed = run(load_scenario(FLAGSHIP, [
        *SHORT, "cost.prices.object_requests.multi-region.class_b=0.0008"]))
    moved = [(a, b) for a, b in zip(flagship.bill.lines, changed.bill.lines, strict=True)
             if a != b]
    assert [b.price_key for _, b in moved] == ["object_requests.multi-region.class_b"]
    (before, after), = moved
    assert after.usd == pytest.approx(2 * before.usd)
    assert changed.summary["cost"]["overridden_prices"] == [
        "object_requests.multi-region.class_b"]


def _cli(*argv: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(list(argv)) == 0
    return out.getvalue()


def test_geosim_cost_prints_the_monthly_bill():
    cost = json.loads(_cli("cost", str(QUICKSTART), "--duration", "5s", "--no-progress",
                           "--json"))
    assert cost["steady_window"] == [10.0, 15.0]
    assert cost["outage"]["lines"] == []
    assert cost["by_category"]["object_replication"] > 0
    table = _cli("cost", str(QUICKSTART), "--duration", "5s", "--no-progress",
                 "--set", "cost.prices.object_replication.multi-region=0.04")
    assert table.startswith("Monthly cost (gcp, 30-day month, steady-state rates of ")
    assert "object_replication.multi-region" in table and "$0.04/GiB" in table
    total = float(re.search(r"total \$([\d,.]+) per month", table).group(1).replace(",", ""))
    assert total == pytest.approx(cost["total_usd_per_month"]
                                  + cost["by_category"]["object_replication"], rel=1e-3)
    assert "prices set by the scenario: object_replication.multi-region" in table


@pytest.mark.parametrize(("argv", "message"), [
    (["--duration", "soon"], "geosim: error: cost: "),
    (["--set", "cost.prices.network.inter_zone=-1"],
     "cost.prices.network.inter_zone: must be >= 0 (a price), got -1"),
    # Without a provider every region pair needs its latency as a link.
    (["--set", "topology.provider=none", "--set", "topology.links=["
      + ", ".join(f"{{between: [{a}, {b}], rtt: {{dist: constant, value: 20ms}}}}"
                  for a, b in (("us-west1", "us-west2"), ("us-west1", "us-west3"),
                               ("us-west2", "us-west3"))) + "]"],
     "cost.provider: must be set (gcp, aws or azure): topology.provider is none"),
])
def test_geosim_cost_user_errors_are_one_line(argv, message, capsys):
    assert main(["cost", str(QUICKSTART), "--no-progress", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err


def test_readme_notebook_example_runs(monkeypatch, capsys):
    text = (REPO / "README.md").read_text()
    section = text[text.index("## Cost"):text.index("### How the bill is computed")]
    block = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    monkeypatch.chdir(REPO)
    exec(compile(block, "README.md", "exec"), {})
    printed = capsys.readouterr().out
    total = float(re.fullmatch(r"\$([\d,]+) per month\n", printed).group(1).replace(",", ""))
    assert total == pytest.approx(SEED_TOTAL, rel=0.03)
