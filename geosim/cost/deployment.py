"""The deployment to bill: the scenario's ``cost.deployment`` with its defaults resolved.

Defaults come from the scenario where the simulation decides them: the ``brokers``
instance group counts the simulated brokers (``strategy.brokers`` as placed by the
workload), the bucket is ``object_store.kind`` over ``object_store.regions``, its
service is ``object_store.service`` (or the provider's default for that kind), and the
Spanner configuration follows ``metadata.preset``. Counts given per zone are billed in
the zone's region.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from geosim.scenario import object_services
from geosim.scenario.schema import CostSpec, InstanceGroupSpec, Scenario


@dataclass(frozen=True)
class InstanceGroup:
    name: str
    type: str
    count_by_region: dict[str, int]
    tier1_networking: bool = False
    disk_type: str | None = None
    disk_bytes: int = 0

    @property
    def count(self) -> int:
        return sum(self.count_by_region.values())


@dataclass(frozen=True)
class Deployment:
    """Everything the bill needs besides prices and measured usage."""

    provider: str
    zone_region: dict[str, str]
    commitment: str = "on_demand"
    instances: list[InstanceGroup] = field(default_factory=list)
    retention: float = 7 * 86400.0
    storage_class: str = "standard"
    bucket_kind: str = "multi-region"
    bucket_regions: tuple[str, ...] = ()
    tiered_storage: bool = False
    spanner_config: str | None = None  # "multi-region" | "regional"
    spanner_nodes: int = 0
    managed_metadata: bool = False
    licence: str | None = None
    #: The object-store service (``object_services`` preset name), when known: request
    #: and per-GB transfer prices are looked up under it first.
    object_service: str | None = None
    #: The service keeps one bucket per zone (S3 Express One Zone directory buckets).
    zonal_bucket: bool = False
    metadata_preset: str | None = None


def _by_region(counts: Mapping[str, int], zone_region: Mapping[str, str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for where, count in counts.items():
        region = zone_region.get(where, where)
        out[region] = out.get(region, 0) + int(count)
    return dict(sorted(out.items()))


def build_deployment(cost: CostSpec, *, provider: str, regions: Mapping[str, Iterable[str]],
                     bucket_kind: str, bucket_regions: Iterable[str], metadata_preset: str,
                     broker_counts: Mapping[str, int] | None = None,
                     object_service: str | None = None,
                     strategy_instances: Iterable[InstanceGroupSpec] = (),
                     ) -> Deployment | None:
    """The deployment described by ``cost`` in a world of ``regions`` (region -> zone
    suffixes); None when ``cost.provider`` and ``provider`` (the topology's) name no
    price book. ``broker_counts`` (by zone or region) is the simulated broker placement,
    the default count of an instance group named ``brokers``. ``object_service``: the
    object-store preset; default the topology provider's for ``bucket_kind``.
    ``strategy_instances``: groups the strategy runs besides brokers (Connect workers),
    billed unless ``cost.deployment.instances`` has a group of the same name.
    """
    provider = cost.provider or provider
    if provider not in ("gcp", "aws", "azure"):
        return None
    zone_region = {f"{region}-{zone}": region for region, zones in regions.items()
                   for zone in zones}
    zone_region.update({region: region for region in regions})
    spec = cost.deployment
    if object_service is None:
        object_service = object_services.default_service(provider, bucket_kind)
    zonal = (object_service in object_services.service_names()
             and object_services.resolve(object_service).service.zonal)
    groups = []
    named = {group.name for group in spec.instances}
    for group in [*spec.instances,
                  *(g for g in strategy_instances if g.name not in named)]:
        counts = dict(group.count)
        if not counts and group.name == "brokers":
            counts = dict(broker_counts or {})
        groups.append(InstanceGroup(
            name=group.name, type=group.type, count_by_region=_by_region(counts, zone_region),
            tier1_networking=group.tier1_networking, disk_type=group.disk_type,
            disk_bytes=int(group.disk_size or 0)))
    spanner_config = None
    if spec.spanner_nodes:
        spanner_config = {"spanner-multi-region": "multi-region",
                          "spanner-dual-region": "dual-region"}.get(metadata_preset, "regional")
    return Deployment(
        provider=provider, zone_region=zone_region, commitment=spec.commitment,
        instances=groups, retention=spec.retention, storage_class=spec.storage_class,
        bucket_kind=spec.bucket or bucket_kind, bucket_regions=tuple(bucket_regions),
        tiered_storage=spec.tiered_storage, spanner_config=spanner_config,
        spanner_nodes=spec.spanner_nodes or 0,
        managed_metadata=metadata_preset.startswith("spanner") or metadata_preset == "dynamodb",
        licence=spec.licence, object_service=object_service, zonal_bucket=zonal,
        metadata_preset=metadata_preset)


def resolve_deployment(scenario: Scenario, *,
                       broker_counts: Mapping[str, int] | None = None) -> Deployment | None:
    """The deployment of ``scenario`` (see :func:`build_deployment`)."""
    return build_deployment(
        scenario.cost, provider=scenario.topology.provider,
        regions={r: spec.zones for r, spec in scenario.topology.regions.items()},
        bucket_kind=scenario.object_store.kind, bucket_regions=scenario.object_store.regions,
        metadata_preset=scenario.metadata.preset, broker_counts=broker_counts,
        object_service=scenario.object_store.service
        or object_services.default_service(scenario.topology.provider,
                                           scenario.object_store.kind),
        strategy_instances=scenario.strategy.billed_instances(
            scenario.cost.provider or scenario.topology.provider,
            list(scenario.topology.regions)))
