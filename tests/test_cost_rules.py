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


def _express(bytes_by_key: dict, **usage) -> object:
    """One second of an S3 Express One Zone (zonal) deployment's usage, billed by AWS."""
    dep = Deployment(provider="aws", zone_region=ZONES, bucket_kind="regional",
                     bucket_regions=("r1",), storage_class="express-one-zone",
                     object_service="s3-express-one-zone", zonal_bucket=True,
                     managed_metadata=True, metadata_preset="dynamodb")
    return compute_bill(dep, load_price_book("aws"),
                        Usage(seconds=1.0, bytes=bytes_by_key, **usage))


def test_s3_express_bytes_between_zones_are_not_billed_as_transfer_but_pay_the_per_gib_fees():
    gib = float(GIB)
    # A write quorum: one copy to the writer's own zone, two to directory buckets in
    # other zones; a read from another zone's bucket; a write to another region's zone.
    bill = _express({("r1-a", "r1-b", "object_put"): gib, ("r1-b", "r1-a", "object_get"): gib,
                     ("r1-a", "r2-a", "object_put"): gib},
                    object_puts=3, object_gets=1, object_put_bytes=3 * gib,
                    object_get_bytes=gib)
    assert _network(bill) == {"inter-region object_put": pytest.approx(0.02 * GIB / GB
                                                                       * MONTH_SECONDS)}
    fees = {line.price_key: line.usd for line in bill.lines if "object_transfer" in line.price_key}
    assert fees == {
        "object_transfer.s3-express-one-zone.upload": pytest.approx(3 * 0.0032 * MONTH_SECONDS),
        "object_transfer.s3-express-one-zone.retrieval": pytest.approx(0.0006 * MONTH_SECONDS)}
    # The same bytes for a regional (non-zonal) S3 Standard bucket keep their classes.
    standard = _bill("aws", {("r1-a", "r1-b", "object_put"): float(GB)}, bucket_kind="regional")
    assert _network(standard) == {"inter-zone object_put": pytest.approx(0.02 * MONTH_SECONDS)}


def test_s3_express_requests_are_priced_at_their_own_rate_not_s3_standards():
    bill = _express({}, object_puts=1000, object_gets=1000)
    requests = {line.item.split(" (")[0]: (line.price_key, line.unit_price)
                for line in bill.lines if line.item.startswith("object ")}
    assert requests == {
        "object writes": ("object_requests.s3-express-one-zone.class_a", 0.00113),
        "object reads": ("object_requests.s3-express-one-zone.class_b", 0.00003)}
    book = load_price_book("aws")
    assert book.get("object_requests.regional.class_a").value == 0.005  # S3 Standard's
    # A service the book does not price falls back to the bucket kind's keys.
    dep = Deployment(provider="aws", zone_region=ZONES, bucket_kind="regional",
                     bucket_regions=("r1",), object_service="s3-standard")
    standard = compute_bill(dep, book, Usage(seconds=1.0, object_puts=1000))
    assert [line.price_key for line in standard.lines] == ["object_requests.regional.class_a"]


def test_dynamodb_is_billed_per_request_and_its_traffic_is_not_transfer():
    gib = float(GIB)
    bill = _express({("r1-a", "r1-b", "metadata"): gib}, metadata_commits=2000,
                    metadata_reads=4000)
    assert _network(bill) == {}
    lines = {line.price_key: line.usd for line in bill.lines if line.category == "metadata"}
    assert lines == {
        "metadata.dynamodb.write.on_demand": pytest.approx(2 * 0.000625 * MONTH_SECONDS),
        "metadata.dynamodb.read.on_demand": pytest.approx(4 * 0.000125 * MONTH_SECONDS)}
    assert bill.unpriced() == []
