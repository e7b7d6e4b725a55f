"""From a scenario's workload section to placed producer fleets and consumer groups.

The OMB workload gives totals (topics x partitions, producers per topic, the aggregate
``producerRate``, subscriptions and consumers per subscription); the scenario's
placement gives each region's or zone's share. Producers of one zone form one fleet.
Partitions of all topics are numbered 0..P-1 (topic t owns partitions
``t * partitionsPerTopic ...``); OMB writes to every partition of every topic evenly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from geosim.clients.consumer import (
    CONSUMER_GROUP_HEARTBEAT,
    CONSUMER_GROUP_SESSION_TIMEOUT,
    ConsumerGroup,
    ConsumerSettings,
    Member,
    rebalance_protocol,
)
from geosim.clients.producer import ProducerFleet
from geosim.clients.rate_control import START_RATE
from geosim.clients.settings import ProducerSettings
from geosim.core.context import Context
from geosim.scenario import omb as omb_config
from geosim.scenario.schema import OmbDriver, OmbWorkload, Placement, Scenario
from geosim.world.topology import Topology


def zone_shares(placement: Placement, topology: Topology, default_zones: list[str]
                ) -> dict[str, float]:
    """Normalized share per zone; a region's weight is split evenly over its zones."""
    if not placement:
        return {z: 1.0 / len(default_zones) for z in default_zones}
    shares: dict[str, float] = {}
    for key, weight in placement.items():
        zones = topology.zones(key) if key in topology.regions else [key]
        for zone in zones:
            shares[zone] = shares.get(zone, 0.0) + weight / len(zones)
    total = sum(shares.values())
    return {z: w / total for z, w in sorted(shares.items()) if w > 0}


def apportion(total: int, shares: dict[str, float]) -> dict[str, int]:
    """Integer counts proportional to shares (largest remainder), in zone order."""
    raw = {z: total * s for z, s in shares.items()}
    counts = {z: int(v) for z, v in raw.items()}
    left = total - sum(counts.values())
    for zone in sorted(raw, key=lambda z: (-(raw[z] - counts[z]), z))[:left]:
        counts[zone] += 1
    return counts


def place_brokers(brokers: Mapping[str, int],
                  region_zones: Mapping[str, list[str]]) -> dict[str, int]:
    """Broker count per zone id from ``strategy.brokers`` (keys are regions, whose count is
    spread evenly over their zones, or zone ids)."""
    counts: dict[str, int] = {}
    for key, count in brokers.items():
        zones = region_zones[key] if key in region_zones else [key]
        for zone, n in apportion(count, {z: 1 / len(zones) for z in zones}).items():
            counts[zone] = counts.get(zone, 0) + n
    return counts


def producer_settings(p: omb_config.ProducerConfig) -> ProducerSettings:
    """The producer fleet's settings from resolved Kafka producer configs."""
    return ProducerSettings(
        linger=p.linger, batch_size=p.batch_size, max_request_size=p.max_request_size,
        max_in_flight=p.max_in_flight_requests_per_connection,
        retry_backoff=p.retry_backoff, retry_backoff_max=p.retry_backoff_max,
        delivery_timeout=p.delivery_timeout, request_timeout=p.request_timeout,
        acks=p.acks, idempotence=p.enable_idempotence, buffer_memory=p.buffer_memory,
        max_block=p.max_block)


@dataclass(frozen=True)
class ResolvedTopic:
    """A declared topic (``workload.topics``): partitions ``first .. first + partitions``
    of the run's numbering, its load, its producers' configs and its topic configs."""

    index: int
    name: str
    first: int
    partitions: int
    rate: float
    message_size: int
    producer: omb_config.ProducerConfig
    config: dict
    replica_placement: dict[str, int]
    observer_placement: dict[str, int]
    mirror: bool

    @property
    def ids(self) -> range:
        return range(self.first, self.first + self.partitions)


@dataclass
class ResolvedWorkload:
    """Everything the strategies need to build clients, in canonical units."""

    omb: OmbWorkload
    driver: OmbDriver
    producer: omb_config.ProducerConfig
    consumer: omb_config.ConsumerConfig
    compression_ratio: float
    producer_zones: dict[str, float]
    consumer_zones: dict[str, float]
    broker_counts: dict[str, int]
    duration: float
    max_rate_asked: bool = False
    topics: list[ResolvedTopic] = field(default_factory=list)
    #: The shortest a consumer's poll can take (s): one round trip inside its own zone
    #: (the topology's intra-zone median), the floor of the commit period below.
    poll_round_trip: float = 0.0

    @property
    def max_rate(self) -> bool:
        """A max-rate run: OMB's ``producerRate: 0``, or ``workload.max_rate``."""
        return self.max_rate_asked or self.omb.producerRate <= 0

    @property
    def start_rate(self) -> float:
        """The aggregate rate producers start at (OMB starts a probe at 10,000/s)."""
        return self.omb.producerRate if self.omb.producerRate > 0 else START_RATE

    @property
    def partitions(self) -> int:
        if self.topics:
            return sum(t.partitions for t in self.topics)
        return self.omb.topics * self.omb.partitionsPerTopic

    def topic_of(self) -> list[int] | None:
        """Each partition's topic index (declared topics only, else None)."""
        if not self.topics:
            return None
        return [t.index for t in self.topics for _ in t.ids]

    @property
    def producer_settings(self) -> ProducerSettings:
        return producer_settings(self.producer)

    @property
    def consumer_settings(self) -> ConsumerSettings:
        c = self.consumer
        # With enable.auto.commit=false, OMB's Kafka consumer commits itself after each
        # poll; a poll returns at the latest after fetch.max.wait.ms. Kafka commits from
        # poll() either way, and a poll takes at least a round trip, so neither period is
        # shorter than that (an interval of 0 commits on every poll, not endlessly).
        interval = c.auto_commit_interval if c.enable_auto_commit else c.fetch_max_wait
        interval = max(interval, self.poll_round_trip)
        protocol = rebalance_protocol(c.assignment_strategy, c.group_protocol)
        # The consumer protocol takes its session and heartbeat from the coordinator:
        # group.consumer.session.timeout.ms and group.consumer.heartbeat.interval.ms,
        # Kafka's defaults (GroupCoordinatorConfig).
        session, heartbeat = ((CONSUMER_GROUP_SESSION_TIMEOUT, CONSUMER_GROUP_HEARTBEAT)
                              if protocol == "consumer"
                              else (c.session_timeout, c.heartbeat_interval))
        return ConsumerSettings(
            session_timeout=session, heartbeat_interval=heartbeat,
            auto_commit_interval=interval, auto_commit=True, fetch_max_wait=c.fetch_max_wait,
            protocol=protocol,
            static=c.group_instance_id is not None)

    def make_fleets(self, ctx: Context) -> list[ProducerFleet]:
        """One fleet per zone with producers; with declared topics, one per topic and
        zone, writing to its topic's partitions only."""
        omb = self.omb
        if self.topics:
            fleets = []
            for topic in self.topics:
                producers = apportion(omb.producersPerTopic, self.producer_zones)
                settings = producer_settings(topic.producer)
                for zone, share in self.producer_zones.items():
                    fleet = ProducerFleet(
                        ctx, len(fleets), zone, zone.rsplit("-", 1)[0],
                        producers=max(producers.get(zone, 0), 1),
                        records_per_s=topic.rate * share, message_size=topic.message_size,
                        compression_ratio=self.compression_ratio, settings=settings,
                        start=0.0, stop=self.duration)
                    fleet.only = frozenset(topic.ids)
                    fleets.append(fleet)
            return fleets
        producers = apportion(omb.topics * omb.producersPerTopic, self.producer_zones)
        fleets = []
        for zone, share in self.producer_zones.items():
            region = zone.rsplit("-", 1)[0]
            fleets.append(ProducerFleet(
                ctx, len(fleets), zone, region, producers=max(producers.get(zone, 0), 1),
                records_per_s=self.start_rate * share, message_size=omb.messageSize,
                compression_ratio=self.compression_ratio, settings=self.producer_settings,
                start=0.0, stop=self.duration))
        return fleets

    def make_groups(self, ctx: Context, *, commit: Callable, is_ready: Callable,
                    request: Callable, release: Callable | None,
                    settings: ConsumerSettings | None = None) -> list[ConsumerGroup]:
        """One group per OMB subscription (of all topics together); ``settings``: the
        groups' (default: :attr:`consumer_settings`)."""
        omb = self.omb
        groups = []
        count = omb.consumerPerSubscription * (len(self.topics) or omb.topics)
        per_zone = apportion(count, self.consumer_zones)
        for g in range(omb.subscriptionsPerTopic):
            members = []
            for zone in sorted(per_zone):
                for _ in range(per_zone[zone]):
                    members.append(Member(len(members), zone, zone.rsplit("-", 1)[0]))
            if not members:
                continue
            groups.append(ConsumerGroup(ctx, g, members, self.partitions,
                                        settings or self.consumer_settings, commit,
                                        is_ready, request, release))
        return groups


def resolve_workload(scenario: Scenario, topology: Topology) -> ResolvedWorkload:
    """Resolve OMB files, client configs, placements and broker counts."""
    wl = scenario.workload
    if not isinstance(wl.omb, OmbWorkload) or not isinstance(wl.driver, OmbDriver):
        raise TypeError("scenario workload must be resolved by geosim.scenario.loader first")
    producer = omb_config.resolve_producer_config(wl.driver, wl.producer_config)
    consumer = omb_config.resolve_consumer_config(wl.driver, wl.consumer_config)
    spec = scenario.strategy
    broker_counts = place_brokers(spec.brokers,
                                  {region: topology.zones(region) for region in topology.regions})
    default_zones = sorted(broker_counts) if broker_counts else topology.zones()
    producer_zones = zone_shares(wl.producers, topology, default_zones)
    consumer_zones = zone_shares(wl.consumers, topology, default_zones) if wl.consumers \
        else producer_zones
    if not broker_counts:
        broker_counts = {z: 3 for z in sorted(set(producer_zones) | set(consumer_zones))}
    topics = []
    first = 0
    for i, spec_topic in enumerate(wl.topics):
        n = spec_topic.partitions or wl.omb.partitionsPerTopic
        topics.append(ResolvedTopic(
            index=i, name=spec_topic.name, first=first, partitions=n,
            rate=spec_topic.producerRate,
            message_size=spec_topic.messageSize or wl.omb.messageSize,
            producer=omb_config.resolve_producer_config(
                wl.driver, wl.producer_config,
                topic=(f"workload.topics[{i}].producer_config", spec_topic.producer_config))
            if spec_topic.producer_config else producer,
            config=dict(spec_topic.config),
            replica_placement=dict(spec_topic.replica_placement),
            observer_placement=dict(spec_topic.observer_placement),
            mirror=spec_topic.mirror))
        first += n
    return ResolvedWorkload(
        topics=topics,
        omb=wl.omb, driver=wl.driver, producer=producer, consumer=consumer,
        compression_ratio=omb_config.compression_ratio(wl, wl.omb, producer),
        producer_zones=producer_zones, consumer_zones=consumer_zones,
        broker_counts={z: n for z, n in sorted(broker_counts.items()) if n > 0},
        duration=scenario.simulation.duration, max_rate_asked=wl.max_rate,
        poll_round_trip=min((topology.median_rtt(z, z) for z in consumer_zones),
                            default=0.0))
