"""The replicator strategy (Confluent Replicator): timestamp offset translation, kept
topic names with provenance headers, topic creation, Connect workers and their faults,
the worker bill, and the comparison of the three cross-cluster strategies' failovers on
one workload (docs/replicator.md)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from geosim.core.events import Row
from geosim.cost.deployment import resolve_deployment
from geosim.kafka.connect import ConnectCluster, ConnectConfig
from geosim.kafka.partition import PartitionState
from geosim.kafka.timestamp_translation import consumed_timestamp, offset_for_time
from geosim.runner import build, run
from geosim.scenario.errors import ScenarioError
from geosim.scenario.loader import load_scenario, scenario_from_dict
from geosim.scenario.seed import settle_seed
from geosim.testing import LOSS_TICK, no_replication_loops
from geosim.world.faults import FaultInjector

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
# A short, light timeline: 4 partitions at 1000 msg/s, failover 6 s after the outage,
# at the engine's fast send tick for loss and failover questions (LOSS_TICK, 25 ms).
SMALL = ["simulation.duration=45s", "simulation.drain=8s", "simulation.warmup=3s",
         "strategy.failover.detection=3s", "strategy.failover.decision=3s",
         f"strategy.append_interval={LOSS_TICK}", "workload.omb.producerRate=1000",
         "workload.omb.partitionsPerTopic=4"]
OUTAGE = "faults=[{kind: region-outage, region: us-west1, at: 20s, duration: 20s}]"
TRANSLATE_5S = ("strategy.mirror_config={tasks.max: 2, provenance.header.enable: true, "
                "offset.translator.batch.period.ms: 5000}")


def scenario(name: str, *overrides: str):
    return load_scenario(SCENARIOS / f"{name}.yaml", overrides=[*SMALL, *overrides])


def built_run(sc):
    """Run a scenario and keep the strategy, for checks on its internal state."""
    ctx, world, strategy = build(sc, settle_seed(sc))
    strategy.start()
    FaultInjector(world, strategy).start()
    ctx.env.run(until=sc.simulation.end)
    return strategy, world


# --- timestamp lookups (pure) ---------------------------------------------------------

def _row(offset: int, records: int, first: float, last: float) -> Row:
    return Row(fleet=0, partition=0, seq=offset, records=records, bytes_uncompressed=1,
               bytes_compressed=1, send_first=first, send_last=last, offset=offset)


def _partition(rows: list[Row]) -> PartitionState:
    part = PartitionState(0, [0])
    for row in rows:
        part.append(row, 0.0)
    part.hw = part.log_end
    return part


def test_lookup_finds_the_first_record_at_or_after_the_timestamp():
    # records 0-9 sent at 1.0..1.9, records 10-19 at 2.0..2.9
    part = _partition([_row(0, 10, 1.0, 1.9), _row(10, 10, 2.0, 2.9)])
    assert offset_for_time(part, 0.5, part.hw) == 0
    assert offset_for_time(part, 1.45, part.hw) == 5   # 1.5 is the first at/after 1.45
    assert offset_for_time(part, 2.0, part.hw) == 10
    assert offset_for_time(part, 3.0, part.hw) is None  # nothing that late copied yet
    assert offset_for_time(part, 2.5, 10) is None       # not below the high watermark
    # the interceptor's timestamp: the last record before the committed offset
    assert consumed_timestamp(part, 15) == pytest.approx(2.4)
    assert consumed_timestamp(part, 0) is None


def test_lookup_never_lands_past_the_last_consumed_record():
    """With non-monotonic timestamps (two producers), the start is at or before the
    copy of the last consumed record: the group re-reads, it never skips."""
    part = _partition([_row(0, 5, 3.0, 3.4), _row(5, 5, 1.0, 1.4), _row(10, 5, 2.0, 2.4)])
    for committed in range(1, 16):
        t = consumed_timestamp(part, committed)
        start = offset_for_time(part, t, part.hw)
        assert start is not None and start <= committed - 1


# --- the Connect cluster's timing (pure) ------------------------------------------------

class _Connector:
    name = "c"

    def __init__(self, env):
        self.env = env
        self.log: list[tuple[float, str, tuple[int, ...]]] = []

    def task_stopped(self, partitions):
        self.log.append((self.env.now, "stop", partitions))

    def task_started(self, partitions, zone):
        self.log.append((self.env.now, f"start@{zone}", partitions))


def test_a_crashed_workers_tasks_move_after_the_session_timeout_and_rebalance_delay():
    import simpy

    env = simpy.Environment()
    cfg = ConnectConfig(workers=2, session_timeout=10, heartbeat_interval=3,
                        rebalance_delay=30)
    cluster = ConnectCluster(env, "r", ["r-a", "r-b"], cfg)
    connector = _Connector(env)
    cluster.add_connector(connector, partitions=4, tasks_max=2)
    cluster.start()
    assert [e[1] for e in connector.log] == ["start@r-a", "start@r-b"]
    env.run(until=5)
    cluster.crash_workers("r-a", 1, up=False)
    env.run(until=100)
    stop, moved = connector.log[2:]
    assert stop == (5, "stop", (0, 2))
    # noticed after session.timeout.ms, held for scheduled.rebalance.max.delay.ms, then
    # started on the live worker at the members' next heartbeat
    assert moved == (5 + 10 + 30 + 3, "start@r-b", (0, 2))
    assert cluster.counters() == {"connect_rebalances": 2, "connect_tasks_moved": 1}
    # the worker returns and rejoins at its next heartbeat: the assignor evens the
    # load, stopping one task on the busy worker and starting it on the returned one
    cluster.crash_workers("r-a", 1, up=True)
    env.run(until=200)
    assert connector.log[-2:] == [(103, "stop", (1, 3)), (106, "start@r-a", (1, 3))]


def test_a_worker_back_within_the_delay_gets_its_tasks_again():
    import simpy

    env = simpy.Environment()
    cluster = ConnectCluster(env, "r", ["r-a", "r-b"], ConnectConfig(
        workers=2, session_timeout=10, heartbeat_interval=3, rebalance_delay=300))
    connector = _Connector(env)
    cluster.add_connector(connector, partitions=2, tasks_max=2)
    cluster.start()
    cluster.zone_state("r-a", up=False)
    env.run(until=60)
    cluster.zone_state("r-a", up=True)
    env.run(until=400)
    assert connector.log[2:] == [(0, "stop", (0,)), (66, "start@r-a", (0,))]
    assert cluster.tasks_moved == 0


# --- failover by timestamp: at least once, reprocessing reported, vs MM2 and CL ---------

def _variant(name: str) -> dict:
    """The replicator active-passive scenario under ``name`` with the same cadence of
    offset marks (5 s) and the same short outage."""
    data = yaml.safe_load((SCENARIOS / "replicator-active-passive.yaml").read_text())
    strategy = data["strategy"]
    strategy["name"] = name
    strategy.pop("connect")
    strategy["mirror_config"] = {
        "replicator": {"tasks.max": 2, "offset.translator.batch.period.ms": 5000},
        "mirrormaker2": {"emit.checkpoints.interval.seconds": 5},
        "cluster-linking": {"consumer.offset.sync.ms": 5000}}[name]
    if name == "replicator":
        strategy["connect"] = {"workers": 2}
    return data


@pytest.fixture(scope="module")
def three_failovers():
    out = {}
    for name in ("replicator", "mirrormaker2", "cluster-linking"):
        sc = scenario_from_dict(_variant(name), source=f"<{name}>",
                                overrides=[*SMALL, OUTAGE])
        out[name] = run(sc).summary
    return out


def test_timestamp_translation_reprocesses_and_never_skips(three_failovers):
    s = three_failovers["replicator"]
    [failover] = s["mirror"]["failovers"]
    assert failover["translated"] == 4 and failover["reset"] == 0
    assert failover["skipped"] == 0 and s["checks"]["skips"] == 0
    # the group resumes at or before the copy of the last record it consumed: it
    # re-reads what it consumed since the last translation (at least once)...
    assert failover["reprocessed"] > 0
    # ...about one translation period plus one commit interval of records (1000/s)
    assert failover["reprocessed"] <= failover["reprocess_bound"]
    assert s["counters"]["replicator_offset_translations"] > 0


def test_the_three_translations_compared_on_one_workload(three_failovers):
    """Same workload, outage and 5 s offset cadence: nobody skips; MirrorMaker 2 and
    Replicator re-read since their last translation; Cluster Linking copies the
    committed offsets themselves, so it re-reads since the last offset sync too."""
    rows = {name: s["mirror"]["failovers"][0] for name, s in three_failovers.items()}
    for row in rows.values():
        assert row["skipped"] == 0 and row["translated"] == 4
        assert 0 < row["reprocessed"] <= row["reprocess_bound"]
    # the window is the cadence plus the commit interval for all three: same order
    for name in ("mirrormaker2", "cluster-linking"):
        assert rows[name]["reprocessed"] < 3 * rows["replicator"]["reprocessed"]
        assert rows["replicator"]["reprocessed"] < 3 * rows[name]["reprocessed"]


# --- kept names, provenance headers: no loop, no duplicate, nothing lost ---------------

def _log_contents(strategy):
    out = {}
    for region, cluster in strategy.clusters.items():
        ids: Counter = Counter()
        origins: Counter = Counter()
        for part in cluster.parts:
            for row in part.rows:
                ids[(row.fleet, row.seq, row.partition)] += 1
                origins["local" if row.mirror < 0 else
                        strategy.flows[row.mirror].source.region] += row.records
        out[region] = ids, origins
    return out


def test_active_active_with_kept_names_never_loops_nor_duplicates():
    sc = load_scenario(SCENARIOS / "replicator-active-active.yaml",
                       overrides=[*SMALL, "faults=[]", TRANSLATE_5S])
    strategy, _world = built_run(sc)
    counters = strategy.counters()
    # every flow saw the other flow's copies in its source topic and left them
    assert counters["replicator_provenance_skips"] > 0
    assert counters["replicator_copied_back_records"] == 0
    assert counters["mirror_duplicate_records"] == 0
    for region, (ids, origins) in _log_contents(strategy).items():
        assert max(ids.values()) == 1                      # nothing written twice
        assert region not in origins                       # nothing came back home
        assert set(origins) == {"local", *(r for r in strategy.clusters if r != region)}
    summary = run(sc).summary
    assert summary["loss"]["lost_records"] == 0
    assert no_replication_loops().check(summary) is None
    assert summary["checks"]["duplicates"] == 0 and summary["checks"]["skips"] == 0


# --- topic creation, worker faults ------------------------------------------------------

def test_data_flows_only_once_the_destination_topic_exists():
    sc = scenario("replicator-active-passive", "faults=[]")
    strategy, _world = built_run(sc)
    [flow] = strategy.flows
    # a describe at the source, a create at the destination, a KRaft commit there:
    # at least one WAN round trip (us-west1 <-> us-central1 ~ 35 ms)
    assert 0.03 < flow.topic_created_at < 1.0
    assert strategy.counters()["mirror_rows"] > 0


def test_a_worker_crash_stops_its_tasks_and_their_restart_copies_again():
    crash = ("faults=[{kind: connect-worker-crash, zone: us-central1-a, at: 8s, "
             "duration: 30s}]")
    sc = scenario("replicator-active-passive", crash,
                  "strategy.connect={workers: 2, config: {scheduled.rebalance.max.delay.ms: "
                  "10000, offset.flush.interval.ms: 5000}}")
    s = run(sc).summary
    c = s["counters"]
    # the crashed worker's task moved after session timeout + delay + a heartbeat,
    # and came back when the worker did
    assert c["connect_rebalances"] >= 2 and c["connect_tasks_moved"] >= 1
    assert c["mirror_task_restarts"] >= 1
    # at least once: the restarted task copied again what it had copied since its
    # last offset commit
    assert c["mirror_duplicate_records"] > 0
    [flow] = s["mirror"]["flows"].values()
    assert flow["max_lag_seconds"] > 10 + 10      # its partitions waited for the move
    assert s["loss"]["lost_records"] == 0


def test_determinism():
    sc = scenario("replicator-active-active", TRANSLATE_5S, OUTAGE)
    assert run(sc).summary == run(sc).summary


# --- the bill ---------------------------------------------------------------------------

def test_connect_workers_are_billed_per_connect_cluster():
    sc = scenario("replicator-active-active", "faults=[]")
    [group] = [g for g in resolve_deployment(sc).instances if g.name == "connect-workers"]
    assert group.type == "n2-standard-4"
    assert group.count_by_region == {"us-central1": 2, "us-west1": 2}
    sc = scenario("replicator-active-passive", "faults=[]", "strategy.connect.side=source",
                  "strategy.connect.instance_type=n2d-standard-32",
                  "cost.deployment.commitment=1y")
    [group] = [g for g in resolve_deployment(sc).instances if g.name == "connect-workers"]
    assert group.count_by_region == {"us-west1": 2}
    s = run(scenario("replicator-active-passive", "faults=[]", "strategy.connect.workers=3",
                     "cost.prices={instance.n2-standard-4.on_demand: 0.2}")).summary
    [line] = [x for x in s["cost"]["lines"] if x["item"].startswith("connect-workers")]
    assert line["usd"] == pytest.approx(3 * 0.2 * 720)


# --- checks -----------------------------------------------------------------------------

@pytest.mark.parametrize(("overrides", "message"), [
    (["strategy.mirror_config={provenance.header.enable: false}"],
     "strategy.mirror_config.provenance.header.enable: must be true when flows run both "
     "ways"),
    (["strategy.mirror_config={topic.rename.format: replica}"],
     "strategy.mirror_config.topic.rename.format: must contain ${topic}"),
    (["strategy.connect.config={session.timeout.mss: 5}"],
     "strategy.connect.config.session.timeout.mss: is not a modelled Connect worker config"),
    (["strategy.mirror_config={offset.translator.tasks.max: -2}"],
     "strategy.mirror_config.offset.translator.tasks.max: must be >= -1"),
])
def test_bad_replicator_blocks_are_refused_in_one_line(overrides, message):
    with pytest.raises(ScenarioError, match=None) as info:
        load_scenario(SCENARIOS / "replicator-active-active.yaml", overrides=overrides)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_kept_names_over_three_clusters_are_refused():
    data = yaml.safe_load((SCENARIOS / "replicator-active-active.yaml").read_text())
    data["topology"]["regions"]["us-west2"] = {"zones": ["a", "b", "c"]}
    data["strategy"]["brokers"]["us-west2"] = 6
    with pytest.raises(ScenarioError, match="copies of copies"):
        scenario_from_dict(data, source="<three>")
    data["strategy"]["mirror_config"]["topic.rename.format"] = "${topic}.replica"
    scenario_from_dict(data, source="<three>")  # renamed topics: separate partitions


def test_a_connect_worker_crash_must_hit_workers():
    with pytest.raises(ScenarioError, match="must be a zone of a region that runs a "
                       "Connect cluster"):
        scenario("replicator-active-passive", "faults=[{kind: connect-worker-crash, "
                 "zone: us-west1-a, at: 10s}]")
    with pytest.raises(ScenarioError, match=r"faults\[0\]\.count: must be <= the Connect "
                       r"workers in us-central1-a \(1 of connect.workers 2\)"):
        scenario("replicator-active-passive", "faults=[{kind: connect-worker-crash, "
                 "zone: us-central1-a, at: 10s, count: 2}]")


def test_a_connect_worker_crash_needs_connect_workers():
    with pytest.raises(ScenarioError, match="needs a strategy that runs Kafka Connect"):
        load_scenario(SCENARIOS / "mm2-active-passive.yaml", overrides=[
            "faults=[{kind: connect-worker-crash, zone: us-central1-a, at: 10s}]"])


def test_active_active_failover_skips_the_targets_own_records_the_group_had_not_reached():
    """Kept names both ways: the target's partition interleaves its own records with the
    copies. While the reverse flow (target -> source) is stopped (both Connect workers
    of the source region crashed), the group in the source never sees the target's new
    records; the timestamp lookup starts it after them in the target: they are skipped.
    The fold counts them, and the count matches the records the group never got."""
    from collections import defaultdict

    from geosim.core.events import Delivered, GroupMoved, ProduceAcked

    crash = ("faults=[{kind: connect-worker-crash, zone: us-west1-a, at: 5s, duration: 30s},"
             " {kind: connect-worker-crash, zone: us-west1-b, at: 5s, duration: 30s},"
             " {kind: region-outage, region: us-west1, at: 20s, duration: 20s}]")
    sc = load_scenario(SCENARIOS / "replicator-active-active.yaml",
                       overrides=[*SMALL, TRANSLATE_5S, crash])
    ctx, world, strategy = build(sc, settle_seed(sc))
    delivered: dict[int, set] = defaultdict(set)
    acked: dict[tuple, int] = {}
    moved: dict[int, int] = {}
    ctx.recorder.subscribe(Delivered, lambda e: delivered[e.group].update(
        (r.fleet, r.partition, r.seq) for r in e.rows))
    ctx.recorder.subscribe(ProduceAcked, lambda e: acked.update(
        {(r.fleet, r.partition, r.seq): r.records for r in e.rows}))
    ctx.recorder.subscribe(GroupMoved, lambda e: moved.__setitem__(e.group, e.new_group))
    strategy.start()
    FaultInjector(world, strategy).start()
    ctx.env.run(until=sc.simulation.end)
    [(old, new)] = moved.items()
    seen = delivered[old] | delivered[new]
    never = sum(n for key, n in acked.items() if key not in seen)
    again = sum(acked[key] for key in delivered[old] & delivered[new] if key in acked)
    summary = run(sc).summary
    [failover] = summary["mirror"]["failovers"]
    assert never > 1000 and again > 1000
    # whole rows against record offsets: a row the start cuts counts in part
    assert failover["skipped"] == pytest.approx(never, abs=20)
    # the records the lineage was delivered twice: the destination's own records read
    # through their copies count as read (results revision 6; the count was 5,516
    # against 2,761 before)
    assert failover["reprocessed"] == pytest.approx(again, abs=20)


@pytest.mark.parametrize(("pattern", "pairs"), [
    ("active-passive", [("us-central1", "us-west1")]),
    ("hub-and-spoke", [("us-west1", "us-central1")])])
def test_without_a_primary_the_first_cluster_region_is_the_primary(pattern, pairs):
    """``strategy.primary`` left out: the first region (in name order) holding brokers
    is the primary; active-passive copies from it, hub-and-spoke into it."""
    spec = scenario("replicator-active-passive", "strategy.primary=null", "faults=[]",
                    f"strategy.pattern={pattern}").strategy
    assert spec.flow_pairs(["us-west1", "us-central1"]) == pairs


@pytest.mark.parametrize(("pattern", "pairs"), [
    ("active-passive", [("us-west1", "us-central1")]),
    ("hub-and-spoke", [("us-central1", "us-west1")])])
def test_a_region_given_zero_brokers_runs_no_cluster(pattern, pairs):
    """Mutation round seven (``spec.py:82 > -> >=``): ``strategy.brokers`` may give a
    region 0 brokers (accepted); that region runs no cluster, so no flow or Connect
    cluster goes to it: the clusters are us-central1 and us-west1 only."""
    spec = scenario("replicator-active-passive", "faults=[]", f"strategy.pattern={pattern}",
                    "topology.regions={us-west1: {zones: [a, b, c]}, "
                    "us-central1: {zones: [a, b, c]}, us-west2: {zones: [a]}}",
                    "strategy.brokers={us-west1: 6, us-central1: 6, us-west2: 0}").strategy
    regions = ["us-west1", "us-central1", "us-west2"]
    assert spec.cluster_regions(regions) == ["us-central1", "us-west1"]
    assert spec.flow_pairs(regions) == pairs
    assert "us-west2" not in spec.connect_regions(regions)


def test_the_replicator_probe_reaches_a_state_exactly_when_its_counter_is_nonzero():
    from geosim.strategies.replicator.probes import ReplicatorProbe

    probe = ReplicatorProbe()
    assert probe.reached({}) == set()
    assert probe.reached({"counters": None}) == set()
    counters = {"replicator_provenance_skips": 3, "connect_rebalances": 2,
                "connect_tasks_moved": 0, "replicator_offset_translations": 1}
    assert probe.reached({"counters": counters}) == {
        "provenance-skip", "connect-rebalance", "timestamp-translation"}
