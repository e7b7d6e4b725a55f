"""The bill: seed 000's Kafka stretch cluster from the seed's traffic rates, one price
change moves exactly its line, and the bill is additive and non-negative (Hypothesis)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from geosim.cost.bill import CATEGORIES, MONTH_SECONDS, compute_bill
from geosim.cost.deployment import (
    Deployment,
    InstanceGroup,
    build_deployment,
    resolve_deployment,
)
from geosim.cost.prices import GIB, load_price_book
from geosim.cost.usage import Usage
from geosim.scenario.loader import load_scenario
from geosim.scenario.schema import CostSpec

REPO = Path(__file__).resolve().parent.parent
STRETCH = REPO / "scenarios" / "deployments" / "kafka-stretch-cost.yaml"
FLAGSHIP = REPO / "scenarios" / "bufstream-multi-region.yaml"

# figures.md B12: the seed's Kafka stretch cluster, $ per month.
STRETCH_SEED = {"brokers and disks": 942_148, "tiered storage": 393_120,
                "bucket replication": 1_296_000, "producer networking": 3_600_000,
                "consumer networking": 1_296_000}
STRETCH_TOTAL = 7_527_268


def _stretch_usage() -> Usage:
    """One second of the seed's stretch traffic (figures.md B12, seed 000): 25 GiB/s
    compressed writes; two thirds go to a leader in another region (16.7 GiB/s), a third
    of the rest to another zone (5.6 GiB/s); leaders replicate to two other regions
    (50 GiB/s); consumers read 50 GiB/s from another zone (fetch-from-follower)."""
    written = 25 * GIB
    return Usage(seconds=1.0, written_bytes=4 * written, written_compressed_bytes=written,
                 bytes={("us-west1-a", "us-west2-a", "produce"): written * 2 / 3,
                        ("us-west1-a", "us-west1-b", "produce"): written / 3 * 2 / 3,
                        ("us-west2-a", "us-west3-b", "replicate"): 2 * written,
                        ("us-west3-a", "us-west3-c", "consume"): 2 * written})


def _stretch_deployment() -> Deployment:
    data = yaml.safe_load(STRETCH.read_text())
    return build_deployment(
        CostSpec.model_validate(data["cost"]), provider=data["topology"]["provider"],
        regions={r: spec["zones"] for r, spec in data["topology"]["regions"].items()},
        bucket_kind=data["object_store"]["kind"], bucket_regions=data["object_store"]["regions"],
        metadata_preset="kraft")


def _seed_lines(bill) -> dict[str, float]:
    """The bill grouped as the seed's stretch table."""
    def total(pred) -> float:
        return sum(line.usd for line in bill.lines if pred(line))
    return {
        "brokers and disks": total(lambda x: x.category in ("instances", "disks")),
        "tiered storage": total(lambda x: x.category == "object_storage"),
        "bucket replication": total(lambda x: x.category == "object_replication"),
        "producer networking": total(lambda x: x.category == "network"
                                     and x.item.split(" (")[0].split()[-1]
                                     in ("produce", "replicate")),
        "consumer networking": total(lambda x: x.category == "network"
                                     and x.item.split(" (")[0].endswith("consume")),
    }


def test_stretch_cluster_bill_matches_the_seed_from_its_traffic_rates():
    bill = compute_bill(_stretch_deployment(), load_price_book("gcp"), _stretch_usage())
    assert bill.unpriced() == []
    lines = _seed_lines(bill)
    for name, published in STRETCH_SEED.items():
        assert lines[name] == pytest.approx(published, rel=0.05), name
    assert bill.total == pytest.approx(STRETCH_TOTAL, rel=0.03)
    # nothing outside the seed's lines
    assert sum(lines.values()) == pytest.approx(bill.total)
    # the networking lines are the traffic times the published prices, nothing else
    network = {line.item.split(" (")[0]: line for line in bill.lines
               if line.category == "network"}
    assert set(network) == {"inter-region produce", "inter-region replicate",
                            "inter-zone produce", "inter-zone consume"}
    assert network["inter-zone consume"].usd == pytest.approx(
        50 * 0.01 * MONTH_SECONDS)


def test_bill_as_a_dataframe_sums_to_the_total():
    bill = compute_bill(_stretch_deployment(), load_price_book("gcp"), _stretch_usage())
    frame = bill.to_frame()
    assert len(frame) == len(bill.lines)
    assert frame["usd"].sum() == pytest.approx(bill.total)
    assert frame.groupby("category")["usd"].sum().to_dict() == pytest.approx(
        bill.by_category())
    assert bill.to_frame(outage=True).empty


def test_stretch_deployment_counts_171_brokers_with_37_tib_each():
    dep = _stretch_deployment()
    (group,) = dep.instances
    assert (group.type, group.count, group.disk_bytes) == ("n2-standard-48", 171, 37 * 2**40)
    assert group.count_by_region == {"us-west1": 57, "us-west2": 57, "us-west3": 57}
    assert dep.tiered_storage and dep.commitment == "1y"


def _flagship_usage() -> Usage:
    """A second of the flagship's steady state, at rates like the simulation's."""
    written = 25 * GIB
    return Usage(seconds=1.0, object_puts=800, object_gets=664, object_put_bytes=written,
                 written_bytes=4 * written, written_compressed_bytes=written,
                 bytes={("us-west1", "us-west2", "object_replication"): written / 2,
                        ("us-west2", "us-west1", "object_replication"): written / 2,
                        ("us-west1-a", "us-west2", "object_get"): GIB})


@pytest.mark.parametrize(("key", "value", "category", "region"), [
    ("object_requests.multi-region.class_b", 0.0008, "object_requests", None),
    ("instance.n2d-standard-32.1y@us-west2", 2.0, "instances", "us-west2"),
    ("licence.bufstream", 0.004, "licence", None),
    ("object_storage.multi-region.standard", 0.020, "object_storage", None),
])
def test_changing_one_price_in_the_scenario_moves_exactly_its_line(key, value, category,
                                                                   region):
    base = load_scenario(FLAGSHIP)
    changed = load_scenario(FLAGSHIP, [f"cost.prices.{key}={value}"])
    assert changed.cost.prices == {key: value}
    brokers = {"us-west1-a": 18, "us-west1-b": 18, "us-west1-c": 18,
               "us-west2-a": 18, "us-west2-b": 18, "us-west2-c": 18}

    def bill(scenario):
        dep = resolve_deployment(scenario, broker_counts=brokers)
        return compute_bill(dep, load_price_book("gcp", scenario.cost.prices),
                            _flagship_usage())

    before, after = bill(base).lines, bill(changed).lines
    assert len(before) == len(after)
    moved = [(b, a) for b, a in zip(before, after, strict=True) if b != a]
    assert len(moved) == 1
    old, new = moved[0]
    assert (new.category, new.region, new.unit_price) == (category, region, value)
    assert new.usd == pytest.approx(old.usd * value / old.unit_price)
    assert new.source == "scenario (cost.prices)"


_ZONES = ["us-west1-a", "us-west1-b", "us-west2-a", "us-west2-b", "us-west1", "us-west2"]
_PURPOSES = ["produce", "replicate", "consume", "object_put", "object_get",
             "object_replication", "metadata", "ack"]
_amount = st.floats(min_value=0, max_value=1e12, allow_nan=False, allow_infinity=False)
usages = st.builds(
    Usage, seconds=st.just(1.0),
    bytes=st.dictionaries(st.tuples(st.sampled_from(_ZONES), st.sampled_from(_ZONES),
                                    st.sampled_from(_PURPOSES)), _amount, max_size=12),
    object_puts=_amount, object_gets=_amount, object_put_bytes=_amount,
    written_bytes=_amount, written_compressed_bytes=_amount)


def _deployment(provider: str, brokers: int, tiered: bool) -> Deployment:
    zone_region = {z: z[:8] for z in _ZONES}
    return Deployment(
        provider=provider, zone_region=zone_region, commitment="1y", tiered_storage=tiered,
        instances=[InstanceGroup("brokers", "n2d-standard-32", {"us-west1": brokers})]
        if provider == "gcp" else [],
        bucket_kind="multi-region", bucket_regions=("us-west1", "us-west2"),
        spanner_config="multi-region" if provider == "gcp" else None, spanner_nodes=3,
        managed_metadata=True, licence="bufstream" if provider == "gcp" else None)


@settings(max_examples=60, deadline=None)
@given(provider=st.sampled_from(["gcp", "aws", "azure"]), a=usages, b=usages,
       brokers=st.integers(0, 200), tiered=st.booleans())
def test_bill_is_additive_and_non_negative(provider, a, b, brokers, tiered):
    overrides = {"object_storage.multi-region.standard": 0.02,
                 "object_requests.multi-region.class_a": 0.01,
                 "object_requests.multi-region.class_b": 0.0004} if provider == "aws" else {}
    book = load_price_book(provider, overrides)
    dep = _deployment(provider, brokers, tiered)
    bill = compute_bill(dep, book, a)
    priced = [line.usd for line in bill.lines if line.usd is not None]
    assert all(usd >= 0 for usd in priced)
    assert bill.total == pytest.approx(sum(priced))
    assert sum(bill.by_category().values()) == pytest.approx(bill.total)
    assert set(bill.by_category()) <= set(CATEGORIES)
    # Usage-driven lines add up: bill(a + b) = bill(a) + bill(b) - the fixed part.
    keys = set(a.bytes) | set(b.bytes)
    both = Usage(seconds=1.0,
                 bytes={k: a.bytes.get(k, 0.0) + b.bytes.get(k, 0.0) for k in keys},
                 object_puts=a.object_puts + b.object_puts,
                 object_gets=a.object_gets + b.object_gets,
                 object_put_bytes=a.object_put_bytes + b.object_put_bytes,
                 written_bytes=a.written_bytes + b.written_bytes,
                 written_compressed_bytes=a.written_compressed_bytes
                 + b.written_compressed_bytes)
    fixed = compute_bill(dep, book, Usage(seconds=1.0)).total
    assert compute_bill(dep, book, both).total - fixed == pytest.approx(
        (bill.total - fixed) + (compute_bill(dep, book, b).total - fixed), rel=1e-9, abs=1e-6)


def test_unknown_price_is_reported_not_guessed():
    dep = Deployment(provider="azure", zone_region={}, instances=[
        InstanceGroup("brokers", "Standard_D32as_v5", {"eastus": 3})])
    bill = compute_bill(dep, load_price_book("azure"), Usage(seconds=1.0))
    assert bill.unpriced() == ["instance.Standard_D32as_v5.on_demand"]
    assert bill.lines[0].usd is None and bill.total == 0.0
