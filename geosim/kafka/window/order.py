"""Stable orders of a window's rows, as NumPy's generic sorts give them, faster.

``np.lexsort`` compares keys one row at a time and ``np.argsort`` of 64-bit integers
merges; a window orders hundreds of thousands of rows several times. These give the
same permutations (the results, and so each draw's message, stay the same) with a
radix sort of small integers or a merge of nearly sorted floats.
"""

from __future__ import annotations

import numpy as np


def stable_int_order(values: np.ndarray) -> np.ndarray:
    """``np.argsort(values, kind="stable")`` for non-negative integers: a radix sort
    when they fit in 16 bits."""
    if len(values) and int(values.max()) < 1 << 16 and int(values.min()) >= 0:
        return np.argsort(values.astype(np.uint16), kind="stable")
    return np.argsort(values, kind="stable")


def time_then_key_order(times: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """``np.lexsort((keys, times))`` (by time, then by key, then by index) for floats
    that are no NaN and non-negative integer ``keys``: a merge of the times, nearly
    sorted in a window (appends, commits), then the keys within runs of equal times."""
    order = np.argsort(times, kind="stable")
    t = times[order]
    tied = t[1:] == t[:-1]
    if not tied.any():
        return order
    run = np.cumsum(np.r_[False, ~tied], dtype=np.int64)  # runs of equal times
    span = int(keys.max()) + 1 if len(keys) else 1
    return order[np.argsort(run * span + keys[order], kind="stable")]


def groups(codes: np.ndarray, n_codes: int) -> tuple[np.ndarray, np.ndarray]:
    """The rows of each code in ``range(n_codes)``: ``order[bounds[c]:bounds[c + 1]]``
    are the indices where ``codes == c``, ascending (``np.flatnonzero(codes == c)``
    for every ``c`` at the cost of one sort)."""
    order = stable_int_order(codes)
    bounds = np.concatenate(([0], np.cumsum(np.bincount(codes, minlength=n_codes))))
    return order, bounds


__all__ = ["groups", "stable_int_order", "time_then_key_order"]
