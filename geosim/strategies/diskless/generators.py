"""Hypothesis generators of diskless configurations (for :mod:`geosim.testing`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from geosim.scenario.drafts import Bounds, Draft, metadata_block, ordered, regions_of


def diskless(*, bucket: Sequence[str] = ("multi-region",), bucket_regions: Bounds = (2, 2),
             write_quorum: Bounds | None = None, replication_p50_s: Bounds | None = None,
             flush_interval_ms: Bounds = (100, 500), brokers_per_zone: Bounds = (1, 2),
             metadata: Sequence[str] = ("spanner-multi-region",),
             ) -> Callable[[Draft], SearchStrategy]:
    """Diskless configurations (domain.md §5) within bounds.

    ``bucket``: object store kinds to choose from (``multi-region``, ``dual-region``,
    ``regional``); ``bucket_regions``: how many regions hold data (brokers and clients
    go in a non-empty subset of them); ``write_quorum``: bounds of the quorum for a
    ``regional`` store (then the brokers write every object to each bucket region);
    ``replication_p50_s``: bounds of the median replication delay of a replicated
    bucket (``None``: the provider preset, 5 min); ``metadata``: presets to choose from
    (one that needs more regions than the topology has is skipped).
    """
    return lambda draft: generator(
        draft, bucket=bucket, bucket_regions=bucket_regions, write_quorum=write_quorum,
        replication_p50_s=replication_p50_s, flush_interval_ms=flush_interval_ms,
        brokers_per_zone=brokers_per_zone, metadata=metadata)


def generator(draft: Draft, *, bucket: Sequence[str] = ("multi-region",),
              bucket_regions: Bounds = (2, 2), write_quorum: Bounds | None = None,
              replication_p50_s: Bounds | None = None, flush_interval_ms: Bounds = (100, 500),
              brokers_per_zone: Bounds = (1, 2),
              metadata: Sequence[str] = ("spanner-multi-region",)) -> SearchStrategy[dict]:
    """The diskless configuration generator (bounds as for :func:`diskless`)."""
    regions = regions_of(draft)

    @st.composite
    def build(draw) -> dict:
        kind = draw(st.sampled_from(list(bucket)))
        lo, hi = ordered(bucket_regions, "diskless(bucket_regions)")
        if kind == "dual-region":
            lo = hi = 2
        elif kind == "multi-region":
            lo = max(lo, 2)
        hi = min(hi, len(regions))
        if lo > hi:
            raise ValueError(f"diskless: a {kind} bucket needs {lo} regions, the "
                             f"topology has {len(regions)}")
        data_regions = regions[:draw(st.integers(lo, hi))]
        store: dict[str, Any] = {"kind": kind, "regions": data_regions}
        strategy: dict[str, Any] = {"name": "diskless"}
        if kind == "regional" and write_quorum is not None:
            qlo, qhi = ordered(write_quorum, "diskless(write_quorum)")
            strategy["write_quorum"] = draw(st.integers(qlo, min(qhi, len(data_regions))))
        if kind != "regional" and replication_p50_s is not None:
            plo, phi = ordered(replication_p50_s, "diskless(replication_p50_s)")
            p50 = draw(st.integers(plo, phi))
            store["replication"] = {"preset": "custom", "p50": f"{p50}s",
                                    "p999": f"{max(p50 * 12, 1)}s", "max": "12h"}
        broker_regions = draw(st.lists(st.sampled_from(data_regions), min_size=1,
                                       unique=True).map(lambda rs: sorted(
                                           rs, key=data_regions.index)))
        blo, bhi = ordered(brokers_per_zone, "diskless(brokers_per_zone)")
        per_zone = draw(st.integers(blo, bhi))
        strategy["brokers"] = {r: per_zone * len(draft["topology"]["regions"][r]["zones"])
                               for r in broker_regions}
        flo, fhi = ordered(flush_interval_ms, "diskless(flush_interval_ms)")
        strategy["flush_interval"] = f"{draw(st.integers(flo, fhi))}ms"
        usable = [p for p in metadata
                  if len(regions) >= {"spanner-multi-region": 3,
                                      "spanner-dual-region": 2}.get(p, 1)
                  and (p != "spanner-dual-region" or len(data_regions) >= 2)]
        if not usable:
            raise ValueError(f"diskless: none of the metadata presets {list(metadata)} fits "
                             f"a topology of {len(regions)} regions")
        meta = metadata_block(draw, draw(st.sampled_from(usable)), regions, data_regions)
        return {"strategy": strategy, "object_store": store, "metadata": meta,
                "client_regions": broker_regions}

    return build()

