"""Distributions and samplers (geosim.core.distributions).

Sampling oracles compare the empirical CDF at a target quantile with the target
probability, within five binomial standard errors: for n draws the fraction below the
true q-quantile has standard deviation sqrt(q (1 - q) / n).
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from geosim.core.distributions import (
    _BLOCK,
    Constant,
    Empirical,
    LogNormal,
    Normal,
    Sampler,
    Shifted,
    exp_same_everywhere,
)

N = 200_000


def rng(seed: int = 7) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(seed))


def assert_cdf_at(values: np.ndarray, x: float, q: float, k: float = 5.0) -> None:
    """The fraction of ``values`` <= x is q within k binomial standard errors."""
    frac = float(np.mean(values <= x))
    se = math.sqrt(q * (1 - q) / len(values))
    assert abs(frac - q) <= k * se, f"P(X <= {x}) = {frac}, expected {q} +- {k * se:.2g}"


# --- LogNormal ------------------------------------------------------------------------

def test_lognormal_reproduces_p50_and_p99():
    dist = LogNormal(0.024, 0.0288)  # a preset WAN link: p99 = 1.2 x median
    values = dist.draw(rng(), N)
    assert_cdf_at(values, 0.024, 0.50)
    assert_cdf_at(values, 0.0288, 0.99)
    assert np.quantile(values, 0.50) == pytest.approx(0.024, rel=0.005)
    assert np.quantile(values, 0.99) == pytest.approx(0.0288, rel=0.01)
    assert values.min() > 0


def test_lognormal_analytic_quantiles_are_exact():
    dist = LogNormal(0.2, 0.402)
    assert dist.median() == 0.2
    assert dist.quantile(0.5) == pytest.approx(0.2, rel=1e-12)
    assert dist.quantile(0.99) == pytest.approx(0.402, rel=1e-12)
    assert dist.sigma == pytest.approx(math.log(0.402 / 0.2) / 2.3263478740408408, rel=1e-9)


def test_lognormal_q999_with_cap_honours_replication_sla():
    # GCS default replication: 99.9 % within 1 h, 100 % within 12 h (p50 5 min assumed).
    dist = LogNormal(300.0, 3600.0, q_hi=0.999, cap=12 * 3600.0)
    values = dist.draw(rng(), N)
    assert_cdf_at(values, 300.0, 0.5)
    assert_cdf_at(values, 3600.0, 0.999)
    assert values.max() <= 12 * 3600.0
    assert dist.quantile(0.999) == pytest.approx(3600.0, rel=1e-12)
    assert dist.quantile(1.0) == 12 * 3600.0


def test_lognormal_cap_clips_the_tail_onto_the_cap():
    # Turbo: p999 = max = 15 min, so ~0.1 % of draws land exactly on the cap.
    dist = LogNormal(120.0, 900.0, q_hi=0.999, cap=900.0)
    values = dist.draw(rng(), N)
    assert values.max() == 900.0
    assert_cdf_at(values, np.nextafter(900.0, 0), 0.999)
    assert dist.quantile(0.9999) == 900.0
    assert dist.median() == 120.0
    assert LogNormal(10.0, 20.0, cap=5.0).median() == 5.0


@pytest.mark.parametrize("p50, p_hi", [(0.0, 1.0), (-1.0, 1.0), (2.0, 1.0)])
def test_lognormal_rejects_unordered_quantiles(p50, p_hi):
    with pytest.raises(ValueError, match="p50"):
        LogNormal(p50, p_hi)


@given(st.floats(1e-6, 1e3), st.floats(1.0, 50.0), st.floats(1.5, 10.0),
       st.sampled_from([0.9, 0.99, 0.999]), st.floats(0.01, 0.99))
def test_lognormal_scaled_scales_every_quantile(p50, ratio, factor, q_hi, q):
    dist = LogNormal(p50, p50 * ratio, q_hi, cap=p50 * ratio * 2)
    assert dist.scaled(factor).quantile(q) == pytest.approx(factor * dist.quantile(q),
                                                            rel=1e-9)


# --- Sampler ---------------------------------------------------------------------------

def test_sampler_is_deterministic_per_stream():
    dist = LogNormal(0.024, 0.0288)
    first, second = dist.sampler(rng(11)), dist.sampler(rng(11))
    a = [first() for _ in range(3 * _BLOCK + 5)]  # crosses block boundaries
    b = [second() for _ in range(3 * _BLOCK + 5)]
    assert a == b
    other = dist.sampler(rng(12))
    assert [other() for _ in range(100)] != a[:100]


def test_sampler_pops_the_streams_draws_in_order():
    dist = LogNormal(1.0, 3.0)
    sampler = Sampler(dist, rng(3))
    popped = np.array([sampler() for _ in range(2 * _BLOCK + 10)])
    reference = rng(3)
    expected = np.concatenate([dist.draw(reference, _BLOCK) for _ in range(3)])
    np.testing.assert_array_equal(popped, expected[:len(popped)])


def test_sampler_many_draws_from_the_same_distribution():
    values = LogNormal(0.2, 0.402).sampler(rng()).many(N)
    assert values.shape == (N,)
    assert_cdf_at(values, 0.2, 0.5)
    assert_cdf_at(values, 0.402, 0.99)


# --- Empirical, Constant, Normal, Shifted ---------------------------------------------------

def test_empirical_resamples_only_the_given_values_uniformly():
    samples = [0.010, 0.012, 0.015, 0.030, 0.120]
    dist = Empirical.of(samples)
    values = dist.draw(rng(), 50_000)
    assert set(values.tolist()) == set(samples)
    counts = np.array([np.sum(values == s) for s in samples])
    expected = len(values) / len(samples)
    # Each count is binomial(n, 1/5): within 5 standard deviations of n/5.
    assert np.all(np.abs(counts - expected) <= 5 * math.sqrt(expected * (1 - 1 / 5)))
    assert dist.median() == 0.015


def test_empirical_sampler_yields_only_given_values():
    samples = (1.0, 2.0, 4.0)
    sampler = Empirical(samples).sampler(rng())
    assert {sampler() for _ in range(2 * _BLOCK)} == set(samples)


def test_empirical_needs_a_sample():
    with pytest.raises(ValueError):
        Empirical.of([])


def test_constant_always_draws_its_value():
    dist = Constant(0.005)
    assert np.all(dist.draw(rng(), 1000) == 0.005)
    assert dist.quantile(0.001) == dist.quantile(0.999) == dist.median() == 0.005
    assert dist.scaled(2).median() == 0.01


def test_normal_far_from_zero_matches_its_moments():
    dist = Normal(0.05, 0.005)
    values = dist.draw(rng(), N)
    assert values.mean() == pytest.approx(0.05, rel=0.002)
    assert values.std() == pytest.approx(0.005, rel=0.01)
    assert_cdf_at(values, dist.quantile(0.9), 0.9)


def test_normal_draws_are_non_negative():
    assert Normal(0.0, 1.0).draw(rng(), 10_000).min() >= 0


def test_normal_quantiles_describe_its_draws_near_zero():
    dist = Normal(0.0, 1.0)
    values = dist.draw(rng(), N)
    assert_cdf_at(values, dist.median(), 0.5)
    assert_cdf_at(values, dist.quantile(0.9), 0.9)


def test_shifted_adds_its_offset_to_the_same_draws():
    base = LogNormal(0.001, 0.003)
    shifted = Shifted(base, 0.010)
    np.testing.assert_allclose(shifted.draw(rng(5), 1000), base.draw(rng(5), 1000) + 0.010)
    assert shifted.median() == pytest.approx(0.011)
    assert shifted.quantile(0.99) == pytest.approx(0.013)
    assert shifted.scaled(2).median() == pytest.approx(0.022)


# --- Hypothesis: quantiles are monotone in q ---------------------------------------------

distributions = st.one_of(
    st.builds(lambda p50, r, q_hi, cap_r: LogNormal(p50, p50 * r, q_hi, p50 * cap_r),
              st.floats(1e-6, 1e4), st.floats(1.0, 100.0), st.floats(0.6, 0.9999),
              st.one_of(st.just(math.inf), st.floats(0.5, 200.0))),
    st.builds(Normal, st.floats(0.0, 1.0), st.floats(0.0, 1.0)),
    st.builds(Empirical.of, st.lists(st.floats(0.0, 10.0), min_size=1, max_size=30)),
    st.builds(Constant, st.floats(0.0, 10.0)),
    st.builds(lambda m, o: Shifted(LogNormal(m, 2 * m), o), st.floats(1e-3, 1.0),
              st.floats(0.0, 1.0)),
)
quantiles = st.floats(0.0005, 0.9995)


@given(distributions, quantiles, quantiles)
def test_quantile_is_monotone_in_q(dist, q1, q2):
    lo, hi = sorted((q1, q2))
    assert dist.quantile(lo) <= dist.quantile(hi) + 1e-12 * abs(dist.quantile(hi))


@given(distributions, quantiles)
def test_quantile_is_non_negative(dist, q):
    assert dist.quantile(q) >= 0


def test_the_quantile_table_is_scipys_to_the_last_bit():
    from scipy.stats import norm

    from geosim.core.distributions import _Z_TABLE, _z

    for q, z in _Z_TABLE.items():
        assert z == float(norm.ppf(q)), q
    assert _z(0.97) == float(norm.ppf(0.97))  # a level outside the table asks scipy


def test_a_run_of_the_models_own_quantile_levels_never_imports_scipy():
    code = ("import sys\n"
            "from geosim.runner import run\n"
            "from geosim.scenario.loader import load_scenario\n"
            "s = load_scenario('scenarios/mm2-active-passive.yaml', ['simulation.duration=2s',"
            " 'simulation.warmup=0', 'simulation.drain=0', 'faults=[]'])\n"
            "run(s, 0)\n"
            "print('scipy' in sys.modules)\n")
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "False"


def test_lognormal_draws_are_libms_exp_to_the_bit():
    """Draws use libm's exp (``math.exp``), not numpy's vectorised one, whose last bit
    varies between CPUs: the same seed gives the same draws on every machine."""
    dist = LogNormal(0.024, 0.0288)
    normals = rng(5).standard_normal(10_000).tolist()
    expected = [0.024 * math.exp(dist.sigma * z) for z in normals]
    assert dist.draw(rng(5), 10_000).tolist() == expected


def test_exp_same_everywhere_is_within_one_ulp_of_libm():
    """The bulk draws' exp (IEEE additions and multiplications only, so the same bits
    on every CPU) against libm's on a million normal arguments and the extremes."""
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0.0, 1.5, 10**6), rng.uniform(-700.0, 700.0, 10**4),
                        [0.0, 1.0, -1.0, 1e-300, -1e-300]])
    libm = np.array([math.exp(v) for v in x.tolist()])
    ours = exp_same_everywhere(x)
    assert (np.abs(ours - libm) <= np.spacing(libm)).all()
    assert ours[-5] == 1.0


def test_a_lognormal_in_bulk_has_the_distribution_of_its_draws():
    """draw_bulk (the window engine's streams) draws the same distribution as draw:
    its median and 99th percentile over 200,000 values within 1%."""
    d = LogNormal(0.010, 0.030)
    bulk = d.draw_bulk(np.random.default_rng(1), 200_000)
    assert np.quantile(bulk, 0.5) == pytest.approx(d.quantile(0.5), rel=0.01)
    assert np.quantile(bulk, 0.99) == pytest.approx(d.quantile(0.99), rel=0.01)
