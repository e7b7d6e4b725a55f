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
    assert len(marked) == 92, sorted(marked)   # docs/mutation.md, "Excluded sites"
    assert all(len(reason.split()) >= 5 for reason in marked.values())


def test_each_site_is_reported_by_the_first_line_of_its_innermost_statement(tmp_path):
    mutate = _mutate()
    code = tmp_path / "m.py"
    code.write_text("def f(x=3):\n"                 # 1: the default, the def's
                    "    if x > 1 and not x:\n"      # 2: the header's test
                    "        y = g(x,\n"
                    "              x + 2)\n"         # 4: line 3's statement
                    "        return y\n"
                    "    return min(x, 0)\n")        # 6
    file = str(code)
    found = [(s.line, s.change, line)
             for s, line in zip(mutate.sites(file), mutate.statement_lines(file),
                                 strict=True)]
    assert sorted(found) == sorted([
        (1, "3 -> 4", 1), (2, "> -> >= (#0)", 2), (2, "and -> or", 2),
        (2, "1 -> 2", 2), (2, "not x -> x", 2), (4, "+ -> -", 3), (4, "2 -> 3", 3),
        (6, "min -> max", 6), (6, "0 -> 1", 6)])
    population = [("p", s) for s in mutate.sites(file)]
    # coverage lists line 3 (the call's statement) and 6 as missing: the sites of
    # lines 4 and 6; a file coverage does not name was executed whole
    never = mutate.on_missing(population, {file: {3, 6}})
    assert sorted((s.line, s.change) for _p, s in never) == [
        (4, "+ -> -"), (4, "2 -> 3"), (6, "0 -> 1"), (6, "min -> max")]
    assert mutate.on_missing(population, {}) == []


def test_file_restricts_the_population_to_modules_of_the_packages(monkeypatch):
    mutate = _mutate()
    monkeypatch.chdir(ROOT)
    packages = sorted(mutate.PACKAGES)
    assert mutate._only_files(["geosim/metrics/recovery.py",
                               str(ROOT / "geosim/kafka/offset_sync.py")], packages) == {
        "geosim/metrics/recovery.py", "geosim/kafka/offset_sync.py"}
    for given, message in (
            ("geosim/world/network.py", "--file geosim/world/network.py: not in the "
                                        "mutated packages (geosim/components, "
                                        "geosim/kafka, geosim/metrics, geosim/strategies)"),
            ("geosim/metrics/nope.py", "--file geosim/metrics/nope.py: no such Python module"),
            ("/", "--file /: not inside this checkout")):
        with pytest.raises(SystemExit) as stop:
            mutate._only_files([given], packages)
        assert str(stop.value).startswith(message)


def test_a_class_decorators_slots_argument_is_not_mutated_and_frozen_is(tmp_path):
    mutate = _mutate()
    code = tmp_path / "m.py"
    code.write_text("@dataclass(frozen=True, slots=True)\n"
                    "class C:\n"
                    "    x: int = 3\n")
    assert sorted(s.change for s in mutate.sites(str(code))) == ["3 -> 4", "True -> False"]
    site = next(s for s in mutate.sites(str(code)) if s.change == "True -> False")
    assert "frozen=False, slots=True" in mutate.mutated_source(site)
