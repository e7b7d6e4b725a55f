"""The edge strategy (issue 17 item 2): the fluid model against analytic oracles and a
discrete retention oracle, exact aggregation of identical sites, determinism, site
failures, the checks, the speed of scenarios/edge-fleet.yaml, and its equivalence with
the detailed cross-cluster engine (MirrorMaker 2 over a scheduled link)."""

from __future__ import annotations

import copy
import math
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geosim.runner import build, run
from geosim.scenario.errors import ScenarioError
from geosim.scenario.loader import load_scenario, scenario_from_dict
from geosim.scenario.seed import settle_seed
from geosim.strategies.edge.events import EdgeClassDeclared
from geosim.strategies.edge.section import EdgeSection
from geosim.world.faults import FaultInjector

ROOT = Path(__file__).resolve().parent.parent
RTT = 0.1
BW = 1_000_000          # bytes/s
RATE = 500_000          # bytes/s per site: 500 records/s of 1,000 bytes, uncompressed
WINDOWS = [[0, 15], [35, 1000]]


def scenario(strategy: dict, *, link: dict | None = None, duration: float = 60,
             drain: float = 30, faults: list | None = None) -> dict:
    links = [{"between": ["edge", "hub"], "rtt": {"dist": "constant", "value": RTT},
              **(link or {})}]
    return {
        "name": "edge-test",
        "topology": {"provider": "none",
                     "regions": {"edge": {"zones": ["a"]}, "hub": {"zones": ["a", "b", "c"]}},
                     "links": links},
        "object_store": {"kind": "regional", "regions": ["hub"]},
        "metadata": {"preset": "kraft", "regions": ["hub"]},
        "workload": {"omb": {"name": "w", "topics": 1, "partitionsPerTopic": 3,
                             "messageSize": 1000, "producersPerTopic": 1,
                             "producerRate": 500, "subscriptionsPerTopic": 1,
                             "consumerPerSubscription": 1},
                     "driver": "omb:driver-kafka/kafka-latency.yaml",
                     "producers": {"edge-a": 1}, "compression_ratio": 1.0},
        "strategy": strategy,
        "faults": faults or [],
        "simulation": {"duration": duration, "warmup": 5, "drain": drain, "bin": 1},
    }


def site(**fields) -> dict:
    out = {"name": "s", "region": "edge", "brokers": 1,
           "uplink": {"rtt": {"dist": "constant", "value": RTT}, "bandwidth": BW,
                      "schedule": {"windows": WINDOWS}}}
    out.update(fields)
    return out


def edge(*sites: dict, **strategy) -> dict:
    return {"name": "edge", "brokers": {"hub": 3}, "sites": list(sites), **strategy}


def summary(data: dict, seed: int = 0) -> dict:
    return run(scenario_from_dict(data), seed).summary


def caught_up_lag(rtt: float = RTT, bandwidth: float = BW, rate: float = RATE) -> float:
    """The mean staleness of a caught-up fetcher (docs/edge.md): the cycle carries its
    own data, c = rtt / (1 - rate / bandwidth); the newest copy is 1.5 c - rtt / 2 old."""
    c = rtt / (1 - rate / bandwidth)
    return 1.5 * c - rtt / 2


def cycle(size: float) -> float:
    """One fetch of ``size`` bytes: the round trip, the bytes over the link, and per 4 MiB
    TCP window beyond the first the round trip less that window's time over the link."""
    window = 4 * 2**20
    further = math.ceil(size / window) - 1 if size > window else 0
    return RTT + size / BW + further * max(RTT - window / BW, 0.0)


def test_catch_up_after_a_cut_is_the_retry_then_whole_fetch_responses():
    """Down from 15 s to 35 s: the fetcher's retries come every request timeout (30 s)
    from the cut, so fetching resumes at 45 s; each response takes what the site holds
    when the request reaches it (up to fetch.max.bytes), and lands whole after its
    cycle, until a fetch finds no more than two caught-up cycles of data."""
    result = run(scenario_from_dict(scenario(edge(site()))), 0)
    s = result.summary
    fleet = s["edge"]["fleet"]
    lag = caught_up_lag()
    # an oracle of the fetch loop after the retry
    position = RATE * (15 - lag)             # caught up when the link was cut
    t, first = 45.0, None
    while True:
        head_then = RATE * min(t + RTT / 2, 60.0)
        size = min(50 * 2**20, head_then - position)
        t += cycle(size)
        position += size
        first = first or t
        head = RATE * min(t, 60.0)
        if head - position <= 2 * (RATE * lag if t < 60 else 0.0) + 1e-6:
            break
    assert fleet["catch_up_seconds"]["max"] == pytest.approx(t - 35, rel=1e-8)
    # the backlog grows until the first response lands, or production ends (at 60 s)
    assert fleet["backlog_bytes_peak_site_max"] == pytest.approx(
        RATE * (min(first, 60) - 15 + lag))
    assert fleet["replicated_bytes"] == pytest.approx(60 * RATE)
    assert fleet["lost_retention_bytes"] == 0 and fleet["lost_failure_bytes"] == 0
    # staleness: the caught-up lag, then 1 s/s from the cut until the first response
    # lands (measured until the end of production)
    assert fleet["staleness_seconds"]["max"] == pytest.approx(min(first, 60) - 15 + lag,
                                                              abs=1e-6)
    assert s["bytes"]["cross_region"]["by_purpose"]["mirror"] == pytest.approx(60 * RATE,
                                                                              abs=2)
    frame = result.to_dataframe("edge").set_index("t")
    assert frame.loc[10.0, "staleness_s"] == pytest.approx(lag)
    assert frame.loc[10.0, "backlog_bytes"] == pytest.approx(lag * RATE)
    assert frame.loc[25.0, "staleness_s"] == pytest.approx(10 + lag)
    assert set(frame["site"]) == {"s-1"} and set(frame["link"]) == {"up", "down"}


def _retention_oracle(*, rate: float, partitions: int, segment: int, limit: int,
                      end: float, interval: float = 300.0) -> float:
    """Bytes Kafka deletes from a never-read log by ``retention.bytes`` checks at
    30 s + k x interval, counting whole segments per partition (independent of the
    model: one partition, segment by segment)."""
    per = rate / partitions
    deleted = 0.0
    t = 30.0
    while t < end:
        size = per * t - deleted
        closed = math.floor(per * t / segment) * segment   # the active segment stays
        while size - segment >= limit and deleted + segment <= closed:
            deleted += segment
            size -= segment
        t += interval
    return deleted * partitions


def test_retention_bytes_deletes_whole_segments_per_partition_at_each_check():
    cut = {"windows": [[5000, 5001]]}   # never up within the run
    config = {"retention.bytes": 50_000_000, "segment.bytes": 10_000_000}
    s = summary(scenario(edge(site(config=config, uplink={
        "rtt": {"dist": "constant", "value": RTT}, "schedule": cut})), duration=2000,
        drain=0))
    lost = s["edge"]["fleet"]["lost_retention_bytes"]
    expected = _retention_oracle(rate=RATE, partitions=3, segment=10_000_000,
                                 limit=50_000_000, end=2000)
    assert expected > 0
    assert lost == pytest.approx(expected, rel=1e-9)
    site_row = s["edge"]["by_site"]["s-1"]
    assert site_row["lost_retention_records"] == pytest.approx(lost / 1000)
    # acknowledged, then deleted unread: lost, with no fault to date an RPO from
    assert s["loss"]["lost_records"] == round(lost / 1000)
    assert s["loss"]["rpo_seconds"] == 0


def test_only_sites_that_lost_data_count_as_losing_to_retention():
    cut = {"windows": [[5000, 5001]]}   # never up within the run
    uplink = {"rtt": {"dist": "constant", "value": RTT}, "schedule": cut}
    small = {"retention.bytes": 50_000_000, "segment.bytes": 10_000_000}
    s = summary(scenario(edge(site(name="small", config=small, uplink=uplink),
                              site(name="large", uplink=uplink)), duration=2000, drain=0))
    by_site = s["edge"]["by_site"]
    assert by_site["small-1"]["lost_retention_bytes"] > 0
    assert by_site["large-1"]["lost_retention_bytes"] == 0
    assert s["edge"]["fleet"]["sites_losing_to_retention"] == 1


def test_retention_ms_deletes_segments_whose_newest_record_expired():
    cut = {"windows": [[5000, 5001]]}
    config = {"retention.ms": 600_000, "segment.bytes": 30_000_000}   # 10 min; 3 min segs
    s = summary(scenario(edge(site(config=config, uplink={
        "rtt": {"dist": "constant", "value": RTT}, "schedule": cut})), duration=2000,
        drain=0))
    # Segments of 30 MB per partition (180 s); at each check (30 + 300k s) every segment
    # whose end is older than 600 s goes.
    per = RATE / 3
    seg_t = 30_000_000 / per
    t, deleted_until = 30.0, 0.0
    while t < 2000:
        expired = math.floor((t - 600) / seg_t) * seg_t if t > 600 else 0.0
        deleted_until = max(deleted_until, expired)
        t += 300
    assert s["edge"]["fleet"]["lost_retention_bytes"] == pytest.approx(deleted_until * RATE)


def _close(a, b) -> bool:
    """``a`` equals ``b`` within a relative 1e-9, figure by figure (in mappings too); a
    figure a site never reached is None in both (pytest 9.2's approx refuses None)."""
    if isinstance(b, dict):
        return isinstance(a, dict) and a.keys() == b.keys() and all(
            _close(a[k], b[k]) for k in b)
    if a is None or b is None:
        return a is b
    return a == pytest.approx(b, rel=1e-9)


def test_identical_sites_are_one_class_and_aggregation_is_exact():
    """Six sites staggered by a third of the period form three classes; each equals a
    template of one site whose windows are shifted by hand."""
    period, up = 60.0, 20.0
    uplink = {"rtt": {"dist": "constant", "value": RTT}, "bandwidth": BW,
              "schedule": {"every": period, "up_for": up, "first_up": 0,
                           "outside": {"bandwidth": 100_000, "extra_latency": 0.3}},
              "phase": {"offset": "stagger", "step": period / 3}}
    fleet = summary(scenario(edge(site(name="f", count=6, uplink=uplink)), duration=240))
    assert fleet["edge"]["fleet"]["classes"] == 3
    assert fleet["counters"]["edge_classes"] == 3
    singles = []
    for i in range(3):
        shifted = copy.deepcopy(uplink)
        shifted["phase"] = {"offset": "none"}
        start = i * period / 3
        shifted["schedule"] = {"windows": [[max(a, 0.0), a + up] for a in
                                           [start - period + k * period for k in range(7)]
                                           if a + up > 0],
                               "outside": uplink["schedule"]["outside"]}
        singles.append(site(name=f"g{i}", uplink=shifted))
    apart = summary(scenario(edge(*singles), duration=240))
    for i in range(6):
        a = fleet["edge"]["by_site"][f"f-{i + 1}"]
        b = apart["edge"]["by_site"][f"g{i % 3}-1"]
        for key in ("backlog_bytes_peak", "replicated_bytes", "staleness_seconds",
                    "catch_up_seconds"):
            assert _close(a[key], b[key]), key
    assert fleet["edge"]["fleet"]["replicated_bytes"] == pytest.approx(
        2 * apart["edge"]["fleet"]["replicated_bytes"], rel=1e-8)


def test_same_seed_same_summary_and_seeded_phases_follow_the_seed():
    uplink = {"rtt": {"dist": "constant", "value": RTT},
              "schedule": {"every": 600, "up_for": 60},
              "phase": {"offset": "seeded", "quantum": 60}}
    data = scenario(edge(site(count=20, uplink=uplink)), duration=600)
    assert summary(data, 1) == summary(data, 1)
    classes = {seed: summary(data, seed)["edge"]["by_site"] for seed in (1, 2)}
    assert classes[1] != classes[2]


def test_a_site_failure_loses_the_unreplicated_backlog_of_a_single_broker_site_only():
    faults = [{"kind": "site-failure", "site": "s-2", "at": 30, "duration": 10}]
    s = summary(scenario(edge(site(count=3)), faults=faults))
    by_site = s["edge"]["by_site"]
    # Down since 15 s: at 30 s the site held 15 s of production, and the caught-up
    # lag's worth of data not yet copied when the link was cut, all unreplicated.
    lost = (15 + caught_up_lag()) * RATE
    assert by_site["s-2"]["lost_failure_bytes"] == pytest.approx(lost)
    assert by_site["s-1"]["lost_failure_bytes"] == 0
    assert s["edge"]["fleet"]["lost_failure_bytes"] == pytest.approx(lost)
    assert s["edge"]["fleet"]["classes"] == 2
    # the run's loss counts it (the site's brokers had acknowledged it), attributed to
    # the sites' region; its RPO is the age of the oldest record lost: the central
    # copy's staleness when the site failed
    loss = s["loss"]
    assert loss["lost_records"] == round(lost / 1000) == loss["by_region"]["edge"][
        "lost_records"]
    assert loss["lost_bytes"] == pytest.approx(lost, abs=1)  # uncompressed: ratio 1
    assert loss["rpo_seconds"] == pytest.approx(15 + caught_up_lag())
    three = summary(scenario(edge(site(count=3, brokers=3)), faults=[
        {"kind": "site-failure", "site": "s-2", "at": 30, "brokers": 1}]))
    assert three["edge"]["fleet"]["lost_failure_bytes"] == 0
    assert three["edge"]["by_site"]["s-2"] == {**three["edge"]["by_site"]["s-1"],
                                               "class": 1}


@pytest.mark.parametrize("change, message", [
    (lambda d: d["faults"].append({"kind": "site-failure", "site": "s-9", "at": 10}),
     "faults[0].site: unknown site"),
    (lambda d: d["strategy"]["sites"][0].update(config={"retention.bytez": 1}),
     "strategy.sites[0].config.retention.bytez: unknown site config"),
    (lambda d: d["strategy"]["sites"][0].update(region="hub"),
     "strategy.sites[0].region: must differ from the central region"),
    (lambda d: d["strategy"].update(mirror_config={"tasks.max": 0}),
     "strategy.mirror_config.tasks.max"),
    (lambda d: d["strategy"]["sites"][0].update(
        config={"log.retention.check.interval.ms": 0}),
     "strategy.sites[0].config.log.retention.check.interval.ms"),
    (lambda d: d["strategy"]["sites"][0].update(config={"retention.bytes": -2}),
     "strategy.sites[0].config.retention.bytes"),
])
def test_bad_edge_blocks_get_one_line_errors(change, message):
    data = scenario(edge(site()))
    change(data)
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(data)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_the_smallest_settings_kafka_allows_are_accepted():
    """Each site config's lower bound is Kafka's own (1 ms for the retention check, -1
    for retention.bytes, meaning no limit)."""
    data = scenario(edge(site(config={"log.retention.check.interval.ms": 1,
                                      "retention.bytes": -1})))
    scenario_from_dict(data)


def test_site_failure_needs_a_strategy_with_edge_sites():
    data = scenario({"name": "diskless", "brokers": {"hub": 3, "edge": 1}},
                    faults=[{"kind": "site-failure", "site": "s-1", "at": 10}])
    with pytest.raises(ScenarioError, match="needs a strategy with edge sites"):
        scenario_from_dict(data)


def test_edge_fleet_runs_far_faster_than_real_time():
    """Issue 17: at least 50x real time on 2 cores (a week of 50 ships takes well
    under a second; the bound leaves room for a loaded machine)."""
    sc = load_scenario(ROOT / "scenarios" / "edge-fleet.yaml")
    start = time.perf_counter()
    result = run(sc)
    wall = time.perf_counter() - start
    assert sc.simulation.end / wall > 50
    fleet = result.summary["edge"]["fleet"]
    assert fleet["sites"] == 50 and fleet["classes"] == 10   # 9 phases + ship-07 split
    assert fleet["lost_retention_bytes"] > 0 and fleet["lost_failure_bytes"] > 0
    assert result.summary["cost"]["by_category"]["instances"] > 0


def _detailed_catch_up(result, after: float) -> float:
    ts = result.report.timeseries
    lag = ts[(ts.metric == "replication_lag")].sort_values("t")
    later = lag[(lag.t > after) & (lag.value > 1.0)]
    last_lagging = float(later.t.max())
    return last_lagging + 1.0


@pytest.mark.parametrize("replication", ["mirrormaker2", "cluster-linking"])
def test_edge_model_agrees_with_the_detailed_cross_cluster_engine(replication):
    """The same site (one broker, 3 partitions, 500 KB/s) behind the same scheduled link
    (1 MB/s, 100 ms RTT, cut from 15 s to 35 s): MirrorMaker 2 (or a cluster link) in
    the cross-cluster engine, and the edge model with the same fetch settings.
    Tolerances: replicated bytes within 0.5 % (the engine adds fetch and offset-sync
    overhead); the end of the catch-up within 2 s (the
    engine's lag is sampled every second); the largest staleness within 0.5 s, and the
    staleness while caught up before the cut within 0.1 s (the engine's produce path
    and its fetches per partition are not in the edge model)."""
    link = {"bandwidth": BW, "schedule": {"windows": WINDOWS}}
    mm2 = run(scenario_from_dict(scenario(
        {"name": replication, "brokers": {"edge": 1, "hub": 3},
         "pattern": "active-passive", "primary": "edge", "replication_factor": 1,
         "config": {"min.insync.replicas": 1}}, link=link)), 0)
    fluid = run(scenario_from_dict(scenario(edge(site(), replication=replication))), 0)
    mirrored = mm2.summary["bytes"]["cross_region"]["by_purpose"]["mirror"]
    fleet = fluid.summary["edge"]["fleet"]
    assert fleet["replicated_bytes"] == pytest.approx(mirrored, rel=5e-3)
    fluid_done = 35 + fleet["catch_up_seconds"]["max"]
    assert abs(_detailed_catch_up(mm2, 35) - fluid_done) <= 2.0
    detailed_max = mm2.summary["mirror"]["flows"]["edge->hub"]["max_lag_seconds"]
    assert fleet["staleness_seconds"]["max"] == pytest.approx(detailed_max, abs=0.5)
    ts = mm2.report.timeseries
    lag = ts[(ts.metric == "replication_lag") & (ts.t >= 5) & (ts.t < 15)]["value"]
    frame = fluid.to_dataframe("edge")
    fluid_lag = frame[(frame.t >= 5) & (frame.t < 15)]["staleness_s"]
    assert float(fluid_lag.mean()) == pytest.approx(float(lag.mean()), abs=0.1)


def test_an_outage_of_the_central_region_or_a_partition_holds_every_uplink_down():
    always_up = {"rtt": {"dist": "constant", "value": RTT}, "bandwidth": BW}
    for fault in ({"kind": "region-outage", "region": "hub", "at": 10, "duration": 20},
                  {"kind": "partition", "between": ["edge", "hub"], "at": 10,
                   "duration": 20}):
        result = run(scenario_from_dict(scenario(edge(site(count=2, uplink=always_up)),
                                                 faults=[fault])), 0)
        frame = result.to_dataframe("edge").set_index("t")
        rows = frame[frame["site"] == "s-2"]
        assert rows.loc[20.0, "link"] == "down"
        assert rows.loc[20.0, "staleness_s"] == pytest.approx(10 + caught_up_lag())
        assert rows.loc[9.0, "link"] == rows.loc[59.0, "link"] == "up"
        # back at 30 s; the fetcher retries 30 s after the cut, at 40 s
        assert rows.loc[39.0, "throughput_bytes_per_s"] == 0
        assert rows.loc[41.0, "throughput_bytes_per_s"] > RATE
        assert result.summary["edge"]["fleet"]["lost_retention_bytes"] == 0


def test_results_directory_has_the_edge_frames_and_plots(tmp_path):
    from geosim.output import load_run, write_results
    from geosim.strategies.edge.plots import edge_sites

    result = run(scenario_from_dict(scenario(edge(site(count=3)))), 0)
    out = write_results(result, tmp_path / "run", plots=True)
    for name in ("edge-classes.csv", "edge-sites.csv", "edge-backlog.png",
                 "edge-staleness.png", "bytes.png"):
        assert (out / name).is_file(), name
    assert not (out / "timeline.png").exists()   # no region-level producers: empty
    saved = load_run(out).to_dataframe("edge")
    live = result.to_dataframe("edge")
    assert list(saved.columns) == list(live.columns)
    assert saved["backlog_bytes"].to_numpy() == pytest.approx(
        live["backlog_bytes"].to_numpy(), rel=1e-8)
    assert sorted(set(saved["site"])) == ["s-1", "s-2", "s-3"]
    fig = edge_sites(result, "staleness_s")
    (line,) = fig.axes[0].get_lines()          # three identical sites: one class
    assert line.get_label() == "s-1 +2"
    with pytest.raises(ValueError, match="metric must be one of"):
        edge_sites(result, "nonsense")
    # the table's record counts say where the fluid's data is counted
    from geosim.output.table import format_summary
    text = format_summary(result.summary)
    assert EdgeSection.records_note in text and "Edge sites" in text


def test_cluster_linking_replication_uses_its_own_fetch_settings():
    small = {"consumer.fetch.max.bytes": 1_000_000}
    mm2 = summary(scenario(edge(site())))["edge"]["fleet"]
    linked = summary(scenario(edge(site(), replication="cluster-linking",
                                   mirror_config=small)))["edge"]["fleet"]
    # 1 MB per round trip of 0.1 s plus 1 s on the wire: ~0.91 MB/s instead of ~0.97
    assert linked["link_utilisation_peak"] == pytest.approx(
        1_000_000 / (RTT + 1.0) / BW, rel=1e-6)
    assert linked["catch_up_seconds"]["max"] > mm2["catch_up_seconds"]["max"]


def test_every_key_of_the_edge_section_is_documented():
    import re

    docs = (ROOT / "docs" / "summary.md").read_text()
    documented = set(re.findall(r"`([a-z_0-9]+)`", docs))
    section = summary(scenario(edge(site(count=2))))["edge"]
    missing = []

    def walk(node, parent=None):
        if not isinstance(node, dict):
            return
        for key, value in node.items():
            if parent != "by_site" and key not in documented:
                missing.append(key)
            walk(value, key)
    walk(section)
    assert not missing


def test_a_sweep_row_carries_the_fleet_figures():
    result = run(scenario_from_dict(scenario(edge(site(count=2)))), 0)
    row = result.to_row()
    assert row["edge.sites"] == 2
    assert row["edge.replicated_bytes"] == result.summary["edge"]["fleet"]["replicated_bytes"]
    assert row["edge.staleness_seconds.p99"] is not None
    assert not any(key.startswith("edge.by_site") for key in row)


def test_an_outage_of_the_sites_region_stops_them_and_a_destruction_loses_their_backlog():
    always_up = {"rtt": {"dist": "constant", "value": RTT}, "bandwidth": BW}
    out = run(scenario_from_dict(scenario(edge(site(uplink=always_up)), faults=[
        {"kind": "region-outage", "region": "edge", "at": 10, "duration": 20}])), 0)
    fleet = out.summary["edge"]["fleet"]
    assert fleet["replicated_bytes"] == pytest.approx(40 * RATE)   # 20 s not produced
    assert fleet["lost_failure_bytes"] == 0
    gone = run(scenario_from_dict(scenario(edge(site(uplink=always_up)), faults=[
        {"kind": "region-destruction", "region": "edge", "at": 10}])), 0)
    lost = gone.summary["edge"]["fleet"]["lost_failure_bytes"]
    assert lost == pytest.approx(caught_up_lag() * RATE)   # only what was in flight
    assert gone.summary["edge"]["fleet"]["replicated_bytes"] == pytest.approx(
        10 * RATE - lost)


@settings(max_examples=12, deadline=None, derandomize=True)
@given(every=st.integers(20, 120), up_share=st.floats(0.1, 0.9),
       bandwidth=st.sampled_from([200_000, 600_000, 3_000_000]),
       slow=st.one_of(st.none(), st.sampled_from([100_000, 400_000])),
       limit=st.sampled_from([-1, 2_000_000, 6_000_000]),
       segment=st.sampled_from([500_000, 1_000_000]),
       step=st.integers(1, 60), count=st.integers(1, 5))
def test_every_byte_produced_is_copied_lost_or_still_at_the_site(
        every, up_share, bandwidth, slow, limit, segment, step, count):
    """Conservation, whatever the schedule, link and retention: per site, the bytes
    produced are the bytes copied, plus those lost to retention, plus the backlog at
    the end (a response in flight, dropped when the link changes, included)."""
    schedule = {"every": every, "up_for": max(1.0, every * up_share), "first_up": 0,
                "outside": "down" if slow is None else {"bandwidth": slow}}
    uplink = {"rtt": {"dist": "constant", "value": RTT}, "bandwidth": bandwidth,
              "schedule": schedule, "phase": {"offset": "stagger", "step": step}}
    config = {"retention.bytes": limit, "segment.bytes": segment,
              "log.retention.check.interval.ms": 10_000}
    s = summary(scenario(edge(site(count=count, uplink=uplink, config=config)),
                         duration=300, drain=20))
    for name, row in s["edge"]["by_site"].items():
        produced = 300 * RATE
        total = (row["replicated_bytes"] + row["lost_retention_bytes"]
                 + row["backlog_bytes_end"])
        assert total == pytest.approx(produced, abs=4), name
        assert row["backlog_bytes_end"] >= 0 and row["lost_retention_bytes"] >= 0
        if limit < 0:
            assert row["lost_retention_bytes"] == 0


def test_a_destroyed_site_loses_exactly_what_was_not_copied():
    """``FluidSite.lose_brokers``: with fewer brokers lost than the replication factor
    nothing is lost; once all replicas are gone, the bytes between the fetch position
    and the head are (nothing, for a site that has produced nothing)."""
    from geosim.strategies.edge.config import SiteLogConfig
    from geosim.strategies.edge.fluid import FluidSite

    def fresh() -> FluidSite:
        return FluidSite(rate=1000.0, partitions=2, config=SiteLogConfig(),
                         production_end=100.0, brokers=3, replication_factor=3,
                         min_insync=2)

    empty = fresh()
    assert empty.lose_brokers(3) == 0.0 and empty.lost_failure == 0.0
    assert not empty.alive
    site = fresh()            # its link is down: nothing is copied
    site.advance(0.5)         # the head moves at the rate, however short the step
    assert site.head == 500.0 and site.t == 0.5
    site.advance(10.0)
    assert site.head == 10_000.0 and site.position == 0.0
    assert site.lose_brokers(2) == 0.0 and site.alive
    assert site.lose_brokers(1) == 10_000.0 and site.lost_failure == 10_000.0


def test_listed_up_windows_move_by_the_sites_offset():
    """``up_windows`` of a schedule with listed windows: each window moves by the
    offset, and windows starting at or after the end are dropped."""
    from geosim.scenario.sections import LinkSchedule
    from geosim.strategies.edge.fleet import up_windows

    schedule = LinkSchedule.model_validate({"windows": [[10, 20], [40, 45], [95, 99]]})
    assert up_windows(schedule, 0.0, 100.0) == [(10.0, 20.0), (40.0, 45.0), (95.0, 99.0)]
    assert up_windows(schedule, 7.0, 100.0) == [(17.0, 27.0), (47.0, 52.0)]  # 102 >= 100


def test_the_site_plot_draws_each_class_by_its_first_site_and_keeps_the_largest_peaks():
    """edge_sites on a hand-built frame: a class is drawn from its first site in
    natural order (ship-2 before ship-10), labelled with how many others it stands for;
    ``lines`` keeps the largest peaks; listed sites are drawn one by one."""
    import pandas as pd

    from geosim.strategies.edge.plots import edge_sites

    rows = []
    for site, cls, values in (("ship-10", "ship", (9.0, 9.0)), ("ship-2", "ship", (1.0, 4.0)),
                              ("ship-3", "ship", (2.0, 2.0)), ("tug-1", "tug", (5.0, 0.0)),
                              ("tug-2", "tug", (0.0, 0.0))):
        for t, v in zip((86400.0, 172800.0), values, strict=True):
            rows.append({"site": site, "class": cls, "t": t, "backlog_bytes": v})
    frame = pd.DataFrame(rows)
    drawn = {line.get_label(): (list(line.get_xdata()), list(line.get_ydata()))
             for line in edge_sites(frame).axes[0].get_lines()}
    assert drawn == {"ship-2 +2": ([1.0, 2.0], [1.0, 4.0]),
                     "tug-1 +1": ([1.0, 2.0], [5.0, 0.0])}
    (top,) = edge_sites(frame, lines=1).axes[0].get_lines()
    assert top.get_label() == "tug-1 +1"                  # peak 5 against 4
    listed = edge_sites(frame, sites=["ship-10", "ship-3"]).axes[0].get_lines()
    assert [line.get_label() for line in listed] == ["ship-3", "ship-10"]
    assert list(listed[1].get_ydata()) == [9.0, 9.0]
    many = pd.DataFrame([{"site": f"c{i}-1", "class": f"c{i}", "t": 86400.0,
                          "backlog_bytes": float(i)} for i in range(14)])
    kept = [line.get_label() for line in edge_sites(many).axes[0].get_lines()]
    assert sorted(kept) == sorted(f"c{i}-1" for i in range(2, 14))  # MAX_LINES: 12 peaks


def test_classes_declared_at_start_have_parent_minus_one_and_a_split_names_its_class():
    """``EdgeClassDeclared.parent`` as documented: -1 for a class declared at start, the
    index of the class the sites left for a split (mutation round six: no test read the
    events). Two templates, s (3 sites) and t (1): classes 0 and 1 at 0 s; s-2 fails at
    30 s and leaves class 0 as class 2."""
    faults = [{"kind": "site-failure", "site": "s-2", "at": 30, "duration": 10}]
    sc = scenario_from_dict(scenario(edge(site(count=3), site(name="t")), faults=faults))
    ctx, world, strategy = build(sc, settle_seed(sc))
    declared: list[EdgeClassDeclared] = []
    ctx.recorder.subscribe(EdgeClassDeclared, declared.append)
    strategy.start()
    FaultInjector(world, strategy).start()
    ctx.env.run(until=sc.simulation.end)
    assert [(e.t, e.cls, e.template, e.sites, e.parent) for e in declared] == [
        (0.0, 0, "s", ("s-1", "s-2", "s-3"), -1),
        (0.0, 1, "t", ("t-1",), -1),
        (30.0, 2, "s", ("s-2",), 0)]


def test_a_retention_check_due_at_a_check_instant_is_found_at_the_next_instant():
    """Mutation round seven (``fluid.py:256``): ``FluidSite.next_check`` gives the first
    check *after now* that deletes a segment. One partition at 1,000 B/s, 500-byte
    segments, ``retention.bytes`` 1,000, checks every 0.5 s from 30 s (the first check
    30 s after the start); the link is down, so nothing is copied. At 30 s the log holds
    30,000 bytes, past the 1,500 at which a check deletes: the check is due now, and
    30 s is a check instant, so the next is 30.5 s (not the 31.5 s one a step of a
    second would give). At 30.2 s (no check instant) it is 30.5 s too. The check at 30 s
    deletes down to 29,000 (58 whole segments of the excess of 29,000), all of it
    unread; the next deleting check is then 30.5 s, when 500 more bytes have come."""
    from geosim.strategies.edge.config import FIRST_CHECK_DELAY, SiteLogConfig
    from geosim.strategies.edge.fluid import FluidSite

    def site() -> FluidSite:
        return FluidSite(rate=1000.0, partitions=1, config=SiteLogConfig(
            retention_bytes=1000, segment_bytes=500, check_interval=0.5),
            production_end=100.0, brokers=3, replication_factor=3, min_insync=2)

    assert FIRST_CHECK_DELAY == 30.0
    at_instant = site()
    at_instant.advance(30.0)
    assert at_instant.head == 30000.0
    assert at_instant.next_check() == 30.5
    assert at_instant.is_check_time() is False
    assert at_instant.retention_check() == 29000.0
    assert (at_instant.start, at_instant.lost_retention) == (29000.0, 29000.0)
    assert at_instant.next_check() == 30.5
    between = site()
    between.advance(30.2)
    assert between.next_check() == 30.5
