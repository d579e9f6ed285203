"""KID: the unbiased MMD^2 against its formula and clean-fid, and its properties over subsets."""

from __future__ import annotations

import numpy as np
import pytest
from cleanfid.fid import kernel_distance as cleanfid_kernel_distance

from gan_core.metrics.kid import kernel_inception_distance, mmd2_unbiased, polynomial_kernel


def _features(rng: np.random.Generator, n: int, dim: int, shift: float = 0.0) -> np.ndarray:
    """``[n, dim]`` non-negative, Inception-like features (ReLU of a correlated Gaussian)."""
    mixing = np.random.default_rng(123).standard_normal((dim, dim)) / np.sqrt(dim)
    return np.maximum(rng.standard_normal((n, dim)) @ mixing + 0.5 + shift, 0.0)


@pytest.fixture
def restore_global_numpy_rng():
    """Restore NumPy's global RNG after tests that seed it for clean-fid."""
    state = np.random.get_state()  # noqa: NPY002 (clean-fid draws from the global RNG)
    yield
    np.random.set_state(state)  # noqa: NPY002


def test_polynomial_kernel_is_the_cubic_formula():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((4, 7)), rng.standard_normal((3, 7))
    expected = np.array([[(xi @ yj / 7 + 1) ** 3 for yj in y] for xi in x])
    np.testing.assert_allclose(polynomial_kernel(x, y), expected, rtol=1e-12)


def test_mmd2_is_the_unbiased_estimator_written_out():
    rng = np.random.default_rng(1)
    real, fake = _features(rng, 6, 5), _features(rng, 4, 5, shift=0.3)

    def k(a, b):
        return (a @ b / 5 + 1) ** 3

    m, n = len(real), len(fake)
    within_real = sum(k(real[i], real[j]) for i in range(m) for j in range(m) if i != j)
    within_fake = sum(k(fake[i], fake[j]) for i in range(n) for j in range(n) if i != j)
    cross = sum(k(r, f) for r in real for f in fake)
    expected = within_real / (m * (m - 1)) + within_fake / (n * (n - 1)) - 2 * cross / (m * n)
    np.testing.assert_allclose(mmd2_unbiased(real, fake), expected, rtol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mmd2_agrees_with_clean_fid_on_whole_sets(seed):
    # One subset of the whole set: clean-fid's random draw is a permutation, which MMD ignores.
    rng = np.random.default_rng(seed)
    real, fake = _features(rng, 300, 64), _features(rng, 300, 64, shift=0.1)
    expected = cleanfid_kernel_distance(real, fake, num_subsets=1, max_subset_size=300)
    np.testing.assert_allclose(mmd2_unbiased(real, fake), expected, rtol=1e-10)


def test_subset_average_agrees_with_clean_fid_given_its_draws(restore_global_numpy_rng):
    # clean-fid draws fake then real subsets from NumPy's global RNG; replay those draws.
    rng = np.random.default_rng(3)
    real, fake = _features(rng, 400, 32), _features(rng, 350, 32, shift=0.2)
    n_subsets, m = 5, 100
    np.random.seed(7)  # noqa: NPY002 (clean-fid draws from the global RNG)
    expected = cleanfid_kernel_distance(real, fake, num_subsets=n_subsets, max_subset_size=m)
    replay = np.random.RandomState(7)
    values = []
    for _ in range(n_subsets):
        fake_idx = replay.choice(len(fake), m, replace=False)
        real_idx = replay.choice(len(real), m, replace=False)
        values.append(mmd2_unbiased(real[real_idx], fake[fake_idx]))
    np.testing.assert_allclose(np.mean(values), expected, rtol=1e-10)


def test_kid_of_one_distribution_is_zero_on_average_and_positive_when_shifted():
    rng = np.random.default_rng(4)
    real = _features(rng, 600, 16)
    same = _features(rng, 600, 16)
    shifted = _features(rng, 600, 16, shift=0.3)
    kid_same = kernel_inception_distance(real, same, n_subsets=50, subset_size=200, seed=0)
    kid_shifted = kernel_inception_distance(real, shifted, n_subsets=50, subset_size=200, seed=0)
    # Same distribution: ~0 (of either sign) against the spread over subsets; shifted: many
    # subset spreads above 0 and far above the same-distribution value.
    assert abs(kid_same["kid"]) < 0.5 * kid_same["kid_std"]
    assert kid_shifted["kid"] > 5 * kid_shifted["kid_std"]
    assert kid_shifted["kid"] > 50 * abs(kid_same["kid"])


def test_kid_is_zero_in_expectation_over_independent_samples():
    # The mean over many independent pairs of samples is ~0 (a biased estimator is > 0).
    rng = np.random.default_rng(5)
    values = [mmd2_unbiased(_features(rng, 50, 8), _features(rng, 50, 8)) for _ in range(300)]
    standard_error = np.std(values) / np.sqrt(len(values))
    assert abs(np.mean(values)) < 3 * standard_error


def test_kid_reports_subset_protocol_and_is_reproducible():
    rng = np.random.default_rng(6)
    real, fake = _features(rng, 120, 8), _features(rng, 80, 8, shift=0.2)
    result = kernel_inception_distance(real, fake, n_subsets=7, seed=11)
    assert result["subset_size"] == 80 and result["n_subsets"] == 7  # min(1000, 120, 80)
    assert result == kernel_inception_distance(real, fake, n_subsets=7, seed=11)
    assert result["kid"] != kernel_inception_distance(real, fake, n_subsets=7, seed=12)["kid"]
    assert all(type(value) in (float, int) and np.isfinite(value) for value in result.values())


def test_kid_of_whole_sets_has_no_subset_spread():
    rng = np.random.default_rng(7)
    real, fake = _features(rng, 60, 8), _features(rng, 60, 8, shift=0.2)
    result = kernel_inception_distance(real, fake, n_subsets=4, subset_size=1000)
    np.testing.assert_allclose(result["kid"], mmd2_unbiased(real, fake), rtol=1e-12)
    assert result["kid_std"] < 1e-12 * abs(result["kid"])


def test_kid_rejects_bad_inputs():
    feats = np.ones((5, 3))
    with pytest.raises(ValueError, match="at least 2"):
        mmd2_unbiased(feats[:1], feats)
    with pytest.raises(ValueError, match="at least 2"):
        kernel_inception_distance(feats, feats[:1])
    with pytest.raises(ValueError, match="same D"):
        kernel_inception_distance(feats, np.ones((5, 4)))
    with pytest.raises(ValueError, match="finite"):
        mmd2_unbiased(feats, np.full((5, 3), np.nan))
    with pytest.raises(ValueError, match="n_subsets"):
        kernel_inception_distance(feats, feats, n_subsets=0)
