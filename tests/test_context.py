"""The run context and its named random streams (geosim.core.context)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import simpy

from geosim.core.context import Context, RandomStreams, stable_key
from geosim.core.events import Recorder


def first_draws(seed: int, name: str, n: int = 8) -> list[float]:
    return Context(seed=seed).rng(name).random(n).tolist()


def test_same_name_and_seed_give_the_same_stream_across_contexts():
    a, b = Context(seed=42), Context(seed=42)
    assert a.rng("network.us-west1-a|us-west2-a").random(1000).tolist() == \
        b.rng("network.us-west1-a|us-west2-a").random(1000).tolist()


def test_a_stream_is_cached_per_name_within_a_context():
    ctx = Context(seed=1)
    stream = ctx.rng("object_store.put")
    assert ctx.rng("object_store.put") is stream
    first = stream.random()
    assert ctx.rng("object_store.put").random() != first  # continues, does not restart


def test_different_seeds_give_different_streams():
    assert first_draws(1, "x") != first_draws(2, "x")


def test_different_names_give_independent_streams():
    ctx = Context(seed=42)
    a = ctx.rng("producer.0").standard_normal(100_000)
    b = ctx.rng("producer.1").standard_normal(100_000)
    assert a[:8].tolist() != b[:8].tolist()
    # Independent N(0,1) samples: the correlation is ~N(0, 1/n); 5 sigma = 0.016.
    assert abs(np.corrcoef(a, b)[0, 1]) < 5 / np.sqrt(len(a))


def test_adding_a_stream_does_not_change_another_streams_draws():
    lone = Context(seed=9)
    crowded = Context(seed=9)
    for i in range(20):
        crowded.rng(f"producer.{i}").random(100)
    assert crowded.rng("network.loss").random(50).tolist() == \
        lone.rng("network.loss").random(50).tolist()


def test_stable_key_is_a_sha256_digest_of_the_name():
    digest = hashlib.sha256(b"network.loss").digest()
    assert stable_key("network.loss") == [int.from_bytes(digest[i:i + 4], "little")
                                          for i in range(0, 16, 4)]
    assert all(0 <= k < 2**32 for k in stable_key("µ-unicode name"))
    assert stable_key("a") != stable_key("b")


_CHILD = """
import json, sys
from geosim.core.context import Context, stable_key
names = json.loads(sys.argv[1])
ctx = Context(seed=int(sys.argv[2]))
print(json.dumps({"keys": [stable_key(n) for n in names],
                  "draws": [ctx.rng(n).random(4).tolist() for n in names],
                  "hash": hash(names[0])}))
"""


def test_streams_do_not_depend_on_pythonhashseed():
    names = ["network.us-west1-a|us-west2-a", "object_store.replication", "metadata"]
    children = []
    for hashseed in ("1", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=hashseed)
        out = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(names), "77"],
                             env=env, capture_output=True, text=True, check=True, timeout=60)
        children.append(json.loads(out.stdout))
    # The salt really differed between the two processes ...
    assert children[0]["hash"] != children[1]["hash"]
    # ... yet keys and first draws are the same in both, and the same as here.
    for child in children:
        assert child["keys"] == [stable_key(n) for n in names]
        assert child["draws"] == [first_draws(77, n, 4) for n in names]


def test_negative_seed_is_rejected():
    with pytest.raises(ValueError, match="seed"):
        RandomStreams(-1)
    with pytest.raises(ValueError):
        Context(seed=-5)


def test_context_bundles_a_fresh_environment_and_recorder():
    a, b = Context(seed=0), Context(seed=0)
    assert isinstance(a.env, simpy.Environment) and a.env is not b.env
    assert isinstance(a.recorder, Recorder) and a.recorder is not b.recorder
    assert a.metadata is not b.metadata
    a.env.run(until=5.0)
    assert a.now == 5.0 and b.now == 0.0
    assert a.rng.root_seed == 0


def test_log_is_scoped_under_geosim():
    assert Context.log("us-west1.a.broker-3").name == "geosim.us-west1.a.broker-3"


def test_call_later_runs_in_the_order_timeouts_of_the_same_delays_would():
    """call_later schedules a slotted call object instead of a Timeout (a speed step):
    interleaved with real Timeouts and processes, at equal and distinct times, the order
    of what runs must be the one Timeouts of the same delays give."""
    import simpy

    from geosim.core.context import call_later

    def trace(use_call_later: bool) -> list[tuple[float, str]]:
        env = simpy.Environment()
        seen: list[tuple[float, str]] = []

        def note(name: str) -> None:
            seen.append((env.now, name))

        def proc(name: str, delay: float):
            yield env.timeout(delay)
            note(name)

        for i, delay in enumerate([0.5, 0.0, 0.5, 0.25, 0.5, 0.0]):
            name = f"call{i}"
            if use_call_later:
                call_later(env, delay, note, name)
            else:
                env.timeout(delay).callbacks.append(lambda _e, n=name: note(n))
            env.process(proc(f"proc{i}", delay))
        env.run()
        return seen

    assert trace(True) == trace(False)
    assert [name for _t, name in trace(True)][:2] == ["call1", "call5"]


def test_call_later_refuses_a_negative_delay():
    import pytest
    import simpy

    from geosim.core.context import call_later

    with pytest.raises(ValueError, match="negative delay"):
        call_later(simpy.Environment(), -1.0, print)
