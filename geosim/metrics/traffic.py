"""Classification of counted bytes into cross-region and inter-zone traffic.

The network counts bytes per (source id, destination id, purpose), ids being
zones or regions. A pair whose ids map to different regions is **cross-region**;
a pair of two different zones of one region is **inter-zone**; the same id on both
sides (intra-zone) and traffic between a zone and its own region's managed services
(the region id, e.g. a regional bucket endpoint) stay inside the region's service
network and are not reported as inter-zone. Cross-region pairs are keyed by
region (``"src-region->dst-region"``), inter-zone pairs by zone
(``"src-zone->dst-zone"``). Rates divide totals by the production period.
"""

from __future__ import annotations

from collections.abc import Mapping

from geosim.metrics.report import TrafficReport


def classify_bytes(bytes_by_pair: Mapping[tuple[str, str, str], int],
                   zone_region: Mapping[str, str], period: float) -> TrafficReport:
    """Totals by purpose and pair of cross-region and inter-zone bytes.

    ``period`` (s) is the production period used for the average rates; a
    non-positive period gives rates of 0.
    """
    report = TrafficReport()
    for (src, dst, purpose), size in sorted(bytes_by_pair.items()):
        if src == dst or not size:
            continue
        try:
            src_region, dst_region = zone_region[src], zone_region[dst]
        except KeyError as missing:
            raise KeyError(f"zone_region has no region for id {missing.args[0]!r}") from None
        if src_region != dst_region:
            cls, pair = report.cross_region, f"{src_region}->{dst_region}"
        elif src == src_region or dst == dst_region:
            continue  # a zone talking to its own region's service endpoint
        else:
            cls, pair = report.inter_zone, f"{src}->{dst}"
        cls.total += int(size)
        cls.by_purpose[purpose] = cls.by_purpose.get(purpose, 0) + int(size)
        cls.by_pair[pair] = cls.by_pair.get(pair, 0) + int(size)
    for cls in (report.cross_region, report.inter_zone):
        cls.rate = cls.total / period if period > 0 else 0.0
        cls.by_purpose = dict(sorted(cls.by_purpose.items()))
        cls.by_pair = dict(sorted(cls.by_pair.items()))
    return report
