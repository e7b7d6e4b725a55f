"""Cross-field checks of a validated scenario: what the schema alone cannot express.

Every region and zone named anywhere exists, placements are valid shares, presets have
the regions they need, faults start while producers run, nothing measured is negative;
the strategy block is checked by its plug-in (:attr:`StrategyPlugin.checks`), which
gets the :class:`Checker`. The first problem raises one :class:`ScenarioError`.
"""

from __future__ import annotations

import math
import typing
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, BeforeValidator
from pydantic.fields import FieldInfo

from geosim.scenario import latency, object_services, plugins
from geosim.scenario import types as unit_types
from geosim.scenario.errors import INLINE, NO_VALUE, ScenarioError, format_path
from geosim.scenario.omb import resolve_consumer_config, resolve_producer_config
from geosim.scenario.price_books import PriceError, check_price_overrides
from geosim.scenario.schema import (
    BrokerCrash,
    Brownout,
    ClientCrash,
    ConnectWorkerCrash,
    ObjectStoreSlowdown,
    OmbDriver,
    OmbWorkload,
    Partition,
    RegionDestruction,
    RegionOutage,
    ReplicationPause,
    Scenario,
    SiteFailure,
    ZoneDestruction,
    ZoneOutage,
)
from geosim.scenario.sections import MAX_BROKERS, MAX_PARTITIONS, to_distribution

_UNIT_VALIDATORS = {
    meta.func
    for unit_type in (unit_types.Duration, unit_types.Size, unit_types.Rate)
    for meta in typing.get_args(unit_type)[1:]
    if isinstance(meta, BeforeValidator)
}


def _has_unit(info: FieldInfo) -> bool:
    """Whether a field holds a Duration, Size or Rate (possibly in a list or optional)."""
    def search(annotation: Any) -> bool:
        if typing.get_origin(annotation) is typing.Annotated:
            args = typing.get_args(annotation)
            if any(isinstance(m, BeforeValidator) and m.func in _UNIT_VALIDATORS
                   for m in args[1:]):
                return True
            return search(args[0])
        return any(search(arg) for arg in typing.get_args(annotation))
    return (any(isinstance(m, BeforeValidator) and m.func in _UNIT_VALIDATORS
                for m in info.metadata) or search(info.annotation))


def shorten(names: list[str], limit: int = 12) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


#: Most time-series bins of one run (memory: a few columns of 8 bytes per bin).
MAX_BINS = 10_000_000
#: Largest placement share (workload.producers/consumers): shares are relative, so any
#: distribution is expressible well below this.
MAX_SHARE = 1e9


class Checker:
    """Cross-field checks on a validated Scenario; the first problem raises.

    Strategy plug-ins' ``check(checker, spec)`` get this object: :attr:`scenario`, the
    location checks (:meth:`region`, :meth:`zone`, :meth:`location`, :meth:`placement`)
    and :meth:`fail` for their own one-line errors.
    """

    def __init__(self, scenario: Scenario, source: str, origins: Mapping[str, str]) -> None:
        self.s = scenario
        self.source = source
        self.origins = dict(origins)
        self.regions = {name: list(spec.zones) for name, spec in scenario.topology.regions.items()}
        self.zones: dict[str, str] = {}  # zone id -> region

    @property
    def scenario(self) -> Scenario:
        """The scenario being checked."""
        return self.s

    def fail(self, path: str, expected: str, value: Any = NO_VALUE) -> typing.NoReturn:
        raise ScenarioError(self.source, path, expected, value)

    # locations

    def region(self, name: Any, path: str) -> str:
        if name not in self.regions:
            self.fail(path, f"unknown region; expected one of: {shorten(list(self.regions))}",
                      name)
        return name

    def _unknown_zone(self, name: Any, path: str, or_region: bool) -> typing.NoReturn:
        # A zone-like id whose region exists: say which zones that region has.
        for region, suffixes in self.regions.items():
            if isinstance(name, str) and name.startswith(f"{region}-"):
                ids = [f"{region}-{z}" for z in suffixes]
                self.fail(path, f"unknown zone of region {region} (its zones: "
                          f"{shorten(ids)})", name)
        zones = shorten(list(self.zones))
        if or_region:
            self.fail(path, f"unknown region or zone; expected a region "
                      f"({shorten(list(self.regions))}) or a zone id ({zones})", name)
        self.fail(path, f"unknown zone; expected one of: {zones}", name)

    def zone(self, name: Any, path: str) -> str:
        if name in self.zones:
            return name
        if name in self.regions:
            self.fail(path, f"is a region; expected a zone id <region>-<zone> (one of: "
                      f"{shorten([z for z in self.zones if self.zones[z] == name])})", name)
        self._unknown_zone(name, path, or_region=False)

    def location(self, name: Any, path: str) -> str:
        """'region' or 'zone' for a key that may be either."""
        if name in self.regions:
            return "region"
        if name in self.zones:
            return "zone"
        self._unknown_zone(name, path, or_region=True)

    def pair(self, pair: tuple[str, str], path: str) -> None:
        kinds = [self.location(end, f"{path}[{i}]") for i, end in enumerate(pair)]
        if kinds[0] != kinds[1]:
            self.fail(path, "must name two regions or two zones, not one of each", list(pair))
        if pair[0] == pair[1]:
            self.fail(path, "must name two different places", list(pair))

    def no_duplicates(self, names: list[str], path: str) -> None:
        seen: set[str] = set()
        for i, name in enumerate(names):
            if name in seen:
                self.fail(f"{path}[{i}]", "is listed twice", name)
            seen.add(name)

    def placement(self, weights: Mapping[str, float], path: str) -> None:
        for key, weight in weights.items():
            self.location(key, f"{path}.{key}")
            if not math.isfinite(weight):
                self.fail(f"{path}.{key}", "must be a finite number (a share)", weight)
            if weight < 0:
                self.fail(f"{path}.{key}", "must be >= 0 (a share)", weight)
            if weight > MAX_SHARE:
                self.fail(f"{path}.{key}", f"must be at most {MAX_SHARE:g} (shares are "
                          f"relative: 1 and 3 say a quarter and three quarters)", weight)
        if weights and sum(weights.values()) <= 0:
            self.fail(path, "shares must sum to more than 0", dict(weights))

    # the checks, in file order

    def run(self) -> None:
        self.topology()
        self.object_store()
        self.metadata()
        self.workload()
        self.topics()
        self.strategy()
        self.faults()
        self.simulation()
        self.cost()
        self.non_negative(self.s, [])

    def topology(self) -> None:
        for region, suffixes in self.regions.items():
            for i, suffix in enumerate(suffixes):
                zone_id = f"{region}-{suffix}"
                path = f"topology.regions.{region}.zones[{i}]"
                if zone_id in self.zones:
                    other = self.zones[zone_id]
                    self.fail(path, f"gives zone id {zone_id}, which region {other} already "
                              f"has" if other != region else "is listed twice", suffix)
                if zone_id in self.regions:
                    self.fail(path, f"gives zone id {zone_id}, which is also a region id",
                              suffix)
                self.zones[zone_id] = region
        seen: dict[frozenset, int] = {}
        for i, link in enumerate(self.s.topology.links):
            path = f"topology.links[{i}]"
            self.pair(link.between, f"{path}.between")
            key = frozenset(link.between)
            if key in seen:
                self.fail(f"{path}.between", f"duplicates topology.links[{seen[key]}]",
                          list(link.between))
            seen[key] = i
            if link.bandwidth is not None and link.bandwidth <= 0:
                self.fail(f"{path}.bandwidth", "must be > 0 (omit it for unlimited)",
                          link.bandwidth)
            if link.schedule is not None:
                self.link_schedule(link.schedule, f"{path}.schedule")
        self.latencies()
        names: dict[str, int] = {}
        carried: dict[frozenset, str] = {}
        for i, gate in enumerate(self.s.topology.interconnects):
            path = f"topology.interconnects[{i}]"
            if gate.name in names:
                self.fail(f"{path}.name", f"duplicates topology.interconnects[{names[gate.name]}]",
                          gate.name)
            names[gate.name] = i
            if gate.bandwidth <= 0:
                self.fail(f"{path}.bandwidth", "must be > 0", gate.bandwidth)
            for k, pair in enumerate(gate.between):
                where = f"{path}.between[{k}]"
                for region in pair:
                    self.region(region, where)
                if pair[0] == pair[1]:
                    self.fail(where, "must name two different regions", list(pair))
                key = frozenset(pair)
                if key in carried:
                    self.fail(where, f"is already carried by interconnect {carried[key]}",
                              list(pair))
                carried[key] = gate.name

    def latencies(self) -> None:
        """Every pair of regions has a latency: an explicit region link with an rtt, or
        the provider's published median (which a link without an rtt also takes)."""
        topo = self.s.topology
        provider = topo.provider
        explicit = {frozenset(link.between): (i, link) for i, link in enumerate(topo.links)}

        def known(a: str, b: str) -> bool:
            return latency.median_rtt_ms(provider, a, b) is not None

        def advice(a: str, b: str) -> str:
            published = (f"provider {provider} publishes no median for this pair"
                         if provider in latency.PROVIDERS_WITH_MEDIANS
                         else f"provider {provider} publishes no region medians")
            return (f"no latency known between regions {a} and {b} ({published}); "
                    f"give it an rtt in topology.links (between: [{a}, {b}])")

        for i, link in enumerate(topo.links):
            if link.rtt is not None:
                continue
            a, b = (self.zones.get(end, end) for end in link.between)
            if a != b and not known(a, b):
                self.fail(f"topology.links[{i}].rtt", "is required: " + advice(a, b))
        regions = list(self.regions)
        for j, b in enumerate(regions):
            for a in regions[:j]:
                if frozenset((a, b)) in explicit or known(a, b):
                    continue
                self.fail(f"topology.regions.{b}", advice(a, b))

    def link_schedule(self, schedule: Any, path: str) -> None:
        periodic = schedule.every is not None or schedule.up_for is not None
        if schedule.windows and periodic:
            self.fail(f"{path}.windows", "give either windows or every/up_for, not both",
                      [list(w) for w in schedule.windows])
        if not schedule.windows:
            if schedule.every is None or schedule.up_for is None:
                self.fail(path, "needs every and up_for (periodic windows) or windows")
            if schedule.up_for >= schedule.every:
                self.fail(f"{path}.up_for", f"must be < every ({schedule.every:g} s); "
                          f"omit the schedule for an always-up link", schedule.up_for)
            return
        previous = -1.0
        for i, (start, end) in enumerate(schedule.windows):
            if not 0 <= start < end:
                self.fail(f"{path}.windows[{i}]", "must be [start, end] with "
                          "0 <= start < end", [start, end])
            if start <= previous:
                self.fail(f"{path}.windows[{i}]", "must start after the previous window "
                          "ends", [start, end])
            previous = end

    def object_store(self) -> None:
        store = self.s.object_store
        for i, region in enumerate(store.regions):
            self.region(region, f"object_store.regions[{i}]")
        self.no_duplicates(store.regions, "object_store.regions")
        p50, _p999, cap = store.replication.resolved()
        if cap < p50:
            field = "max" if store.replication.max is not None else "p50"
            self.fail(f"object_store.replication.{field}",
                      f"the median delay ({p50:g} s) must not exceed the upper bound "
                      f"({cap:g} s)", getattr(store.replication, field))
        provider = self.s.topology.provider
        if store.service is None:
            name = object_services.default_service(provider, store.kind)
            if name is None:
                self.fail("object_store.service", f"must be set: topology.provider "
                          f"{provider} has no default service for a {store.kind} bucket; "
                          f"expected one of: {', '.join(object_services.service_names())}")
        else:
            name = store.service
            if name not in object_services.service_names():
                self.fail("object_store.service", "unknown service; expected one of: "
                          + ", ".join(object_services.service_names()), name)
        service = object_services.resolve(name).service
        if store.kind not in service.kinds:
            self.fail("object_store.kind", f"{name} offers only {', '.join(service.kinds)} "
                      f"buckets", store.kind)
        if service.zonal and not store.zones:
            self.fail("object_store.zones", f"is required for the zonal service {name}: "
                      f"one zone id per directory bucket")
        if store.zones and not service.zonal:
            self.fail("object_store.zones", f"only zonal services take zones; {name} is "
                      f"regional (omit zones, or use service s3-express-one-zone)",
                      store.zones)
        for i, zone in enumerate(store.zones):
            self.zone(zone, f"object_store.zones[{i}]")
            if self.zones[zone] not in store.regions:
                self.fail(f"object_store.zones[{i}]", f"its region {self.zones[zone]} must "
                          f"be in object_store.regions ({', '.join(store.regions)})", zone)
        self.no_duplicates(store.zones, "object_store.zones")

    def metadata(self) -> None:
        meta = self.s.metadata
        preset = meta.preset
        implicit = "" if "preset" in meta.model_fields_set else " (the default preset)"
        for i, region in enumerate(meta.regions):
            self.region(region, f"metadata.regions[{i}]")
        self.no_duplicates(meta.regions, "metadata.regions")
        needs = {"spanner-multi-region": (3, "exactly 3 regions: two read-write regions, "
                                          "then the witness region"),
                 "spanner-dual-region": (2, "exactly 2 regions"),
                 "spanner-regional": (1, "exactly 1 region"),
                 "dynamodb": (1, "exactly 1 region")}
        if preset in needs:
            count, text = needs[preset]
            if len(meta.regions) != count:
                self.fail("metadata.regions", f"preset {preset}{implicit} needs {text}",
                          list(meta.regions))
        elif preset in ("etcd", "kraft") and not meta.regions:
            self.fail("metadata.regions", f"preset {preset} needs at least 1 region",
                      list(meta.regions))
        if preset == "custom":
            if not meta.voters:
                self.fail("metadata.voters", "preset custom needs at least one voter")
            if meta.regions:
                self.fail("metadata.regions", "is not used by preset custom (place voters "
                          "with metadata.voters)", list(meta.regions))
        elif meta.voters:
            self.fail("metadata.voters", f"is only used by preset custom, not {preset}"
                      f"{implicit}")
        for i, voter in enumerate(meta.voters):
            self.region(voter.region, f"metadata.voters[{i}].region")
            if voter.zone is not None and voter.zone not in self.regions[voter.region]:
                self.fail(f"metadata.voters[{i}].zone",
                          f"must be a zone suffix of region {voter.region} (one of: "
                          f"{', '.join(self.regions[voter.region])})", voter.zone)
        if meta.leader_region is not None:
            self.region(meta.leader_region, "metadata.leader_region")
            allowed = ([v.region for v in meta.voters] if preset == "custom"
                       else list(meta.regions))
            if preset == "spanner-multi-region":
                allowed = allowed[:2]  # the witness region holds no leader-eligible replica
            if meta.leader_region not in allowed:
                self.fail("metadata.leader_region", f"must be one of the regions holding "
                          f"leader-eligible voters ({', '.join(allowed)})", meta.leader_region)

    def _omb_note(self, kind: str) -> str:
        origin = self.origins.get(f"workload.{kind}")
        return f" (value from {origin})" if origin else ""

    def workload(self) -> None:
        wl = self.s.workload
        self.placement(wl.producers, "workload.producers")
        self.placement(wl.consumers, "workload.consumers")
        omb = wl.omb
        if isinstance(omb, OmbWorkload):
            note = self._omb_note("omb")
            if (omb.producerRate <= 0 or wl.max_rate) and omb.consumerBacklogSizeGB > 0:
                self.fail("workload.omb.consumerBacklogSizeGB",
                          "must be 0 in a max-rate run (producerRate 0 or workload.max_rate): "
                          "OMB cannot probe the sustainable rate while building a backlog"
                          + note, omb.consumerBacklogSizeGB)
            if omb.topics * omb.partitionsPerTopic > MAX_PARTITIONS:
                self.fail("workload.omb.partitionsPerTopic",
                          f"topics x partitionsPerTopic must be at most {MAX_PARTITIONS:,} "
                          f"(model bound; here {omb.topics} x {omb.partitionsPerTopic})" + note,
                          omb.partitionsPerTopic)
            for name in ("randomizedPayloadPoolSize", "consumerBacklogSizeGB"):
                value = getattr(omb, name)
                if value < 0:
                    self.fail(f"workload.omb.{name}", "must be >= 0" + note, value)
        if isinstance(wl.driver, OmbDriver):
            driver_file = self.origins.get("workload.driver")
            resolve_producer_config(wl.driver, wl.producer_config, driver_file=driver_file,
                                    scenario_file=self.source)
            for i, topic in enumerate(wl.topics):
                if topic.producer_config:
                    resolve_producer_config(
                        wl.driver, wl.producer_config, driver_file=driver_file,
                        scenario_file=self.source,
                        topic=(f"workload.topics[{i}].producer_config",
                               topic.producer_config))
            consumer = resolve_consumer_config(wl.driver, wl.consumer_config,
                                               driver_file=driver_file,
                                               scenario_file=self.source)
            self.commit_period(consumer)

    def commit_period(self, consumer: Any) -> None:
        """Consumers commit from each poll, at least a same-zone round trip apart: a
        commit period of 0 with a same-zone RTT of 0 would commit endlessly at one
        instant."""
        auto = consumer.enable_auto_commit
        period = consumer.auto_commit_interval if auto else consumer.fetch_max_wait
        if period <= 0 and to_distribution(self.s.topology.same_zone_rtt).median() <= 0:
            key = "auto.commit.interval.ms" if auto else "fetch.max.wait.ms"
            self.fail(f"workload.consumer_config.{key}", "must be above 0 while "
                      "topology.same_zone_rtt is 0 (consumers commit from every poll, and "
                      "a poll would take no time)", 0)

    def topics(self) -> None:
        """Declared topics (``workload.topics``): the run-wide bounds; each strategy's
        checks judge the replication policies."""
        wl = self.s.workload
        if not wl.topics:
            return
        omb = wl.omb
        per_topic = omb.partitionsPerTopic if isinstance(omb, OmbWorkload) else 1
        total = sum(t.partitions or per_topic for t in wl.topics)
        if total > MAX_PARTITIONS:
            self.fail("workload.topics", f"partitions over all topics must be at most "
                      f"{MAX_PARTITIONS:,} (model bound)", total)
        if wl.max_rate or (isinstance(omb, OmbWorkload) and omb.producerRate <= 0):
            self.fail("workload.max_rate", "a max-rate run probes one aggregate rate; with "
                      "workload.topics each topic has its own producerRate", True)

    def strategy(self) -> None:
        """Where brokers go; then the strategy plug-in's own checks."""
        strat = self.s.strategy
        for key, count in strat.brokers.items():
            self.location(key, f"strategy.brokers.{key}")
            if count < 0:
                self.fail(f"strategy.brokers.{key}", "must be >= 0", count)
            if count > MAX_BROKERS:
                self.fail(f"strategy.brokers.{key}", f"must be at most {MAX_BROKERS:,} "
                          "(model bound)", count)
        if strat.brokers and sum(strat.brokers.values()) <= 0:
            self.fail("strategy.brokers", "must place at least one broker", dict(strat.brokers))
        check = plugins.plugin(strat.name).load("checks")
        if check is not None:
            check(self, strat)

    def faults(self) -> None:
        duration = self.s.simulation.duration
        store = self.s.object_store
        for i, fault in enumerate(self.s.faults):
            path = f"faults[{i}]"
            if fault.at >= duration:
                self.fail(f"{path}.at", f"must be < simulation.duration ({duration:g} s): a "
                          f"fault must start while producers run", fault.at)
            if isinstance(fault, RegionOutage | RegionDestruction):
                self.region(fault.region, f"{path}.region")
            elif isinstance(fault, ZoneOutage | ZoneDestruction | ClientCrash | BrokerCrash):
                self.zone(fault.zone, f"{path}.zone")
            elif isinstance(fault, ConnectWorkerCrash):
                self.zone(fault.zone, f"{path}.zone")
                if "connect" not in type(self.s.strategy).model_fields:
                    self.fail(f"{path}.kind", f"needs a strategy that runs Kafka Connect "
                              f"workers (strategy {self.s.strategy.name} runs none)",
                              fault.kind)
            elif isinstance(fault, Partition | Brownout):
                self.pair(fault.between, f"{path}.between")
                if isinstance(fault, Brownout) and fault.bandwidth is not None \
                        and fault.bandwidth <= 0:
                    self.fail(f"{path}.bandwidth", "must be > 0 (use a partition to cut a "
                              "link)", fault.bandwidth)
            elif isinstance(fault, ObjectStoreSlowdown) and fault.region is not None:
                self.region(fault.region, f"{path}.region")
                if fault.region not in store.regions:
                    self.fail(f"{path}.region", f"must be one of object_store.regions "
                              f"({', '.join(store.regions)})", fault.region)
            elif isinstance(fault, SiteFailure) and not hasattr(self.s.strategy, "sites"):
                self.fail(f"{path}.kind", "needs a strategy with edge sites (edge); "
                          f"strategy.name is {self.s.strategy.name}", fault.kind)
            elif isinstance(fault, ReplicationPause) and store.kind == "regional":
                self.fail(f"{path}.kind", "needs a dual-region or multi-region bucket; "
                          "object_store.kind is regional (nothing replicates)", fault.kind)

    def simulation(self) -> None:
        sim = self.s.simulation
        if sim.warmup >= sim.duration:
            self.fail("simulation.warmup", f"must be < simulation.duration "
                      f"({sim.duration:g} s)", sim.warmup)
        bins = sim.end / sim.bin
        if bins > MAX_BINS:
            self.fail("simulation.bin", f"gives {bins:.3g} time-series bins over the run; at "
                      f"most {MAX_BINS:,} (use a bin of at least "
                      f"{sim.end / MAX_BINS:.3g} s)", sim.bin)

    def cost(self) -> None:
        """Prices exist and are non-negative; deployment places exist (geosim.cost)."""
        cost = self.s.cost
        provider = cost.provider or self.s.topology.provider
        for key in cost.prices:
            region = key.partition("@")[2]
            if region:
                self.region(region, f"cost.prices.{key}")
        if provider != "none":
            try:
                check_price_overrides(provider, cost.prices)
            except PriceError as exc:
                value = NO_VALUE if exc.value is None else exc.value
                self.fail(exc.path, exc.expected, value)
        elif cost.prices:
            self.fail("cost.provider", "must be set (gcp, aws or azure) to price "
                      "cost.prices: topology.provider is none")
        for i, group in enumerate(cost.deployment.instances):
            path = f"cost.deployment.instances[{i}]"
            for where, count in group.count.items():
                self.location(where, f"{path}.count.{where}")
                if count < 0:
                    self.fail(f"{path}.count.{where}", "must be >= 0", count)
            if (group.disk_type is None) != (group.disk_size is None):
                self.fail(f"{path}.disk_size" if group.disk_size is None
                          else f"{path}.disk_type", "disk_type and disk_size go together")

    def non_negative(self, model: BaseModel, parts: list[str | int]) -> None:
        """No duration, size or rate anywhere may be negative or NaN (YAML's ``.nan``)."""
        for name, info in type(model).model_fields.items():
            value = getattr(model, name)
            here = [*parts, name]
            if _has_unit(info):
                items = value if isinstance(value, list) else [value]
                for j, item in enumerate(items):
                    where = [*here, j] if isinstance(value, list) else here
                    if isinstance(item, float) and math.isnan(item):
                        self.fail(format_path(where), "must be a number", item)
                    if isinstance(item, int | float) and item < 0:
                        self.fail(format_path(where), "must be >= 0", item)
            if isinstance(value, BaseModel):
                self.non_negative(value, here)
            elif isinstance(value, list):
                for j, item in enumerate(value):
                    if isinstance(item, BaseModel):
                        self.non_negative(item, [*here, j])
            elif isinstance(value, dict):
                for key, item in value.items():
                    if isinstance(item, BaseModel):
                        self.non_negative(item, [*here, key])


def check_scenario(scenario: Scenario, *, source: str = INLINE,
                   origins: Mapping[str, str] | None = None) -> None:
    """Cross-field checks the schema cannot express; raises the first ScenarioError.

    Every region and zone named anywhere exists; placements are valid shares; metadata
    presets have the regions they need; faults start while producers run; the diskless
    strategy plug-in's own checks pass; the OMB rate is fixed and the Kafka client settings
    resolve; no duration, size or rate is negative. ``origins`` maps ``workload.omb`` /
    ``workload.driver`` to the file they were read from, for messages.
    """
    Checker(scenario, source, origins or {}).run()

