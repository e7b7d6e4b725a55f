"""Summary table, results writer and plots, on a small hand-made result.

The fake result follows the real shapes: ``summary`` is the summary.json contract
(docs/summary.md), ``report`` carries ``timeseries`` (tidy frame), ``histograms``
(real :class:`LatencyHistogram` objects), ``bin_width`` and ``t_end``.
"""

from __future__ import annotations

import copy
import csv
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from geosim.metrics.histogram import LatencyHistogram
from geosim.output import plots, writer
from geosim.output.table import format_summary
from geosim.scenario.loader import load_scenario

REPO = Path(__file__).resolve().parents[1]
GIB = 2**30


def _stats(p50, p90, p99, p999, top, records):
    return {"p50": p50, "p90": p90, "p99": p99, "p999": p999, "max": top,
            "mean": p50, "records": records}


EMPTY = _stats(None, None, None, None, None, 0)


def fake_summary() -> dict:
    """A summary with one 30 s outage of us-west2, following the summary.json contract."""
    publish = {
        "all": {"warmup": _stats(0.01, 0.02, 0.03, 0.04, 0.05, 10),
                "before": _stats(0.012, 0.02, 0.03, 0.04, 0.05, 1000),
                "during": _stats(0.015, 0.025, 0.2, 1.5, 2.0, 400),
                "after": _stats(0.012, 0.02, 0.03, 0.04, 0.05, 600), "drain": EMPTY},
        "us-west1": {"warmup": EMPTY, "before": _stats(0.011, 0.02, 0.03, 0.04, 0.05, 500),
                     "during": _stats(0.015, 0.025, 0.2, 1.5, 2.0, 400),
                     "after": _stats(0.012, 0.02, 0.03, 0.04, 0.05, 300), "drain": EMPTY},
        "us-west2": {"warmup": EMPTY, "before": _stats(0.013, 0.02, 0.03, 0.04, 0.05, 500),
                     "during": EMPTY,
                     "after": _stats(0.012, 0.02, 0.03, 0.04, 0.05, 300), "drain": EMPTY},
    }
    recovery = {"first_success": 30.5, "rate_recovered": 31.0,
                "baseline_bytes_per_s": 5 * 2**20, "longest_gap": 30.6}
    return {
        "schema_version": 1, "scenario": "tiny", "strategy": "diskless", "seed": 7,
        "geosim_version": "0.1.0", "simulated_seconds": 120.0,
        "faults": [{"kind": "region-outage", "target": "us-west2", "start": 60.0,
                    "end": 90.0}],
        "records": {"offered": 1234567, "acked": 1234000, "failed": 67, "info": 500,
                    "delivered": 1233999},
        "loss": {"lost_records": 42, "lost_bytes": 3 * 2**20, "rpo_seconds": 0.75,
                 "untracked_records": 0,
                 "by_region": {"us-west2": {"lost_records": 42, "lost_bytes": 3 * 2**20,
                                            "rpo_seconds": 0.75}}},
        "unavailable": {"records": 9000, "bytes": 9 * 2**20, "intervals": [[60.0, 90.5]],
                        "max_seconds": 30.5, "open_records": 0,
                        "by_region": {"us-west2": {"records": 9000, "bytes": 9 * 2**20,
                                                   "max_seconds": 30.5}}},
        "rto": {
            "us-west1": {"producers": {**recovery, "first_success": 0.2, "rate_recovered": 0.0},
                         "consumers": {**recovery, "longest_gap": None}},
            "us-west2": {"producers": recovery,
                         "consumers": {**recovery, "first_success": None,
                                       "rate_recovered": None, "longest_gap": None}},
            "us-west3": {side: {"first_success": None, "rate_recovered": None,
                                "baseline_bytes_per_s": 0.0, "longest_gap": None}
                         for side in ("producers", "consumers")},
        },
        "latency": {"publish": publish, "e2e": copy.deepcopy(publish)},
        "bytes": {
            "cross_region": {"total": 3 * GIB, "rate": 25 * 2**20,
                             "by_purpose": {"object_replication": 2 * GIB,
                                            "object_get": GIB - 5 * 2**20,
                                            "metadata": 5 * 2**20},
                             "by_pair": {"us-west1->us-west2": 3 * GIB}},
            "inter_zone": {"total": 6 * 2**20, "rate": 50 * 2**10,
                           "by_purpose": {"metadata": 6 * 2**20},
                           "by_pair": {"us-west1-a->us-west1-b": 6 * 2**20}},
        },
        "checks": {"duplicates": 0, "skips": 0, "reorders": 0, "duplicate_writes": 0,
                   "redelivered_after_rebalance": 3},
        "counters": {"flushes": 10},
    }


def fake_report(bin_width: float = 1.0, t_end: float = 120.0) -> SimpleNamespace:
    """A report with 120 one-second bins for two regions and a few histograms."""
    rows = []
    for region, rate in (("us-west1", 5 * 2**20), ("us-west2", 4 * 2**20)):
        for k in range(int(t_end / bin_width)):
            t = k * bin_width
            down = region == "us-west2" and 60 <= t < 90
            acked = 0.0 if down else rate * bin_width
            rows += [(t, region, "acked_bytes", acked),
                     (t, region, "delivered_bytes", acked * 0.9),
                     (t, region, "offered_bytes", 0.0 if down else rate * bin_width)]
            if not down:  # the collector leaves undefined availability out
                rows.append((t, region, "availability", 1.0 if k % 7 else 0.875))
    frame = pd.DataFrame(rows, columns=["t", "region", "metric", "value"])
    rng = np.random.default_rng(3)
    histograms = {}
    for kind, scale in (("publish", 0.02), ("e2e", 0.05)):
        for region in ("us-west1", "us-west2", "all"):
            for phase in ("before", "during"):
                hist = LatencyHistogram()
                for value in rng.lognormal(np.log(scale), 0.4, size=200):
                    hist.add(float(value))
                histograms[(kind, region, phase)] = hist
        histograms[(kind, "us-west2", "drain")] = LatencyHistogram()  # empty
    return SimpleNamespace(timeseries=frame, histograms=histograms, bin_width=bin_width,
                           t_end=t_end)


@pytest.fixture(scope="module")
def result() -> SimpleNamespace:
    scenario = load_scenario(REPO / "scenarios" / "quickstart.yaml")
    return SimpleNamespace(scenario=scenario, seed=7, summary=fake_summary(),
                           report=fake_report(),
                           run_info={"wall_seconds": 1.25, "events": 1000})


# --- table ---------------------------------------------------------------------------

def test_table_reports_every_section():
    text = format_summary(fake_summary())
    lines = text.splitlines()
    assert lines[0].split() == ["scenario", "tiny", "strategy", "diskless", "seed", "7",
                                "simulated", "2.0m"]
    assert "region-outage us-west2 at 60.0s for 30.0s" in lines[1]
    # records, with thousands separators, in the order offered/acked/failed/info/delivered
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["offered", "acked"])
    assert lines[header + 1].split() == ["1,234,567", "1,234,000", "67", "500", "1,233,999"]
    lost = next(line for line in lines if line.strip().startswith("lost"))
    assert lost.split() == ["lost", "42", "3.00MiB", "RPO", "750ms"]
    unavailable = next(line for line in lines if line.strip().startswith("unavailable "))
    assert unavailable.split() == ["unavailable", "9,000", "9.00MiB", "longest", "30.5s"]
    assert "unavailability window: 60.0s-90.5s" in text
    # checks: a rebalance redelivery is not an anomaly
    assert "Checks   ok" in text and "redelivered_after_rebalance 3" in text


def test_table_rto_rows_skip_regions_without_clients_and_show_missing_as_dash():
    lines = format_summary(fake_summary()).splitlines()
    rto = [line.split() for line in lines if line.startswith("  us-west")
           and ("producers" in line or "consumers" in line)]
    assert rto == [
        ["us-west1", "producers", "200ms", "0s", "30.6s", "5.00MiB/s"],
        ["us-west1", "consumers", "30.5s", "31.0s", "-", "5.00MiB/s"],
        ["us-west2", "producers", "30.5s", "31.0s", "30.6s", "5.00MiB/s"],
        ["us-west2", "consumers", "-", "-", "-", "5.00MiB/s"],
    ]


def test_table_latency_lists_nonempty_phases_with_all_first():
    lines = format_summary(fake_summary()).splitlines()
    start = lines.index("Publish latency (send to ack)")
    assert lines[start + 1].split() == ["region", "phase", "p50", "p90", "p99", "p99.9", "max",
                                        "records"]
    rows = [line.split() for line in lines[start + 2:start + 9]]
    assert [row[:2] for row in rows] == [
        ["all", "before"], ["all", "during"], ["all", "after"], ["us-west1", "before"],
        ["us-west1", "during"], ["us-west1", "after"], ["us-west2", "before"]]
    assert rows[1] == ["all", "during", "15ms", "25ms", "200ms", "1.5s", "2.0s", "400"]
    assert lines[start + 9].split()[:2] == ["us-west2", "after"]  # during is empty: skipped
    assert "End-to-end latency (send to delivery)" in lines


def test_table_traffic_totals_rates_and_shares():
    lines = format_summary(fake_summary()).splitlines()
    start = lines.index("Network bytes")
    rows = [line.split() for line in lines[start + 2:start + 8]]
    assert rows == [
        ["cross-region", "total", "3.00GiB", "25.00MiB/s"],
        ["object_replication", "2.00GiB", "67%"],
        ["object_get", "1019.00MiB", "33%"],
        ["metadata", "5.00MiB", "0%"],
        ["inter-zone", "total", "6.00MiB", "50.00KiB/s"],
        ["metadata", "6.00MiB", "100%"],
    ]


def test_table_flags_anomalies_and_omits_rto_without_faults():
    summary = fake_summary()
    summary["faults"] = []
    summary["checks"]["duplicates"] = 5
    summary["checks"]["skips"] = 1
    text = format_summary(summary)
    assert "faults   none" in text
    assert "Checks   ANOMALIES: duplicates, skips" in text
    assert "Recovery" not in text


def test_table_tolerates_a_permanent_fault():
    summary = fake_summary()
    summary["faults"] = [{"kind": "region-destruction", "target": "us-west2", "start": 45.0,
                          "end": None}]
    assert "region-destruction us-west2 at 45.0s (permanent)" in format_summary(summary)


# --- writer ----------------------------------------------------------------------------

EXPECTED_FILES = {"summary.json", "scenario.yaml", "run-info.json", "timeseries.csv",
                  "latency.csv", "latency-cdf.csv", "timeline.png", "latency.png",
                  "bytes.png", "bytes-pairs.png"}


def _read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_write_results_writes_every_file(result, tmp_path):
    out = writer.write_results(result, tmp_path / "results" / "tiny" / "seed-7")
    assert out == tmp_path / "results" / "tiny" / "seed-7"
    assert {p.name for p in out.iterdir()} == EXPECTED_FILES
    assert [p.name for p in out.parent.iterdir()] == ["seed-7"]  # no temporary left over

    text = (out / "summary.json").read_text()
    assert text == json.dumps(result.summary, indent=2, sort_keys=True) + "\n"
    assert json.loads((out / "run-info.json").read_text()) == result.run_info
    reloaded = load_scenario(out / "scenario.yaml")
    assert reloaded == result.scenario
    for name in ("timeline.png", "latency.png", "bytes.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_timeseries_csv_is_sorted_and_rounded(result, tmp_path):
    out = writer.write_results(result, tmp_path / "r", plots=False)
    rows = _read_csv(out / "timeseries.csv")
    assert len(rows) == len(result.report.timeseries)
    keys = [(float(r["t"]), r["region"], r["metric"]) for r in rows]
    assert keys == sorted(keys)
    first = rows[0]
    assert first == {"t": "0", "region": "us-west1", "metric": "acked_bytes",
                     "value": str(5 * 2**20)}
    assert writer.format_float(0.1 + 0.2) == "0.3"
    assert writer.format_float(-0.0) == "0"
    assert writer.format_float(float("nan")) == "nan"


def test_latency_csv_matches_histograms(result, tmp_path):
    out = writer.write_results(result, tmp_path / "r", plots=False)
    rows = _read_csv(out / "latency.csv")
    assert list(rows[0]) == ["kind", "region", "phase", "p50", "p90", "p99", "p999", "max",
                             "mean", "records"]
    assert len(rows) == len(result.report.histograms)
    # e2e before publish; regions alphabetical with "all" last; phases in time order
    order = [(r["kind"], r["region"], r["phase"]) for r in rows]
    assert order[:5] == [("e2e", "us-west1", "before"), ("e2e", "us-west1", "during"),
                         ("e2e", "us-west2", "before"), ("e2e", "us-west2", "during"),
                         ("e2e", "us-west2", "drain")]
    assert order[5] == ("e2e", "all", "before")
    hist = result.report.histograms[("publish", "us-west1", "during")]
    row = next(r for r in rows if (r["kind"], r["region"], r["phase"])
               == ("publish", "us-west1", "during"))
    assert float(row["p99"]) == pytest.approx(hist.quantile(0.99), rel=1e-8)
    assert float(row["max"]) == pytest.approx(hist.max, rel=1e-8)
    assert float(row["mean"]) == pytest.approx(hist.mean, rel=1e-8)
    assert row["records"] == "200"
    empty = next(r for r in rows if r["phase"] == "drain")
    assert empty["p50"] == "nan" and empty["records"] == "0"

    cdf = _read_csv(out / "latency-cdf.csv")
    points = [r for r in cdf if (r["kind"], r["region"], r["phase"])
              == ("publish", "us-west1", "during")]
    fractions = [float(r["fraction"]) for r in points]
    assert fractions[0] == 0.0 and fractions[-1] == pytest.approx(1.0)
    assert fractions == sorted(fractions)
    assert not any(r["phase"] == "drain" for r in cdf)  # empty histograms have no CDF


def test_same_result_gives_identical_files(result, tmp_path):
    a = writer.write_results(result, tmp_path / "a", plots=False)
    b = writer.write_results(result, tmp_path / "b", plots=False)
    for name in ("summary.json", "scenario.yaml", "timeseries.csv", "latency.csv",
                 "latency-cdf.csv"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_failure_mid_write_leaves_no_directory(result, tmp_path, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(writer, "write_latency_csv", explode)
    target = tmp_path / "results" / "tiny" / "seed-7"
    with pytest.raises(RuntimeError, match="disk on fire"):
        writer.write_results(result, target, plots=False)
    assert list(tmp_path.iterdir()) == []  # neither the target, a temp dir, nor parents


def test_failure_mid_write_keeps_previous_results(result, tmp_path, monkeypatch):
    target = tmp_path / "seed-7"
    writer.write_results(result, target, plots=False)
    before = {p.name: p.read_bytes() for p in target.iterdir()}

    monkeypatch.setattr(writer, "write_timeseries_csv",
                        lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        writer.write_results(result, target, plots=False)
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["seed-7"]


def test_rewrite_replaces_the_whole_directory(result, tmp_path):
    target = tmp_path / "seed-7"
    writer.write_results(result, target, plots=False)
    (target / "stale.txt").write_text("from an older version")
    writer.write_results(result, target, plots=False)
    assert not (target / "stale.txt").exists()
    assert (target / "summary.json").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["seed-7"]


# --- plots -------------------------------------------------------------------------------

def test_timeline_plots_regions_and_shades_faults(result):
    fig = plots.timeline(result)
    assert isinstance(fig, Figure)
    top, bottom = fig.axes
    assert top.get_ylabel() == "throughput (MiB/s)"  # 5 MiB/s: MiB, not GiB
    assert bottom.get_xlabel() == "simulated time (s)"
    labels = [line.get_label() for line in top.get_lines()]
    assert labels == ["us-west1 acked", "us-west1 delivered", "us-west2 acked",
                      "us-west2 delivered"]
    acked = top.get_lines()[0]
    assert np.nanmax(acked.get_ydata()) == pytest.approx(5.0)
    # the outage bins have no availability: drawn as a gap, not interpolated over
    availability = bottom.get_lines()[1].get_ydata()
    assert np.isnan(availability[60:90]).all() and not np.isnan(availability[59])
    assert [t.get_text() for t in top.texts] == ["region-outage us-west2"]
    assert len(top.patches) == 1 and len(bottom.patches) == 1  # the shaded outage


def test_plots_accept_report_and_summary(result):
    pair = (result.report, result.summary)
    for fig in (plots.timeline(*pair), plots.timeline(pair), plots.latency_cdf(*pair)):
        assert isinstance(fig, Figure)
        assert "tiny" in fig.axes[0].get_title() or "tiny" in fig.get_suptitle()


def test_latency_cdf_is_log_ms_per_region_and_phase(result):
    fig = plots.latency_cdf(result)
    publish, e2e = fig.axes
    assert publish.get_xscale() == "log"
    assert publish.get_xlabel() == "publish (send to ack) latency (ms)"
    assert [line.get_label() for line in publish.get_lines()] == [
        "us-west1 before", "us-west1 during", "us-west2 before", "us-west2 during"]
    xdata = publish.get_lines()[0].get_xdata()
    hist = result.report.histograms[("publish", "us-west1", "before")]
    assert max(xdata) == pytest.approx(hist.max * 1e3)


def test_bytes_by_purpose_bars(result):
    fig = plots.bytes_by_purpose(result)
    cross, inter = fig.axes
    assert [t.get_text() for t in cross.get_yticklabels()] == [
        "object_replication", "object_get", "metadata"]
    assert cross.get_xlabel() == "bytes transferred (GiB)"
    widths = [patch.get_width() for patch in cross.patches]
    assert widths[0] == pytest.approx(2.0)
    assert "3.00GiB total" in cross.get_title()
    assert len(inter.patches) == 1
