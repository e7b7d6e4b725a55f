"""Latency and delay distributions, injected into components as objects.

Every distribution draws from a random stream it is given, in blocks: the hot path
pops pre-drawn floats from a list instead of calling numpy per sample. Draws are
still a deterministic function of the stream.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

_BLOCK = 4096


# exp's range reduction (Cody and Waite): ln 2 split so that k * _LN2_HI is exact for
# |k| < 2**11, and the Taylor coefficients 1/j! of exp on [-ln2/2, ln2/2]
_LN2_HI = 0.693145751953125
_LN2_LO = 1.4286068203094173e-06
_INV_LN2 = 1.4426950408889634
_EXP_TERMS = 14  # the first term left out, (ln2/2)**14 / 14!, is 4e-18 of the value
_EXP_COEFFS = [1.0 / math.factorial(j) for j in range(_EXP_TERMS)]
_EXP_CHUNK = 8192
#: Below this many values, :meth:`LogNormal.draw_bulk` calls libm's exp per value (the
#: polynomial's array passes cost more than 256 Python calls; measured: equal at 256,
#: 2.5x faster at 1,024, 5x at 4,096).
BULK_MIN = 512


def exp_same_everywhere(x: np.ndarray) -> np.ndarray:
    """``exp(x)`` elementwise in numpy's IEEE additions and multiplications only, so
    that every CPU gives the same bits (numpy's own ``exp`` dispatches to kernels that
    differ in the last bit between CPUs): ``x = k ln 2 + r``, ``exp(r)`` by Horner's
    rule on its Taylor series, then ``2**k``. Within one ulp of libm's ``exp`` on a
    million normal draws (tests/test_distributions.py), and in place over chunks that
    stay in the cache: for bulk draws where a Python call per value (``math.exp``)
    costs too much."""
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    flat, dest = x.reshape(-1), out.reshape(-1)
    for lo in range(0, len(flat), _EXP_CHUNK):
        xc = flat[lo:lo + _EXP_CHUNK]
        k = np.rint(xc * _INV_LN2)
        r = xc - k * _LN2_HI
        r -= k * _LN2_LO
        p = np.full(r.shape, _EXP_COEFFS[-1])
        for c in _EXP_COEFFS[-2::-1]:
            p *= r
            p += c
        dest[lo:lo + _EXP_CHUNK] = np.ldexp(p, k.astype(np.int64))
    return out


class Distribution:
    """A non-negative random duration (or other quantity), in canonical units."""

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def draw_bulk(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` values in one array operation where the distribution has one (the same
        distribution as :meth:`draw`, not the same values); for engines that draw
        millions at once from streams of their own."""
        return self.draw(rng, n)

    def median(self) -> float:  # pragma: no cover
        raise NotImplementedError

    def quantile(self, q: float) -> float:  # pragma: no cover
        raise NotImplementedError

    def sampler(self, rng: np.random.Generator, *, first_block: int = _BLOCK,
                max_block: int = _BLOCK) -> Sampler:
        return Sampler(self, rng, first_block, max_block)

    def scaled(self, factor: float) -> Distribution:  # pragma: no cover
        raise NotImplementedError


class Sampler:
    """Pops pre-drawn values of one distribution from one stream; ``next()`` is O(1).

    ``first_block``: how many values the first refill draws; each refill after draws
    twice as many, up to ``max_block``. Small blocks keep the memory of many streams
    small (thousands of message families, :meth:`geosim.world.network.Network.delay`,
    each holding at most one block); the values are a function of the stream and the
    block sizes, so a sampler's draws are the same in every run."""

    __slots__ = ("_dist", "_rng", "_buffer", "_block", "_max_block")

    def __init__(self, dist: Distribution, rng: np.random.Generator,
                 first_block: int = _BLOCK, max_block: int = _BLOCK):
        self._dist = dist
        self._rng = rng
        self._buffer: list[float] = []
        self._max_block = max(int(max_block), 1)
        self._block = min(max(int(first_block), 1), self._max_block)

    def __call__(self) -> float:
        buffer = self._buffer
        if not buffer:
            block = self._block
            buffer.extend(self._dist.draw(self._rng, block)[::-1].tolist())
            if block < self._max_block:
                self._block = min(2 * block, self._max_block)
        return buffer.pop()

    def many(self, n: int) -> np.ndarray:
        return self._dist.draw(self._rng, n)


@dataclass(frozen=True)
class Constant(Distribution):
    value: float

    def draw(self, rng, n):
        return np.full(n, self.value)

    def median(self):
        return self.value

    def quantile(self, q):
        return self.value

    def scaled(self, factor):
        return Constant(self.value * factor)


@dataclass(frozen=True)
class Normal(Distribution):
    """Normal with mean and standard deviation, folded at zero (negative draws -> |x|).

    Quantiles are those of the folded normal, so they describe the draws even when the
    mean is not many deviations above zero.
    """

    mean: float
    std: float

    def draw(self, rng, n):
        return np.abs(rng.normal(self.mean, self.std, n))

    def median(self):
        return self.quantile(0.5)

    def quantile(self, q):
        from scipy.stats import norm  # scipy on first use only: it costs 0.7 s to import

        if self.std <= 0:
            return abs(self.mean)
        mu, sigma = self.mean, self.std
        if abs(mu) > 8 * sigma:  # the fold is negligible: a plain normal quantile
            return abs(mu) + sigma * float(norm.ppf(q)) if q < 1 else math.inf

        def cdf(x: float) -> float:  # P(|X| <= x)
            return float(norm.cdf((x - mu) / sigma) - norm.cdf((-x - mu) / sigma))

        if q <= 0:
            return 0.0
        if q >= 1:
            return math.inf
        hi = abs(mu) + 10 * sigma
        from scipy.optimize import brentq

        return float(brentq(lambda x: cdf(x) - q, 0.0, hi))

    def scaled(self, factor):
        return Normal(self.mean * factor, self.std * factor)


# The standard normal quantiles of the levels geosim's own models fit to (a link's or
# an object store's p99, a replication SLA's p99.9) and the other usual ones, as
# ``scipy.stats.norm.ppf`` gives them to the last bit (``tests/test_distributions.py``
# holds the table to scipy): a run whose levels are all here never imports scipy,
# which takes about 0.5 s, a large part of a short run or of a sweep worker's start.
_Z_TABLE = {
    0.5: 0.0,
    0.9: 1.2815515655446004,
    0.95: 1.6448536269514722,
    0.99: 2.3263478740408408,
    0.999: 3.090232306167813,
    0.9999: 3.719016485455709,
}


def _z(q: float) -> float:
    """The standard normal quantile: from ``_Z_TABLE``, else scipy (imported on first
    use only)."""
    z = _Z_TABLE.get(q)
    if z is not None:
        return z
    from scipy.stats import norm

    return float(norm.ppf(q))


@dataclass(frozen=True)
class LogNormal(Distribution):
    """Log-normal fitted to two quantiles: ``p50`` and the value at quantile ``q_hi``.

    With ``mu = ln p50`` and ``sigma = ln(p_hi / p50) / z(q_hi)`` both quantiles are
    reproduced exactly. ``cap`` optionally truncates the support (values above are
    clipped to it), as for a replication SLA's 100 % bound.
    """

    p50: float
    p_hi: float
    q_hi: float = 0.99
    cap: float = math.inf

    def __post_init__(self):
        if not (self.p50 > 0 and self.p_hi >= self.p50):
            raise ValueError(f"lognormal needs 0 < p50 <= p{self.q_hi * 100:g}, "
                             f"got p50={self.p50}, p_hi={self.p_hi}")

    @cached_property
    def sigma(self) -> float:
        return math.log(self.p_hi / self.p50) / _z(self.q_hi)

    def draw(self, rng, n):
        # math.exp, not np.exp: numpy's vectorised exp differs in the last bit between
        # CPUs (its AVX-512 kernel is not libm's), and one bit can decide a tie in the
        # results; libm's exp gives every machine the same draws.
        exp, scale = math.exp, self.sigma
        values = self.p50 * np.array([exp(scale * z) for z in rng.standard_normal(n).tolist()])
        if math.isfinite(self.cap):
            np.minimum(values, self.cap, out=values)
        return values

    def draw_bulk(self, rng, n):
        if n < BULK_MIN:
            return self.draw(rng, n)
        values = self.p50 * exp_same_everywhere(self.sigma * rng.standard_normal(n))
        if math.isfinite(self.cap):
            np.minimum(values, self.cap, out=values)
        return values

    def median(self):
        return min(self.p50, self.cap)

    def quantile(self, q):
        return min(self.p50 * math.exp(self.sigma * _z(q)), self.cap)

    def scaled(self, factor):
        return LogNormal(self.p50 * factor, self.p_hi * factor, self.q_hi, self.cap * factor)


@dataclass(frozen=True)
class Empirical(Distribution):
    """Resamples measured values uniformly (a bootstrap of the empirical distribution)."""

    samples: tuple[float, ...]

    def __post_init__(self):
        if not self.samples:
            raise ValueError("empirical distribution needs at least one sample")

    @classmethod
    def of(cls, values: Sequence[float]) -> Empirical:
        return cls(tuple(float(v) for v in values))

    def draw(self, rng, n):
        return np.asarray(self.samples)[rng.integers(0, len(self.samples), n)]

    def median(self):
        return float(np.median(self.samples))

    def quantile(self, q):
        return float(np.quantile(self.samples, q))

    def scaled(self, factor):
        return Empirical(tuple(s * factor for s in self.samples))


@dataclass(frozen=True)
class Shifted(Distribution):
    """``base + offset``: e.g. a propagation floor plus a jitter distribution."""

    base: Distribution
    offset: float

    def draw(self, rng, n):
        return self.base.draw(rng, n) + self.offset

    def median(self):
        return self.base.median() + self.offset

    def quantile(self, q):
        return self.base.quantile(q) + self.offset

    def scaled(self, factor):
        return Shifted(self.base.scaled(factor), self.offset * factor)
