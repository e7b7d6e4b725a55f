"""Loading scenario files: YAML problems, --set overrides, OMB references, resolved dump."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from scenario_dicts import tiny

from geosim.scenario.errors import ScenarioError
from geosim.scenario.loader import (
    client_configs,
    dump_scenario,
    load_scenario,
    scenario_from_dict,
)
from geosim.scenario.schema import OmbDriver, OmbWorkload, Scenario
from geosim.scenario.seed import settle_seed, settle_seeds

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def scenario_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(tiny()))
    return path


def load_error(path: Path, overrides: tuple[str, ...] = ()) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, overrides)
    assert "\n" not in str(info.value)
    return info.value


def set_error(*overrides: str, data: dict | None = None) -> str:
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data or tiny(), source="x.yaml", overrides=overrides)
    return str(info.value)


# --- files and YAML ---------------------------------------------------------------------------

def test_load_file_resolves_the_default_driver(scenario_file: Path) -> None:
    scenario = load_scenario(scenario_file)
    assert isinstance(scenario, Scenario)
    assert isinstance(scenario.workload.omb, OmbWorkload)
    assert isinstance(scenario.workload.driver, OmbDriver)
    # The default driver is OMB's kafka-latency.yaml.
    assert "batch.size=131072" in scenario.workload.driver.producerConfig


def test_missing_file(tmp_path: Path) -> None:
    err = load_error(tmp_path / "nope.yaml")
    assert str(err) == f"{tmp_path / 'nope.yaml'}: no such file"


def test_directory_instead_of_file(tmp_path: Path) -> None:
    assert str(load_error(tmp_path)) == f"{tmp_path}: is a directory, expected a YAML file"


def test_malformed_yaml_reports_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\ntopology:\n  regions: {r1: {zones: [a, b]}\n")
    err = load_error(path)
    assert (err.line, err.column) == (4, 1)
    assert str(err).startswith(f"{path}:4:1: invalid YAML: ")


def test_yaml_indentation_error_position(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\n  topology: 3\n")
    err = load_error(path)
    assert str(err) == f"{path}:2:11: invalid YAML: mapping values are not allowed here"


def test_duplicate_keys_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text("name: a\nfaults: []\nname: b\n")
    assert str(load_error(path)) == (
        f"{path}:3:1: invalid YAML: duplicate key 'name' (first given on line 1)")


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- name: x\n")
    assert str(load_error(path)) == (
        f"{path}: top level must be a mapping of scenario fields, got list")
    path.write_text("")
    assert str(load_error(path)) == (
        f"{path}: is empty; expected a mapping with name, topology, object_store, workload "
        "and strategy")


def test_recursive_alias_is_an_error_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "rec.yaml"
    path.write_text("name: x\ndescription: &a [*a]\n")
    assert str(load_error(path)) == (
        f"{path}: contains itself (a YAML alias used inside its own anchor)")


def test_unsafe_yaml_tags_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "tag.yaml"
    path.write_text("name: !!python/object/apply:os.getcwd []\n")
    err = load_error(path)
    assert (err.line, err.column) == (1, 7)
    assert "could not determine a constructor" in str(err)


def test_schema_errors_name_the_file(scenario_file: Path) -> None:
    data = tiny()
    data["strategy"]["flush_interval"] = "fast"
    scenario_file.write_text(yaml.safe_dump(data))
    assert str(load_error(scenario_file)) == (
        f"{scenario_file}: strategy.flush_interval: expected a duration such as '25ms' or "
        "'30m', got 'fast'")


@pytest.mark.parametrize("name", sorted(p.name for p in (REPO / "scenarios").glob("*.yaml")))
def test_repository_scenarios_load(name: str) -> None:
    scenario = load_scenario(REPO / "scenarios" / name)
    assert isinstance(scenario.workload.omb, OmbWorkload)
    assert scenario.workload.omb.producerRate > 0


# --- OMB references ---------------------------------------------------------------------------

def test_relative_omb_paths_resolve_against_the_scenario_folder(tmp_path: Path) -> None:
    (tmp_path / "omb").mkdir()
    (tmp_path / "omb" / "w.yaml").write_text("name: mine\ntopics: 3\nproducerRate: 500\n")
    (tmp_path / "omb" / "d.yaml").write_text(
        "name: Kafka\nproducerConfig: |\n  linger.ms=7\n")
    data = tiny()
    data["workload"] = {"omb": "omb/w.yaml", "driver": "omb/d.yaml"}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data))
    scenario = load_scenario(path)
    assert scenario.workload.omb.name == "mine" and scenario.workload.omb.topics == 3
    producer, _ = client_configs(scenario)
    assert producer.linger == pytest.approx(0.007)


def test_bundled_omb_reference_and_short_form() -> None:
    data = tiny()
    data["workload"] = {"omb": "omb:workloads/1-topic-16-partitions-1kb.yaml",
                        "driver": "omb:kafka-no-linger.yaml"}
    scenario = scenario_from_dict(data)
    assert scenario.workload.omb.partitionsPerTopic == 16
    assert scenario.workload.omb.messageSize == 1024
    assert "linger.ms=0" in scenario.workload.driver.producerConfig


def test_unknown_bundled_file_suggests_the_closest() -> None:
    data = tiny()
    data["workload"]["omb"] = "omb:workloads/1-topic-16-partition-1kb.yaml"
    assert set_error(data=data) == (
        "x.yaml: workload.omb: no such bundled OMB file; did you mean "
        "omb:workloads/1-topic-16-partitions-1kb.yaml?, "
        "got 'omb:workloads/1-topic-16-partition-1kb.yaml'")


def test_bundle_cannot_be_escaped() -> None:
    data = tiny()
    data["workload"]["driver"] = "omb:../../scenario/schema.py"
    assert set_error(data=data).startswith("x.yaml: workload.driver: no such bundled OMB file")


def test_missing_relative_omb_file(tmp_path: Path) -> None:
    data = tiny()
    data["workload"]["omb"] = "nowhere.yaml"
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data, source="x.yaml", base_dir=tmp_path)
    assert str(info.value) == (
        f"x.yaml: workload.omb: no such file '{tmp_path / 'nowhere.yaml'}' (paths are "
        "relative to the scenario file; bundled OMB files are named omb:<path>), "
        "got 'nowhere.yaml'")


def test_unknown_key_in_an_omb_file_names_that_file(tmp_path: Path) -> None:
    (tmp_path / "w.yaml").write_text("name: w\nproducerRate: 10\nsampleRateMillis: 10000\n")
    data = tiny()
    data["workload"]["omb"] = "w.yaml"
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data, source="x.yaml", base_dir=tmp_path)
    err = info.value
    assert err.file == str(tmp_path / "w.yaml") and err.path == "sampleRateMillis"
    assert str(err).startswith(f"{tmp_path / 'w.yaml'}: sampleRateMillis: unknown field; "
                               "expected one of: name, topics, ")


def test_producer_rate_zero_from_a_bundled_file_is_a_max_rate_run() -> None:
    data = tiny()
    data["workload"]["omb"] = "omb:workloads/max-rate-1-topic-16-partitions-1kb.yaml"
    scenario = scenario_from_dict(data, source="x.yaml")
    assert scenario.workload.omb.producerRate == 0
    # An override on top of the referenced file sets a fixed rate.
    scenario = scenario_from_dict(data, overrides=["workload.omb.producerRate=5000"])
    assert scenario.workload.omb.producerRate == 5000
    assert scenario.workload.omb.partitionsPerTopic == 16


def test_invalid_driver_value_names_the_driver_file(tmp_path: Path) -> None:
    (tmp_path / "d.yaml").write_text("name: Kafka\nproducerConfig: |\n  acks=2\n")
    data = tiny()
    data["workload"]["driver"] = "d.yaml"
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data, source="x.yaml", base_dir=tmp_path)
    assert str(info.value) == (
        f"{tmp_path / 'd.yaml'}: producerConfig.acks: must be one of all, -1, 0, 1, got '2'")


# --- --set overrides --------------------------------------------------------------------------

def test_override_with_units() -> None:
    scenario = scenario_from_dict(tiny(), overrides=["strategy.flush_interval=100ms",
                                                     "simulation.duration=10m"])
    assert scenario.strategy.flush_interval == pytest.approx(0.1)
    assert scenario.simulation.duration == 600.0


def test_override_list_item() -> None:
    data = tiny()
    data["faults"] = [{"kind": "zone-outage", "zone": "r1-a", "at": "1m", "duration": "1m"}]
    scenario = scenario_from_dict(data, overrides=["faults[0].at=2m", "faults[0].zone=r1-b"])
    assert scenario.faults[0].at == 120.0 and scenario.faults[0].zone == "r1-b"


def test_override_kafka_keys_with_dots() -> None:
    scenario = scenario_from_dict(tiny(), overrides=["workload.producer_config.linger.ms=5",
                                                     "workload.consumer_config"
                                                     ".enable.auto.commit=true"])
    assert scenario.workload.producer_config == {"linger.ms": 5}
    assert scenario.workload.consumer_config == {"enable.auto.commit": True}
    producer, consumer = client_configs(scenario)
    assert producer.linger == pytest.approx(0.005) and consumer.enable_auto_commit is True


def test_override_values_are_yaml() -> None:
    scenario = scenario_from_dict(tiny(), overrides=[
        "strategy.notify_via_leader=false", "workload.omb.topics=4",
        "object_store.regions=[r1]", "description=just text"])
    assert scenario.strategy.notify_via_leader is False
    assert scenario.workload.omb.topics == 4
    assert scenario.description == "just text"


def test_override_creates_missing_sections_from_defaults() -> None:
    scenario = scenario_from_dict(tiny(), overrides=["simulation.seed=7",
                                                     "topology.same_zone_rtt.p99=1ms"])
    assert scenario.simulation.seed == 7 and scenario.simulation.duration == 300.0
    # The default same-zone lognormal keeps its median; only the p99 moved.
    assert scenario.topology.same_zone_rtt.p50 == pytest.approx(1e-4)
    assert scenario.topology.same_zone_rtt.p99 == pytest.approx(1e-3)


def test_override_can_replace_the_omb_reference() -> None:
    scenario = scenario_from_dict(tiny(), overrides=[
        "workload.omb=omb:workloads/simple-workload.yaml"])
    assert scenario.workload.omb.partitionsPerTopic == 10
    assert scenario.workload.omb.producerRate == 10000


def test_override_into_the_default_driver() -> None:
    scenario = scenario_from_dict(tiny(), overrides=["workload.driver.replicationFactor=1"])
    assert scenario.workload.driver.replicationFactor == 1
    assert "linger.ms=1" in scenario.workload.driver.producerConfig


def test_override_can_build_a_missing_inline_workload() -> None:
    data = tiny()
    data["workload"] = {}
    scenario = scenario_from_dict(data, overrides=["workload.omb.producerRate=50",
                                                   "workload.omb.topics=2"])
    assert scenario.workload.omb.producerRate == 50 and scenario.workload.omb.topics == 2


def test_seed_argument_replaces_the_file_seed(scenario_file: Path) -> None:
    assert load_scenario(scenario_file, seed=42).simulation.seed == 42
    assert load_scenario(scenario_file).simulation.seed == 0


def test_settle_seed_an_explicit_seed_wins_else_the_scenarios() -> None:
    scenario = scenario_from_dict(tiny(), seed=7)
    assert settle_seed(scenario) == 7
    assert settle_seed(scenario, 3) == 3
    assert settle_seed(scenario, 0) == 0  # 0 is a seed, not "unset"
    assert settle_seeds(scenario) == [7]
    assert settle_seeds(scenario, range(1, 4)) == [1, 2, 3]
    assert settle_seeds(scenario, []) == []  # an empty list is not "unset" either


def test_override_unknown_field_is_named() -> None:
    assert set_error("strategy.flush_intervl=100ms") == (
        "x.yaml: strategy.flush_intervl: unknown field (in --set strategy.flush_intervl=100ms)"
        "; expected one of: name, brokers, flush_interval, flush_bytes, write_quorum, "
        "read_range_bytes, cache_bytes_per_zone, notify_via_leader, brokers_per_writer")
    assert set_error("simulaton.seed=1") .startswith(
        "x.yaml: simulaton: unknown field (in --set simulaton.seed=1); expected one of: name,")


def test_override_unknown_kafka_key() -> None:
    assert set_error("workload.producer_config.lingr.ms=5").startswith(
        "x.yaml: workload.producer_config.lingr.ms: is not a Kafka producer config geosim "
        "models; honoured keys: acks, linger.ms, ")
    assert set_error("workload.producer_config.session.timeout.ms=10000") == (
        "x.yaml: workload.producer_config.session.timeout.ms: is a consumer config: set it "
        "in workload.consumer_config")


def test_override_list_index_out_of_range() -> None:
    assert set_error("faults[0].at=5m") == (
        "x.yaml: faults[0]: index out of range: faults has 0 items (in --set faults[0].at=5m)")


def test_override_needs_key_and_value() -> None:
    assert set_error("simulation.seed") == (
        "x.yaml: --set expects key=value, got 'simulation.seed'")
    assert set_error("=5") == "x.yaml: --set expects key=value, got '=5'"


def test_override_cannot_descend_into_a_scalar() -> None:
    assert set_error("name.first=x") == (
        "x.yaml: name: is a single value; it has no 'first' (in --set name.first=x)")


def test_override_into_a_union_needs_its_tag() -> None:
    data = tiny()
    data["topology"]["links"] = [{"between": ["r1-a", "r1-b"]}]
    assert set_error("topology.links[0].rtt.p50=1ms", data=data) == (
        "x.yaml: topology.links[0].rtt.dist: must be set (in the file or an earlier --set) "
        "before setting fields of topology.links[0].rtt")
    scenario = scenario_from_dict(data, overrides=["topology.links[0].rtt.dist=constant",
                                                   "topology.links[0].rtt.value=3ms"])
    assert scenario.topology.links[0].rtt.value == pytest.approx(0.003)


def test_overridden_value_is_validated_like_the_file() -> None:
    assert set_error("faults=[{kind: region-outage, region: r1, at: 1m, duration: 0}]") == (
        "x.yaml: faults[0].duration: must be > 0 (in seconds), got 0.0")


# --- dict input, dump -------------------------------------------------------------------------

def test_input_dict_is_not_modified() -> None:
    data = tiny()
    before = copy.deepcopy(data)
    scenario_from_dict(data, overrides=["workload.omb.topics=9"])
    assert data == before


def test_dump_is_complete_and_round_trips() -> None:
    data = tiny()
    data["faults"] = [{"kind": "partition", "between": ["r1-a", "r1-b"], "at": "1m",
                       "duration": "30s"}]
    scenario = scenario_from_dict(data)
    text = dump_scenario(scenario)
    loaded = yaml.safe_load(text)
    # Every default is written out, in canonical units.
    assert loaded["simulation"]["duration"] == 300.0
    assert loaded["strategy"]["flush_bytes"] == 32 * 2**20
    assert loaded["faults"][0]["at"] == 60.0
    assert loaded["workload"]["driver"]["name"] == "Kafka"
    assert scenario_from_dict(loaded) == scenario


def test_dump_of_a_bundled_reference_does_not_need_the_bundle(tmp_path: Path) -> None:
    data = tiny()
    data["workload"]["omb"] = "omb:workloads/1-topic-1-partition-100b.yaml"
    text = dump_scenario(scenario_from_dict(data))
    assert "omb:workloads" not in text
    path = tmp_path / "resolved.yaml"
    path.write_text(text)
    assert load_scenario(path).workload.omb.messageSize == 100


@settings(max_examples=40, deadline=None)
@given(flush_ms=st.integers(min_value=1, max_value=10_000),
       at_s=st.integers(min_value=0, max_value=299),
       seed=st.integers(min_value=0, max_value=2**32))
def test_overrides_then_dump_round_trip(flush_ms: int, at_s: int, seed: int) -> None:
    data = tiny()
    data["faults"] = [{"kind": "region-outage", "region": "r1", "at": 0, "duration": "10s"}]
    scenario = scenario_from_dict(data, overrides=[f"strategy.flush_interval={flush_ms}ms",
                                                   f"faults[0].at={at_s}s"], seed=seed)
    assert scenario.strategy.flush_interval == pytest.approx(flush_ms / 1000)
    assert scenario.faults[0].at == at_s and scenario.simulation.seed == seed
    assert scenario_from_dict(yaml.safe_load(dump_scenario(scenario))) == scenario


_SEGMENTS = st.sampled_from([
    "name", "topology", "regions", "r1", "zones", "links", "[0]", "[1]", "between", "rtt",
    "dist", "object_store", "kind", "metadata", "voters", "workload", "omb", "driver",
    "producer_config", "linger.ms", "strategy", "brokers", "faults", "at", "simulation",
    "same_zone_rtt", "p50", "nonsense"])
_VALUES = st.sampled_from([
    "5m", "-1s", "r1", "r1-a", "r9", "0", "-3", "true", "null", "[]", "{}", "[r1, r1]",
    "{kind: region-outage, region: r1, at: 1m, duration: 1m}", "{dist: constant}",
    "omb:nope.yaml", ".nan", "x: y: z", "[", "1XB"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_SEGMENTS, min_size=1, max_size=5), _VALUES)
def test_any_override_gives_a_scenario_or_a_one_line_error(path: list[str], value: str
                                                           ) -> None:
    key = ".".join(path).replace(".[", "[")
    try:
        scenario = scenario_from_dict(tiny(), overrides=[f"{key}={value}"])
    except ScenarioError as err:
        assert "\n" not in str(err) and str(err).startswith("<inline>")
    else:
        assert isinstance(scenario, Scenario)
