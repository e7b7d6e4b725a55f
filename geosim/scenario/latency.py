"""Published inter-region median RTTs, by provider.

Part of the scenario layer because the scenario checks need them (every pair of regions
must have a latency: a published median or a ``topology.links`` entry with an rtt); the
topology (:mod:`geosim.world.topology`) builds its inter-region links from them.

GCP values are the GCP Performance Dashboard medians (Nov 2023) as compiled in
LGDCloudSim's ``regionDelay.csv`` (figures.md N1-N8). AWS values are the cloudping.co
one-year p50 matrix bundled in ``geosim/data/latency`` (figures.md N9-N14); the two
directions are averaged. Azure has no region matrix in the reference material, so the
``azure`` preset has no pairs and every Azure link must be given in the scenario.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

# (region, region) -> median RTT in milliseconds; figures.md row in the comment.
GCP_RTT_MS: dict[frozenset[str], float] = {
    frozenset({"us-west1", "us-west2"}): 24.0,       # N1
    frozenset({"us-west1", "us-west3"}): 30.0,       # N2
    frozenset({"us-west2", "us-west3"}): 13.0,       # N3
    frozenset({"us-east1", "europe-west1"}): 91.0,   # N4
    frozenset({"us-central1", "us-east1"}): 31.0,    # N5
    frozenset({"us-east4", "us-east1"}): 11.5,       # N5 (11-12)
    frozenset({"us-east4", "us-central1"}): 23.0,    # N5
    frozenset({"us-central1", "europe-west1"}): 103.0,  # N6
    frozenset({"us-central1", "europe-west4"}): 102.0,  # N6
    frozenset({"us-east4", "europe-west2"}): 76.0,   # N6
    frozenset({"europe-west1", "europe-west4"}): 7.1,  # N7
    frozenset({"us-west1", "us-central1"}): 37.0,    # N8
    frozenset({"us-west2", "us-central1"}): 46.0,    # N8
    frozenset({"us-west1", "us-east4"}): 55.0,       # N8
}


@cache
def _aws_matrix() -> dict[frozenset[str], float]:
    text = resources.files("geosim.data.latency").joinpath("aws-cloudping-p50-1y.json")
    data = json.loads(text.read_text())["data"]
    pairs: dict[frozenset[str], list[float]] = {}
    for src, row in data.items():
        for dst, ms in row.items():
            if src != dst:
                pairs.setdefault(frozenset({src, dst}), []).append(float(ms))
    return {k: sum(v) / len(v) for k, v in pairs.items()}


PROVIDERS_WITH_MEDIANS = ("gcp", "aws")
"""Providers with a published region matrix; others need every region pair as a link."""


def median_rtt_ms(provider: str, a: str, b: str) -> float | None:
    """Published median RTT between two regions of a provider, or None if unknown."""
    key = frozenset({a, b})
    if provider == "gcp":
        return GCP_RTT_MS.get(key)
    if provider == "aws":
        return _aws_matrix().get(key)
    return None
