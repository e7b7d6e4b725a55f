"""Scenario-time checks of the edge strategy's block: the central cluster's region,
the templates' regions, site names, configs and schedules, and the site failures."""

from __future__ import annotations

from geosim.scenario.checks import Checker
from geosim.scenario.fault_specs import SiteFailure
from geosim.scenario.kafka_keys import BadKafkaValue, UnknownKafkaKey
from geosim.strategies.edge.config import KEYS, resolve_fetch, resolve_site_config
from geosim.strategies.edge.fleet import site_names
from geosim.strategies.edge.model import central_region
from geosim.strategies.edge.spec import MAX_SITES, EdgeSpec

#: Most sites in one fleet (all templates): the summary lists every site.
MAX_FLEET = 10 * MAX_SITES


def check(checker: Checker, spec: EdgeSpec) -> None:
    """The central region has the brokers; each template's region exists and differs
    from it; site names are unique; configs resolve; failures name sites."""
    regions = list(checker.regions)
    if checker.scenario.workload.topics:
        checker.fail("workload.topics", "is not used by the edge strategy: each site "
                     "template carries its own load (strategy.sites[].producer_rate, "
                     "message_size, partitions)",
                     [t.name for t in checker.scenario.workload.topics])
    if not spec.brokers:
        checker.fail("strategy.brokers", "must place the central cluster's brokers "
                     "(e.g. {eu-west1: 6})")
    placed = set()
    for key in spec.brokers:
        kind = checker.location(key, f"strategy.brokers.{key}")
        placed.add(key if kind == "region" else checker.zones[key])
    if spec.central is not None:
        checker.region(spec.central, "strategy.central")
    elif len(placed) > 1:
        checker.fail("strategy.central", f"must name the central region: strategy.brokers "
                     f"places brokers in {len(placed)} regions ({', '.join(sorted(placed))})")
    central = central_region(spec, regions)
    if central not in placed:
        checker.fail("strategy.central", f"must be a region of strategy.brokers "
                     f"({', '.join(sorted(placed))})", central)
    try:
        resolve_fetch(spec.replication, spec.mirror_config)
    except UnknownKafkaKey as exc:
        checker.fail(f"strategy.mirror_config.{exc.key}",
                     f"unknown {spec.replication} fetch setting")
    except BadKafkaValue as exc:
        checker.fail(f"strategy.mirror_config.{exc.key}", exc.expected, exc.raw)
    names: dict[str, int] = {}
    sites: set[str] = set()
    for i, template in enumerate(spec.sites):
        path = f"strategy.sites[{i}]"
        if template.name in names:
            checker.fail(f"{path}.name", f"must be unique (strategy.sites"
                         f"[{names[template.name]}] has it too)", template.name)
        names[template.name] = i
        checker.region(template.region, f"{path}.region")
        if template.region == central:
            checker.fail(f"{path}.region", f"must differ from the central region "
                         f"({central}): uplink bytes are counted between the two",
                         template.region)
        rf = template.replication_factor
        if rf is not None and rf > template.brokers:
            checker.fail(f"{path}.replication_factor", f"must be <= brokers "
                         f"({template.brokers})", rf)
        if template.min_insync_replicas > (rf or min(template.brokers, 3)):
            checker.fail(f"{path}.min_insync_replicas", "must be <= the replication "
                         f"factor ({rf or min(template.brokers, 3)})",
                         template.min_insync_replicas)
        try:
            resolve_site_config(template.config)
        except UnknownKafkaKey as exc:
            checker.fail(f"{path}.config.{exc.key}", "unknown site config; expected one "
                         f"of: {', '.join(k.name for k in KEYS)}")
        except BadKafkaValue as exc:
            checker.fail(f"{path}.config.{exc.key}", exc.expected, exc.raw)
        if template.uplink.schedule is not None:
            checker.link_schedule(template.uplink.schedule, f"{path}.uplink.schedule")
        sites.update(site_names(template))
    if len(sites) > MAX_FLEET:
        checker.fail("strategy.sites", f"must hold at most {MAX_FLEET:,} sites in all",
                     len(sites))
    for i, fault in enumerate(checker.scenario.faults):
        if isinstance(fault, SiteFailure) and fault.site not in sites:
            example = sorted(sites)[:3]
            checker.fail(f"faults[{i}].site", f"unknown site; expected <template>-<i> "
                         f"(e.g. {', '.join(example)})", fault.site)
        if fault.kind in ("broker-crash", "unclean-election"):
            checker.fail(f"faults[{i}].kind", "does not apply to the edge strategy (use "
                         "site-failure)", fault.kind)


__all__ = ["check"]
