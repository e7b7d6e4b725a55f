"""Billing rules: which measured bytes a provider bills, as what, and how many times.

Physical bytes are the network's business; what a cloud bills for them is decided here,
from the price book's ``rules`` (data, per provider):

* A byte between two zones of one region is **inter-zone**; between regions,
  **inter-region**; inside one zone, or between a zone and its own region's managed
  service endpoint (a regional bucket, say), it is not billed as transfer.
* ``inter_zone_billed_sides``: AWS bills inter-zone bytes in each direction, out of the
  source zone and into the destination zone (2: each byte is billed twice); GCP bills
  the egress side (1); Azure does not bill inter-zone traffic (0).
* Bucket replication (purpose ``object_replication``) is never billed as network here:
  GCS dual/multi-region buckets charge a replication fee per GiB (``fee``); S3
  cross-region replication bills the copy as inter-region transfer (``transfer``). See
  :mod:`geosim.cost.bill`.
* ``bucket_internal_transfer_free``: reads and writes of a dual/multi-region bucket
  between regions of its location (read-through of an object not yet replicated) are
  the provider's own traffic.
* ``managed_metadata_transfer_billed``: traffic to a managed metadata store (Spanner,
  DynamoDB) is part of its price (GCP; AWS bills no transfer between EC2 and DynamoDB in
  one region); a self-run quorum (etcd, KRaft) is ordinary VM traffic.
* ``zonal_bucket_transfer_billed``: a zonal bucket (S3 Express One Zone directory bucket)
  lives in one zone, so the network counts the bytes of a client in another zone of the
  region as inter-zone. AWS bills them as S3 traffic within a region, which is not
  charged as transfer (the per-GB upload and retrieval fees of S3 Express apply to every
  byte, whatever the zone: :mod:`geosim.cost.bill`); False leaves them unbilled here.
  Between regions they are inter-region transfer as any other bytes.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from geosim.scenario.price_books import BillingRules

INTER_ZONE = "inter_zone"
INTER_REGION = "inter_region"

#: Purposes of bytes moved to and from an object store.
OBJECT_PURPOSES = ("object_put", "object_get")


@dataclass(frozen=True)
class NetworkCharge:
    """Bytes of one (class, purpose) that a provider bills, and how many times each."""

    traffic_class: str  # inter_zone | inter_region
    purpose: str
    region: str  # the source region (a region's own price applies to its egress)
    bytes: float
    sides: int

    @property
    def billed_bytes(self) -> float:
        return self.bytes * self.sides


def traffic_class(src: str, dst: str, zone_region: Mapping[str, str]) -> str | None:
    """``inter_zone``, ``inter_region`` or None (intra-zone, or a zone and its own region's
    service endpoint), as :mod:`geosim.metrics.traffic` classifies bytes."""
    if src == dst:
        return None
    src_region, dst_region = zone_region.get(src, src), zone_region.get(dst, dst)
    if src_region != dst_region:
        return INTER_REGION
    if src == src_region or dst == dst_region:
        return None
    return INTER_ZONE


def network_charges(bytes_by_key: Mapping[tuple[str, str, str], float],
                    zone_region: Mapping[str, str], rules: BillingRules, *,
                    bucket_kind: str, bucket_regions: Collection[str],
                    managed_metadata: bool, zonal_bucket: bool = False) -> list[NetworkCharge]:
    """The billable network bytes by class, purpose and source region (sorted).

    ``zonal_bucket``: the object store keeps one bucket per zone (its object bytes
    between zones of a region follow ``rules.zonal_bucket_transfer_billed``).
    """
    totals: dict[tuple[str, str, str], float] = {}
    replicated_bucket = bucket_kind != "regional"
    for (src, dst, purpose), size in bytes_by_key.items():
        cls = traffic_class(src, dst, zone_region)
        if cls is None or not size or purpose == "object_replication":
            continue
        if purpose in OBJECT_PURPOSES and cls == INTER_REGION and replicated_bucket \
                and rules.bucket_internal_transfer_free:
            regions = {zone_region.get(src, src), zone_region.get(dst, dst)}
            if regions <= set(bucket_regions):
                continue
        if purpose in OBJECT_PURPOSES and cls == INTER_ZONE and zonal_bucket \
                and not rules.zonal_bucket_transfer_billed:
            continue
        if purpose == "metadata" and managed_metadata \
                and not rules.managed_metadata_transfer_billed:
            continue
        key = (cls, purpose, zone_region.get(src, src))
        totals[key] = totals.get(key, 0.0) + float(size)
    return [NetworkCharge(cls, purpose, region, size,
                          rules.inter_zone_billed_sides if cls == INTER_ZONE else 1)
            for (cls, purpose, region), size in sorted(totals.items())]


def replication_bytes(bytes_by_key: Mapping[tuple[str, str, str], float]) -> float:
    """Bytes a bucket copied between regions (purpose ``object_replication``)."""
    return float(sum(size for (src, dst, purpose), size in bytes_by_key.items()
                     if purpose == "object_replication" and src != dst))
