"""Windows beside followers catching up (geosim.kafka.window.catchup): after a region
outage, sync replicas out of their ISRs fetch their backlog through responses cut at
replica.fetch.response.max.bytes; the kernel takes their pairs item by item, makes
their returns to the ISR (the AlterPartition commit, the HW waiting for them after,
the reads moving to them), and at the hand-back sets each one's log end, part of a
row, leader's view, place in its fetch session and ISR membership as it left them.

The run: stretch-3-regions with its producers and consumers in us-west1 and a
70,000-byte budget per broker pair, so that us-west2's followers take some 15 s to
catch up after a 30 s outage. Window mode must agree with the event engine, and run
windows in that catch-up."""

from __future__ import annotations

import numpy as np
import pytest
from test_window_mode import _agree

from geosim.kafka.cluster import KafkaCluster
from geosim.kafka.window.catchup import behind_as_of
from geosim.kafka.window.mode import WindowMode
from geosim.kafka.window.wiring import Session
from geosim.runner import run
from geosim.scenario.loader import load_scenario

CATCH_UP = ("strategy.config={replica.fetch.response.max.bytes: 70000, "
            "min.insync.replicas: 2}",
            "workload.producers={us-west1: 1}", "workload.consumers={us-west1: 1}",
            "simulation.duration=110s",
            "faults=[{kind: region-outage, region: us-west2, at: 30s, duration: 30s}]")


_EMIT = KafkaCluster.emit_state
_HAND_BACK = WindowMode._hand_back


#: A variant whose returning followers serve readers: us-west2's brokers stop cleanly
#: (its consumers stay up and read from the leaders meanwhile), and under
#: fetch-from-follower us-west2's consumers read from their region's replica again once
#: it is back in its ISR.
SERVING = (*(o for o in CATCH_UP if not o.startswith(("workload.consumers", "faults"))),
           "workload.consumers={us-west1: 1, us-west2: 1}", "strategy.fetch_from_follower=true",
           "faults=[{kind: broker-crash, zone: us-west2-a, count: 2, at: 30s, duration: 30s, "
           "clean: true}]")


def _run(engine: str, monkeypatch, seen: list | None = None, overrides=CATCH_UP):
    expands: list[float] = []
    real = _EMIT

    def emit(self, p, reason, at=None):
        if reason == "isr expand":
            expands.append(self.env.now if at is None else at)
        return real(self, p, reason, at)
    monkeypatch.setattr(KafkaCluster, "emit_state", emit)
    if seen is not None:
        real_hand_back = _HAND_BACK

        def hand_back(self, wiring, result, extra, taken, entry):
            real_hand_back(self, wiring, result, extra, taken, entry)
            if result.tracked:
                seen.append(_followers(self.cluster, wiring, result))
        monkeypatch.setattr(WindowMode, "_hand_back", hand_back)
    sc = load_scenario("scenarios/stretch-3-regions.yaml",
                       overrides=[f"simulation.engine={engine}", *overrides])
    return run(sc, sc.simulation.seed, progress=None), expands


def _followers(c, wiring, result):
    """Each tracked follower's state just after a hand-back."""
    out = []
    for key in result.tracked:
        ses = wiring.sessions[key]
        for pid, r, isr in zip(ses.pids.tolist(), ses.follower.tolist(),
                               ses.in_isr.tolist(), strict=True):
            if not isr:
                p = c.parts[pid]
                out.append((p.leo[r], p.log_end, p.hw, p.ends, p.held_partial(r, p.leo[r]),
                            p.view.get(r, 0), p.follower_hw[r], r in p.isr))
    return out


def test_windows_run_beside_a_catch_up_and_agree_with_the_event_engine(monkeypatch):
    seen: list = []
    window, rejoined_w = _run("window", monkeypatch, seen)
    events, rejoined_e = _run("events", monkeypatch)
    log = window.run_info["window_engine"]
    # the kernel makes the returns to the ISR inside its windows (catchup.isr_joins)
    assert sum(w.get("joins", 0) for w in log) >= 4, log
    assert not [w for w in log if w.get("until") == "a follower's return to its ISR"]
    assert seen  # a hand-back set followers catching up
    joined = 0
    for state in seen:
        for leo, end, hw, ends, part, view, fhw, in_isr in state:
            assert leo in ends or leo < ends[0]  # a row boundary of the log
            assert leo <= end and hw <= end
            assert view <= leo and fhw <= leo
            assert part >= 0
            joined += in_isr
    assert joined >= 4  # back in the ISR at the hand-back, as the kernel had them
    # every follower rejoins, at about the same times (the kernel draws its own delays)
    assert len(rejoined_w) == len(rejoined_e) == 6
    assert np.abs(np.sort(rejoined_w) - np.sort(rejoined_e)).max() < 1.0
    _agree(events, window, ("after",))


def test_a_followers_return_moves_its_racks_reads_to_it(monkeypatch):
    """The kernel makes the returns and moves us-west2's reads to the returning
    replicas at their commits: the consumers there then read in their region, where
    reading from the leaders until the hand-back read 20% more bytes across regions."""
    window, rejoined_w = _run("window", monkeypatch, overrides=SERVING)
    events, rejoined_e = _run("events", monkeypatch, overrides=SERVING)
    log = window.run_info["window_engine"]
    assert sum(w.get("joins", 0) for w in log) == 6, log
    assert len(rejoined_w) == len(rejoined_e) == 6
    assert np.abs(np.sort(rejoined_w) - np.sort(rejoined_e)).max() < 0.5
    _agree(events, window, ("after",))
    for region in ("us-west1", "us-west2"):
        ours = window.summary["latency"]["e2e"][region]["after"]
        theirs = events.summary["latency"]["e2e"][region]["after"]
        assert ours["p50"] == pytest.approx(theirs["p50"], rel=0.03), region
        assert ours["p99"] == pytest.approx(theirs["p99"], rel=0.05), region


def _one(held, behind, end_bytes, epoch=0):
    n = len(held)
    return Session(np.arange(n), np.zeros(n), 0, np.array(held, dtype=float),
                   ~np.array(behind), np.zeros(n), np.arange(n), np.array(behind),
                   np.array(behind), np.arange(10, 10 + n), np.full(n, epoch),
                   np.zeros(n, dtype=np.int64), np.array(end_bytes, dtype=float))


def test_a_follower_catching_up_starts_the_window_where_it_was_before_the_drain():
    """What a follower catching up fetched while the rows in flight drained is the
    kernel's to fetch again: its bytes behind the log end after the drain are those it
    held before it, less what was appended meanwhile; one that rejoined meanwhile (in
    the ISR after) and one whose partition changed epoch keep their state after."""
    before = {("a", "b"): _one([-1000.0, -50.0, -70.0], [True, True, True], [5000, 6000, 0])}
    after = {("a", "b"): _one([-400.0, 0.0, -10.0], [True, False, True], [5300, 6050, 20],
                              epoch=0)}
    after[("a", "b")].epoch[2] = 1
    got = behind_as_of(after, before)[("a", "b")]
    assert got.held.tolist() == [-1300.0, 0.0, -10.0]


@pytest.mark.parametrize("engine", ["window"])
def test_a_catch_up_run_in_window_mode_is_deterministic(engine, monkeypatch):
    a, _ = _run(engine, monkeypatch)
    b, _ = _run(engine, monkeypatch)
    assert a.summary == b.summary
