"""The scenario's sections: every field with its unit, default and the source of the default.

Everything a scenario may say except the strategy block, whose models come from the
strategy plug-ins (:mod:`geosim.scenario.plugins`); :mod:`geosim.scenario.schema`
assembles them into :class:`~geosim.scenario.schema.Scenario`. Strategy specs subclass
:class:`StrategySpecBase` here. The scenario reference (``docs/scenario-reference.md``)
is generated from these models by ``python -m geosim.scenario.reference``, so the
documentation cannot drift. Figures cited as ``figures.md §X Y`` are in the project's
shared reference data.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from geosim.core.distributions import Constant, Distribution, Empirical, LogNormal, Normal
from geosim.scenario.types import Duration, Rate, Size, described


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# --- distributions -----------------------------------------------------------------

class ConstantDist(Model):
    dist: Literal["constant"] = "constant"
    value: Duration = described(..., "The constant value.", unit="s")


class NormalDist(Model):
    dist: Literal["normal"]
    mean: Duration = described(..., "Mean.", unit="s")
    std: Duration = described(..., "Standard deviation (negative draws are reflected).",
                              unit="s")


class LogNormalDist(Model):
    dist: Literal["lognormal"]
    p50: Duration = described(..., "Median.", unit="s")
    p99: Duration = described(..., "99th percentile; must be >= p50.", unit="s")

    @model_validator(mode="after")
    def _ordered(self):
        if not (0 < self.p50 <= self.p99):
            raise ValueError(f"needs 0 < p50 <= p99, got p50={self.p50}s, p99={self.p99}s")
        return self


class EmpiricalDist(Model):
    dist: Literal["empirical"]
    samples: list[Duration] = described(..., "Measured values, resampled uniformly.",
                                        min_length=1)


DistSpec = Annotated[ConstantDist | NormalDist | LogNormalDist | EmpiricalDist,
                     Field(discriminator="dist")]


def to_distribution(spec) -> Distribution:
    """The distribution object for a schema distribution spec (RTT or latency)."""
    if isinstance(spec, ConstantDist):
        return Constant(spec.value)
    if isinstance(spec, NormalDist):
        return Normal(spec.mean, spec.std)
    if isinstance(spec, LogNormalDist):
        return LogNormal(spec.p50, spec.p99)
    if isinstance(spec, EmpiricalDist):
        return Empirical.of(spec.samples)
    raise TypeError(f"not a distribution spec: {spec!r}")


def const(value: float) -> ConstantDist:
    return ConstantDist(value=value)


def lognormal(p50: float, p99: float) -> LogNormalDist:
    return LogNormalDist(dist="lognormal", p50=p50, p99=p99)


# --- topology ----------------------------------------------------------------------

#: Largest tail of a preset inter-region link (p99 / p50): measured WAN RTTs have p99 within
#: a few times the median (figures.md §11 item 4); beyond 100 a link is a brownout, which
#: is a fault (``kind: brownout``), not a topology.
MAX_TAIL_RATIO = 100.0

class RegionSpec(Model):
    zones: list[str] = described(["a", "b", "c"], "Zone suffixes; zone ids are "
                                 "`<region>-<suffix>` (e.g. `us-west1-a`).", min_length=1)


class ScheduleOutside(Model):
    """What a scheduled link is outside its up windows, if not cut: a slow path (a
    satellite link at sea), combined with any brownout of the same path."""

    extra_latency: Duration = described(0.0, "Added to every one-way delay.", unit="s")
    bandwidth: Rate | None = described(None, "Link rate outside the windows.",
                                       unit="bytes/s", gt=0)
    loss: float = described(0.0, "Message loss probability.", ge=0, lt=1)


class LinkSchedule(Model):
    """When a link is up: periodic windows (``every``, ``up_for``, ``first_up``) or an
    explicit list (``windows``). Outside them the link is cut (``outside: down``) or
    slow (``outside: {bandwidth, extra_latency, loss}``). A schedule composes with
    faults: a partition or brownout of the same path acts on top of it."""

    every: Duration | None = described(None, "Period of the up windows.", unit="s", gt=0)
    up_for: Duration | None = described(None, "Length of each up window (< every).",
                                        unit="s", gt=0)
    first_up: Duration = described(0.0, "Start of the first periodic up window.", unit="s",
                                   ge=0)
    windows: list[tuple[Duration, Duration]] = described(
        [], "Explicit up windows, [start, end] pairs in increasing order (instead of "
        "every/up_for).", unit="s")
    outside: Literal["down"] | ScheduleOutside = described(
        "down", "The link outside its up windows: `down` (cut), or degraded.")

    def up_windows(self, end: float) -> list[tuple[float, float]]:
        """The up windows that start before ``end`` (seconds), in order."""
        if self.windows:
            return [(a, b) for a, b in self.windows if a < end]
        assert self.every is not None and self.up_for is not None
        out = []
        start = self.first_up
        while start < end:
            out.append((start, start + self.up_for))
            start += self.every
        return out


class LinkSpec(Model):
    """Overrides the link between two regions or two zones (ids as in the topology)."""

    between: tuple[str, str] = described(..., "Two region ids, or two zone ids.")
    rtt: DistSpec | None = described(None, "Round-trip time distribution; one-way delay is "
                                     "half a draw. Default: the provider preset.", unit="s")
    bandwidth: Rate | None = described(None, "Serialization rate of the link; transfers "
                                       "queue behind each other. Default: unlimited.",
                                       unit="bytes/s")
    loss: float = described(0.0, "Probability that a message is lost (the sender sees a "
                            "timeout).", ge=0.0, lt=1.0)
    schedule: LinkSchedule | None = described(
        None, "Up windows of an intermittent link (an edge site's uplink: a ship in "
        "harbour); always up by default.")


class InterconnectSpec(Model):
    """A cross-region capacity several region pairs share (one gateway, VPN or dedicated
    interconnect): every message between regions of a listed pair also serializes through
    it. Full duplex: traffic from the first region of a pair to the second uses its
    forward capacity, the reverse direction its reverse capacity, each ``bandwidth``."""

    name: str = described(..., "Names the interconnect in results (its utilisation series).")
    between: list[tuple[str, str]] = described(
        ..., "The region pairs whose traffic crosses it (each region pair in at most one "
        "interconnect).", min_length=1)
    bandwidth: Rate = described(..., "Capacity in each direction.", unit="bytes/s")


class TopologySpec(Model):
    provider: Literal["gcp", "aws", "azure", "none"] = described(
        "gcp", "Preset of inter-region median RTTs to use for region pairs without a link.",
        source="figures.md §1a (GCP dashboard via LGDCloudSim; AWS cloudping p50)")
    regions: dict[str, RegionSpec] = described(..., "Regions by id, with their zones.",
                                               min_length=1)
    links: list[LinkSpec] = described([], "Per-pair overrides.")
    interconnects: list[InterconnectSpec] = described(
        [], "Capacities shared by several region pairs, on top of each link's own "
        "bandwidth (a message is through when both let it through).")
    same_zone_rtt: DistSpec = described(
        lognormal(0.1e-3, 0.3e-3), "RTT inside one zone.", unit="s",
        source="figures.md Z2/Z4/Z6 (0.1-0.45 ms same-zone)")
    inter_zone_rtt: DistSpec = described(
        lognormal(0.5e-3, 1.0e-3), "RTT between zones of one region.", unit="s",
        source="figures.md Z1 (GCP < 1 ms p95), Z2 (median 0.1-0.6 ms)")
    wan_p99_over_p50: float = described(
        1.2, "Tail of preset inter-region links: the RTT's p99 as a multiple of the "
        "published median (lognormal). An assumption: providers publish medians only.",
        source="assumption; figures.md §11 item 4", ge=1.0, le=MAX_TAIL_RATIO,
        allow_inf_nan=False)
    tcp_window: Size | None = described(
        4 * 2**20, "Largest TCP window of a client connection: a request or response of "
        "S bytes takes ceil(S / window) windows, each beyond the first waiting a round "
        "trip less its time over the link's bandwidth (the window/RTT bound of domain.md "
        "§2; request and reply each have their windows; connections taken as warm, no "
        "slow-start restart after idle). Applies to clients' connections (brokers to "
        "object storage and to the metadata store, followers' and mirrors' fetches), not "
        "to a provider's internal replication or read-through. null disables it.",
        unit="bytes",
        source="Linux default net.ipv4.tcp_wmem / tcp_rmem maximum (4 MiB)")


# --- object storage -----------------------------------------------------------------

class ReplicationSpec(Model):
    """Per-object asynchronous cross-region replication delay of a dual/multi-region bucket.

    Drawn from a lognormal through ``p50`` and ``p999`` (the SLA's 99.9 % bound),
    truncated at ``max`` (the SLA's 100 % bound).
    """

    preset: Literal["default", "turbo", "custom"] = described(
        "default", "`default`: 99.9 % within 1 h, 100 % within 12 h; `turbo` (dual-region "
        "only): 100 % within 15 min; `custom`: the fields below.",
        source="figures.md O1, O2 (GCS availability-durability docs)")
    p50: Duration | None = described(
        None, "Median delay. Default 5 min for `default`, 2 min for `turbo`: an assumption, "
        "providers publish only the SLA bounds.", unit="s", source="assumption", gt=0)
    p999: Duration | None = described(None, "99.9th percentile (default from preset).",
                                      unit="s", source="figures.md O1", gt=0)
    max: Duration | None = described(None, "Upper bound (default from preset).", unit="s",
                                     source="figures.md O1, O2", gt=0)
    paused: bool = described(False, "Start with replication paused.")

    def resolved(self) -> tuple[float, float, float]:
        """(p50, p999, max) in seconds."""
        defaults = {"default": (300.0, 3600.0, 12 * 3600.0),
                    "turbo": (120.0, 900.0, 900.0),
                    "custom": (300.0, 3600.0, 12 * 3600.0)}[self.preset]
        p50 = self.p50 if self.p50 is not None else defaults[0]
        p999 = self.p999 if self.p999 is not None else defaults[1]
        cap = self.max if self.max is not None else defaults[2]
        return p50, min(max(p999, p50), cap), cap


class ObjectStoreSpec(Model):
    kind: Literal["regional", "dual-region", "multi-region"] = described(
        "multi-region", "`regional`: one bucket per listed region (or, for a zonal "
        "service, per listed zone), no replication; "
        "`dual-region`/`multi-region`: one bucket whose data replicates asynchronously "
        "between the listed regions, with a strongly consistent namespace.",
        source="domain.md §4 Object storage")
    regions: list[str] = described(..., "Regions holding the bucket's data.", min_length=1)
    service: str | None = described(
        None, "The service and storage class whose request timing applies: a preset of "
        "`geosim/data/object_storage.yaml` (see \"Object-storage services\" below). Each "
        "request takes a fixed service time F (time to first byte; PUT and GET "
        "separately, lognormal through the preset's p50 and p99) plus its bytes over one "
        "connection's throughput B, plus the network's round trip to the bucket. "
        "Default: by `topology.provider` and `kind` (gcp: `gcs-<kind>`, aws: "
        "`s3-standard`, azure: `azure-blob-hot`, none: as gcp).",
        source="docs/research/object-storage-measurements.md §4.1")
    zones: list[str] = described(
        [], "Zonal services only (`s3-express-one-zone`): one directory bucket per listed "
        "zone id (`us-east-1-a`); each zone's region must be in `regions`. A bucket lives "
        "in one zone: a zone outage makes it unreachable, and a client in another zone "
        "pays the inter-zone round trip (and inter-zone bytes) per request. A "
        "`strategy.write_quorum` then counts zonal buckets.",
        source="research note X-3 (docs.aws.amazon.com s3-express-Endpoints)")
    put_latency: DistSpec | None = described(
        None, "Override: the whole PUT's latency until durable, as one distribution (the "
        "model before presets). Replaces the preset's F for PUTs and, unless "
        "`put_throughput` is also set, drops its size term. null: the preset.",
        unit="s", source="figures.md O12 (earlier scenario files: GCS 200 ms / 402 ms)")
    get_latency: DistSpec | None = described(
        None, "Override: the whole GET's latency, as for `put_latency`. null: the preset.",
        unit="s", source="figures.md O12")
    put_throughput: Rate | None = described(
        None, "Override the preset's per-connection PUT throughput B.", unit="bytes/s")
    get_throughput: Rate | None = described(
        None, "Override the preset's per-connection GET throughput B.", unit="bytes/s")
    transfer_time_per_mib: Duration = described(
        0.0, "Extra latency per MiB of a request's size, on top of the model.",
        unit="s/MiB", source="assumption (0)")
    replication: ReplicationSpec = described(ReplicationSpec(), "Cross-region replication.")

    @model_validator(mode="after")
    def _check(self):
        if self.kind == "dual-region" and len(self.regions) != 2:
            raise ValueError(f"a dual-region bucket needs exactly 2 regions, "
                             f"got {len(self.regions)}")
        if self.kind == "multi-region" and len(self.regions) < 2:
            raise ValueError("a multi-region bucket needs at least 2 regions")
        if self.replication.preset == "turbo" and self.kind != "dual-region":
            raise ValueError("turbo replication is only offered for dual-region buckets")
        return self


# --- metadata store -----------------------------------------------------------------

class VoterSpec(Model):
    region: str = described(..., "Region of the voter(s).")
    zone: str | None = described(None, "Zone suffix; default: spread over the region's zones.")
    count: int = described(1, "Number of voting replicas here.", ge=1)


class MetadataSpec(Model):
    preset: Literal["spanner-multi-region", "spanner-dual-region", "spanner-regional",
                    "dynamodb", "etcd", "kraft", "custom"] = described(
        "spanner-multi-region", "`spanner-multi-region`: 2 read-write replicas in each of "
        "the first two `regions` and a witness in the third (5 voters); "
        "`spanner-dual-region`: 2 read-write replicas in each of 2 regions (4 voters); "
        "`spanner-regional`: 3 read-write replicas, one in each of 3 zones of one region "
        "(Spanner regional configurations), billed per node (`cost.deployment."
        "spanner_nodes`, price `metadata.spanner.regional.node`); `dynamodb`: a managed "
        "regional store replicated over 3 zones of one region (WarpStream's control plane "
        "on AWS, figures.md W7), timed as a 3-voter quorum without commit wait and billed "
        "as a managed service per request on demand (`metadata.dynamodb.write|read."
        "on_demand`: one request unit per commit or read), its traffic not as transfer; "
        "`etcd`: 3 voters over the zones of `regions`; `kraft`: a KRaft controller quorum "
        "of 3 voters placed as for etcd; `custom`: `voters`.",
        source="domain.md §4 Consensus metadata store; figures.md B9, M3, M6 (Spanner "
        "regional, $4,733/month for 9 nodes), W7 (WarpStream: DynamoDB on AWS, Spanner on "
        "GCP); Google Cloud Spanner instance-configurations doc (regional: 3 read-write "
        "replicas in 3 zones)")
    regions: list[str] = described([], "Regions for the preset, in order (leader region "
                                   "first).")
    voters: list[VoterSpec] = described([], "Explicit voters (preset `custom`).")
    leader_region: str | None = described(None, "Preferred leader region (default: first).")
    commit_wait: Duration | None = described(
        None, "Added to every commit. Default 5 ms for Spanner (TrueTime wait, "
        "figures.md M1/M2), 0 for etcd.", unit="s", source="figures.md M1, M2")
    election_timeout: Duration | None = described(
        None, "Time to elect a new leader after losing it. Default 10 s for Spanner "
        "(Paxos leader lease), 1 s for etcd (`--election-timeout` 1000 ms), 3 s for KRaft "
        "(`controller.quorum.fetch.timeout.ms` 2 s to notice + election timeout 1 s).",
        unit="s", source="Spanner OSDI 2012 §4.1 (10 s leases); etcd docs (tuning); "
        "figures.md K24")
    request_timeout: Duration = described(
        10.0, "A commit that cannot complete within this fails (unavailable store).",
        unit="s", source="assumption")


# --- workload -------------------------------------------------------------------------

#: Bounds of OMB workload fields (model bounds, beyond any published deployment):
#: topics (OMB's own workloads go up to a million topics of 4 partitions);
MAX_TOPICS = 10_000_000
#: partitions per topic, and in total;
MAX_PARTITIONS = 10_000_000
#: subscriptions per topic;
MAX_SUBSCRIPTIONS = 10_000
#: message size: Kafka sizes are 32-bit signed integers (``message.max.bytes``);
MAX_MESSAGE = 2**31 - 1
#: producers per topic, consumers per subscription, payloads in the pool;
MAX_CLIENTS = 1_000_000
#: records per second over all producers (100 GiB/s of 1 KiB records is about 1e8).
MAX_RECORD_RATE = 1e10
#: brokers per region or zone (the largest Kafka clusters run a few thousand in all);
MAX_BROKERS = 10_000
#: Longest simulated phase (duration, warmup, drain): 30 days; incidents last minutes to
#: days, and the bill is monthly from rates.
MAX_SIMULATED = 30 * 86400.0
#: Spanner nodes of one instance (100 GiB/s needs about 9, figures.md M6).
MAX_SPANNER_NODES = 100_000
#: OMB's own phase lengths (minutes): a year, beyond any benchmark run.
MAX_OMB_MINUTES = 366 * 24 * 60
#: Uncompressed / compressed bytes: a million to one (zero-filled payloads compress by
#: three orders of magnitude or so; beyond a million the bill is no longer meaningful).
MAX_COMPRESSION = 1e6


# --- strategy -------------------------------------------------------------------------

class StrategySpecBase(Model):
    """What every strategy block has: its ``name`` (each plug-in's spec narrows it to a
    ``Literal``) and where its brokers run."""

    name: str
    brokers: dict[str, int] = described(
        {}, "Broker count per region or zone id; a region's count is spread evenly over its "
        "zones. Default: 3 per zone of every region with clients.")

    def billed_instances(self, provider: str,
                         regions: Sequence[str]) -> list[InstanceGroupSpec]:
        """Instance groups the strategy runs besides its brokers (Connect workers...),
        billed unless ``cost.deployment.instances`` names a group of the same name;
        ``regions``: the topology's. None by default."""
        return []

    def resolution(self, simulation: SimulationSpec) -> dict[str, float]:
        """The model's time-resolution settings where they differ from the reference its
        results were validated at (empty at the reference; summary.json's
        ``resolution``). Empty by default: the model has no such setting."""
        return {}


# --- simulation -------------------------------------------------------------------------

#: The finest send tick a scenario may ask for (s; ``simulation.send_tick``,
#: ``strategy.append_interval``): linger.ms is whole milliseconds, and 0.1 ms is already
#: 10,000 sends a second per producer fleet and leader zone.
MIN_SEND_TICK = 1e-4


class SimulationSpec(Model):
    duration: Duration = described(
        300.0, "Simulated time during which producers run (faults lie inside).", unit="s",
        gt=0, le=MAX_SIMULATED)
    warmup: Duration = described(
        30.0, "Initial time excluded from steady-state latency and rates.", unit="s", ge=0,
        le=MAX_SIMULATED)
    drain: Duration = described(
        60.0, "After producers stop and faults heal, time to read what is still readable.",
        unit="s", ge=0, le=MAX_SIMULATED)
    seed: int = described(0, "Root random seed; recorded in every result (a 64-bit signed "
                          "integer in the results' tables).", ge=0, le=2**63 - 1)
    progress: bool = described(True, "Show a progress bar on long runs (command line).")
    bin: Duration = described(1.0, "Width of time-series bins (at most 10 million bins "
                              "per run).", unit="s", ge=1e-3)
    send_tick: Duration | None = described(
        None, "The Kafka-family engines' send tick for every strategy block that does not "
        "set `strategy.append_interval` (so one setting reaches every variant of a "
        "comparison or an advice run; diskless and edge have no send tick and ignore it). "
        "A coarser tick than the default 5 ms is the engine's fast mode for loss and "
        "availability: on the nine fault cases of tests/test_resolution.py, loss, RPO, "
        "unavailability and detection stayed within twice the tick's growth of the 5 ms "
        "results and pre-fault latency medians rose by at most that; latency tails and "
        "the latencies of fault phases are not kept (docs/architecture.md, Resolution and "
        "fidelity). From 0.1 ms to 1 s (produce timeouts and log housekeeping run once a "
        "second).", unit="s", source="tests/test_resolution.py", ge=MIN_SEND_TICK,
        le=1.0)
    engine: Literal["events", "window"] = described(
        "events", "The Kafka-family engine's mode: `events` runs every row as events, the "
        "reference; `window` hands the steady states (from the start of the run, the "
        "warmup's end a bound, once the cluster is quiet, to 5 s before a fault or a "
        "fault's end, 50 ms before the end of production; before a fault that may stop "
        "a broker the hand-back keeps the rows of the last `page_cache_flush_age` one "
        "by one, so that an unclean stop loses what it would; for "
        "one cluster also inside a fault once the cluster it leaves is steady) to the "
        "window engine, which computes them as arrays, and "
        "takes the data path back for the faults. One-cluster designs (stretch, "
        "observers) and cross-cluster runs of one flow whose clients all use its source "
        "(active-passive MirrorMaker 2 and Cluster Linking; their windows stay out of "
        "faults and end 5 s plus the flow's offset-marks interval before one, and at "
        "least 5 s plus `page_cache_flush_age` before one that may stop a broker). Runs "
        "it cannot "
        "take stay in events, and `run-info.json` says why; shared storage, Replicator, "
        "several flows, diskless and edge stay in events (docs/architecture.md, The "
        "window engine).",
        source="model assumption")

    @property
    def end(self) -> float:
        """When a run ends: producers stop at ``duration``, then the ``drain``."""
        return self.duration + self.drain


# --- cost -----------------------------------------------------------------------------

class InstanceGroupSpec(Model):
    """A group of identical instances (brokers, etcd nodes...) billed by the hour."""

    name: str = described("brokers", "Label of the group in the bill.")
    type: str = described(..., "Instance type as the provider names it (`n2d-standard-32`, "
                          "`m6in.large`); priced by `instance.<type>.<commitment>`.")
    count: dict[str, int] = described(
        {}, "Instances per region or zone id. Default for a group named `brokers`: "
        "`strategy.brokers` (the simulated broker placement).")
    tier1_networking: bool = described(
        False, "GCP Tier_1 per-VM networking, priced by `tier1_networking.<type>.<commitment>`.",
        source="figures.md B11 (required for guaranteed network throughput)")
    disk_type: str | None = described(None, "Attached disk type, priced by `disk.<type>` "
                                       "per GiB-month.")
    disk_size: Size | None = described(None, "Attached disk size per instance.", unit="bytes")


class DeploymentSpec(Model):
    """What is deployed and billed besides what the simulation measures."""

    instances: list[InstanceGroupSpec] = described([], "Instance groups; none by default.")
    commitment: Literal["on_demand", "1y"] = described(
        "on_demand", "Price instances and Spanner nodes on demand or with a 1-year commitment.")
    retention: Duration = described(
        7 * 86400.0, "How long written data stays in object storage: stored bytes = compressed "
        "write rate x retention.", unit="s",
        source="figures.md B11, B12 (7 days of retention)")
    storage_class: str = described("standard", "Object storage class, priced by "
                                   "`object_storage.<bucket kind>.<class>`.")
    bucket: Literal["regional", "dual-region", "multi-region"] | None = described(
        None, "Bucket kind for storage, request and replication prices (requests are "
        "priced by `object_store.service` first, `object_requests.<service>.*`, when the "
        "book has it). Default: `object_store.kind`.")
    tiered_storage: bool = described(
        False, "The strategy's brokers copy every written byte to object storage (Kafka "
        "tiered storage) although the simulation writes no objects: storage and bucket "
        "replication are then computed from the acknowledged write rate.",
        source="figures.md B12 (tiered storage on a multi-region bucket)")
    spanner_nodes: int | None = described(
        None, "Spanner nodes, priced by `metadata.spanner.<config>.node.<commitment>` "
        "(config from `metadata.preset`: `multi-region` or `regional`); none by default.",
        ge=0, le=MAX_SPANNER_NODES, source="figures.md M6 (9 nodes for 100 GiB/s)")
    licence: str | None = described(
        None, "Product whose licence fee is charged per GiB of uncompressed writes, priced "
        "by `licence.<product>` (e.g. `bufstream`); none by default.",
        source="figures.md P12")


class CostSpec(Model):
    """The monthly bill: price book, overrides and the deployment (README, Cost)."""

    provider: Literal["gcp", "aws", "azure"] | None = described(
        None, "Price book (`geosim/data/prices/<provider>.yaml`). Default: "
        "`topology.provider`; no bill when that is `none`.")
    prices: dict[str, float] = described(
        {}, "Price overrides by price-book key (`network.inter_zone: 0.02`, "
        "`instance.n2d-standard-32.1y@us-west2: 1.1`), in the book's unit for that key.")
    deployment: DeploymentSpec = described(DeploymentSpec(), "The deployment to bill.")


INF = math.inf
