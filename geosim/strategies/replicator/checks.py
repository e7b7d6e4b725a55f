"""Scenario-time checks of the replicator strategy's block: those of independent Kafka
clusters linked by flows, with Replicator's connector configs, then its Connect workers'
configs and the topologies the model's loop prevention covers
(:mod:`geosim.strategies.replicator.config`)."""

from __future__ import annotations

from geosim.kafka.checks import check_cross_cluster
from geosim.scenario.checks import Checker
from geosim.scenario.kafka_keys import BadKafkaValue, UnknownKafkaKey, resolve_keys
from geosim.scenario.schema import ConnectWorkerCrash
from geosim.strategies.replicator.config import CONNECT_KEYS, KEYS, mirror_config, resolved
from geosim.strategies.replicator.spec import ReplicatorSpec


def check(checker: Checker, spec: ReplicatorSpec) -> None:
    """The worker configs, the cross-cluster checks (resolving the connector configs
    keeps them for the build), then kept topic names: an active-active pair needs
    ``provenance.header.enable`` (else every record loops forever), and a flow whose
    source receives copies from a third cluster would forward copies of copies, which
    the model does not follow."""
    try:
        resolve_keys(CONNECT_KEYS, [spec.connect.config])
    except UnknownKafkaKey as exc:
        known = ", ".join(sorted(k.name for k in CONNECT_KEYS))
        checker.fail(f"strategy.connect.config.{exc.key}", f"is not a modelled Connect "
                     f"worker config (known: {known})", spec.connect.config[exc.key])
    except BadKafkaValue as exc:
        checker.fail(f"strategy.connect.config.{exc.key}", exc.expected, exc.raw)
    check_cross_cluster(checker, spec, KEYS, mirror_config)
    _check_worker_faults(checker, spec)
    mirror, settings = resolved(spec)
    if not mirror.keep_topic_names:
        return
    pairs = spec.flow_pairs(list(checker.scenario.topology.regions))
    flows = set(pairs)
    for source, target in pairs:
        if (target, source) in flows and not settings.provenance_headers:
            checker.fail("strategy.mirror_config.provenance.header.enable",
                         f"must be true when flows run both ways ({source} <-> {target}) "
                         "with kept topic names (topic.rename.format ${topic}): without "
                         "provenance headers every record is copied back and forth forever",
                         spec.mirror_config.get("provenance.header.enable", False))
        third = sorted(s for s, t in flows if t == source and s != target)
        if third:
            checker.fail("strategy.mirror_config.topic.rename.format",
                         f"a flow {source} -> {target} whose source also receives from "
                         f"{', '.join(third)} would forward copies of copies with kept "
                         "topic names, which geosim does not model; rename the topics "
                         "(e.g. ${topic}.replica) or use at most two clusters both ways",
                         spec.mirror_config.get("topic.rename.format", "${topic}"))


def _check_worker_faults(checker: Checker, spec: ReplicatorSpec) -> None:
    """A ``connect-worker-crash`` must hit a zone with that many workers."""
    topology = checker.scenario.topology
    hosts = spec.connect_regions(list(topology.regions))
    workers = spec.worker_zones({r: [f"{r}-{z}" for z in reg.zones]
                                 for r, reg in topology.regions.items()})
    for i, fault in enumerate(checker.scenario.faults):
        if not isinstance(fault, ConnectWorkerCrash):
            continue
        region = next((r for r, reg in topology.regions.items()
                       if fault.zone in {f"{r}-{z}" for z in reg.zones}), None)
        if region not in hosts:
            checker.fail(f"faults[{i}].zone", f"must be a zone of a region that runs a "
                         f"Connect cluster ({', '.join(hosts)})", fault.zone)
        here = workers.get(fault.zone, 0)
        if fault.count > here:
            checker.fail(f"faults[{i}].count", f"must be <= the Connect workers in "
                         f"{fault.zone} ({here} of connect.workers {spec.connect.workers})",
                         fault.count)


__all__ = ["check"]
