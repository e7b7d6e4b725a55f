"""Speed of geosim.testing searches: examples per minute, and time to find each false
§8 claim's counterexample.

    PYTHONPATH=. python benchmarks/property_search.py [--suite diskless|kafka|cross-cluster|all]
                                                      [--examples 100] [--seeds 5]

For the true claims, runs a search of ``--examples`` small scenarios and reports
examples per minute. For the false claims, reports examples and wall seconds until the
first counterexample, and with shrinking, under the ``geosim-ci`` profile (derandomized,
so the same every time) and under ``--seeds`` random Hypothesis seeds. The claims and
their scenario spaces are those of ``tests/test_claims_<suite>.py``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

from hypothesis import settings

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import test_claims_cross_cluster as cc  # noqa: E402
import test_claims_kafka as kc  # noqa: E402
from test_claims_diskless import DESTRUCTIONS, OUTAGES, QUORUM_DESTRUCTIONS  # noqa: E402

from geosim.testing import (  # noqa: E402
    cross_cluster,
    no_acked_loss,
    no_reprocessing_after_failover,
    no_skips_after_failover,
    reads_available,
    rpo_below,
    run_example,
    search,
)
from geosim.testing.profiles import CI, load_profile  # noqa: E402


def suites() -> dict[str, tuple[list, list]]:
    """(true claims, false claims) per suite, each as (label, claim, scenario space)."""
    mm2, link = cross_cluster("mirrormaker2"), cross_cluster("cluster-linking")
    return {
        "diskless": (
            [("no loss, transient outages (multi-region bucket)", no_acked_loss(), OUTAGES),
             ("RPO 0, destruction (quorum of 3 buckets)", rpo_below(0),
              QUORUM_DESTRUCTIONS)],
            [("reads available during an outage", reads_available(), OUTAGES),
             ("no loss when a region is destroyed", no_acked_loss(), DESTRUCTIONS)]),
        "kafka": (
            [("no loss, 3-region stretch, any region fault", no_acked_loss(),
              kc.small(kc.THREE_REGIONS, kc.ANY_REGION_FAULT))],
            [("no loss, 2-region stretch (brownout, destruction)", no_acked_loss(),
              kc.lean(kc.TWO_REGIONS, kc.BROWNOUT_THEN_DESTRUCTION, duration=(60, 60))),
             ("writes available, controller majority in one region", kc.WRITES,
              kc.lean(kc.two_region_stretch("majority-in-one"), kc.LONG_OUTAGES,
                      regions=2)),
             ("no loss with acks=1", no_acked_loss(),
              kc.lean(kc.ACKS_1, kc.region_faults(["region-destruction"])))]),
        "cross-cluster": (
            [("mirrormaker2: no skip after failover", no_skips_after_failover(),
              cc.lean(mm2, cc.LONG_PRIMARY_OUTAGE))],
            [("mirrormaker2: RPO 0 on failover", no_acked_loss(),
              cc.lean(mm2, cc.DESTROY_PRIMARY)),
             ("cluster-linking: RPO 0 on failover", no_acked_loss(),
              cc.lean(link, cc.DESTROY_PRIMARY)),
             ("mirrormaker2: nothing processed twice after failover",
              no_reprocessing_after_failover(), cc.lean(mm2, cc.LONG_PRIMARY_OUTAGE))]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", choices=["diskless", "kafka", "cross-cluster", "all"],
                        default="all")
    parser.add_argument("--examples", type=int, default=100)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # .example() outside a test warns
    load_profile(CI)
    chosen = suites() if args.suite == "all" else {args.suite: suites()[args.suite]}
    for name, (true_claims, false_claims) in chosen.items():
        print(f"== {name}")
        run_suite(true_claims, false_claims, args, random_rate=name == "diskless")


def run_suite(true_claims: list, false_claims: list, args, *, random_rate: bool) -> None:
    out = tempfile.mkdtemp(prefix="geosim-bench-")
    print("true claims: examples per minute")
    for label, claim, space in true_claims:
        report = search(claim, space, max_examples=args.examples, directory=out, quiet=True)
        assert report.counterexample is None, report
        print(f"  {label}: {report.examples} examples in {report.seconds:.1f} s = "
              f"{report.examples_per_minute:.0f}/min")
    print("false claims: time to the first counterexample (and with shrinking)")
    for label, claim, space in false_claims:
        runs = []
        for seed in [None, *range(args.seeds)]:
            if seed is None:
                report = search(claim, space, directory=out, quiet=True)
            else:
                report = search(claim, space, directory=out, quiet=True, seed=seed,
                                settings=settings(derandomize=False, database=None))
            cx = report.counterexample
            assert cx is not None, report
            runs.append(cx)
            which = "geosim-ci" if seed is None else f"random seed {seed}"
            print(f"  {label} [{which}]: found after {cx.examples_to_find} examples, "
                  f"{cx.seconds_to_find:.2f} s; shrunk in {cx.seconds_total:.1f} s total")
        if not random_rate:
            finds = [c.seconds_to_find for c in runs[1:]]
            if finds:
                print(f"  {label}: median over random seeds "
                      f"{statistics.median(finds):.2f} s to find")
            continue
        # Hypothesis tries the simplest example first, and for these claims it already
        # fails; how often does a random example (not the simplest) fail?
        examples = [space.example() for _ in range(args.examples)]
        started = time.perf_counter()
        failing = sum(claim.check(run_example(d).summary) is not None for d in examples)
        spent = time.perf_counter() - started
        if failing:
            print(f"  {label}: {failing} of {len(examples)} random examples violate it: "
                  f"one in {len(examples) / failing:.1f}, about "
                  f"{spent / failing:.2f} s of simulation per counterexample")
        finds = [c.seconds_to_find for c in runs[1:]]
        if finds:
            print(f"  {label}: median over random seeds {statistics.median(finds):.2f} s "
                  f"to find, {statistics.median(c.seconds_total for c in runs[1:]):.1f} s "
                  f"with shrinking")


if __name__ == "__main__":
    main()
