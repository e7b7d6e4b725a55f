"""Classification of counted bytes (geosim.metrics.traffic), exact."""

from __future__ import annotations

import pytest

from geosim.metrics.traffic import classify_bytes

ZONES = {"us-west1-a": "us-west1", "us-west1-b": "us-west1", "us-west1": "us-west1",
         "us-east1-b": "us-east1", "us-east1": "us-east1"}


def test_cross_region_by_region_pair_inter_zone_by_zone_pair_the_rest_not_reported():
    counted = {
        ("us-west1-a", "us-east1-b", "replicate"): 1000,   # cross-region
        ("us-west1-b", "us-east1-b", "replicate"): 500,    # same region pair
        ("us-east1-b", "us-west1", "object_put"): 300,     # to another region's endpoint
        ("us-west1-a", "us-west1-b", "replicate"): 70,     # inter-zone
        ("us-west1-b", "us-west1-a", "consume"): 30,
        ("us-west1-a", "us-west1-a", "produce"): 9999,     # intra-zone
        ("us-west1-a", "us-west1", "object_put"): 8888,    # own region's endpoint
        ("us-west1", "us-west1-b", "object_get"): 7777,    # and back
        ("us-west1-a", "us-east1-b", "mirror"): 0,         # nothing: no entry
    }
    report = classify_bytes(counted, ZONES, period=10.0)
    cross, zones = report.cross_region, report.inter_zone
    assert (cross.total, cross.rate) == (1800, 180.0)
    assert cross.by_purpose == {"object_put": 300, "replicate": 1500}
    assert cross.by_pair == {"us-east1->us-west1": 300, "us-west1->us-east1": 1500}
    assert list(cross.by_purpose) == sorted(cross.by_purpose)
    assert (zones.total, zones.rate) == (100, 10.0)
    assert zones.by_purpose == {"consume": 30, "replicate": 70}
    assert zones.by_pair == {"us-west1-a->us-west1-b": 70, "us-west1-b->us-west1-a": 30}


@pytest.mark.parametrize(("period", "rate"), [(0.0, 0.0), (-5.0, 0.0), (0.5, 20.0)])
def test_a_non_positive_period_gives_zero_rates(period, rate):
    report = classify_bytes({("us-west1-a", "us-east1-b", "mirror"): 10}, ZONES, period)
    assert (report.cross_region.total, report.cross_region.rate) == (10, rate)


def test_an_id_without_a_region_is_a_one_line_error():
    with pytest.raises(KeyError, match="zone_region has no region for id 'eu-west9-a'"):
        classify_bytes({("eu-west9-a", "us-west1-a", "replicate"): 1}, ZONES, 1.0)
