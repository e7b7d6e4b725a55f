"""benchmarks/mutate.py's exclusion of sites marked equivalent (docs/mutation.md)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _mutate():
    spec = importlib.util.spec_from_file_location("mutate", ROOT / "benchmarks" / "mutate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["mutate"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_a_marked_line_needs_a_reason_after_the_marker_or_above(tmp_path):
    mutate = _mutate()
    code = tmp_path / "m.py"
    code.write_text("GROWTH = 2  # mutate: equivalent: capacity only\n"
                    "# equivalent: when the list is compacted\n"
                    "if len(x) > 4096:  # mutate: equivalent\n"
                    "    y = x + 1\n")
    assert mutate.equivalent_lines(str(code)) == {1: "capacity only",
                                                  3: "when the list is compacted"}
    # the sites keep their indices: an unmarked line's mutant is still built
    site = next(s for s in mutate.sites(str(code)) if s.line == 4)
    assert "y = x - 1" in mutate.mutated_source(site)
    code.write_text("# a comment\nLIMIT = 3  # mutate: equivalent\n")
    with pytest.raises(ValueError, match="without a reason"):
        mutate.equivalent_lines(str(code))


def test_every_marked_line_of_the_packages_states_its_reason():
    mutate = _mutate()
    marked = {}
    for package in mutate.PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            file = str(path.relative_to(ROOT))
            marked.update({(file, n): r for n, r in mutate.equivalent_lines(file).items()})
    assert len(marked) == 4, sorted(marked)   # docs/mutation.md, "Excluded sites"
    assert all(len(reason.split()) >= 5 for reason in marked.values())
