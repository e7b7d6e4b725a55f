"""Every bad input a user can write yields ONE line naming file, field path, value and
what was expected. Messages are asserted exactly so their shape cannot regress."""

from __future__ import annotations

import copy
import pickle

import pytest
from scenario_dicts import tiny

from geosim.scenario.errors import NO_VALUE, ScenarioError, format_path, format_value
from geosim.scenario.loader import scenario_from_dict


def three_regions() -> dict:
    data = tiny()
    data["topology"]["regions"] = {"r1": {"zones": ["a", "b"]}, "r2": {"zones": ["a"]},
                                   "r3": {"zones": ["a"]}}
    # No provider publishes latencies between these made-up regions: give each pair one.
    data["topology"]["links"] = [{"between": list(pair),
                                  "rtt": {"dist": "constant", "value": "20ms"}}
                                 for pair in (("r1", "r2"), ("r1", "r3"), ("r2", "r3"))]
    return data


def error(data: dict, overrides: tuple[str, ...] = ()) -> str:
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data, source="x.yaml", overrides=overrides)
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def with_(base: dict, **changes) -> dict:
    """Copy of ``base`` with dotted-path changes (``workload__omb__topics=0``)."""
    data = copy.deepcopy(base)
    for key, value in changes.items():
        *parents, last = key.split("__")
        node = data
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return data


# --- the error type ----------------------------------------------------------------------------

def test_style_guide_example_shape() -> None:
    err = ScenarioError("scenarios/x.yaml", "strategy.min_insync_replicas",
                        "must be <= replication_factor (3)", 4)
    assert str(err) == ("scenarios/x.yaml: strategy.min_insync_replicas: "
                        "must be <= replication_factor (3), got 4")
    assert (err.file, err.path, err.value, err.expected) == (
        "scenarios/x.yaml", "strategy.min_insync_replicas", 4,
        "must be <= replication_factor (3)")


def test_message_is_one_line_even_with_newlines_in_parts() -> None:
    err = ScenarioError("a.yaml", "x", "must be\nshort", "two\nlines")
    assert str(err) == "a.yaml: x: must be short, got 'two\\nlines'"


def test_no_value_and_no_path_are_left_out() -> None:
    assert str(ScenarioError("a.yaml", "", "no such file")) == "a.yaml: no such file"
    assert str(ScenarioError("a.yaml", "p", "required field is missing")) == \
        "a.yaml: p: required field is missing"
    assert ScenarioError("a.yaml", "p", "x").value is NO_VALUE


def test_line_and_column_follow_the_file_name() -> None:
    err = ScenarioError("a.yaml", "", "invalid YAML: oops", line=3, column=7)
    assert str(err) == "a.yaml:3:7: invalid YAML: oops"


def test_error_survives_pickling() -> None:
    err = ScenarioError("a.yaml", "faults[0].at", "must be >= 0", -1.0, line=2, column=1)
    copy_ = pickle.loads(pickle.dumps(err))
    assert str(copy_) == str(err)
    assert pickle.loads(pickle.dumps(ScenarioError("a", "b", "c"))).value is NO_VALUE


def test_long_values_are_cut() -> None:
    text = format_value(list(range(100)))
    assert len(text) == 80 and text.endswith("...")
    assert format_value(True) == "true" and format_value(None) == "null"


def test_format_path() -> None:
    assert format_path(["faults", 1, "duration"]) == "faults[1].duration"
    assert format_path(["workload", "producer_config", "linger.ms"]) == \
        "workload.producer_config.linger.ms"
    assert format_path([]) == ""


# --- schema errors translated from pydantic ------------------------------------------------------

def test_minimal_scenario_is_valid() -> None:
    scenario = scenario_from_dict(tiny())
    assert scenario.name == "tiny"
    assert scenario.zone_ids() == ["r1-a", "r1-b"]


def test_unknown_top_level_field_lists_the_known_ones() -> None:
    assert error(with_(tiny(), colour="red")) == (
        "x.yaml: colour: unknown field; expected one of: name, description, topology, "
        "object_store, metadata, workload, strategy, faults, simulation, cost")


def test_unknown_strategy_field_drops_the_union_tag() -> None:
    assert error(with_(tiny(), strategy__flush_intervl="1s")) == (
        "x.yaml: strategy.flush_intervl: unknown field; expected one of: name, brokers, "
        "flush_interval, flush_bytes, write_quorum, read_range_bytes, cache_bytes_per_zone, "
            "notify_via_leader, "
        "brokers_per_writer")


def test_bad_unit_gives_the_units_message() -> None:
    assert error(with_(tiny(), strategy__flush_interval="250 parsecs")) == (
        "x.yaml: strategy.flush_interval: unknown duration unit 'parsecs' in '250 parsecs' "
        "(use ns, us, ms, s, m, h or d)")
    assert error(with_(tiny(), strategy__flush_bytes="1XB")) == (
        "x.yaml: strategy.flush_bytes: unknown size unit 'XB' in '1XB' "
        "(use B, KiB, MiB, GiB, TiB, PiB or kB, MB, GB, TB, PB)")


def test_wrong_literal_lists_allowed_values() -> None:
    assert error(with_(tiny(), object_store__kind="global")) == (
        "x.yaml: object_store.kind: must be one of 'regional', 'dual-region' or "
        "'multi-region', got 'global'")


def test_fault_path_reads_without_discriminator_tag() -> None:
    data = three_regions()
    data["faults"] = [{"kind": "region-outage", "region": "r2", "at": "1m", "duration": "1m"},
                      {"kind": "region-outage", "region": "r2", "at": "2m",
                       "duration": "soon"}]
    assert error(data) == ("x.yaml: faults[1].duration: expected a duration such as '25ms' "
                           "or '30m', got 'soon'")


def test_unknown_fault_kind() -> None:
    data = with_(tiny(), faults=[{"kind": "meteor", "at": "1m"}])
    assert error(data) == (
        "x.yaml: faults[0].kind: must be one of 'region-outage', 'region-destruction', "
        "'zone-outage', 'zone-destruction', 'partition', 'brownout', "
        "'object-store-slowdown', 'replication-pause', 'metadata-loss', 'client-crash', "
        "'broker-crash', 'connect-worker-crash', 'unclean-election', 'site-failure', "
        "got 'meteor'")


def test_fault_without_kind() -> None:
    message = error(with_(tiny(), faults=[{"at": "1m"}]))
    assert message.startswith("x.yaml: faults[0].kind: required field is missing; "
                              "expected one of 'region-outage', ")


def test_missing_required_field_of_a_fault() -> None:
    data = with_(tiny(), faults=[{"kind": "zone-outage", "at": "1m", "duration": "1m"}])
    assert error(data) == "x.yaml: faults[0].zone: required field is missing"


def test_missing_top_level_section() -> None:
    data = tiny()
    del data["workload"]
    assert error(data) == "x.yaml: workload: required field is missing"


def test_negative_duration_on_a_bounded_field_names_the_unit() -> None:
    assert error(with_(tiny(), simulation={"duration": "-5m"})) == (
        "x.yaml: simulation.duration: must be > 0 (in seconds), got -300.0")


def test_empty_zone_list() -> None:
    assert error(with_(tiny(), topology={"regions": {"r1": {"zones": []}}})) == (
        "x.yaml: topology.regions.r1.zones: must have at least 1 item, got []")


def test_model_level_check_reports_at_the_model() -> None:
    assert error(with_(tiny(), object_store={"kind": "dual-region", "regions": ["r1"]})) == (
        "x.yaml: object_store: a dual-region bucket needs exactly 2 regions, got 1")


def test_distribution_check_drops_the_dist_tag() -> None:
    data = with_(tiny(), topology__inter_zone_rtt={"dist": "lognormal", "p50": "2ms",
                                                   "p99": "1ms"})
    assert error(data) == ("x.yaml: topology.inter_zone_rtt: needs 0 < p50 <= p99, "
                           "got p50=0.002s, p99=0.001s")


def test_union_of_types_merges_the_alternatives() -> None:
    assert error(with_(tiny(), workload={"omb": 5})) == (
        "x.yaml: workload.omb: must be a string or a mapping of OmbWorkload fields, got 5")
    assert error(with_(tiny(), workload__producer_config={"acks": [1]})) == (
        "x.yaml: workload.producer_config.acks: must be a string, an integer, a number or "
        "a boolean, got [1]")


def test_inline_omb_unknown_key_prefers_the_mapping_branch() -> None:
    message = error(with_(tiny(), workload__omb__messageSise=10))
    assert message.startswith("x.yaml: workload.omb.messageSise: unknown field; expected one "
                              "of: name, topics, partitionsPerTopic, keyDistributor, ")


def test_name_pattern() -> None:
    assert error(with_(tiny(), name="my scenario")) == (
        "x.yaml: name: must match the pattern ^[A-Za-z0-9_.-]+$, got 'my scenario'")


def test_wrong_container_type() -> None:
    assert error(with_(tiny(), workload=5)) == "x.yaml: workload: must be a mapping, got 5"


# --- cross-field checks ---------------------------------------------------------------------------

def test_unknown_region_in_object_store() -> None:
    assert error(with_(tiny(), object_store={"kind": "regional", "regions": ["r1", "r9"]})) == (
        "x.yaml: object_store.regions[1]: unknown region; expected one of: r1, got 'r9'")


def test_duplicate_region_in_a_list() -> None:
    assert error(with_(tiny(), object_store={"kind": "regional", "regions": ["r1", "r1"]})) \
        == "x.yaml: object_store.regions[1]: is listed twice, got 'r1'"


def test_unknown_metadata_region_and_leader() -> None:
    assert error(with_(tiny(), metadata={"preset": "etcd", "regions": ["r2"]})) == (
        "x.yaml: metadata.regions[0]: unknown region; expected one of: r1, got 'r2'")
    assert error(with_(tiny(), metadata__leader_region="r7")) == (
        "x.yaml: metadata.leader_region: unknown region; expected one of: r1, got 'r7'")


def test_unknown_voter_region_and_zone() -> None:
    custom = {"preset": "custom", "voters": [{"region": "r1", "zone": "c"}]}
    assert error(with_(tiny(), metadata=custom)) == (
        "x.yaml: metadata.voters[0].zone: must be a zone suffix of region r1 (one of: a, b), "
        "got 'c'")
    custom = {"preset": "custom", "voters": [{"region": "rx"}]}
    assert error(with_(tiny(), metadata=custom)) == (
        "x.yaml: metadata.voters[0].region: unknown region; expected one of: r1, got 'rx'")


def test_placement_keys_must_be_regions_or_zones() -> None:
    assert error(with_(tiny(), workload__producers={"r2": 1})) == (
        "x.yaml: workload.producers.r2: unknown region or zone; expected a region (r1) or a "
        "zone id (r1-a, r1-b), got 'r2'")


def test_zone_key_must_belong_to_its_region() -> None:
    assert error(with_(tiny(), workload__consumers={"r1-c": 1})) == (
        "x.yaml: workload.consumers.r1-c: unknown zone of region r1 (its zones: r1-a, r1-b), "
        "got 'r1-c'")


def test_zone_level_keys_are_accepted() -> None:
    scenario = scenario_from_dict(with_(tiny(), workload__producers={"r1-a": 1, "r1": 2},
                                        strategy__brokers={"r1-a": 1, "r1-b": 3}))
    assert scenario.workload.producers == {"r1-a": 1.0, "r1": 2.0}
    assert scenario.strategy.brokers == {"r1-a": 1, "r1-b": 3}


def test_every_region_pair_needs_a_latency() -> None:
    data = three_regions()
    data["topology"]["links"] = data["topology"]["links"][:2]
    assert error(data) == (
        "x.yaml: topology.regions.r3: no latency known between regions r2 and r3 (provider "
        "gcp publishes no median for this pair); give it an rtt in topology.links "
        "(between: [r2, r3])")
    data["topology"]["links"].append({"between": ["r2-a", "r3-a"]})
    assert error(data) == (
        "x.yaml: topology.links[2].rtt: is required: no latency known between regions r2 "
        "and r3 (provider gcp publishes no median for this pair); give it an rtt in "
        "topology.links (between: [r2, r3])")


def test_diskless_producers_need_a_broker_in_their_zone() -> None:
    assert error(with_(tiny(), workload__producers={"r1-a": 1, "r1": 2},
                       strategy__brokers={"r1-b": 3})) == (
        "x.yaml: workload.producers.r1-a: places producers in zone r1-a, which has no "
        "broker (strategy.brokers places them in r1-b); diskless producers write to a "
        "broker of their own zone")


def test_placement_weights() -> None:
    assert error(with_(tiny(), workload__producers={"r1": -1})) == (
        "x.yaml: workload.producers.r1: must be >= 0 (a share), got -1.0")
    assert error(with_(tiny(), workload__producers={"r1-a": 0, "r1-b": 0})) == (
        "x.yaml: workload.producers: shares must sum to more than 0, "
        "got {'r1-a': 0.0, 'r1-b': 0.0}")


def test_broker_keys_and_counts() -> None:
    assert error(with_(tiny(), strategy__brokers={"us-east1": 3})) == (
        "x.yaml: strategy.brokers.us-east1: unknown region or zone; expected a region (r1) "
        "or a zone id (r1-a, r1-b), got 'us-east1'")
    assert error(with_(tiny(), strategy__brokers={"r1": -2})) == (
        "x.yaml: strategy.brokers.r1: must be >= 0, got -2")


def test_fault_targets_must_exist() -> None:
    outage = {"kind": "region-outage", "region": "r2", "at": "1m", "duration": "1m"}
    assert error(with_(tiny(), faults=[outage])) == (
        "x.yaml: faults[0].region: unknown region; expected one of: r1, got 'r2'")
    crash = {"kind": "broker-crash", "zone": "r1", "at": "1m"}
    assert error(with_(tiny(), faults=[crash])) == (
        "x.yaml: faults[0].zone: is a region; expected a zone id <region>-<zone> "
        "(one of: r1-a, r1-b), got 'r1'")
    crash = {"kind": "client-crash", "clients": "producers", "zone": "r9-a", "at": "1m",
             "duration": "1m"}
    assert error(with_(tiny(), faults=[crash])) == (
        "x.yaml: faults[0].zone: unknown zone; expected one of: r1-a, r1-b, got 'r9-a'")


def test_between_pairs_are_checked() -> None:
    partition = {"kind": "partition", "between": ["r1", "r4"], "at": "1m", "duration": "1m"}
    assert error(with_(three_regions(), faults=[partition])) == (
        "x.yaml: faults[0].between[1]: unknown region or zone; expected a region "
        "(r1, r2, r3) or a zone id (r1-a, r1-b, r2-a, r3-a), got 'r4'")
    mixed = {"kind": "brownout", "between": ["r1", "r2-a"], "at": "1m", "duration": "1m"}
    assert error(with_(three_regions(), faults=[mixed])) == (
        "x.yaml: faults[0].between: must name two regions or two zones, not one of each, "
        "got ['r1', 'r2-a']")
    link = {"between": ["r1-a", "r1-a"]}
    assert error(with_(tiny(), topology__links=[link])) == (
        "x.yaml: topology.links[0].between: must name two different places, "
        "got ['r1-a', 'r1-a']")


def test_link_endpoints_must_exist_and_not_repeat() -> None:
    assert error(with_(tiny(), topology__links=[{"between": ["r1", "r2"]}])) == (
        "x.yaml: topology.links[0].between[1]: unknown region or zone; expected a region "
        "(r1) or a zone id (r1-a, r1-b), got 'r2'")
    links = [{"between": ["r1-a", "r1-b"]}, {"between": ["r1-b", "r1-a"]}]
    assert error(with_(tiny(), topology__links=links)) == (
        "x.yaml: topology.links[1].between: duplicates topology.links[0], "
        "got ['r1-b', 'r1-a']")


def test_metadata_preset_region_counts() -> None:
    data = three_regions()
    data["metadata"] = {"preset": "spanner-multi-region", "regions": ["r1", "r2"]}
    assert error(data) == (
        "x.yaml: metadata.regions: preset spanner-multi-region needs exactly 3 regions: two "
        "read-write regions, then the witness region, got ['r1', 'r2']")
    data["metadata"] = {"preset": "spanner-dual-region", "regions": ["r1", "r2", "r3"]}
    assert error(data) == ("x.yaml: metadata.regions: preset spanner-dual-region needs "
                           "exactly 2 regions, got ['r1', 'r2', 'r3']")
    data["metadata"] = {"preset": "etcd"}
    assert error(data) == ("x.yaml: metadata.regions: preset etcd needs at least 1 region, "
                           "got []")
    data["metadata"] = {"preset": "custom"}
    assert error(data) == "x.yaml: metadata.voters: preset custom needs at least one voter"


def test_default_metadata_preset_is_named_as_such() -> None:
    data = tiny()
    del data["metadata"]
    assert error(data) == (
        "x.yaml: metadata.regions: preset spanner-multi-region (the default preset) needs "
        "exactly 3 regions: two read-write regions, then the witness region, got []")


def test_voters_only_with_custom_and_leader_must_hold_a_voter() -> None:
    data = with_(tiny(), metadata__voters=[{"region": "r1"}])
    assert error(data) == "x.yaml: metadata.voters: is only used by preset custom, not etcd"
    data = three_regions()
    data["metadata"] = {"preset": "spanner-multi-region", "regions": ["r1", "r2", "r3"],
                        "leader_region": "r3"}
    assert error(data) == ("x.yaml: metadata.leader_region: must be one of the regions "
                           "holding leader-eligible voters (r1, r2), got 'r3'")


def test_faults_must_start_before_the_end() -> None:
    outage = {"kind": "region-outage", "region": "r1", "at": "10m", "duration": "1m"}
    assert error(with_(tiny(), faults=[outage], simulation={"duration": "5m"})) == (
        "x.yaml: faults[0].at: must be < simulation.duration (300 s): a fault must start "
        "while producers run, got 600.0")


def test_write_quorum_needs_regional_buckets_and_enough_of_them() -> None:
    assert error(with_(tiny(), strategy__write_quorum=2)) == (
        "x.yaml: strategy.write_quorum: must be <= the number of buckets, "
        "object_store.regions (1), got 2")
    data = three_regions()
    data["object_store"] = {"kind": "multi-region", "regions": ["r1", "r2"]}
    data["strategy"]["write_quorum"] = 1
    assert error(data) == (
        "x.yaml: strategy.write_quorum: requires object_store.kind regional (one bucket per "
        "region), but object_store.kind is multi-region, got 1")


def test_producer_rate_zero_is_a_max_rate_run() -> None:
    scenario = scenario_from_dict(with_(tiny(), workload__omb__producerRate=0))
    assert scenario.workload.omb.producerRate == 0


def test_negative_durations_sizes_and_rates_are_rejected() -> None:
    assert error(with_(tiny(), metadata__commit_wait="-5ms")) == (
        "x.yaml: metadata.commit_wait: must be >= 0, got -0.005")
    assert error(with_(tiny(), strategy__cache_bytes_per_zone="-1GiB")) == (
        "x.yaml: strategy.cache_bytes_per_zone: must be >= 0, got -1073741824")
    link = {"between": ["r1-a", "r1-b"], "bandwidth": "-1Gbps"}
    assert error(with_(tiny(), topology__links=[link])) == (
        "x.yaml: topology.links[0].bandwidth: must be > 0 (omit it for unlimited), "
        "got -125000000.0")
    samples = {"dist": "empirical", "samples": ["1ms", "-2ms"]}
    assert error(with_(tiny(), object_store__get_latency=samples)) == (
        "x.yaml: object_store.get_latency.samples[1]: must be >= 0, got -0.002")
    assert error(with_(tiny(), workload__omb__testDurationMinutes=-1)) == (
        "x.yaml: workload.omb.testDurationMinutes: must be >= 0, got -1")


def test_nan_is_rejected() -> None:
    assert error(with_(tiny(), metadata__commit_wait=float("nan"))) == (
        "x.yaml: metadata.commit_wait: must be a finite duration, in seconds, got nan")
    assert error(with_(tiny(), workload__producers={"r1": float("nan")})) == (
        "x.yaml: workload.producers.r1: must be a finite number (a share), got nan")


def test_flush_interval_must_be_positive() -> None:
    assert error(with_(tiny(), strategy__flush_interval=0)) == (
        "x.yaml: strategy.flush_interval: must be > 0 (in seconds), got 0.0")


def test_replication_pause_needs_a_replicated_bucket() -> None:
    pause = {"kind": "replication-pause", "at": "1m", "duration": "1m"}
    assert error(with_(tiny(), faults=[pause])) == (
        "x.yaml: faults[0].kind: needs a dual-region or multi-region bucket; "
        "object_store.kind is regional (nothing replicates), got 'replication-pause'")


def test_warmup_must_leave_time_to_measure() -> None:
    assert error(with_(tiny(), simulation={"duration": "1m", "warmup": "2m"})) == (
        "x.yaml: simulation.warmup: must be < simulation.duration (60 s), got 120.0")


def test_zone_ids_must_be_unambiguous() -> None:
    data = tiny()
    data["topology"]["regions"] = {"us": {"zones": ["west1-a"]}, "us-west1": {"zones": ["a"]}}
    data["object_store"]["regions"] = ["us"]
    data["metadata"]["regions"] = ["us"]
    assert error(data) == ("x.yaml: topology.regions.us-west1.zones[0]: gives zone id "
                           "us-west1-a, which region us already has, got 'a'")


def test_invalid_kafka_setting_in_scenario() -> None:
    assert error(with_(tiny(), workload__producer_config={"acks": 2})) == (
        "x.yaml: workload.producer_config.acks: must be one of all, -1, 0, 1, got 2")
    assert error(with_(tiny(), workload__producer_config={"linger.ms": -5})) == (
        "x.yaml: workload.producer_config.linger.ms: must be >= 0 (milliseconds), got -5")


def test_object_store_service_errors_name_the_field() -> None:
    message = error(with_(tiny(), object_store__service="s3-expres"))
    assert message.startswith("x.yaml: object_store.service: unknown service; expected one "
                              "of: azure-blob-hot, gcs-dual-region,")
    assert message.endswith("got 's3-expres'")
    assert error(with_(tiny(), object_store__service="s3-express-one-zone")) == (
        "x.yaml: object_store.zones: is required for the zonal service s3-express-one-zone: "
        "one zone id per directory bucket")
    zones = [f"{r}-{z}" for r, spec in tiny()["topology"]["regions"].items()
             for z in spec["zones"]][:1]
    assert error(with_(tiny(), object_store__zones=zones)).startswith(
        "x.yaml: object_store.zones: only zonal services take zones;")
