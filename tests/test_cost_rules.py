"""Billing rules per provider: AWS bills inter-zone bytes in each direction, Azure not at
all, GCS multi-region buckets bill replication per GiB written, S3 CRR as transfer."""

from __future__ import annotations

import pytest

from geosim.cost.bill import MONTH_SECONDS, compute_bill
from geosim.cost.deployment import Deployment
from geosim.cost.prices import GB, GIB, load_price_book
from geosim.cost.rules import network_charges, traffic_class
from geosim.cost.usage import Usage

ZONES = {"r1-a": "r1", "r1-b": "r1", "r2-a": "r2", "r1": "r1", "r2": "r2"}


def _bill(provider: str, bytes_by_key: dict, *, bucket_kind: str = "multi-region",
          managed_metadata: bool = True, overrides: dict | None = None):
    """The bill of one second of traffic (a month is MONTH_SECONDS of it)."""
    dep = Deployment(provider=provider, zone_region=ZONES, bucket_kind=bucket_kind,
                     bucket_regions=("r1", "r2"), managed_metadata=managed_metadata)
    book = load_price_book(provider, overrides)
    return compute_bill(dep, book, Usage(seconds=1.0, bytes=bytes_by_key))


def _network(bill) -> dict[str, float]:
    return {line.item.split(" (")[0]: line.usd for line in bill.lines
            if line.category == "network"}


def test_classes():
    assert traffic_class("r1-a", "r1-a", ZONES) is None
    assert traffic_class("r1-a", "r1", ZONES) is None  # a zone and its region's endpoint
    assert traffic_class("r1-a", "r1-b", ZONES) == "inter_zone"
    assert traffic_class("r1-a", "r2-a", ZONES) == "inter_region"
    assert traffic_class("r1-a", "r2", ZONES) == "inter_region"


def test_aws_bills_inter_zone_bytes_in_each_direction():
    gb = float(GB)
    bill = _bill("aws", {("r1-a", "r1-b", "consume"): gb})
    # $0.01/GB out of r1-a plus $0.01/GB into r1-b, every second of the month
    assert _network(bill) == {"inter-zone consume": pytest.approx(0.02 * MONTH_SECONDS)}
    gcp = _bill("gcp", {("r1-a", "r1-b", "consume"): float(GIB)})
    assert _network(gcp) == {"inter-zone consume": pytest.approx(0.01 * MONTH_SECONDS)}


def test_azure_does_not_bill_inter_zone_traffic():
    bill = _bill("azure", {("r1-a", "r1-b", "consume"): 1e12,
                           ("r1-a", "r2-a", "produce"): float(GB)})
    assert _network(bill)["inter-zone consume"] == 0.0
    assert _network(bill)["inter-region produce"] == pytest.approx(0.02 * MONTH_SECONDS)
    assert bill.total == pytest.approx(0.02 * MONTH_SECONDS)


def test_gcs_multi_region_bucket_bills_replication_per_gib_written():
    gib = float(GIB)
    bill = _bill("gcp", {("r1", "r2", "object_replication"): gib,
                         ("r1-a", "r2", "object_get"): 5 * gib,   # read-through: GCS's own
                         ("r1-a", "r2", "metadata"): gib})          # Spanner: in its price
    lines = {line.category: line for line in bill.lines}
    assert set(lines) == {"object_replication"}
    assert lines["object_replication"].price_key == "object_replication.multi-region"
    assert lines["object_replication"].usd == pytest.approx(0.02 * MONTH_SECONDS)
    # Three bucket regions: two copies of each byte written, billed once.
    dep = Deployment(provider="gcp", zone_region=ZONES, bucket_kind="multi-region",
                     bucket_regions=("r1", "r2", "r3"))
    three = compute_bill(dep, load_price_book("gcp"), Usage(
        seconds=1.0, bytes={("r1", "r2", "object_replication"): gib,
                            ("r1", "r3", "object_replication"): gib}))
    assert three.total == pytest.approx(0.02 * MONTH_SECONDS)


def test_s3_replication_is_billed_as_inter_region_transfer_and_stores_the_replica():
    gb = float(GB)
    dep = Deployment(provider="aws", zone_region=ZONES, bucket_kind="multi-region",
                     bucket_regions=("r1", "r2"), retention=86400.0)
    book = load_price_book("aws", {"object_storage.multi-region.standard": 0.023})
    bill = compute_bill(dep, book, Usage(seconds=1.0, object_put_bytes=gb,
                                         bytes={("r1", "r2", "object_replication"): gb}))
    lines = {line.category: line for line in bill.lines}
    assert lines["object_replication"].price_key == "network.inter_region"
    assert lines["object_replication"].usd == pytest.approx(0.02 * MONTH_SECONDS)
    # the original and the replica, one day each
    assert lines["object_storage"].quantity == pytest.approx(2 * gb * 86400)


def test_regional_bucket_read_from_another_region_is_billed_transfer():
    gib = float(GIB)
    bill = _bill("gcp", {("r1-a", "r2", "object_get"): gib}, bucket_kind="regional")
    assert _network(bill) == {"inter-region object_get": pytest.approx(0.02 * MONTH_SECONDS)}


def test_self_run_metadata_quorum_traffic_is_billed():
    gib = float(GIB)
    bill = _bill("gcp", {("r1-a", "r2-a", "metadata"): gib}, managed_metadata=False)
    assert _network(bill) == {"inter-region metadata": pytest.approx(0.02 * MONTH_SECONDS)}


def test_regional_price_variant_applies_to_the_source_regions_egress():
    gib = float(GIB)
    charges = network_charges({("r1-a", "r2-a", "produce"): gib, ("r2-a", "r1-a", "produce"): gib},
                              ZONES, load_price_book("gcp").rules, bucket_kind="multi-region",
                              bucket_regions=("r1", "r2"), managed_metadata=True)
    assert [(c.region, c.bytes, c.sides) for c in charges] == [("r1", gib, 1), ("r2", gib, 1)]
    bill = _bill("gcp", {("r1-a", "r2-a", "produce"): gib, ("r2-a", "r1-a", "produce"): gib},
                 overrides={"network.inter_region@r2": 0.08})
    assert _network(bill)["inter-region produce"] == pytest.approx((0.02 + 0.08) * MONTH_SECONDS)
