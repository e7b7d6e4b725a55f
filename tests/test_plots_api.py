"""The public plot API beyond one run's files: state panels, bytes by pair, comparison
and sweep charts, and plots of a run loaded back from disk."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from geosim.output import (
    bytes_by_pair,
    comparison_chart,
    latency_cdf,
    latency_cdf_comparison,
    load_run,
    metric_vs_factor,
    timeline,
    write_results,
)
from geosim.runner import run
from geosim.scenario.loader import load_scenario

REPO = Path(__file__).resolve().parents[1]
SHORT = ("simulation.duration=30s", "simulation.warmup=5s", "simulation.drain=5s",
         "faults[0].at=10s", "faults[0].duration=10s")


@pytest.fixture(scope="module")
def result():
    return run(load_scenario(REPO / "scenarios" / "quickstart.yaml", SHORT), 1)


def texts(fig) -> set[str]:
    out = {fig._suptitle.get_text()} if fig._suptitle else set()
    for ax in fig.axes:
        out |= {ax.get_xlabel(), ax.get_ylabel(), ax.get_title()}
        out |= {t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()}
        legend = ax.get_legend()
        if legend:
            out |= {t.get_text() for t in legend.get_texts()}
    return out


def test_timeline_adds_a_panel_per_recorded_state_metric(result):
    assert len(timeline(result).axes) == 2
    frame = result.report.timeseries
    isr = frame[frame["metric"] == "acked_bytes"].assign(metric="under_min_isr_partitions",
                                                         region="all", value=3.0)
    report = type("R", (), {"timeseries": pd.concat([frame, isr]),
                            "bin_width": result.report.bin_width,
                            "t_end": result.report.t_end})()
    fig = timeline(report, result.summary)
    assert len(fig.axes) == 3
    assert "partitions with\nISR < min.insync.replicas" in texts(fig)


def test_bytes_by_pair_names_each_pair(result):
    labels = texts(bytes_by_pair(result))
    pairs = result.summary["bytes"]["cross_region"]["by_pair"]
    assert pairs and all(pair.replace("->", " → ") in labels for pair in pairs)


def test_a_saved_run_plots_like_the_result(result, tmp_path):
    saved = load_run(write_results(result, tmp_path / "r", plots=False))
    pd.testing.assert_frame_equal(saved.to_dataframe()[["t", "region", "metric"]],
                                  result.to_dataframe()[["t", "region", "metric"]]
                                  .sort_values(["t", "region", "metric"], kind="stable")
                                  .reset_index(drop=True))
    assert len(timeline(saved).axes) == 2
    lines = sum(len(ax.get_lines()) for ax in latency_cdf(saved).axes)
    assert lines == sum(len(ax.get_lines()) for ax in latency_cdf(result).axes) > 0
    assert saved.to_row()["records.acked"] == result.summary["records"]["acked"]


def test_comparison_charts_have_a_bar_per_variant_and_metric(result):
    runs = {"a": result, "b": result.summary}
    fig = comparison_chart(runs)
    assert {"latency (ms, log scale)", "records", "seconds", "GiB over the run"} <= texts(fig)
    assert len(fig.axes[0].patches) == 2 * 8
    cdf = latency_cdf_comparison({"a": result})
    assert {line.get_label() for line in cdf.axes[0].get_lines()} == {"a before", "a during"}


def test_metric_vs_factor():
    table = pd.DataFrame({"f": [1, 1, 2, 2, 4, 4], "seed": [1, 2] * 3,
                          "status": ["ok"] * 5 + ["error"],
                          "latency.e2e.before.p50": [0.1, 0.3, 0.2, 0.2, 0.5, None]})
    fig = metric_vs_factor(table, "f", "latency.e2e.before.p50")
    ax = fig.axes[0]
    median = ax.get_lines()[0]
    assert list(median.get_xdata()) == [1, 2, 4]
    assert list(median.get_ydata()) == pytest.approx([200, 200, 500])  # ms
    assert ax.get_ylabel() == "end-to-end latency p50, before (ms)"
    text = table.assign(f=table["f"].map({1: "1s", 2: "2s", 4: "4s"}))
    categorical = metric_vs_factor(text, "f", "latency.e2e.before.p50").axes[0]
    labels = [t.get_text() for t in categorical.get_xticklabels()]
    assert labels == ["1s", "2s", "4s"]
    with pytest.raises(KeyError, match="no column 'nope'"):
        metric_vs_factor(table, "nope", "latency.e2e.before.p50")


def test_result_and_saved_run_frames_agree(result, tmp_path):
    saved = load_run(write_results(result, tmp_path / "r", plots=False))
    live, back = result.to_dataframe("latency"), saved.to_dataframe("latency")
    assert list(live.columns) == list(back.columns)
    assert live[["kind", "region", "phase"]].values.tolist() == \
        back[["kind", "region", "phase"]].values.tolist()
    pd.testing.assert_series_equal(live["p50"], back["p50"], rtol=1e-8)
    row = result.to_dataframe("row")
    assert len(row) == 1 and row["seed"].iloc[0] == 1
    assert saved.to_dataframe("row").columns.tolist() == row.columns.tolist()
    with pytest.raises(ValueError, match="what must be"):
        result.to_dataframe("nope")
