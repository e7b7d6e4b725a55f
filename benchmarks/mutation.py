"""Mutation testing: would the tests notice a small, plausible bug?

Each mutant below is one deliberate change to geosim's source, of the kind a real bug
would be (a boundary, a sign, a forgotten step), with the tests that should catch it.
For each, the script copies the package, the tests and the scenarios into a temporary
directory, applies the change, and runs those tests there (``pytest -x``, one
process): the mutant is **caught** if they fail, and **survives** if they pass. A
mutant whose source text is no longer found is reported **stale** (the code moved:
update the mutant). Not part of CI (it takes minutes); run it after changing a model
or its tests, and record the score in docs/mutation.md (``--write``).

Usage: python benchmarks/mutation.py [--only NAME ...] [--write docs/mutation.md]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Mutant:
    name: str
    file: str
    old: str
    new: str
    tests: tuple[str, ...]
    bug: str


MUTANTS = (
    Mutant("rpo-from-truncation", "geosim/metrics/partition_loss.py",
           "fault_start - first_ack", "ev.t - first_ack",
           ("tests/test_partition_loss.py",),
           "Kafka RPO measured from the truncation instead of the fault start"),
    Mutant("translation-off-by-one", "geosim/kafka/offset_sync.py",
           "if pair[key] <= offset:", "if pair[key] < offset:",
           ("tests/test_offset_sync.py",),
           "offset translation skips the pair at the committed offset"),
    Mutant("down-region-readable", "geosim/metrics/availability.py",
           "return any(state[r] == UP for r in regions)",
           "return any(state[r] != DESTROYED for r in regions)",
           ("tests/test_metrics_collector.py",),
           "objects in a down (not destroyed) region count as readable"),
    Mutant("isr-shrink-late", "geosim/kafka/replication.py",
           "now - p.caught_up[r] > lag", "now - p.caught_up[r] > 2 * lag",
           ("tests/test_kafka_network.py", "tests/test_kafka.py"),
           "followers leave the ISR after twice replica.lag.time.max.ms"),
    Mutant("follower-serves-uncommitted", "geosim/kafka/partition.py",
           "return min(self.leo[replica], self.follower_hw[replica])",
           "return self.leo[replica]",
           ("tests/test_kafka_partition.py", "tests/test_kafka.py"),
           "a follower serves consumers beyond the high watermark"),
    Mutant("unclean-always", "geosim/kafka/cluster.py",
           "if self.config.unclean_leader_election:", "if True:",
           ("tests/test_kafka.py",),
           "unclean elections run although unclean.leader.election.enable is false"),
    Mutant("acks-all-as-one", "geosim/kafka/produce.py",
           'acks_all = c.acks == "all"', "acks_all = False",
           ("tests/test_kafka.py",),
           "acks=all answered at the leader's append"),
    Mutant("brownout-latency-ignored", "geosim/world/network.py",
           "one_way += degradation.extra_latency", "one_way += 0.0",
           ("tests/test_kafka_network.py",),
           "a brownout's extra latency never reaches messages"),
    Mutant("lost-produce-never-fails", "geosim/kafka/produce.py",
           "call_later(self.env, wait, partial(fleet.failed, written_maybe=False), rows,",
           "call_later(self.env, wait, lambda *_args: None, rows,",
           ("tests/test_kafka_network.py",),
           "a lost produce request is never answered, so never retried"),
    Mutant("mirror-rpo-boundary", "geosim/metrics/mirror.py",
           "if end > copied:", "if end >= copied:",
           ("tests/test_mirror_fold.py",),
           "a row whose copy was acknowledged counts as unreplicated"),
    Mutant("no-reelection", "geosim/components/metadata_store.py",
           "    def on_topology_change(self) -> None:\n",
           "    def on_topology_change(self) -> None:\n        return\n",
           ("tests/test_metadata_store.py",),
           "the metadata store never re-elects after a region fault"),
    Mutant("alias-bomb-allowed", "geosim/scenario/yamlfile.py",
           "if size > MAX_NODES:", "if size > MAX_NODES * 10_000:",
           ("tests/test_hostile_input.py",),
           "YAML aliases may expand without limit"),
)


#: A mutant's tests may run away (a removed limit lets a YAML bomb expand): each run gets
#: this much memory and wall time; exceeding either counts as caught.
MEMORY_LIMIT = 4 * 2**30
TIME_LIMIT = 600.0


def _limit_memory() -> None:
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_mutant(mutant: Mutant) -> tuple[str, float]:
    """'caught', 'survived' or 'stale', and the wall seconds the tests took."""
    source = (ROOT / mutant.file).read_text()
    if source.count(mutant.old) != 1:
        return "stale", 0.0
    with tempfile.TemporaryDirectory(prefix="geosim-mutant-") as tmp:
        work = Path(tmp)
        for part in ("geosim", "tests", "scenarios"):
            shutil.copytree(ROOT / part, work / part)
        shutil.copy(ROOT / "pyproject.toml", work / "pyproject.toml")
        (work / mutant.file).write_text(source.replace(mutant.old, mutant.new))
        start = time.perf_counter()
        try:
            done = subprocess.run(
                [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:benchmark", "-n",
                 "0", "-p", "no:cacheprovider", *mutant.tests],
                cwd=work, env={**_env(), "PYTHONPATH": str(work)}, capture_output=True,
                text=True, timeout=TIME_LIMIT, preexec_fn=_limit_memory)
            failed = done.returncode != 0
        except subprocess.TimeoutExpired:
            failed = True
        wall = time.perf_counter() - start
    return ("caught" if failed else "survived"), wall


def _env() -> dict[str, str]:
    import os
    return dict(os.environ)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=[m.name for m in MUTANTS])
    parser.add_argument("--write", metavar="FILE", help="write the results as Markdown")
    args = parser.parse_args()
    chosen = [m for m in MUTANTS if not args.only or m.name in args.only]
    rows = []
    for mutant in chosen:
        verdict, wall = run_mutant(mutant)
        rows.append((mutant, verdict, wall))
        print(f"{verdict:9} {mutant.name:28} {wall:6.1f} s  {mutant.bug}", flush=True)
    caught = sum(1 for _m, v, _w in rows if v == "caught")
    scored = sum(1 for _m, v, _w in rows if v != "stale")
    score = caught / scored if scored else 0.0
    print(f"score: {caught} of {scored} caught ({score:.0%})")
    if args.write:
        lines = ["| mutant | file | the bug | tests | verdict |", "|---|---|---|---|---|"]
        for mutant, verdict, _wall in rows:
            lines.append(f"| `{mutant.name}` | `{mutant.file}` | {mutant.bug} | "
                         f"{', '.join(f'`{t}`' for t in mutant.tests)} | {verdict} |")
        Path(args.write).write_text(
            "# Mutation testing\n\n"
            "`python benchmarks/mutation.py --write docs/mutation.md` applies each mutant "
            "(one plausible bug) to a copy of the source and runs the tests that should "
            "catch it (see the script's docstring). Not part of CI.\n\n"
            f"Score at the last run: **{caught} of {scored} caught ({score:.0%})**.\n\n"
            + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
