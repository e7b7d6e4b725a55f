"""The ``strategy:`` block of the edge strategy: a fleet of edge sites from templates,
each replicating into one central cluster over its own intermittent uplink."""

from __future__ import annotations

from typing import Literal

from geosim.scenario.sections import (
    DistSpec,
    LinkSchedule,
    Model,
    StrategySpecBase,
    const,
)
from geosim.scenario.types import Duration, Rate, described

#: Sites per template: hundreds are the target (issue 17); ten thousand bounds a run's
#: memory (one fluid state per class of identical sites, the summary per site).
MAX_SITES = 10_000


class SitePhase(Model):
    """How the sites of a template are offset in their uplink schedule: all at once
    (``none``), the i-th site ``i x step`` later (``stagger``), or each at an offset
    drawn from the run's seed, rounded down to ``quantum`` (``seeded``). Sites with the
    same offset form one class (simulated once, with a multiplicity)."""

    offset: Literal["none", "stagger", "seeded"] = described(
        "none", "How the sites' schedules are offset from each other.")
    step: Duration = described(3600.0, "Offset between consecutive sites (stagger); "
                               "taken modulo the schedule's `every`.", unit="s", gt=0)
    quantum: Duration = described(3600.0, "Seeded offsets are multiples of this (fewer "
                                  "distinct offsets: fewer classes).", unit="s", gt=0)


class SiteUplink(Model):
    """A site's link to the central cluster: a link spec of `topology.links` for one
    site (its RTT and rate, and a `schedule` of item 1), with a phase per site."""

    rtt: DistSpec = described(const(0.6), "Round-trip time while up (the fluid model "
                              "uses its mean).", unit="s",
                              source="assumption: GEO satellite RTT ~600 ms")
    bandwidth: Rate | None = described(None, "Link rate while up. Default: unlimited.",
                                       unit="bytes/s", gt=0)
    schedule: LinkSchedule | None = described(
        None, "Up windows, and what the link is outside them (`down` or slow); always up "
              "by default.")
    phase: SitePhase = described(SitePhase(), "Offsets of the sites' schedules.")


class SiteTemplate(Model):
    """``count`` identical edge sites named ``<name>-<i>``: one small Kafka cluster each."""

    name: str = described(..., "Template name; sites are `<name>-1` ... `<name>-<count>`.",
                          pattern=r"^[A-Za-z0-9_.]+$")
    count: int = described(1, "Number of sites.", ge=1, le=MAX_SITES)
    region: str = described(..., "Topology region the sites' uplink bytes come from "
                            "(bytes and cost are counted from its first zone).")
    brokers: int = described(1, "Brokers of each site's cluster (1: no high "
                             "availability; 3: replication factor 3).", ge=1, le=9)
    replication_factor: int | None = described(
        None, "Replicas of the site's topic. Default: min(brokers, 3).", ge=1, le=9)
    min_insync_replicas: int = described(
        1, "`min.insync.replicas` of the site's topic: the site's producers (acks=all) "
        "stop while fewer replicas live.", ge=1, le=9, source="apache/kafka default 1")
    producer_rate: float | None = described(
        None, "Records/s each site produces. Default: the workload's rate "
        "(`workload.omb`: topics x producerRate).", gt=0)
    message_size: int | None = described(
        None, "Bytes per record. Default: the workload's `messageSize`.", ge=1)
    partitions: int | None = described(
        None, "Partitions of the site's topic(s) (retention.bytes is per partition). "
        "Default: the workload's topics x partitionsPerTopic.", ge=1)
    config: dict[str, str | int | float | bool] = described(
        {}, "Topic and broker configs of the site by Kafka key: `retention.ms`, "
        "`retention.bytes`, `segment.bytes`, `segment.ms`, "
        "`log.retention.check.interval.ms`. Keys and defaults: "
        "geosim/strategies/edge/config.py.", source="apache/kafka TopicConfig, LogConfig")
    uplink: SiteUplink = described(SiteUplink(), "The sites' uplink to the central cluster.")


class EdgeSpec(StrategySpecBase):
    """Edge aggregation: many small edge clusters replicate into one central cluster
    (``brokers``: the central cluster's placement) over intermittent uplinks."""

    name: Literal["edge"] = "edge"
    central: str | None = described(
        None, "Region of the central cluster. Default: the one region of `brokers`.")
    replication: Literal["mirrormaker2", "cluster-linking"] = described(
        "mirrormaker2", "How sites replicate into the central cluster: a MirrorMaker 2 "
        "source task per site, or a cluster link (its fetch settings, `mirror_config`).")
    mirror_config: dict[str, str | int | float | bool] = described(
        {}, "Fetch settings of the replication by key, as for the `mirrormaker2` or "
        "`cluster-linking` strategy (`consumer.fetch.max.bytes`, `tasks.max`, ...).",
        source="figures.md §6")
    sites: list[SiteTemplate] = described(..., "Site templates.", min_length=1)


__all__ = ["EdgeSpec", "MAX_SITES", "SitePhase", "SiteTemplate", "SiteUplink"]
