"""The edge strategy's report section (:mod:`geosim.metrics.sections`): ``edge`` in
``summary.json``, ``edge-classes.csv`` and ``edge-sites.csv``, ``to_dataframe("edge")``
(one row per site and bin), the sweep-table columns ``edge.*`` (the fleet's figures),
the summary table's edge lines and the plots ``edge-backlog.png`` and
``edge-staleness.png``, which stand in for the timeline and the latency CDF (the sites'
producers and consumers are not the regions', so those would be empty).

Definitions of the figures: :mod:`geosim.strategies.edge.report` and docs/summary.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from geosim.core.text import (
    bytes_text,
    count_text,
    duration_text,
    fixed_width,
    rate_text,
)
from geosim.metrics.sections import ReportSection, SectionContext, SectionFold, scalar_leaves
from geosim.strategies.edge.report import CLASSES_CSV, SITES_CSV, EdgeFold

#: Columns of ``edge-classes.csv`` read as floats.
CLASS_FLOATS = ("t", "backlog_bytes", "staleness_s", "replicated_bytes",
                "lost_retention_bytes", "lost_failure_bytes", "throughput_bytes_per_s")
#: Sites listed one by one in the summary table; beyond, those that lost most, then the
#: stalest.
SITES_SHOWN = 12
#: The plots, by file name: the per-site frame's column each draws.
PLOTS = {"edge-backlog.png": "backlog_bytes", "edge-staleness.png": "staleness_s"}


def edge_frame(classes: pd.DataFrame, sites: pd.DataFrame) -> pd.DataFrame:
    """Per edge site and bin end: ``t, site, template, class`` and the class's values
    (``backlog_bytes``, ``staleness_s``, ``replicated_bytes``, ``lost_retention_bytes``,
    ``lost_failure_bytes``, ``throughput_bytes_per_s``, ``link``): a site's rows are
    its class's (a class's sites are identical, docs/edge.md). Empty without edge sites."""
    if classes.empty or sites.empty:
        return pd.DataFrame()
    values = classes.drop(columns=["template", "sites"])
    out = sites.merge(values, on="class", how="left")
    return out.sort_values(["site", "t"], kind="stable").reset_index(drop=True)[
        ["t", "site", "template", "class", *[c for c in values.columns
                                             if c not in ("t", "class")]]]


class EdgeSection(ReportSection):
    """Edge sites: the fleet's and each site's backlog, loss, staleness, catch-up."""

    name = "edge"
    files = {CLASSES_CSV: CLASS_FLOATS, SITES_CSV: ()}
    replaces_plots = ("timeline", "latency_cdf")
    records_note = ("the edge sites' data is a fluid, not rows: it is counted under Edge "
                    "sites, and what they lost in the table below too")

    def fold(self, context: SectionContext) -> SectionFold:
        return EdgeFold(context)

    def row(self, section: Mapping[str, Any]) -> dict[str, Any]:
        """The fleet's figures (per site: ``summary.json``)."""
        return scalar_leaves(section["fleet"], self.name)

    def frame(self, files: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
        empty = pd.DataFrame()
        return edge_frame(files.get(CLASSES_CSV, empty), files.get(SITES_CSV, empty))

    def lines(self, section: Mapping[str, Any]) -> list[str]:
        """The fleet, then the sites that lost most and had the stalest central copy
        (the others: ``summary.json`` or ``to_dataframe("edge")``)."""
        fleet = section["fleet"]
        stale, catch = fleet["staleness_seconds"], fleet["catch_up_seconds"]
        lines = [
            f"Edge sites  {fleet['sites']} sites in {fleet['classes']} classes",
            f"  replicated {bytes_text(fleet['replicated_bytes'])}; lost to retention "
            f"{bytes_text(fleet['lost_retention_bytes'])} "
            f"({count_text(fleet['lost_retention_records'])} records, "
            f"{fleet['sites_losing_to_retention']} sites); lost to site failures "
            f"{bytes_text(fleet['lost_failure_bytes'])} "
            f"({count_text(fleet['lost_failure_records'])} records)",
            f"  staleness p50 {duration_text(stale['p50'])}, p99 "
            f"{duration_text(stale['p99'])}, max {duration_text(stale['max'])}; catch-up "
            f"mean {duration_text(catch['mean'])}, max {duration_text(catch['max'])} "
            f"({catch['count']} reconnections, {catch['incomplete']} incomplete)",
            f"  central ingest peak {rate_text(fleet['central_ingest_peak_bytes_per_s'])}, "
            f"mean {rate_text(fleet['central_ingest_mean_bytes_per_s'])}; link utilisation "
            f"peak {fleet['link_utilisation_peak']:.0%}; largest site backlog "
            f"{bytes_text(fleet['backlog_bytes_peak_site_max'])}"]
        sites = section["by_site"]

        def badness(name: str) -> tuple:
            site = sites[name]
            lost = site["lost_retention_bytes"] + site["lost_failure_bytes"]
            return -lost, -(site["staleness_seconds"]["max"] or 0), name
        rows = []
        for name in sorted(sites, key=badness)[:SITES_SHOWN]:
            site = sites[name]
            st = site["staleness_seconds"]
            rows.append([name, bytes_text(site["backlog_bytes_peak"]),
                         bytes_text(site["lost_retention_bytes"]),
                         bytes_text(site["lost_failure_bytes"]),
                         duration_text(st["p50"]), duration_text(st["max"]),
                         duration_text(site["catch_up_seconds"]["max"])])
        title = "site" if len(sites) <= SITES_SHOWN else \
            f"worst {SITES_SHOWN} of {len(sites)}"
        return lines + fixed_width([title, "backlog peak", "lost (retention)",
                                    "lost (failure)", "staleness p50", "max",
                                    "catch-up max"], rows)

    def plots(self, source: Any) -> dict[str, Any]:
        from geosim.strategies.edge.plots import edge_sites

        return {name: edge_sites(source, metric) for name, metric in PLOTS.items()}


#: The section the plug-in declares (``StrategyPlugin.sections``).
SECTION = EdgeSection()

__all__ = ["SECTION", "EdgeSection", "edge_frame"]
