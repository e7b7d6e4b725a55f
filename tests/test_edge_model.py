"""The edge strategy's model (geosim/strategies/edge/model.py) at unit level: a class's
uplink schedule, its retry after a cut, its byte counting, its process's end, and the
strategy's wiring of one class, each against hand-derived values."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import simpy
from test_edge import edge, scenario, site

from geosim.runner import build
from geosim.scenario.loader import scenario_from_dict
from geosim.scenario.seed import settle_seed
from geosim.strategies.edge.model import _Class, central_region
from geosim.strategies.edge.uplink import DOWN, LinkNow

UP = LinkNow("up", 0.1, 1000.0, 100)
TIMEOUT = 5.0            # the stand-in's consumer.request.timeout.ms, in seconds


class StubFluid:
    """Records what the class asks of its fluid; copies the queued byte counts."""

    def __init__(self, copies=()):
        self.copies = list(copies)
        self.link = DOWN
        self.calls: list[str] = []

    def advance(self, t):
        self.calls.append("advance")

    def rebuild(self):
        self.calls.append("rebuild")

    def set_link(self, link):
        self.link = link

    def is_check_time(self):
        return False

    def take_copied(self):
        return self.copies.pop(0) if self.copies else 0.0

    def next_change(self):
        return math.inf

    def snapshot(self):
        return dict.fromkeys(("alive", "caught_up", "backlog", "backlog_rate", "newest",
                              "newest_rate", "replicated", "throughput",
                              "lost_retention", "lost_failure", "copy_rate"), 0)


class Owner:
    """The few parts of an EdgeStrategy a class reads: clock, network, recorder."""

    def __init__(self, end: float = math.inf):
        self.env = simpy.Environment()
        self.end = end
        self.central_down = False
        self.central_zone = "hub-a"
        self.fetch = SimpleNamespace(request_timeout=TIMEOUT)
        self.counted: list[int] = []
        self.emitted: list[float] = []
        network = SimpleNamespace(count=lambda src, dst, purpose, size:
                                  self.counted.append(size))
        recorder = SimpleNamespace(emit=lambda event: self.emitted.append(event.t))
        self.world = SimpleNamespace(
            topology=SimpleNamespace(zones=lambda region: [f"{region}-a"]),
            network=network, ctx=SimpleNamespace(recorder=recorder))


def make(windows=(), sites=("s-1",), fluid=None, end: float = math.inf) -> _Class:
    return _Class(Owner(end), 0, SimpleNamespace(region="edge"), tuple(sites),
                  fluid or StubFluid(), list(windows), UP, DOWN, 1000.0, 4000.0)


@pytest.mark.parametrize(("t", "expected"), [
    (-1.0, 0.0),        # before the first window: its start
    (5.0, 10.0),        # inside [0, 10): its end
    (10.0, 20.0),       # at an end (the window is over): the next start, not 10 again
    (30.0, math.inf),   # after the last window: none
])
def test_next_transition(t, expected):
    assert make([(0.0, 10.0), (20.0, 30.0)]).next_transition(t) == expected


@pytest.mark.parametrize(("now", "moves", "resume_at"), [
    (4.0, False, 5.0),           # before the first retry (5 s after the cut at 0): held
    (5.0, True, math.inf),       # exactly at the retry: back
    (5.0 - 1e-9, True, math.inf),  # within the 1 ns tolerance of the retry: back
    (7.0, False, 10.0),          # past it, the next retry is the second, at 10 s
])
def test_reconnected_waits_for_the_next_retry(now, moves, resume_at):
    cls = make()
    cls.down_since = 0.0
    link = cls.reconnected(UP, now)
    assert (link.moves, cls.resume_at) == (moves, resume_at)
    assert cls.down_since == (None if moves else 0.0)


@pytest.mark.parametrize(("sites", "copies", "counted"), [
    (1, [2.5], [2]),          # whole bytes counted, half a byte carried
    (2, [0.5], [1]),          # 0.5 bytes per site x 2 sites = 1 byte
    (1, [0.5, 0.5], [0, 1]),  # the carried half plus the next half make one byte
    (1, [0.0], []),           # nothing copied: no count at all
])
def test_step_counts_whole_bytes_times_sites(sites, copies, counted):
    cls = make(sites=[f"s-{i}" for i in range(sites)], fluid=StubFluid(copies))
    for _ in copies:
        cls.step()
    assert cls.owner.counted == counted


def test_step_rebuilds_when_due_now():
    """A rebuild due at the current instant (0) is applied by that step."""
    fluid = StubFluid()
    cls = make(fluid=fluid)
    cls.rebuild_at = 0.0
    cls.step()
    assert (fluid.calls, cls.rebuild_at) == (["advance", "rebuild"], math.inf)


def test_run_steps_once_at_the_end():
    """Nothing changes before the end (10 s): one state at 10, none after."""
    cls = make(end=10.0)
    env = cls.owner.env
    env.process(cls.run())
    env.run()
    assert cls.owner.emitted == [10.0]


def test_poke_after_the_process_ended_only_steps():
    """The process has returned (end 0): a poke emits one state, interrupting nothing."""
    cls = make(end=0.0)
    env = cls.owner.env
    cls.process = env.process(cls.run())
    env.run()
    cls.poke()
    assert cls.owner.emitted == [0.0]


def built(ratio: float = 1.0, brokers: int = 1, count: int = 1, windows=None):
    uplink = {"rtt": {"dist": "constant", "value": 0.1}, "bandwidth": 1_000_000,
              "schedule": {"windows": windows or [[0, 15], [35, 1000]]}}
    data = scenario(edge(site(brokers=brokers, count=count, uplink=uplink)))
    data["workload"]["compression_ratio"] = ratio
    sc = scenario_from_dict(data)
    return build(sc, settle_seed(sc))[2]


def test_wiring_of_one_class():
    """Central zone: the first of hub's a, b, c. Record bytes: 1,000 / ratio 2. Fetch
    budget: one task x 2 brokers x fetch.max.bytes 52,428,800 (50 MiB)."""
    strategy = built(ratio=2.0, brokers=2)
    cls = strategy.classes[0]
    assert (strategy.central_zone, cls.record_bytes, cls.up.budget) == \
        ("hub-a", 500.0, 2 * 52_428_800)


@pytest.mark.parametrize(("brokers", "rf"), [(2, 2), (5, 3)])
def test_default_replication_factor_is_brokers_up_to_three(brokers, rf):
    assert built(brokers=brokers).classes[0].fluid.replication_factor == rf


def test_start_outside_a_window_is_a_cut_at_zero():
    """The only window opens at 0.5 s: at 0 the uplink is down, cut since 0."""
    strategy = built(windows=[[0.5, 20]])
    strategy.start()
    cls = strategy.classes[0]
    assert (cls.fluid.link.state, cls.down_since) == ("down", 0.0)


@pytest.mark.parametrize(("up", "kwargs", "out", "alive"), [
    (False, {}, True, True),                   # an outage stops the sites, data kept
    (False, {"destroyed": True}, True, False),  # a destruction loses their brokers
    (True, {}, False, True),                   # back up: running, nothing lost
])
def test_site_zone_state(up, kwargs, out, alive):
    strategy = built()
    strategy.zone_state("edge-a", up, **kwargs)
    fluid = strategy.classes[0].fluid
    assert (fluid.out, fluid.alive) == (out, alive)


def test_site_failure_splits_a_class_of_two():
    """Destroying s-1 of a class {s-1, s-2}: s-1 becomes a class of its own, dead; s-2
    keeps the original class, alive."""
    strategy = built(count=2)
    strategy.start()
    strategy.site_failure("s-1", None, False)
    assert [(c.sites, c.fluid.alive) for c in strategy.classes] == \
        [(("s-2",), True), (("s-1",), False)]


@pytest.mark.parametrize(("central", "brokers", "expected"), [
    ("us-east1", {"eu-west1": 3}, "us-east1"),   # strategy.central wins
    # a zone key counts as its region; of several regions, the alphabetically first
    (None, {"us-east1": 1, "eu-west1-b": 2}, "eu-west1"),
    (None, {}, ""),                                # no brokers: no region
])
def test_central_region(central, brokers, expected):
    spec = SimpleNamespace(central=central, brokers=brokers)
    assert central_region(spec, ["eu-west1", "us-east1"]) == expected
