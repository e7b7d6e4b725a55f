"""The report-section seam (geosim.metrics.sections): how the core finds a strategy's
sections and what it refuses. End to end, through a strategy outside geosim:
tests/test_plugin_strategy.py; the edge strategy's section: tests/test_edge.py."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pandas as pd
import pytest

from geosim.metrics.sections import (
    ReportSection,
    known_sections,
    scalar_leaves,
    sections_of,
)
from geosim.scenario import plugins


class _Other(ReportSection):
    name = "edge"   # the edge strategy's section name, declared by another plug-in


OTHER = _Other()


@pytest.fixture
def diskless_with():
    """Diskless re-registered with the given section import paths, then restored."""
    def register(*paths: str) -> None:
        plugins.register(dataclasses.replace(plugins.plugin("diskless"), sections=paths))
    yield register
    plugins.unregister("diskless")


def test_sections_come_from_the_strategy_plugin():
    assert [s.name for s in sections_of("edge")] == ["edge"]
    assert sections_of("diskless") == [] and sections_of(None) == []
    assert sections_of("no-such-strategy") == []     # a summary of an absent plug-in
    assert "edge" in known_sections()


def test_an_entry_that_is_not_a_section_is_refused(diskless_with):
    diskless_with("geosim.metrics.sections:scalar_leaves")
    with pytest.raises(TypeError, match="strategy plug-in diskless: sections entry "
                                        "geosim.metrics.sections:scalar_leaves is a "
                                        "function, expected a ReportSection"):
        sections_of("diskless")


def test_two_plugins_may_not_declare_sections_of_one_name(diskless_with):
    diskless_with(f"{__name__}:OTHER")
    with pytest.raises(ValueError, match="both declare a report section 'edge'"):
        known_sections()


def test_default_row_frame_lines_and_plots():
    class Counts(ReportSection):
        name = "counts"
        files = {"counts-a.csv": ("t",), "counts-b.csv": ()}

    section = Counts()
    assert section.row({"a": {"x": 1, "y": [1, 2]}, "b": None}) == {
        "counts.a.x": 1, "counts.b": None}
    frame = pd.DataFrame({"t": [1.0]})
    assert section.frame({"counts-b.csv": frame}) is frame
    assert section.frame({}).empty
    assert section.lines({}) == [] and section.plots(None) == {}
    assert scalar_leaves(3, "x") == {"x": 3}


@pytest.mark.parametrize("file", ["summary.json", "timeseries.csv", "../x.csv",
                                  "sub/x.csv", "x.txt"])
def test_writer_refuses_a_section_file_that_is_not_a_plain_csv_name_of_its_own(file):
    from geosim.output.writer import section_files

    frame = pd.DataFrame({"t": [1.0]})

    class Files:
        def __init__(self, name):
            self.name = name

        def files(self):
            return {self.name: frame}

    good = SimpleNamespace(sections={"a": Files("a.csv"), "b": Files("b.csv")})
    assert section_files(good) == {"a.csv": frame, "b.csv": frame}
    with pytest.raises(ValueError, match=f"report section 'bad': file '{file}' must be"):
        section_files(SimpleNamespace(sections={"bad": Files(file)}))
    with pytest.raises(ValueError, match="report section 'b': file 'a.csv'"):
        section_files(SimpleNamespace(sections={"a": Files("a.csv"), "b": Files("a.csv")}))
