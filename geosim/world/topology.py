"""Regions and zones as a networkx graph whose edges carry link properties.

Nodes are zone ids (``us-west1-a``) and region ids (``us-west1``). A region node stands
for the region's managed services (object storage, the metadata store's replicas are
placed in zones): traffic between a zone and its own region's node stays inside the
region and is not inter-zone traffic.

Every pair of nodes resolves to one :class:`Link`: an explicit link from the scenario if
there is one (zone pairs first, then region pairs), else the provider's published median
for the region pair with the scenario's tail assumption, else the intra-region defaults.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from geosim.core.distributions import Distribution, LogNormal
from geosim.scenario import latency, schema
from geosim.scenario.sections import to_distribution


@dataclass(frozen=True)
class Link:
    """Properties of the path between two nodes (symmetric unless overridden per direction).

    ``rtt`` is a round-trip distribution; a message's one-way delay is half a draw.
    ``bandwidth`` in bytes/s (None: unlimited) and ``loss`` probability.
    """

    rtt: Distribution
    bandwidth: float | None = None
    loss: float = 0.0
    kind: str = "wan"  # "zone" (same zone), "region" (inter-zone), "wan" (inter-region)


class Topology:
    """The validated topology of a scenario."""

    def __init__(self, spec: schema.TopologySpec):
        self.spec = spec
        self.graph = nx.Graph()
        self.zone_region: dict[str, str] = {}
        for region, rspec in spec.regions.items():
            self.graph.add_node(region, kind="region")
            self.zone_region[region] = region
            for suffix in rspec.zones:
                zone = f"{region}-{suffix}"
                self.graph.add_node(zone, kind="zone", region=region)
                self.graph.add_edge(zone, region, link=self._intra(zone, region))
                self.zone_region[zone] = region
        explicit = {frozenset(link.between): link for link in spec.links}
        self._explicit = explicit
        regions = list(spec.regions)
        for i, a in enumerate(regions):
            for b in regions[i + 1:]:
                self.graph.add_edge(a, b, link=self._region_link(a, b))
        self._cache: dict[tuple[str, str], Link] = {}

    # --- queries -------------------------------------------------------------------
    @property
    def regions(self) -> list[str]:
        return list(self.spec.regions)

    def zones(self, region: str | None = None) -> list[str]:
        return [n for n, r in self.zone_region.items()
                if n != r and (region is None or r == region)]

    def region_of(self, node: str) -> str:
        return self.zone_region[node]

    def link(self, a: str, b: str) -> Link:
        """The link between two nodes (zones or regions), cached."""
        key = (a, b)
        link = self._cache.get(key)
        if link is None:
            link = self._resolve(a, b)
            self._cache[key] = self._cache[(b, a)] = link
        return link

    def median_rtt(self, a: str, b: str) -> float:
        return self.link(a, b).rtt.median()

    # --- resolution -------------------------------------------------------------------
    def _resolve(self, a: str, b: str) -> Link:
        explicit = self._explicit.get(frozenset((a, b)))
        if explicit is not None and a != b:
            return self._from_spec(explicit, "wan" if self.region_of(a) != self.region_of(b)
                                   else "region")
        ra, rb = self.region_of(a), self.region_of(b)
        if ra != rb:
            return self.graph.edges[ra, rb]["link"]
        return self._intra(a, b)

    def _intra(self, a: str, b: str) -> Link:
        if a == b:
            return Link(to_distribution(self.spec.same_zone_rtt), kind="zone")
        return Link(to_distribution(self.spec.inter_zone_rtt), kind="region")

    def _region_link(self, a: str, b: str) -> Link:
        explicit = self._explicit.get(frozenset((a, b)))
        if explicit is not None:
            return self._from_spec(explicit, "wan")
        return self._preset_link(a, b)

    def _preset_link(self, a: str, b: str) -> Link:
        median_ms = latency.median_rtt_ms(self.spec.provider, a, b)
        if median_ms is None:
            raise ValueError(
                f"topology.links: no latency known between {a} and {b} for provider "
                f"{self.spec.provider!r}; add a link with 'between: [{a}, {b}]' and an rtt")
        p50 = median_ms / 1e3
        return Link(LogNormal(p50, p50 * self.spec.wan_p99_over_p50), kind="wan")

    def _from_spec(self, spec: schema.LinkSpec, kind: str) -> Link:
        if spec.rtt is not None:
            rtt = to_distribution(spec.rtt)
        else:
            a, b = spec.between
            base = self._preset_link(self.region_of(a), self.region_of(b)) if kind == "wan" \
                else self._intra(a, b)
            rtt = base.rtt
        return Link(rtt, spec.bandwidth, spec.loss, kind)
