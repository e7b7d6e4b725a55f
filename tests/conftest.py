"""Shared fixtures: a context, a tiny three-region GCP topology and its network.

The topology is GCP's us-west1 / us-west2 / us-west3 (published median RTTs 24, 30 and
13 ms, figures.md N1-N3), three zones each, with the schema's default intra-region and
tail assumptions. ``constant_world`` builds the same regions with constant RTTs, for
tests whose oracle is an exact latency rather than a distribution.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from geosim.core.context import Context
from geosim.scenario import schema
from geosim.testing.profiles import load_profile
from geosim.world.network import Network
from geosim.world.topology import Topology

REGIONS = ("us-west1", "us-west2", "us-west3")
ZONES = ("a", "b", "c")
SEED = 20240601

# Constant RTTs (seconds) of the constant-latency variant of the topology.
CONST_RTT = {
    "same_zone": 0.0002,
    "inter_zone": 0.001,
    ("us-west1", "us-west2"): 0.024,
    ("us-west1", "us-west3"): 0.030,
    ("us-west2", "us-west3"): 0.013,
}


def _topology_spec(**overrides) -> schema.TopologySpec:
    """The tiny GCP topology, with optional top-level field overrides."""
    data = {
        "provider": "gcp",
        "regions": {region: {"zones": list(ZONES)} for region in REGIONS},
    }
    data.update(overrides)
    return schema.TopologySpec.model_validate(data)


def _constant_topology_spec(extra_links: list[dict] | tuple = (),
                            **overrides) -> schema.TopologySpec:
    """The same regions with constant RTTs everywhere (see ``CONST_RTT``).

    ``extra_links`` are appended to the constant region links; one naming a pair that
    is already there replaces it.
    """
    links = [{"between": list(pair), "rtt": {"dist": "constant", "value": rtt}}
             for pair, rtt in CONST_RTT.items() if isinstance(pair, tuple)]
    links += list(extra_links)
    data = {
        "same_zone_rtt": {"dist": "constant", "value": CONST_RTT["same_zone"]},
        "inter_zone_rtt": {"dist": "constant", "value": CONST_RTT["inter_zone"]},
        "links": links,
        # exact component timings: the TCP window bound is tested on its own
        "tcp_window": None,
    }
    data.update(overrides)
    return _topology_spec(**data)


@pytest.fixture
def topology_spec() -> Callable[..., schema.TopologySpec]:
    """Factory of the tiny GCP topology spec, with top-level field overrides."""
    return _topology_spec


@pytest.fixture
def constant_topology_spec() -> Callable[..., schema.TopologySpec]:
    """Factory of the constant-RTT variant (``CONST_RTT``), with overrides."""
    return _constant_topology_spec


@pytest.fixture
def const_rtt() -> dict:
    return dict(CONST_RTT)


@pytest.fixture
def ctx() -> Context:
    return Context(seed=SEED)


@pytest.fixture
def topology() -> Topology:
    return Topology(_topology_spec())


@pytest.fixture
def network(ctx: Context, topology: Topology) -> Network:
    return Network(ctx, topology)


@pytest.fixture
def make_network() -> Callable[..., Network]:
    """Factory: a fresh context and network over a given topology spec (default: GCP)."""
    def build(spec: schema.TopologySpec | None = None, seed: int = SEED) -> Network:
        return Network(Context(seed=seed), Topology(spec or _topology_spec()))
    return build


@pytest.fixture
def constant_network(make_network) -> Network:
    return make_network(_constant_topology_spec())


# Hypothesis profiles of geosim.testing: geosim-ci unless GEOSIM_PROFILE or pytest's
# --hypothesis-profile says otherwise.
load_profile()
