"""The bulk handling of quiet fetch items against the detailed reference.

The Kafka engine handles only the *hot* items of a fetch request and takes the quiet
ones in bulk (geosim/kafka/fetch_pair.py). ``Replication.detailed`` handles every item
of every request, as the engine did before; both must give the same results to the
byte: the same summary, with outages, ISR shrink and expansion, unclean elections,
observer promotion and MirrorMaker 2 failover.
"""

from __future__ import annotations

import json

import pytest
from golden_cases import GOLDEN, scenario_of

from geosim.kafka.fetch_pair import FetchPair
from geosim.kafka.partition import PartitionState
from geosim.kafka.replication import Replication
from geosim.runner import run


def _summary(case: str, seed: int) -> str:
    result = run(scenario_of(case), seed)
    return json.dumps(result.summary, indent=2, sort_keys=True) + "\n"


@pytest.mark.parametrize("case", ["stretch-last-replica", "observers-2dc",
                                  "mm2-active-passive"])
def test_detailed_reference_gives_the_golden_summary(case, monkeypatch):
    """The golden summaries come from the bulk handling (tests/test_golden.py); the
    detailed reference gives them too. stretch-last-replica: ISR shrink, an unclean
    election and truncation; observers-2dc: observer promotion; mm2-active-passive:
    a region outage and failover to the other cluster."""
    monkeypatch.setattr(Replication, "detailed", True)
    assert _summary(case, 7) == (GOLDEN / f"{case}.json").read_text()


@pytest.mark.parametrize("case", ["stretch-2-regions-controllers"])
def test_bulk_and_detailed_agree_on_another_seed(case, monkeypatch):
    bulk = _summary(case, 3)
    monkeypatch.setattr(Replication, "detailed", True)
    assert _summary(case, 3) == bulk


def _pair() -> tuple[FetchPair, list[PartitionState]]:
    parts = [PartitionState(i, [0, 1]) for i in range(3)]
    pair = FetchPair("a", "b", [(p, 1) for p in parts], 1)
    return pair, parts


def test_quiet_items_take_the_last_arrival_when_they_turn_hot():
    pair, parts = _pair()
    assert pair.hot == {0, 1, 2}
    pair.quiet_arrival = 4.0
    pair.quiet(1, 10, 0)
    assert pair.hot == {0, 2} and pair.snapshot[1] == (10, 0)
    pair.quiet_arrival = 7.5           # a later request found it still quiet
    pair.touch(1)                      # then its partition got an append
    assert pair.hot == {0, 1, 2}
    assert parts[1].caught_up[1] == 7.5 and parts[1].last_fetch_time[1] == 7.5
    parts[1].caught_up[1] = 9.0
    pair.touch(1)                      # already hot: nothing is rewritten
    assert parts[1].caught_up[1] == 9.0


def test_settle_writes_quiet_items_and_leaves_hot_ones():
    pair, parts = _pair()
    pair.quiet_arrival = 2.0
    pair.quiet(0, 5, 1)
    parts[2].caught_up[1] = 1.0
    pair.quiet_arrival = 3.0
    pair.settle()
    assert parts[0].caught_up[1] == 3.0 and parts[0].last_fetch_time[1] == 3.0
    assert parts[2].caught_up[1] == 1.0 and 1 not in parts[2].last_fetch_time
    assert pair.hot == {1, 2}          # settling keeps quiet items quiet
    pair.heat_all()
    assert pair.hot == {0, 1, 2}


def test_a_request_is_rebuilt_as_sent():
    """Hot items as listed when sent (a dead follower's item is not listed), quiet ones
    as they were when they turned quiet, in item order."""
    pair, parts = _pair()
    pair.quiet(2, 8, 3)
    hot_at_send = frozenset(pair.hot)           # {0, 1}
    sent = [(0, parts[0], 1, 4, 0)]             # item 1's follower was down
    rebuilt = pair.as_sent(pair.items, sent, hot_at_send, pair.snapshot)
    assert rebuilt == [(0, parts[0], 1, 4, 0), (2, parts[2], 1, 8, 3)]
