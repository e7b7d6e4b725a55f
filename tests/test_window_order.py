"""The window kernel's fast orders give NumPy's own permutations exactly (the draws each
message gets, and so window mode's results, depend on them)."""

from __future__ import annotations

import numpy as np
import pytest

from geosim.kafka.window.order import (
    groups,
    groups_by_key,
    stable_int_order,
    time_then_key_order,
)


@pytest.mark.parametrize("seed", range(6))
def test_the_orders_are_numpys(seed):
    rng = np.random.default_rng(seed)
    for _ in range(40):
        n = int(rng.integers(0, 5000))
        # times with many ties (requests caught up by the one before, commits at one
        # fetch), sorted or not; keys below and above 16 bits
        times = np.round(rng.random(n) * rng.integers(1, 200), 1)
        if rng.random() < 0.5:
            times = np.maximum.accumulate(times)
        keys = rng.integers(0, int(rng.choice([3, 1296, 70_000])), n)
        assert np.array_equal(time_then_key_order(times, keys), np.lexsort((keys, times)))
        assert np.array_equal(stable_int_order(keys), np.argsort(keys, kind="stable"))
        n_codes = int(keys.max(initial=0)) + 2
        order, bounds = groups(keys, n_codes)
        for code in {0, n_codes - 1, *keys[:5].tolist()}:
            assert np.array_equal(order[bounds[code]:bounds[code + 1]],
                                  np.flatnonzero(keys == code))


def test_equal_times_of_either_sign_and_infinities_tie_as_in_numpy():
    times = np.array([0.0, -0.0, np.inf, 1.0, np.inf, -0.0, 1.0])
    keys = np.array([5, 3, 1, 2, 0, 3, 2])
    assert np.array_equal(time_then_key_order(times, keys), np.lexsort((keys, times)))


@pytest.mark.parametrize("seed", range(4))
def test_groups_by_key_are_the_groups_of_the_entries_codes(seed):
    rng = np.random.default_rng(seed)
    for _ in range(60):
        n_keys, n_codes = int(rng.integers(1, 60)), int(rng.integers(1, 8))
        key_of = np.sort(rng.integers(0, n_keys, int(rng.integers(0, 400))))
        code_of_key = rng.integers(-1, n_codes + 1, n_keys)  # out of range: no entries
        present = np.unique(key_of)
        code_of_key[present] = rng.integers(0, n_codes, len(present))
        got = groups_by_key(key_of, code_of_key, n_codes)
        want = groups(code_of_key[key_of], n_codes)
        assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
