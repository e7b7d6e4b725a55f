"""The ``strategy:`` block of the diskless strategy."""

from __future__ import annotations

from typing import Literal

from geosim.scenario.sections import StrategySpecBase
from geosim.scenario.types import Duration, Size, described


class DisklessSpec(StrategySpecBase):
    """Diskless, zone-local stateless brokers on object storage (Bufstream, WarpStream)."""

    name: Literal["diskless"] = "diskless"
    flush_interval: Duration = described(
        0.25, "A broker writes its buffer as one object at least this often.", unit="s",
        source="domain.md §5 (~250 ms); figures.md W6 (WarpStream batchTimeout 250 ms)")
    flush_bytes: Size = described(
        32 * 2**20, "A broker also writes as soon as this many compressed bytes are "
        "buffered.", unit="bytes",
        source="assumption (bounded object size; consistent with figures.md B11's 744 "
        "writes/s at 25 GiB/s over 108 brokers)")
    write_quorum: int | None = described(
        None, "If set, write every object to the regional bucket of each `object_store` "
        "region and acknowledge after this many succeed (WarpStream-style multi-region). "
        "Requires a `regional` object store.", ge=1,
        source="domain.md §5 diskless variants")
    read_range_bytes: Size | None = described(
        16 * 2**20, "A zone reads an object's bytes as parallel ranged GETs of at most this "
        "many bytes, each on its own connection and counted as a request; a record "
        "waits only for the range that holds it, so a read takes one range's time to "
        "first byte plus the range's bytes over one connection's throughput, not the "
        "whole object's. null: one GET of the whole object.", unit="bytes",
        source="Inkless (aiven/inkless @b1fcb5f6 FetchPlanner / FixedBlockAlignment: "
        "ranged GETs aligned to `consume.cache.block.bytes` 16 MiB, high); WarpStream "
        "reads <= 4 MiB chunks (HN 37037114, 2023, med); AWS S3 guidance: 8-16 MB byte "
        "ranges in parallel (research note S-1, high). Bufstream's own granularity is "
        "not published")
    cache_bytes_per_zone: Size = described(
        64 * 2**30, "Per-zone object cache shared by the zone's brokers; the writer's zone "
        "holds what it wrote.", unit="bytes", source="assumption")
    notify_via_leader: bool = described(
        True, "Brokers learn of new offsets with a strongly consistent metadata read "
        "(a round trip to the metadata leader); otherwise instantly.",
        source="domain.md §5 (consumers resolve offsets through the metadata store)")
    brokers_per_writer: int = described(
        1, "Modelling resolution: simulate a zone's brokers in writers of this many. A "
        "zone's brokers share its producers' load evenly and flush at the same instants, "
        "so a writer flushes their objects as one object carrying one row per broker (each "
        "for the next partition of the rotation, as the brokers' own objects would): each "
        "broker's PUT, GET, commit and metadata read is counted as a request of its own "
        "and timed at that broker's share of the bytes, with one latency draw for all of "
        "them. Request counts, bytes, cost and latency distributions, in steady state and "
        "through a region outage, match 1 within sampling noise "
        "(tests/test_diskless_writers.py); what changes is that the writer's brokers share "
        "their draws. Must divide every zone's broker count and every `broker-crash` "
        "count. 1: every broker on its own.",
        ge=1, source="modelling choice (docs/architecture.md, \"Writers\")")
