"""Generated mutation testing: mechanical small changes to the model, in bulk.

Where ``benchmarks/mutation.py`` applies hand-written mutants (each a plausible bug with
the tests that should catch it), this script generates them, as mutmut or cosmic-ray
do: every comparison, arithmetic and boolean operator, numeric constant and
``min``/``max`` call of the target packages is a mutation site, and each site gives one
mutant per replacement (``<`` to ``<=``, ``+`` to ``-``, ``and`` to ``or``, ``not x`` to
``x``, ``n`` to ``n + 1``, ``True`` to ``False``, ``min`` to ``max``). Docstrings,
annotations, f-strings, error messages, ``__all__``, function decorators and a class
decorator's ``slots`` argument (memory layout, never a result) are not mutated.

Each mutant is written into one scratch copy of the repository (the module rebuilt with
``ast.unparse``, so comments are dropped from that copy only), its tests run there
(``pytest -x``, one process, under a memory and a time limit: exceeding either counts as
killed), and the module is restored. A mutant's tests are the test files that import its
module (found by reading their imports) or are named after it or its strategy, run
first so that most mutants die in seconds, then the rest of its package's test files
(``PACKAGES``), the golden summaries last: a mutant survives only if it escapes all of
them, so the order saves time without weakening the verdict. A mutant is **killed**
when the tests fail, **survives** when they pass. Some survivors are equivalent to the
original (no test could tell them apart); the report lists every survivor so a reader
can judge.

Running all mutants takes hours on 2 cores; ``--sample N`` draws N sites uniformly
(``--seed``), which estimates the score with a binomial error the report states.

``--file PATH ...`` restricts the population to some modules of the packages: every
mutant of a module that decides a headline figure (``geosim/metrics/recovery.py`` for
RTO, ``geosim/metrics/partition_loss.py`` for Kafka loss and RPO) rather than a sample of
all of them; with ``--sample``, a sample of those modules' sites. ``--tests FILE ...``
runs the given test files against every mutant instead of its selection: with a
module's own unit test file, a kill means that file's exact tests catch the change, not
a scenario test or a golden summary that happens to reach it (docs/mutation.md, "Every
mutant of a module", was measured so).

Mutants run in draw order, so the first k of a run stopped by ``--budget`` (minutes) are
a uniform sample of k; the score's 95 % interval is Wilson's. ``--skip K`` resumes a
stopped sample: the same draws (same ``--sample`` and ``--seed``), running only those
after the first K, numbered from K + 1; it is valid only while the population is the
one the stopped run drew from (the same site count), and its score is over the resumed
draws alone, to be added to the stopped run's.

**Excluded sites.** A line ending in the comment ``# mutate: equivalent`` holds mutants
equivalent by construction (a growth factor, a compaction threshold: memory, not
results); its reason is the rest of that comment or, if empty, the comment line right
above it, which must start ``# equivalent:``. Every site of such a line is left out of
the population (a line without a reason is an error), ``--list`` lists them with their
reasons, and the report gives the score both over the remaining sites and over all
sites (every excluded site counted as a survivor). Mark only lines whose equivalence
one sentence can argue; restructure a line so that only the equivalent part is on it.

**Sites no test executes.** A mutant on a statement no test runs survives for certain,
so the share of such sites bounds the survivor fraction from below, without running a
mutant. ``--unexecuted DATA`` reads a coverage data file of a run of the whole suite on
this checkout (coverage.py and pytest-cov: ``pip install -e '.[mutation]'``), takes each
site's statement (the innermost statement holding it: an ``if``'s header for its test,
the ``def`` for a default), counts the sites whose statement coverage lists as missing,
by package and by file, lists them line by line, and stops. A module no test imports
counts whole. One way to make the data file, with the tests in parallel, from a
configuration ``/tmp/covrc`` (``parallel`` and ``patch = subprocess`` also reach the
command-line tests' subprocesses; ``source`` absolute, since they run elsewhere)::

    [run]
    branch = true
    parallel = true
    patch = subprocess
    source = /path/to/this/checkout/geosim

    python -m pytest -p no:benchmark --cov --cov-config=/tmp/covrc --cov-report=
    coverage combine --append --rcfile=/tmp/covrc
    python benchmarks/mutate.py --unexecuted .coverage

pytest-cov combines its workers' data into ``.coverage``; ``combine --append`` adds the
files of subprocesses that ended after it (without ``--append`` it would replace the
suite's data by theirs). About 31 minutes on 2 cores, against 7 without coverage.

**Tests by coverage contexts.** The file selection above runs only the files that
import a module or belong to its package, and a survivor runs all of them (a Kafka
survivor: ``test_kafka.py`` and the golden summaries whole). With ``--contexts DATA
JUNIT`` each mutant runs instead the tests, from the whole suite, that executed its
statement, the fastest first: a test that does not execute a statement cannot tell a
change in it apart, so the verdict is the whole suite's, and a survivor costs only the
tests that reach it. Record both files in one run of the suite on this checkout, with
per-test contexts (``/tmp/covrc`` as above; ``patch = subprocess`` and ``branch`` are
not needed, a subprocess has no test context)::

    python -m pytest -p no:benchmark --cov --cov-config=/tmp/covrc \
        --cov-context=test --cov-report= --junitxml=times.xml
    python benchmarks/mutate.py --contexts .coverage times.xml --sample 40

A mutant's time limit is ``TIME_FACTOR`` times its tests' recorded times (slowed by the
recording, so generous) plus 30 s. A statement no test executed inside a test (module
level code run at import, a default argument, code reached only through a command-line
subprocess) falls back to the file selection. The data must be of this code: a line
moved since gives the wrong tests.

Usage: python benchmarks/mutate.py [--package geosim/metrics ...] [--sample N]
       [--seed S] [--skip K] [--budget MINUTES] [--list] [--unexecuted DATA]
       [--contexts DATA JUNIT] [--write docs/mutation-generated.md]
"""

from __future__ import annotations

import argparse
import ast
import copy
import math
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: The packages mutated and the tests run against each (the fast tests of that layer,
#: the scenario reference, which pins every documented default and bound of the
#: strategies' specs and key tables, and the golden summaries, which pin every bundled
#: scenario's results).
PACKAGES: dict[str, tuple[str, ...]] = {
    "geosim/metrics": ("tests/test_partition_loss.py", "tests/test_mirror_fold.py",
                       "tests/test_metrics_collector.py", "tests/test_metrics_histogram.py",
                       "tests/test_metrics_summary.py", "tests/test_bin_width.py",
                       "tests/test_golden.py"),
    "geosim/kafka": ("tests/test_kafka_keys.py", "tests/test_kafka_probes.py",
                     "tests/test_kafka_partition.py", "tests/test_offset_sync.py",
                     "tests/test_kafka_reads.py",
                     "tests/test_kafka_network.py", "tests/test_scenario_reference.py",
                     "tests/test_golden.py", "tests/test_kafka.py"),
    "geosim/components": ("tests/test_object_store.py", "tests/test_metadata_store.py",
                          "tests/test_golden.py", "tests/test_diskless.py"),
    "geosim/strategies": ("tests/test_diskless.py", "tests/test_diskless_writers.py",
                          "tests/test_scenario_reference.py", "tests/test_golden.py",
                          "tests/test_kafka.py"),
}

MEMORY_LIMIT = 4 * 2**30
#: A mutant's tests may loop: they get this multiple of the unmutated run's time.
TIME_FACTOR = 3.0
#: Seconds assumed, under ``--contexts``, for a selected test the JUnit report does not
#: list (a test added after the recording).
UNTIMED = 60.0

_SWAPS: dict[type, type] = {
    ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In,
    ast.Is: ast.IsNot, ast.IsNot: ast.Is,
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div, ast.And: ast.Or, ast.Or: ast.And,
}
_SYMBOL = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==",
           ast.NotEq: "!=", ast.In: "in", ast.NotIn: "not in", ast.Is: "is",
           ast.IsNot: "is not", ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/",
           ast.FloorDiv: "//", ast.And: "and", ast.Or: "or"}


@dataclass(frozen=True)
class Site:
    """One mutant: the ``index``-th mutable node of ``file`` (in ``ast.walk`` order of
    the nodes :func:`sites` keeps), changed as ``change`` says."""

    file: str
    index: int
    line: int
    change: str

    @property
    def name(self) -> str:
        return f"{self.file}:{self.line} {self.change}"


def _skipped(tree: ast.Module) -> set[int]:
    """ids of nodes never mutated: docstrings, annotations, f-strings, raise/assert
    messages, ``__all__``, TYPE_CHECKING blocks, function decorators and the ``slots``
    argument of class decorators."""
    skip: set[int] = set()

    def mark(node: ast.AST | None) -> None:
        if node is not None:
            skip.update(id(n) for n in ast.walk(node))

    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef,
                             ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                mark(first)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            mark(node.returns)
            for arg in (*node.args.args, *node.args.kwonlyargs, *node.args.posonlyargs,
                        node.args.vararg, node.args.kwarg):
                if arg is not None:
                    mark(arg.annotation)
            for deco in node.decorator_list:
                mark(deco)
        if isinstance(node, ast.ClassDef):
            # a class's memory layout (``@dataclass(slots=True)``) never changes a result
            for deco in node.decorator_list:
                for kw in deco.keywords if isinstance(deco, ast.Call) else ():
                    if kw.arg == "slots":
                        mark(kw)
        if isinstance(node, ast.AnnAssign):
            mark(node.annotation)
        if isinstance(node, (ast.JoinedStr, ast.Raise, ast.Assert)):
            mark(node)
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            mark(node)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            mark(node)
    return skip


def _changes(node: ast.AST) -> list[str]:
    """The mutations of one node, as descriptions (one mutant each)."""
    if isinstance(node, ast.Compare):
        return [f"{_SYMBOL[type(op)]} -> {_SYMBOL[_SWAPS[type(op)]]} (#{i})"
                for i, op in enumerate(node.ops) if type(op) in _SWAPS]
    if isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in _SWAPS:
        return [f"{_SYMBOL[type(node.op)]} -> {_SYMBOL[_SWAPS[type(node.op)]]}"]
    if isinstance(node, ast.BoolOp):
        return [f"{_SYMBOL[type(node.op)]} -> {_SYMBOL[_SWAPS[type(node.op)]]}"]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return ["not x -> x"]
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool):
            return [f"{node.value} -> {not node.value}"]
        if isinstance(node.value, (int, float)):
            return [f"{node.value!r} -> {node.value + 1!r}"]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
            and node.func.id in ("min", "max"):
        return [f"{node.func.id} -> {'max' if node.func.id == 'min' else 'min'}"]
    return []


def _mutable(tree: ast.Module) -> list[tuple[ast.AST, str]]:
    skip = _skipped(tree)
    out = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        out.extend((node, change) for change in _changes(node))
    return out


def sites(file: str) -> list[Site]:
    tree = ast.parse((ROOT / file).read_text())
    return [Site(file, i, getattr(node, "lineno", 0), change)
            for i, (node, change) in enumerate(_mutable(tree))]


def statement_lines(file: str) -> list[int]:
    """The first line of each site's statement, in the order of :func:`sites`: the
    innermost statement holding the site (a compound statement's header for its test
    or target, the ``def`` for a default), the line coverage.py reports it by."""
    tree = ast.parse((ROOT / file).read_text())
    owner: dict[int, int] = {}

    def visit(node: ast.AST, line: int) -> None:
        if isinstance(node, ast.stmt):
            line = node.lineno
        owner[id(node)] = line
        for child in ast.iter_child_nodes(node):
            visit(child, line)

    visit(tree, 0)
    return [owner[id(node)] for node, _change in _mutable(tree)]


def on_missing(population: list[tuple[str, Site]],
               missing: dict[str, set[int]]) -> list[tuple[str, Site]]:
    """The sites of ``population`` whose statement's first line is in ``missing[file]``
    (the lines coverage lists as not executed; a file absent from ``missing`` was
    executed whole)."""
    statements: dict[str, list[int]] = {}
    out = []
    for package, site in population:
        if site.file not in missing:
            continue
        if site.file not in statements:
            statements[site.file] = statement_lines(site.file)
        if statements[site.file][site.index] in missing[site.file]:
            out.append((package, site))
    return out


def missing_lines(files: set[str], data_file: str) -> dict[str, set[int]]:
    """File -> the statements (first lines) no test executed, for ``files`` of this
    checkout, from the coverage.py data file ``data_file`` of a run on it; a file not in
    the data was never imported: all its statements."""
    measured = _coverage(data_file)
    recorded = {str(Path(f).resolve()) for f in measured.get_data().measured_files()}
    out = {}
    for file in sorted(files):
        path = str(ROOT / file)
        if path in recorded:
            out[file] = set(measured.analysis2(path)[3])
        else:
            out[file] = set(statement_lines(file))
    return out


def executed_by(data_file: str) -> dict[str, dict[int, frozenset[str]]]:
    """File of this checkout -> statement (first line) -> the tests (pytest node ids)
    that executed it, from a coverage.py data file recorded with per-test contexts
    (``--cov-context=test``). Lines run only outside a test (imports, collection,
    subprocesses) have none."""
    data = _coverage(data_file).get_data()
    out: dict[str, dict[int, frozenset[str]]] = {}
    for measured in data.measured_files():
        path = Path(measured).resolve()
        if not path.is_relative_to(ROOT):
            continue
        by_line = {}
        for line, contexts in (data.contexts_by_lineno(measured) or {}).items():
            tests = frozenset(c.rsplit("|", 1)[0] for c in contexts if c)
            if tests:
                by_line[line] = tests
        out[str(path.relative_to(ROOT))] = by_line
    if not any(out.values()):
        sys.exit(f"{data_file}: no per-test contexts (record it with --cov-context=test)")
    return out


def _coverage(data_file: str):
    """The loaded coverage.py data of a run of this checkout (exits with one line if
    coverage.py is missing, the file is not there, or no file of this checkout was
    measured)."""
    try:
        import coverage
    except ImportError:
        sys.exit("this option needs coverage.py: pip install -e '.[mutation]'")
    if not Path(data_file).is_file():
        sys.exit(f"{data_file}: no such coverage data file")
    measured = coverage.Coverage(data_file=data_file)
    measured.load()
    if not any(Path(f).resolve().is_relative_to(ROOT)
               for f in measured.get_data().measured_files()):
        sys.exit(f"{data_file}: no file of {ROOT} was measured (a run of another "
                 "checkout, or the data not combined?)")
    return measured


def recorded_times(junit_file: str) -> dict[str, float]:
    """pytest node id -> seconds, from a JUnit XML report (``--junitxml``) of the
    suite (its ``classname`` is the file's dotted path, then any test classes)."""
    import xml.etree.ElementTree as ElementTree
    if not Path(junit_file).is_file():
        sys.exit(f"{junit_file}: no such JUnit XML file")
    times: dict[str, float] = {}
    for case in ElementTree.parse(junit_file).iter("testcase"):
        parts = case.get("classname", "").split(".")
        for cut in range(len(parts), 0, -1):
            file = "/".join(parts[:cut]) + ".py"
            if (ROOT / file).is_file():
                node = "::".join([file, *parts[cut:], case.get("name", "")])
                times[node] = float(case.get("time", "0"))
                break
    return times


def context_selection(site: Site, statement: int,
                      contexts: dict[str, dict[int, frozenset[str]]],
                      times: dict[str, float]) -> tuple[str, ...]:
    """The tests that executed ``site``'s statement (line ``statement``), the fastest
    first; empty if none did (the caller then falls back to :func:`selection`)."""
    tests = contexts.get(site.file, {}).get(statement, frozenset())
    return tuple(sorted(tests, key=lambda t: (times.get(t, UNTIMED), t)))


def _report_unexecuted(population: list[tuple[str, Site]],
                       never: list[tuple[str, Site]]) -> None:
    """Print the sites no test executes: by package, by file, then line by line."""
    def share(k: int, n: int) -> str:
        return f"{k} of {n} ({k / n:.1%})" if n else "0 of 0"

    packages = sorted({p for p, _s in population})
    print(f"sites on statements no test executes: {share(len(never), len(population))}"
          " (a lower bound on the survivor fraction)")
    for package in packages:
        print(f"  {package}: " + share(sum(1 for p, _s in never if p == package),
                                       sum(1 for p, _s in population if p == package)))
    per_file: dict[str, int] = {}
    for _p, s in population:
        per_file.setdefault(s.file, 0)
    for _p, s in never:
        per_file[s.file] += 1
    totals = {f: sum(1 for _p, s in population if s.file == f) for f in per_file}
    print("by file:")
    for file in sorted(per_file, key=lambda f: (-per_file[f], f)):
        if per_file[file]:
            print(f"  {file}: {share(per_file[file], totals[file])}")
    lines: dict[tuple[str, int], list[str]] = {}
    for _p, s in never:
        lines.setdefault((s.file, s.line), []).append(s.change)
    print("by line:")
    for (file, line), changes in sorted(lines.items()):
        print(f"  {file}:{line} " + ", ".join(changes))


MARKER = "# mutate: equivalent"


def equivalent_lines(file: str) -> dict[int, str]:
    """Line number -> reason, for the lines of ``file`` marked ``# mutate: equivalent``
    (see the module docstring); a ValueError for a marked line without a reason."""
    lines = (ROOT / file).read_text().splitlines()
    found: dict[int, str] = {}
    for number, line in enumerate(lines, 1):
        if MARKER not in line:
            continue
        reason = line.split(MARKER, 1)[1].lstrip(":").strip()
        above = lines[number - 2].strip() if number > 1 else ""
        if not reason and above.startswith("# equivalent:"):
            reason = above.removeprefix("# equivalent:").strip()
        if not reason:
            raise ValueError(f"{file}:{number}: '{MARKER}' without a reason (after it, "
                             "or on the line above as '# equivalent: ...')")
        found[number] = reason
    return found


def mutated_source(site: Site, source: str | None = None) -> str:
    """The module with ``site`` applied (rebuilt by ``ast.unparse``): ``source``, the
    module as copied into the scratch tree when the run started (the work tree may
    change meanwhile), else as it is in the work tree now."""
    tree = ast.parse((ROOT / site.file).read_text() if source is None else source)
    node, change = _mutable(tree)[site.index]
    assert change == site.change, (site, change)
    if isinstance(node, ast.Compare):
        i = int(change.rsplit("#", 1)[1].rstrip(")"))
        node.ops[i] = _SWAPS[type(node.ops[i])]()
    elif isinstance(node, (ast.BinOp, ast.AugAssign, ast.BoolOp)):
        node.op = _SWAPS[type(node.op)]()
    elif isinstance(node, ast.UnaryOp):
        _replace(tree, node, copy.deepcopy(node.operand))
    elif isinstance(node, ast.Constant):
        node.value = (not node.value) if isinstance(node.value, bool) else node.value + 1
    elif isinstance(node, ast.Call):
        node.func = ast.Name("max" if node.func.id == "min" else "min", ast.Load())
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"


def _replace(tree: ast.AST, old: ast.AST, new: ast.AST) -> None:
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            if value is old:
                setattr(parent, field, new)
                return
            if isinstance(value, list):
                for i, item in enumerate(value):
                    if item is old:
                        value[i] = new
                        return


def _module(file: str) -> str:
    """``geosim/kafka/reads.py`` -> ``geosim.kafka.reads`` (a package's ``__init__`` is
    the package)."""
    parts = Path(file).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _importers() -> dict[str, set[str]]:
    """Module name -> the test files (``tests/test_*.py``) importing it or a name from it."""
    found: dict[str, set[str]] = {}
    for test in sorted((ROOT / "tests").glob("test_*.py")):
        name = str(test.relative_to(ROOT))
        for node in ast.walk(ast.parse(test.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    for module in (node.module, f"{node.module}.{alias.name}"):
                        found.setdefault(module, set()).add(name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    found.setdefault(alias.name, set()).add(name)
    return found


def _named_after(file: str) -> set[str]:
    """Test files named after the module or its strategy: ``kafka/replicator.py`` ->
    ``tests/test_replicator.py``, ``strategies/diskless/model.py`` ->
    ``tests/test_diskless.py``, ``tests/test_diskless_writers.py``, ..."""
    parts = Path(file).with_suffix("").parts
    if parts[-1] in ("generators", "probes"):
        # configuration generators and coverage probes are reached through
        # geosim.testing's plug-in helpers, which the toolkit's own tests exercise
        return {"tests/test_testing_toolkit.py"} | _named_after(
            str(Path(*parts[:-1], "model.py")) if len(parts) > 3 else "x.py")
    names = {parts[-1]} if parts[-1] != "__init__" else set()
    if len(parts) > 3 and parts[1] == "strategies":
        names.add(parts[2])
    return {str(t.relative_to(ROOT)) for name in names
            for t in (ROOT / "tests").glob(f"test_{name}*.py")}


def selection(package: str, site: Site, importers: dict[str, set[str]]) -> tuple[str, ...]:
    """The test files run against ``site``: its module's importers first, then its
    package's list, the golden summaries last."""
    first = sorted(importers.get(_module(site.file), set()) | _named_after(site.file))
    rest = [t for t in PACKAGES[package] if t not in first]
    ordered = first + rest
    return tuple(sorted(ordered, key=lambda t: t.endswith("test_golden.py")))


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _pytest(work: Path, tests: tuple[str, ...], timeout: float) -> tuple[bool, float]:
    """(passed, wall seconds) of ``tests`` in ``work``; a timeout is a failure."""
    start = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:benchmark", "-n", "0",
             "-p", "no:cacheprovider", *tests],
            cwd=work, env={**_environ(), "PYTHONPATH": str(work)}, capture_output=True,
            text=True, timeout=timeout, preexec_fn=_limit_memory)
        passed = done.returncode == 0
    except subprocess.TimeoutExpired:
        passed = False
    return passed, time.perf_counter() - start


def _environ() -> dict[str, str]:
    import os
    return dict(os.environ)


def _wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion ``k / n``."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _only_files(paths: list[str], packages: list[str]) -> set[str]:
    """The modules ``--file`` names, as paths from the repository's root; a path outside
    the packages, or no such file, is a one-line error."""
    out = set()
    for given in paths:
        path = (Path.cwd() / given).resolve()
        try:
            file = str(path.relative_to(ROOT))
        except ValueError:
            sys.exit(f"--file {given}: not inside this checkout ({ROOT})")
        if not path.is_file() or path.suffix != ".py":
            sys.exit(f"--file {given}: no such Python module")
        if not any(file.startswith(package + "/") for package in packages):
            sys.exit(f"--file {given}: not in the mutated packages ({', '.join(packages)})")
        out.add(file)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", nargs="+", choices=sorted(PACKAGES),
                        default=sorted(PACKAGES))
    parser.add_argument("--file", nargs="+", metavar="PATH",
                        help="only these modules' sites (paths such as "
                             "geosim/metrics/recovery.py, inside the packages): every "
                             "mutant of a module, or a sample of them")
    parser.add_argument("--tests", nargs="+", metavar="FILE",
                        help="run these test files against every mutant instead of its "
                             "selection (a module's own tests: stricter than the selection)")
    parser.add_argument("--sample", type=int, help="mutants to draw (default: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip", type=int, default=0, metavar="K",
                        help="run only the draws after the first K (resume a stopped "
                             "sample: same --sample and --seed)")
    parser.add_argument("--list", action="store_true", help="count the sites and stop")
    parser.add_argument("--budget", type=float, metavar="MINUTES",
                        help="start no mutant after this many minutes (the mutants run so "
                             "far, the first draws, are the sample)")
    parser.add_argument("--unexecuted", metavar="DATA",
                        help="count and list the sites on statements no test executes, "
                             "from a coverage.py data file of the suite, and stop")
    parser.add_argument("--contexts", nargs=2, metavar=("DATA", "JUNIT"),
                        help="run against each mutant the tests that executed its "
                             "statement, from a coverage.py data file with per-test "
                             "contexts and the same run's JUnit XML report (their "
                             "times set the time limits); see the docstring")
    parser.add_argument("--write", metavar="FILE", help="write the results as Markdown")
    args = parser.parse_args()

    only = _only_files(args.file, args.package) if args.file else None
    start = time.perf_counter()
    population = []
    excluded: list[tuple[str, Site, str]] = []
    for package in args.package:
        for path in sorted((ROOT / package).rglob("*.py")):
            file = str(path.relative_to(ROOT))
            if only is not None and file not in only:
                continue
            marked = equivalent_lines(file)
            for s in sites(file):
                if s.line in marked:
                    excluded.append((package, s, marked[s.line]))
                else:
                    population.append((package, s))
    counts = {p: sum(1 for q, _ in population if q == p) for p in args.package}
    print("sites: " + ", ".join(f"{p} {n}" for p, n in counts.items())
          + f"; {len(population)} in all; {len(excluded)} excluded as equivalent "
          "(# mutate: equivalent)", flush=True)
    if args.list:
        for _p, s, reason in excluded:
            print(f"excluded {s.name}: {reason}")
        return
    if args.unexecuted:
        files = {s.file for _p, s in population}
        _report_unexecuted(population, on_missing(
            population, missing_lines(files, args.unexecuted)))
        return
    chosen = (random.Random(args.seed).sample(population, args.sample)
              if args.sample and args.sample < len(population) else population)
    # In draw order: the first k mutants run are a uniform sample of k, so a run cut
    # short by --budget is still an honest (smaller) sample.
    chosen = chosen[args.skip:]

    rows: list[tuple[str, Site, str, float]] = []
    with tempfile.TemporaryDirectory(prefix="geosim-mutate-") as tmp:
        work = Path(tmp)
        for part in ("geosim", "tests", "scenarios", "docs", "tools", "notebooks",
                     "benchmarks"):
            if (ROOT / part).is_dir():
                shutil.copytree(ROOT / part, work / part,
                                ignore=shutil.ignore_patterns("__pycache__"))
        for top in ROOT.glob("*.*"):
            if top.is_file():
                shutil.copy(top, work / top.name)  # README.md, pyproject.toml, ...
        importers = _importers()
        tests = {site: tuple(args.tests) if args.tests else selection(package, site, importers)
                 for package, site in chosen}
        limits: dict[Site, float] = {}
        if args.contexts:
            executed, times = executed_by(args.contexts[0]), recorded_times(args.contexts[1])
            statements = {f: statement_lines(f) for f in {s.file for _p, s in chosen}}
            for _package, site in chosen:
                found = context_selection(site, statements[site.file][site.index],
                                          executed, times)
                if found:
                    tests[site] = found
                    limits[site] = TIME_FACTOR * sum(
                        times.get(t, UNTIMED) for t in found) + 30.0
            print(f"{len(limits)} of {len(chosen)} mutants run the tests that executed "
                  "their statement; the others their files", flush=True)
        baseline: dict[str, float] = {}
        for test in sorted({t for site, ts in tests.items() if site not in limits
                            for t in ts}):
            passed, wall = _pytest(work, (test,), 3600.0)
            if not passed:
                sys.exit(f"the unmutated {test} fails: fix it first")
            baseline[test] = wall
            print(f"baseline {test}: {wall:.0f} s", flush=True)
        for package, site in chosen:
            if args.budget is not None and time.perf_counter() - start > 60 * args.budget:
                print(f"budget spent: {len(rows)} of the {len(chosen)} drawn were run",
                      flush=True)
                break
            target = work / site.file
            original = target.read_text()
            target.write_text(mutated_source(site, original))
            try:
                limit = limits.get(site) or TIME_FACTOR * sum(
                    baseline[t] for t in tests[site]) + 30.0
                passed, wall = _pytest(work, tests[site], limit)
            finally:
                target.write_text(original)
            verdict = "survived" if passed else "killed"
            rows.append((package, site, verdict, wall))
            how = f"{len(tests[site])} tests" if site in limits else "files"
            print(f"{args.skip + len(rows):3} {verdict:8} {wall:6.1f} s  {site.name}  "
                  f"[{how}]", flush=True)

    killed = sum(1 for *_x, v, _w in rows if v == "killed")
    total = len(rows)
    score = killed / total if total else 0.0
    # Wilson 95 % interval of the score over all sites when sampled (the normal
    # approximation is poor near 100 % with tens of mutants)
    sampled = total and len(rows) < len(population)
    lo, hi = _wilson(killed, total) if sampled else (score, score)
    summary = (f"{killed} of {total} killed ({score:.0%}"
               + (f", 95% interval {lo:.0%}-{hi:.0%} for the {len(population)} sites"
                  if sampled else "") + ")")
    everything = len(population) + len(excluded)
    share = len(population) / everything
    overall = (f"over all {everything} sites, the {len(excluded)} excluded counted as "
               f"survivors: {score * share:.0%}"
               + (f" (95% interval {lo * share:.0%}-{hi * share:.0%})" if sampled else ""))
    print("score: " + summary)
    print("score " + overall)
    print(f"wall time: {time.perf_counter() - start:.0f} s")
    if args.write:
        lines = [
            "# Generated mutants", "",
            "`python benchmarks/mutate.py` (see its docstring): generated mutants of "
            + ", ".join(f"`{p}`" for p in (sorted(only) if only else args.package))
            + (f", a sample of {len(rows)} (seed {args.seed}, the first {len(rows)} of "
               f"{len(chosen)} drawn)"
               if len(chosen) < len(population) else "")
            + f" of the {len(population)} sites. Not part of CI.", "",
            f"Score at the last run: **{summary}**; {overall}; wall time "
            f"{time.perf_counter() - start:.0f} s.", "",
            f"Excluded as equivalent (`# mutate: equivalent`): {len(excluded)} sites "
            f"on {len({(s.file, s.line) for _p, s, _r in excluded})} lines.", "",
            "| package | sites | sampled | killed |", "|---|---|---|---|"]
        for package in args.package:
            mine = [r for r in rows if r[0] == package]
            lines.append(f"| `{package}` | {counts[package]} | {len(mine)} | "
                         f"{sum(1 for r in mine if r[2] == 'killed')} |")
        survivors = [r for r in rows if r[2] == "survived"]
        lines += ["", "Survivors (the tests pass with the change; some may be "
                  "equivalent to the original):", ""]
        lines += [f"- `{site.name}`" for _p, site, _v, _w in survivors] or ["- none"]
        Path(args.write).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
