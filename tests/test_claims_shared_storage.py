"""Issue 16's shared-storage claims as property tests on ``geosim.testing``.

* a shared-storage cluster (block or object WAL) loses no acknowledged record when a
  broker crashes (true: the WAL is durable; its partitions move without copy);
* with a regional object WAL, the loss of a zone loses nothing either (true);
* with a block WAL (zonal), "no acknowledged record is lost" is false under a zone
  destruction: the rows acknowledged but not yet uploaded go with the zone; the loss is
  bounded by the upload interval (RPO <= ``s3.wal.upload.interval.ms`` plus the upload's
  PUT), which holds. That it is *exactly* those rows is the oracle test of
  ``tests/test_shared_storage.py``.

One region of three zones (AutoMQ's deployments), a light workload, 35 s runs at a
20 ms append resolution.
"""

from __future__ import annotations

import pytest

from geosim.testing import (
    find_counterexample,
    no_acked_loss,
    rpo_below,
    run_example,
    scenarios,
    shared_storage,
    simulations,
    topologies,
    verify,
    workloads,
    zone_faults,
)


def cluster(*wal: str):
    """Clusters with a WAL among ``wal``, uploads every 5-20 s, 20 ms appends."""
    return shared_storage(wal=wal, upload_interval_s=(5, 20), append_interval_ms=20)


def small(config, faults):
    return scenarios(config, faults=faults,
                     topology=topologies((1, 1), (3, 3), rtt_ms=None),
                     workload=workloads(partitions=(3, 6), rate=(100, 500),
                                        message_size=(256, 1024), producers=(1, 1),
                                        consumers=(1, 1)),
                     simulation=simulations((35, 35), warmup=5, drain=10))


def test_a_broker_crash_loses_nothing():
    report = verify(no_acked_loss(),
                    small(cluster("block", "object"),
                          zone_faults(["broker-crash"], duration=(20, 25))),
                    reach=["broker-fenced", "wal-failover", "partitions-moved"])
    assert report.examples >= 5


def test_a_regional_object_wal_survives_a_zone_destruction():
    report = verify(no_acked_loss(),
                    small(cluster("object"),
                          zone_faults(["zone-destruction", "zone-outage"])),
                    reach=["broker-fenced", "wal-failover", "partitions-moved"])
    assert report.examples >= 5


@pytest.fixture(scope="module")
def zone_loss(tmp_path_factory):
    return find_counterexample(
        no_acked_loss(),
        small(cluster("block"),
              zone_faults(["zone-destruction"])),
        directory=tmp_path_factory.mktemp("cx"), quiet=True)


def test_a_block_wal_loses_its_unuploaded_rows_with_its_zone(zone_loss):
    assert "acknowledged records" in zone_loss.violation.reason
    assert [f["kind"] for f in zone_loss.data["faults"]] == ["zone-destruction"]
    assert "acked-rows-truncated" in run_example(zone_loss.data).states


def test_the_zone_loss_is_bounded_by_the_upload_interval():
    # 20 s uploads at most, each PUT a few hundred ms at these sizes: 21 s bounds the RPO
    verify(rpo_below(21.0),
           small(cluster("block"),
                 zone_faults(["zone-destruction"])),
           reach=["acked-rows-truncated"])
