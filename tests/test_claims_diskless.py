"""domain.md §8, the diskless rows, as property tests on ``geosim.testing``.

* multi-region bucket + multi-region metadata store, any transient single-region outage:
  no acknowledged record is lost (true) — but acknowledged data stays readable (false:
  the search finds a counterexample);
* same, region destroyed: no acknowledged record is lost (false when the replication
  window holds unreplicated objects: a counterexample is found, and nothing is lost when
  it does not);
* writes to a quorum of 3 regional buckets: RPO = 0 under region destruction (true).

True claims must pass with their interesting states reached; for false claims one test
asserts the search finds a counterexample within the profile and a second replays the
written scenario file through the ``geosim`` command line and gets the same violation,
with a byte-identical summary. Searches run under the current profile (``geosim-ci`` by
default; ``GEOSIM_PROFILE=geosim-deep`` for the overnight search).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given

from geosim.runner import run
from geosim.scenario.loader import load_scenario, scenario_from_dict
from geosim.testing import (
    diskless,
    every_send_settled,
    find_counterexample,
    no_acked_loss,
    reads_available,
    region_faults,
    replay,
    rpo_below,
    run_example,
    scenarios,
    simulation_settings,
    verify,
)

PRELUDES = ("brownout", "partition", "replication-pause", "object-store-slowdown")

# The Bufstream-on-GCS configuration: one multi-region bucket, Spanner multi-region.
MULTI_REGION = diskless(bucket=["multi-region"], bucket_regions=(2, 3),
                        replication_p50_s=(5, 600), metadata=["spanner-multi-region"])
# The WarpStream multi-region configuration: a quorum of 2 of 3 regional buckets.
QUORUM = diskless(bucket=["regional"], bucket_regions=(3, 3), write_quorum=(2, 2),
                  metadata=["spanner-multi-region"])

OUTAGES = scenarios(MULTI_REGION, faults=region_faults(["region-outage"], preludes=PRELUDES))
DESTRUCTIONS = scenarios(MULTI_REGION, faults=region_faults(["region-destruction"]))
QUORUM_DESTRUCTIONS = scenarios(QUORUM, faults=region_faults(["region-destruction"],
                                                              preludes=PRELUDES))


def test_multi_region_bucket_loses_nothing_in_any_transient_region_outage():
    report = verify(no_acked_loss(), OUTAGES,
                    reach=["outage-in-replication-window", "producers-cut-off",
                           "degraded-before-region-fault", "acked-unavailable"])
    assert report.examples >= 10
    assert report.coverage.reached("fault:region-outage")


FOUND = Path(__file__).resolve().parent / "counterexamples"


def test_every_send_settles_after_a_metadata_leader_outage():
    """Regression (found by the geosim-deep search): with the metadata leader 89 ms away
    and a 100 ms flush, a producer sent new rows of a partition while an earlier one
    waited to be retried, so commits were rejected as OutOfOrderSequence and, after a
    10 s election, 60 records never settled. Producers now retry in order."""
    summary = run(load_scenario(FOUND / "unsettled-sends-after-metadata-leader-outage.yaml"))
    assert every_send_settled().check(summary.summary) is None


@pytest.fixture(scope="module")
def unreadable(tmp_path_factory):
    """The search for a run where acknowledged data is unreadable during an outage."""
    return find_counterexample(reads_available(), OUTAGES,
                               directory=tmp_path_factory.mktemp("cx"), quiet=True)


def test_multi_region_bucket_reads_are_unavailable_during_an_outage(unreadable):
    assert "unreadable for up to" in unreadable.violation.reason
    faults = unreadable.data["faults"]
    assert faults[-1]["kind"] == "region-outage"
    # the shrunk example is small: one outage, nothing before it
    assert len(faults) == 1
    assert unreadable.path.exists()
    assert load_scenario(unreadable.path) == scenario_from_dict(unreadable.data)


def test_unreadable_counterexample_replays_through_the_command_line(unreadable, tmp_path):
    summary = replay(unreadable.path, unreadable.seed, tmp_path / "out")
    violation = reads_available().check(summary)
    assert violation == unreadable.violation
    assert summary == run_example(unreadable.data).summary


@pytest.fixture(scope="module")
def destroyed(tmp_path_factory):
    """The search for a run where a region destruction loses acknowledged data."""
    return find_counterexample(no_acked_loss(), DESTRUCTIONS,
                               directory=tmp_path_factory.mktemp("cx"), quiet=True)


def test_multi_region_bucket_loses_acked_data_when_a_region_is_destroyed(destroyed):
    assert "acknowledged records" in destroyed.violation.reason
    assert destroyed.data["faults"][-1]["kind"] == "region-destruction"
    outcome = run_example(destroyed.data)
    # the loss comes from objects still inside the replication window
    assert "destruction-in-replication-window" in outcome.states
    assert outcome.summary["loss"]["rpo_seconds"] > 0


def test_destroyed_region_counterexample_replays_through_the_command_line(destroyed,
                                                                            tmp_path):
    summary = replay(destroyed.path, destroyed.seed, tmp_path / "out")
    assert no_acked_loss().check(summary) == destroyed.violation
    assert summary == run_example(destroyed.data).summary


@simulation_settings()
@given(data=DESTRUCTIONS)
def test_destruction_loses_data_only_inside_the_replication_window(data):
    # The other half of the §8 verdict: with nothing pending replication, nothing is lost.
    outcome = run_example(data)
    if outcome.summary["loss"]["lost_records"]:
        assert "destruction-in-replication-window" in outcome.states


def test_quorum_of_regional_buckets_has_zero_rpo_under_region_destruction():
    report = verify(rpo_below(0) & no_acked_loss(),
                    QUORUM_DESTRUCTIONS,
                    reach=["writer-region-destroyed", "producers-cut-off",
                           "degraded-before-region-fault"])
    assert report.coverage.reached("fault:region-destruction")
