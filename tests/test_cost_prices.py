"""The price books: every price sourced and dated; overrides and their one-line errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from geosim.cost.prices import load_price_book
from geosim.scenario.errors import ScenarioError
from geosim.scenario.loader import read_yaml, scenario_from_dict
from geosim.scenario.price_books import PRICES_DIR, PROVIDERS, PriceBookFile, PriceError

REPO = Path(__file__).resolve().parent.parent
QUICKSTART = REPO / "scenarios" / "quickstart.yaml"


def _quickstart(**cost) -> dict:
    data = read_yaml(QUICKSTART)
    data["cost"] = cost
    return data


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_price_has_a_source_a_date_and_a_confidence(provider):
    raw = yaml.safe_load((PRICES_DIR / f"{provider}.yaml").read_text())
    book = PriceBookFile.model_validate(raw)
    assert book.provider == provider and book.prices
    for key, entry in book.prices.items():
        assert entry.source.strip(), key
        # a figures.md id or a URL
        assert re.search(r"figures\.md [A-Z]\d|https?://", entry.source), (key, entry.source)
        assert re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?|n\.d\.", entry.date), (key, entry.date)
        assert entry.value >= 0
        if entry.confidence == "low" or entry.date == "n.d.":
            # an unverified number says so
            assert entry.note or "UNVERIFIED" in entry.source, key
        if "derived" in entry.note:
            assert "figures.md" in entry.source, key


def test_books_load_and_look_up_regional_variants():
    book = load_price_book("gcp", {"instance.n2d-standard-32.1y@us-west2": 1.5})
    assert book.get("instance.n2d-standard-32.1y").value == pytest.approx(0.951839)
    assert book.get("instance.n2d-standard-32.1y", "us-west1").value == pytest.approx(0.951839)
    assert book.get("instance.n2d-standard-32.1y", "us-west2").value == 1.5
    assert book.get("instance.n2d-standard-32.1y", "us-west2").unit == "USD/hour"
    assert book.get("no.such.key") is None
    assert book.overridden == {"instance.n2d-standard-32.1y@us-west2"}


def test_a_new_key_of_a_known_family_takes_the_family_unit():
    book = load_price_book("gcp", {"instance.c3-standard-8.1y": 0.3})
    price = book.get("instance.c3-standard-8.1y")
    assert (price.value, price.unit) == (0.3, "USD/hour")
    assert load_price_book("aws", {"network.inter_zone": 0.02}).get(
        "network.inter_zone").unit == "USD/GB"


@pytest.mark.parametrize(("provider", "overrides", "message"), [
    ("oracle", {}, "cost.provider: unknown provider; expected one of: gcp, aws, azure"),
    ("gcp", {"network.inter_zone": -0.01}, "cost.prices.network.inter_zone: must be >= 0"),
    ("gcp", {"network.inter_zonee": 0.01}, "did you mean network.inter_zone?"),
    ("gcp", {"gpu.a100": 1.0}, "cost.prices.gpu.a100: unknown price key for provider gcp"),
    ("gcp", {"network.inter_zone": "cheap"}, "must be a number"),
])
def test_bad_overrides_are_price_errors(provider, overrides, message):
    with pytest.raises(PriceError) as err:
        load_price_book(provider, overrides)
    assert message in str(err.value)


@pytest.mark.parametrize(("cost", "expected"), [
    ({"provider": "oracle"},
     "<inline>: cost.provider: must be one of 'gcp', 'aws' or 'azure', got 'oracle'"),
    ({"prices": {"network.inter_zone": -1}},
     "<inline>: cost.prices.network.inter_zone: must be >= 0 (a price), got -1"),
    ({"prices": {"network.inter_zonee": 0.1}},
     "<inline>: cost.prices.network.inter_zonee: unknown price key for provider gcp; did you "
     "mean network.inter_zone? (keys and families: geosim/data/prices/gcp.yaml), got 0.1"),
    ({"prices": {"network.inter_zone@eu-west9": 0.1}},
     "<inline>: cost.prices.network.inter_zone@eu-west9: unknown region; expected one of: "
     "us-west1, us-west2, us-west3, got 'eu-west9'"),
    ({"deployment": {"instances": [{"type": "n2d-standard-32", "count": {"us-west9": 3}}]}},
     "<inline>: cost.deployment.instances[0].count.us-west9: unknown region or zone"),
    ({"deployment": {"instances": [{"type": "x", "disk_type": "pd-ssd"}]}},
     "<inline>: cost.deployment.instances[0].disk_size: disk_type and disk_size go together"),
])
def test_scenario_errors_are_one_line(cost, expected):
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(_quickstart(**cost))
    message = str(err.value)
    assert "\n" not in message
    assert message.lower().startswith(expected.lower()), message


def test_scenario_overrides_are_recorded_with_the_file_as_source():
    scenario = scenario_from_dict(_quickstart(prices={"network.inter_region": 0.05}),
                                  source="mine.yaml")
    assert scenario.cost.prices == {"network.inter_region": 0.05}
    book = load_price_book("gcp", scenario.cost.prices, override_source="mine.yaml")
    assert book.get("network.inter_region").source == "mine.yaml"


def test_set_overrides_a_price_with_dots_in_its_key():
    scenario = scenario_from_dict(
        _quickstart(), overrides=["cost.prices.object_requests.multi-region.class_a=0.02"])
    assert scenario.cost.prices == {"object_requests.multi-region.class_a": 0.02}


def test_a_new_instance_key_needs_a_commitment():
    with pytest.raises(PriceError, match="must end in a commitment"):
        load_price_book("gcp", {"instance.c3-standard-8.3y": 0.3})


AWS_SCENARIOS = sorted(p.name for p in (REPO / "scenarios").glob("*.yaml")
                       if yaml.safe_load(p.read_text())["topology"].get("provider") == "aws")


#: The shared-storage scenarios are billed in tests/test_shared_storage.py.
AWS_DISKLESS = [name for name in AWS_SCENARIOS if not name.startswith("shared-storage")]


def test_the_bundled_aws_scenarios_are_the_ones_billed_below():
    assert AWS_SCENARIOS == ["s3-express-quorum.yaml", "s3-standard-diskless.yaml",
                             "shared-storage-dr.yaml", "shared-storage.yaml"]


@pytest.mark.parametrize("name", AWS_DISKLESS)
def test_an_aws_scenario_is_billed_with_instances_and_no_unpriced_line(name):
    from geosim.runner import run  # a short run: the bill prices its steady state
    from geosim.scenario.loader import load_scenario

    scenario = load_scenario(REPO / "scenarios" / name, [
        "simulation.duration=14s", "simulation.warmup=3s", "simulation.drain=2s",
        "faults[0].at=10s", "faults[0].duration=2s"])
    cost = run(scenario, 0).summary["cost"]
    assert cost["provider"] == "aws"
    assert cost["unpriced"] == []
    categories = {line["category"] for line in cost["lines"]}
    assert {"instances", "object_storage", "object_requests", "metadata"} <= categories
    instances = [line for line in cost["lines"] if line["category"] == "instances"]
    assert [line["price_key"] for line in instances] == ["instance.m7g.xlarge.on_demand"]
    assert instances[0]["quantity"] == pytest.approx(3 * 720)
    requests = {line["price_key"] for line in cost["lines"]
                if line["category"] == "object_requests"}
    if name == "s3-express-quorum.yaml":
        # S3 Express requests at their own rates, plus the per-GiB fees; no inter-AZ
        # transfer for the directory buckets of the other zones
        assert requests == {"object_requests.s3-express-one-zone.class_a",
                            "object_requests.s3-express-one-zone.class_b",
                            "object_transfer.s3-express-one-zone.upload",
                            "object_transfer.s3-express-one-zone.retrieval"}
        assert not [line for line in cost["lines"] if line["category"] == "network"
                    and "object" in line["item"]]
    else:
        assert requests == {"object_requests.regional.class_a",
                            "object_requests.regional.class_b"}


def test_every_instance_key_names_its_commitment_and_every_aws_family_is_priced():
    book = load_price_book("aws")
    keys = book.keys()
    for key in keys:
        if key.startswith("instance."):
            assert key.rsplit(".", 1)[-1] in ("on_demand", "1y"), key
    for family in ("instance.m7g.", "instance.m6i.", "instance.r6i.", "instance.i3en.",
                   "instance.i4i.", "disk.gp3", "disk.st1", "object_requests.s3-express-one-zone.",
                   "object_transfer.s3-express-one-zone.", "metadata.dynamodb.",
                   "network.inter_region@"):
        assert any(k.startswith(family) for k in keys), family
