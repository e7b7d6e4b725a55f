"""The scenario's ``faults:`` section: one model per fault kind, discriminated by ``kind``.

Split from :mod:`geosim.scenario.sections` (which it builds on) so that each module holds
one part of the schema; :mod:`geosim.scenario.schema` assembles both. What each fault
does to a running world is :mod:`geosim.world.faults`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from geosim.scenario.sections import MAX_BROKERS, Model
from geosim.scenario.types import Duration, Rate, described

#: Largest object-store slowdown factor: a 200 ms request would take over half an hour,
#: which is an outage, not a slowdown (model bound).
MAX_SLOWDOWN = 1e4


class _Fault(Model):
    at: Duration = described(..., "Start time, from the beginning of the run.", unit="s",
                             ge=0)


class _Timed(_Fault):
    duration: Duration = described(..., "How long the fault lasts.", unit="s", gt=0)


class RegionOutage(_Timed):
    kind: Literal["region-outage"]
    region: str


class RegionDestruction(_Fault):
    kind: Literal["region-destruction"]
    region: str


class ZoneOutage(_Timed):
    kind: Literal["zone-outage"]
    zone: str


class ZoneDestruction(_Fault):
    """A zone and everything in it are gone for good: its machines, their local and
    block-volume storage (EBS and GCP zonal persistent disks are zonal resources), and
    its zonal buckets. The rest of the region keeps running."""

    kind: Literal["zone-destruction"]
    zone: str


class Partition(_Timed):
    kind: Literal["partition"]
    between: tuple[str, str]
    one_way: bool = described(False, "Only traffic from the first to the second is dropped.")


class Brownout(_Timed):
    kind: Literal["brownout"]
    between: tuple[str, str]
    extra_latency: Duration = described(0.0, "Added to every one-way delay.", unit="s")
    bandwidth: Rate | None = described(None, "Link rate during the brownout.",
                                       unit="bytes/s")
    loss: float = described(0.0, "Message loss probability.", ge=0, lt=1)


class ObjectStoreSlowdown(_Timed):
    kind: Literal["object-store-slowdown"]
    region: str | None = described(None, "Only requests served in this region (default all).")
    factor: float = described(5.0, "Latency multiplier.", gt=0, le=MAX_SLOWDOWN,
                              allow_inf_nan=False)


class ReplicationPause(_Timed):
    kind: Literal["replication-pause"]


class MetadataLoss(_Timed):
    kind: Literal["metadata-loss"]


class ClientCrash(_Timed):
    kind: Literal["client-crash"]
    clients: Literal["producers", "consumers"]
    zone: str


class BrokerCrash(_Fault):
    kind: Literal["broker-crash"]
    zone: str
    count: int = described(1, "Brokers of the zone to crash.", ge=1, le=MAX_BROKERS)
    clean: bool = described(
        False, "A clean shutdown flushes the log and, on a Kafka cluster, is a controlled "
        "shutdown: the controller moves the broker's leaderships and takes it out of the "
        "ISRs before it stops; a crash loses what was still in the page cache (Kafka "
        "brokers; diskless brokers hold nothing).",
        source="domain.md §4, §6; Kafka ReplicationControlManager "
        "handleBrokerInControlledShutdown")
    duration: Duration = described(30.0, "Until the broker is replaced.", unit="s", gt=0)


class ConnectWorkerCrash(_Fault):
    """Kafka Connect worker processes of a zone crash (strategies that run Connect
    workers: replicator); their tasks stop, and the Connect group rebalances them."""

    kind: Literal["connect-worker-crash"]
    zone: str
    count: int = described(1, "Workers of the zone to crash.", ge=1, le=MAX_BROKERS)
    duration: Duration = described(60.0, "Until the worker process is restarted.", unit="s",
                                   gt=0)


class UncleanElection(_Fault):
    """An operator step, not a fault: elect a leader for every partition without one
    from any live replica, observers included, truncating the others' logs (Kafka's
    `kafka-leader-election --election-type unclean`; Confluent's manual promotion of an
    observer). Kafka strategies only."""

    kind: Literal["unclean-election"]


class SiteFailure(_Fault):
    """Brokers of one edge site are destroyed, disks and all (strategies with edge
    sites): once the site's replicas are all gone, what it had not replicated is lost
    and the site is down until it is rebuilt, empty, after ``duration``."""

    kind: Literal["site-failure"]
    site: str = described(..., "The site, `<template>-<i>` (e.g. `ship-7`).")
    brokers: int | None = described(
        None, "Brokers destroyed. Default: all of the site's.", ge=1, le=MAX_BROKERS)
    duration: Duration | None = described(
        None, "Until the site is rebuilt (empty). Default: never.", unit="s", gt=0)


FaultSpec = Annotated[
    RegionOutage | RegionDestruction | ZoneOutage | ZoneDestruction | Partition | Brownout
    | ObjectStoreSlowdown | ReplicationPause | MetadataLoss | ClientCrash | BrokerCrash
    | ConnectWorkerCrash | UncleanElection | SiteFailure,
    Field(discriminator="kind")]
