"""KID: the unbiased MMD^2 against its formula and clean-fid, and its properties over subsets."""

from __future__ import annotations

import numpy as np
import pytest
from cleanfid.fid import kernel_distance as cleanfid_kernel_distance

from gan_core.feature_spaces import Features, InceptionSpace
from gan_core.metrics.kid import (
    kernel_inception_distance,
    kid_feature_scale,
    mmd2_unbiased,
    polynomial_kernel,
)
from gan_core.metrics.protocol import MetricProtocol
from gan_core.metrics.suite import real_reference
from gan_core.scoring import score_images


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


def test_kid_of_whole_sets_is_one_subset_without_spread():
    # m = N_real = N_fake: every subset would be both whole sets; one is scored and said so.
    rng = np.random.default_rng(7)
    real, fake = _features(rng, 60, 8), _features(rng, 60, 8, shift=0.2)
    result = kernel_inception_distance(real, fake, n_subsets=4, subset_size=1000)
    assert result["kid"] == mmd2_unbiased(real, fake)
    assert result["n_subsets"] == 1 and result["subset_size"] == 60
    assert np.isnan(result["kid_std"])
    # One set larger than m: its subsets differ, so the asked-for subsets are all drawn.
    larger = kernel_inception_distance(_features(rng, 90, 8), fake, n_subsets=4, subset_size=1000)
    assert larger["n_subsets"] == 4 and larger["kid_std"] > 0


def test_kid_feature_scale_is_the_real_features_rms_per_dimension():
    real = np.array([[3.0, 4.0], [0.0, 0.0], [6.0, 8.0]])  # squared norms 25, 0, 100
    scale = kid_feature_scale(real)
    assert scale == np.sqrt((25 + 0 + 100) / 3 / 2)
    np.testing.assert_allclose(np.mean(np.sum((real / scale) ** 2, axis=1)), 2.0, rtol=1e-15)
    with pytest.raises(ValueError, match="all 0"):
        kid_feature_scale(np.zeros((3, 2)))


def test_scaled_kid_does_not_depend_on_the_features_units():
    rng = np.random.default_rng(8)
    real, fake = _features(rng, 150, 16), _features(rng, 120, 16, shift=0.3)

    def kid(real, fake, feature_scale):
        return kernel_inception_distance(
            real, fake, n_subsets=5, subset_size=100, seed=1, feature_scale=feature_scale
        )

    reference = kid(real, fake, kid_feature_scale(real))
    for c in (1e-3, 7.3, 250.0):
        result = kid(c * real, c * fake, kid_feature_scale(c * real))
        np.testing.assert_allclose(result["kid"], reference["kid"], rtol=1e-10)
        np.testing.assert_allclose(result["kid_std"], reference["kid_std"], rtol=1e-8)
        np.testing.assert_allclose(
            result["feature_scale"], c * reference["feature_scale"], rtol=1e-12
        )
    # Unscaled, the same sets give a KID that grows with the units (as c^6 for large c).
    unscaled = kid(250.0 * real, 250.0 * fake, 1.0)
    assert unscaled["kid"] > 1e6 * reference["kid"]


def test_scaled_real_versus_real_kid_in_a_high_norm_space_stays_within_the_null_spread():
    # A classifier-like space: 128-d non-negative features of one norm, x . y / d = 11 on
    # average over all pairs (clean-fid's kernel sees values near 1728 there). Divided by
    # the scale, every feature has squared norm d, so 0 <= x . y / d <= 1 (Cauchy-Schwarz)
    # and the kernel lies in [1, 8]; h = k(x, x') + k(y, y') - k(x, y') - k(x', y) then
    # lies in [-14, 14].
    # Two sets of one distribution: the unbiased MMD^2 of m-subsets is a degenerate
    # U-statistic, Var = 2 E[h^2] / (m (m - 1)) <= 2 * 14^2 / (m (m - 1)) (Gretton et al.
    # 2012, Sec. 5), and KID, a mean over subsets, varies across seeds no more than that.
    d, n, m = 128, 400, 200
    mixing = np.random.default_rng(123).standard_normal((d, d)) / np.sqrt(d)
    rng = np.random.default_rng(9)
    sets = []
    for _ in range(2):
        z = np.maximum(rng.standard_normal((n, d)) @ mixing + 0.5, 0.0)
        sets.append(z / np.linalg.norm(z, axis=1, keepdims=True))  # unit norm, [n, d]
    real_unit, fake_unit = sets
    radius = np.sqrt(11.0 * d / np.mean(real_unit @ real_unit.T))  # mean x . y / d: 11
    real, fake = radius * real_unit, radius * fake_unit
    scale = kid_feature_scale(real)
    np.testing.assert_allclose(scale, radius / np.sqrt(d), rtol=1e-12)
    bound = np.sqrt(2 * 14.0**2 / (m * (m - 1)))
    scaled, unscaled = [], []
    for seed in range(8):
        kwargs = {"n_subsets": 20, "subset_size": m, "seed": seed}
        scaled.append(kernel_inception_distance(real, fake, feature_scale=scale, **kwargs)["kid"])
        unscaled.append(kernel_inception_distance(real, fake, **kwargs)["kid"])
    assert np.std(scaled) <= bound
    assert np.max(np.abs(scaled)) <= 3 * bound
    assert np.std(unscaled) > bound  # the audit's failure: seed-to-seed swings of whole units


def _pixels(images: np.ndarray) -> Features:
    return Features(images.reshape(len(images), -1).astype(np.float64), None)  # [N, H*W*C]


class _PixelInception(InceptionSpace):
    """The Inception space's type with the pixels as features, without the network."""

    def __init__(self) -> None:
        self.weights_sha256 = "none"

    def extract(self, images: np.ndarray) -> Features:
        return _pixels(images)


class _PixelSpace:
    """Any other feature space (a domain classifier's, say), with the same features."""

    name, weights_sha256, preprocessing = "pixels", "none", "none"

    def extract(self, images: np.ndarray) -> Features:
        return _pixels(images)


def test_kid_is_scaled_in_every_feature_space_but_inceptions():
    rng = np.random.default_rng(10)
    real_images = rng.integers(100, 256, size=(40, 3, 3, 1), dtype=np.uint8)  # high norm
    fake_images = rng.integers(90, 256, size=(30, 3, 3, 1), dtype=np.uint8)
    protocol = MetricProtocol(kid_subsets=6, kid_subset_size=20, seed=4)
    real_feats, fake_feats = _pixels(real_images).feats, _pixels(fake_images).feats
    reference = real_reference(real_feats, (protocol.pr_k, protocol.dc_k))
    for space, scale in ((_PixelInception(), 1.0), (_PixelSpace(), kid_feature_scale(real_feats))):
        row = score_images(space, reference, fake_images, protocol)
        kid = kernel_inception_distance(
            real_feats, fake_feats, n_subsets=6, subset_size=20, seed=4, feature_scale=scale
        )
        assert row["kid_feature_scale"] == scale
        assert (row["kid"], row["kid_std"]) == (kid["kid"], kid["kid_std"])
