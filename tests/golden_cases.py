"""The golden-summary cases: every committed scenario (and every variant of a ``compare:``
block) on a short timeline at a fixed seed.

Each case compresses its scenario's timeline so that its faults still happen inside the
run: the summaries then exercise the fault paths of every strategy, at a cost the suite
can pay. ``tests/golden/<case>.json`` holds the expected ``summary.json`` text;
``python tests/golden_cases.py`` rewrites them (only when a change of results is intended
and named in its commit).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
GOLDEN = Path(__file__).resolve().parent / "golden"
SEED = 7

_SHORT = ["simulation.warmup=3s", "simulation.drain=5s"]

#: case name -> (scenario file, compare variant or None, overrides)
CASES: dict[str, tuple[str, str | None, list[str]]] = {
    "quickstart": ("quickstart.yaml", None, [
        *_SHORT, "simulation.duration=30s", "faults[0].at=10s", "faults[0].duration=8s"]),
    "bucket-sla": ("bucket-sla.yaml", None, [
        *_SHORT, "simulation.duration=30s", "faults[0].at=15s"]),
    "warpstream-quorum": ("warpstream-quorum.yaml", None, [
        *_SHORT, "simulation.duration=30s", "faults[0].at=15s"]),
    "bufstream-multi-region": ("bufstream-multi-region.yaml", None, [
        *_SHORT, "simulation.duration=12s", "faults[0].at=6s", "faults[0].duration=4s"]),
    "s3-standard-diskless": ("s3-standard-diskless.yaml", None, [
        *_SHORT, "simulation.duration=30s", "faults[0].at=10s", "faults[0].duration=8s"]),
    "s3-express-quorum": ("s3-express-quorum.yaml", None, [
        *_SHORT, "simulation.duration=30s", "faults[0].at=10s", "faults[0].duration=8s"]),
    "gcp-single-region": ("gcp-single-region.yaml", None, [
        *_SHORT, "simulation.duration=30s", "faults[0].at=10s", "faults[0].duration=8s"]),
    "kafka-stretch-seed000": ("kafka-stretch-seed000.yaml", None, [
        "simulation.warmup=2s", "simulation.drain=2s", "simulation.duration=8s",
        "faults[0].at=4s", "faults[0].duration=3s"]),
    "stretch-2-regions": ("stretch-2-regions.yaml", None, [
        *_SHORT, "simulation.duration=40s", "faults[0].at=8s", "faults[0].duration=20s",
        "faults[1].at=30s"]),
    "stretch-2-regions-controllers": ("stretch-2-regions-controllers.yaml", None, [
        *_SHORT, "simulation.duration=40s", "faults[0].at=10s", "faults[0].duration=20s"]),
    "stretch-3-regions": ("stretch-3-regions.yaml", None, [
        *_SHORT, "simulation.duration=40s", "faults[0].at=10s", "faults[0].duration=20s"]),
    "stretch-last-replica": ("stretch-last-replica.yaml", None, [
        *_SHORT, "simulation.duration=50s", "faults[0].at=8s", "faults[0].duration=35s",
        "faults[1].at=8s", "faults[1].duration=35s", "faults[2].at=25s"]),
    "observers-2dc": ("observers-2dc.yaml", None, [
        *_SHORT, "simulation.duration=40s", "faults[0].at=10s", "faults[0].duration=20s"]),
    "shared-storage": ("shared-storage.yaml", None, [
        *_SHORT, "simulation.duration=50s", "faults[0].at=12s", "faults[0].duration=30s",
        "faults[1].at=30s", "strategy.storage.wal_lost_decision=10s"]),
    "shared-storage-dr": ("shared-storage-dr.yaml", None, [
        *_SHORT, "simulation.duration=60s", "faults[0].at=15s", "faults[0].duration=35s",
        "strategy.failover.detection=5s", "strategy.failover.decision=5s"]),
    "mm2-active-passive": ("mm2-active-passive.yaml", None, [
        *_SHORT, "simulation.duration=60s", "faults[0].at=15s", "faults[0].duration=35s",
        "strategy.failover.detection=5s", "strategy.failover.decision=5s"]),
    "mm2-active-active": ("mm2-active-active.yaml", None, [
        *_SHORT, "simulation.duration=60s", "faults[0].at=15s", "faults[0].duration=35s",
        "strategy.failover.detection=5s", "strategy.failover.decision=5s"]),
    "advise-small": ("advise-small.yaml", None, [
        *_SHORT, "simulation.duration=30s", "faults[0].at=10s", "faults[0].duration=8s"]),
    "cluster-linking-active-passive": ("cluster-linking-active-passive.yaml", None, [
        *_SHORT, "simulation.duration=60s", "faults[0].at=15s", "faults[0].duration=35s",
        "strategy.failover.detection=5s", "strategy.failover.decision=5s"]),
    "replicator-active-passive": ("replicator-active-passive.yaml", None, [
        *_SHORT, "simulation.duration=60s", "faults[0].at=5s", "faults[0].duration=20s",
        "faults[1].at=15s", "faults[1].duration=35s",
        "strategy.connect.config={scheduled.rebalance.max.delay.ms: 5000}",
        "strategy.mirror_config={tasks.max: 4, offset.translator.batch.period.ms: 5000}",
        "strategy.failover.detection=5s", "strategy.failover.decision=5s"]),
    "replicator-active-active": ("replicator-active-active.yaml", None, [
        *_SHORT, "simulation.duration=60s", "faults[0].at=15s", "faults[0].duration=35s",
        "strategy.mirror_config={tasks.max: 2, provenance.header.enable: true, "
        "offset.translator.batch.period.ms: 5000}",
        "strategy.failover.detection=5s", "strategy.failover.decision=5s"]),
    "stretch-topics": ("stretch-topics.yaml", None, [
        *_SHORT, "simulation.duration=50s", "faults[0].at=15s", "faults[0].duration=20s",
        "faults[1].at=15s", "faults[1].duration=20s"]),
    # A week of 50 ships in well under a second: run whole, not shortened.
    "edge-fleet": ("edge-fleet.yaml", None, []),
}
for _variant in ("diskless", "stretch", "observers", "mirrormaker2", "cluster-linking",
                 "replicator", "shared-storage"):
    CASES[f"five-strategies-{_variant}"] = (
        "region-outage-five-strategies.yaml", _variant,
        [*_SHORT, "simulation.duration=55s", "faults[0].at=10s", "faults[0].duration=32s"])


def scenario_of(case: str):
    """The resolved scenario of a case."""
    from geosim.compare.variants import resolve_variants
    from geosim.scenario.loader import load_scenario

    file, variant, overrides = CASES[case]
    path = SCENARIOS / file
    if variant is None:
        return load_scenario(path, overrides, seed=SEED)
    (resolved,) = resolve_variants(path, [variant], overrides, seed=SEED)
    return resolved.scenario


def summary_text(case: str) -> str:
    """The case's ``summary.json`` text, as ``geosim run`` writes it."""
    from geosim.runner import run

    result = run(scenario_of(case), SEED)
    return json.dumps(result.summary, indent=2, sort_keys=True) + "\n"


def main(names: list[str]) -> None:
    GOLDEN.mkdir(exist_ok=True)
    for case in names or list(CASES):
        (GOLDEN / f"{case}.json").write_text(summary_text(case))
        print(f"wrote {case}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
