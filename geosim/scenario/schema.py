"""The scenario schema: :class:`Scenario`, assembled from its sections and the strategy
plug-ins.

The sections (topology, storage, metadata, workload, faults, simulation, cost) are in
:mod:`geosim.scenario.sections`; the ``strategy:`` block is the union of the registered
plug-ins' spec models (:mod:`geosim.scenario.plugins`), discriminated by ``name``, and is
rebuilt when a plug-in is registered at run time. Together they are the single
description of what a scenario may say; ``docs/scenario-reference.md`` is generated from
them by ``python -m geosim.scenario.reference``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Union

from pydantic import Field

from geosim.scenario import plugins
from geosim.scenario.fault_specs import (
    BrokerCrash,
    Brownout,
    ClientCrash,
    ConnectWorkerCrash,
    FaultSpec,
    MetadataLoss,
    ObjectStoreSlowdown,
    Partition,
    RegionDestruction,
    RegionOutage,
    ReplicationPause,
    SiteFailure,
    UncleanElection,
    ZoneDestruction,
    ZoneOutage,
)
from geosim.scenario.sections import (
    INF,
    ConstantDist,
    CostSpec,
    DeploymentSpec,
    DistSpec,
    EmpiricalDist,
    InstanceGroupSpec,
    LinkSpec,
    LogNormalDist,
    MetadataSpec,
    Model,
    NormalDist,
    ObjectStoreSpec,
    RegionSpec,
    ReplicationSpec,
    SimulationSpec,
    StrategySpecBase,
    TopologySpec,
    VoterSpec,
    const,
    lognormal,
)
from geosim.scenario.types import described
from geosim.scenario.workload_specs import (
    OmbDriver,
    OmbWorkload,
    Placement,
    TopicSpec,
    WorkloadSpec,
)


def _specs() -> tuple:
    """The registered plug-ins' spec models."""
    specs = tuple(p.spec for p in plugins.plugins().values())
    if not specs:
        raise RuntimeError("no strategy plug-in is installed (entry-point group "
                           f"{plugins.ENTRY_POINT_GROUP}); reinstall geosim")
    return specs


def strategy_union() -> Any:
    """The annotation of ``Scenario.strategy``: the registered specs by ``name``."""
    specs = _specs()
    if len(specs) == 1:
        return specs[0]
    return Annotated[Union[specs], Field(discriminator="name")]  # noqa: UP007


if TYPE_CHECKING:  # statically, a strategy block is what every plug-in's spec derives from
    StrategySpec = StrategySpecBase
else:
    StrategySpec = strategy_union()


class Scenario(Model):
    """A complete scenario: topology, storage, metadata, workload, strategy, faults."""

    name: str = described(..., "Scenario name; results go to `results/<name>/seed-<n>/`.",
                          pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    topology: TopologySpec
    object_store: ObjectStoreSpec
    metadata: MetadataSpec = MetadataSpec()
    workload: WorkloadSpec
    strategy: StrategySpec
    faults: list[FaultSpec] = described([], "The fault timeline.")
    simulation: SimulationSpec = SimulationSpec()
    cost: CostSpec = described(CostSpec(), "Prices and deployment for the monthly bill.")

    @property
    def end_of_faults(self) -> float:
        end = 0.0
        for fault in self.faults:
            end = max(end, fault.at + (getattr(fault, "duration", 0.0) or 0.0))
        return end

    def zone_ids(self) -> list[str]:
        return [f"{r}-{z}" for r, spec in self.topology.regions.items() for z in spec.zones]


def _rebuild() -> None:
    """A plug-in was registered or removed: the strategy union follows."""
    global StrategySpec
    StrategySpec = strategy_union()
    specs = _specs()
    info = Scenario.model_fields["strategy"]
    # A typing form, not a class: pydantic declares FieldInfo.annotation as type[Any].
    annotation: Any = Union[specs] if len(specs) > 1 else specs[0]  # noqa: UP007
    info.annotation = annotation
    info.discriminator = "name" if len(specs) > 1 else None
    Scenario.model_rebuild(force=True)


plugins.on_change(_rebuild)

__all__ = [
    "Model",
    "ConstantDist",
    "NormalDist",
    "LogNormalDist",
    "EmpiricalDist",
    "DistSpec",
    "const",
    "lognormal",
    "RegionSpec",
    "LinkSpec",
    "TopologySpec",
    "ReplicationSpec",
    "ObjectStoreSpec",
    "VoterSpec",
    "MetadataSpec",
    "OmbWorkload",
    "OmbDriver",
    "Placement",
    "WorkloadSpec",
    "TopicSpec",
    "StrategySpecBase",
    "RegionOutage",
    "RegionDestruction",
    "ZoneOutage",
    "ZoneDestruction",
    "Partition",
    "Brownout",
    "ObjectStoreSlowdown",
    "ReplicationPause",
    "MetadataLoss",
    "ClientCrash",
    "BrokerCrash",
    "ConnectWorkerCrash",
    "UncleanElection",
    "SiteFailure",
    "FaultSpec",
    "SimulationSpec",
    "InstanceGroupSpec",
    "DeploymentSpec",
    "CostSpec",
    "INF",
    "Scenario", "StrategySpec", "strategy_union",
]
