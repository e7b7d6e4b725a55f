"""Stable orders of a window's rows, as NumPy's generic sorts give them, faster.

``np.lexsort`` compares keys one row at a time and ``np.argsort`` of 64-bit integers
merges; a window orders hundreds of thousands of rows several times. These give the
same permutations (the results, and so each draw's message, stay the same) with a
radix sort of small integers or a merge of nearly sorted floats.
"""

from __future__ import annotations

import numpy as np


def stable_int_order(values: np.ndarray) -> np.ndarray:
    """``np.argsort(values, kind="stable")`` for integers: a radix sort when they are
    non-negative and fit in 16 bits."""
    if len(values) and int(values.max()) < 1 << 16 and int(values.min()) >= 0:
        return np.argsort(values.astype(np.uint16), kind="stable")
    return np.argsort(values, kind="stable")


def time_then_key_order(times: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """``np.lexsort((keys, times))`` (by time, then by key, then by index) for times
    that are no NaN and integer ``keys`` in ``[0, 2**31)`` (partitions, fleets): a merge
    of the times, nearly sorted in a window (appends, commits), then the keys within
    runs of equal times (their run's index times the keys' span, in 64 bits)."""
    order = np.argsort(times, kind="stable")
    t = times[order]
    tied = t[1:] == t[:-1]
    if not tied.any():
        return order
    run = np.cumsum(np.r_[False, ~tied], dtype=np.int64)  # runs of equal times
    span = int(keys.max()) + 1 if len(keys) else 1
    return order[np.argsort(run * span + keys[order], kind="stable")]


def groups(codes: np.ndarray, n_codes: int) -> tuple[np.ndarray, np.ndarray]:
    """The rows of each code in ``range(n_codes)`` (``codes``: non-negative integers):
    ``order[bounds[c]:bounds[c + 1]]`` are the indices where ``codes == c``, ascending
    (``np.flatnonzero(codes == c)`` for every ``c`` at the cost of one sort)."""
    order = stable_int_order(codes)
    bounds = np.concatenate(([0], np.cumsum(np.bincount(codes, minlength=n_codes))))
    return order, bounds


def groups_by_key(key_of: np.ndarray, code_of_key: np.ndarray,
                  n_codes: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`groups` of ``code_of_key[key_of]`` for entries sorted by key (``key_of``
    non-decreasing): the keys are grouped, and each key's run of entries follows, so
    the cost is the keys', not the entries'. A key whose code is out of
    ``range(n_codes)`` must have no entries."""
    n_keys = len(code_of_key)
    starts = np.searchsorted(key_of, np.arange(n_keys + 1))
    lengths = np.diff(starts)
    valid = (code_of_key >= 0) & (code_of_key < n_codes)
    codes = np.where(valid, code_of_key, n_codes)
    key_order, _ = groups(codes, n_codes + 1)
    run = lengths[key_order]
    total = int(run.sum())
    order = np.repeat(starts[key_order] - (np.cumsum(run) - run), run) + np.arange(total)
    per_code = np.bincount(codes, weights=lengths, minlength=n_codes + 1)[:n_codes]
    bounds = np.concatenate(([0], np.cumsum(per_code.astype(np.int64))))
    return order, bounds


__all__ = ["groups", "groups_by_key", "stable_int_order", "time_then_key_order"]
