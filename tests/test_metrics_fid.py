"""Fréchet distance: exact values against the closed form and against clean-fid."""

from __future__ import annotations

import numpy as np
import pytest
from cleanfid.fid import frechet_distance as cleanfid_frechet_distance

from gan_core.metrics.fid import feature_statistics, fid_from_features, frechet_distance


def _correlated_features(rng: np.random.Generator, n: int, dim: int, shift: float) -> np.ndarray:
    """``[n, dim]`` Gaussian features with a random non-diagonal covariance."""
    mixing = rng.standard_normal((dim, dim)) / np.sqrt(dim)
    return rng.standard_normal((n, dim)) @ mixing + shift * rng.standard_normal(dim)


def test_feature_statistics_match_the_unbiased_formula():
    feats = _correlated_features(np.random.default_rng(0), 50, 6, shift=1.0)
    mu, sigma = feature_statistics(feats)
    centred = feats - feats.sum(axis=0) / len(feats)
    np.testing.assert_allclose(mu, feats.sum(axis=0) / len(feats), rtol=1e-12)
    np.testing.assert_allclose(sigma, centred.T @ centred / (len(feats) - 1), rtol=1e-12)
    mu32, sigma32 = feature_statistics(feats.astype(np.float32))
    assert mu32.dtype == sigma32.dtype == np.float64
    assert mu32.shape == (6,) and sigma32.shape == (6, 6)


def test_fid_of_a_set_with_itself_is_zero():
    feats = _correlated_features(np.random.default_rng(1), 300, 64, shift=2.0)
    assert abs(fid_from_features(feats, feats)) < 1e-6


def test_fid_of_diagonal_gaussians_is_the_closed_form():
    rng = np.random.default_rng(2)
    mu_real, mu_fake = rng.standard_normal(16), rng.standard_normal(16)
    var_real, var_fake = rng.uniform(0.1, 3.0, 16), rng.uniform(0.1, 3.0, 16)
    expected = np.sum((mu_real - mu_fake) ** 2) + np.sum(
        var_real + var_fake - 2.0 * np.sqrt(var_real * var_fake)
    )
    actual = frechet_distance(mu_real, np.diag(var_real), mu_fake, np.diag(var_fake))
    np.testing.assert_allclose(actual, expected, rtol=1e-12)


def test_fid_of_a_mean_shift_is_its_squared_norm():
    rng = np.random.default_rng(3)
    feats = _correlated_features(rng, 500, 32, shift=0.0)
    mu, sigma = feature_statistics(feats)
    delta = rng.standard_normal(32)
    np.testing.assert_allclose(frechet_distance(mu, sigma, mu + delta, sigma), delta @ delta)


def _is_positive_definite(sigma: np.ndarray) -> bool:
    try:
        np.linalg.cholesky(sigma)
    except np.linalg.LinAlgError:
        return False
    return True


def _shared_basis_gaussians(
    rng: np.random.Generator, var_real: np.ndarray, var_fake: np.ndarray
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], float]:
    """Means and non-diagonal covariances ``Q diag(var) Q^T`` with one random rotation ``Q``,
    and their Fréchet distance in closed form."""
    dim = len(var_real)
    rotation, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    mu_real, mu_fake = rng.standard_normal(dim), rng.standard_normal(dim)
    sigma_real = (rotation * var_real) @ rotation.T
    sigma_fake = (rotation * var_fake) @ rotation.T
    sigma_real, sigma_fake = 0.5 * (sigma_real + sigma_real.T), 0.5 * (sigma_fake + sigma_fake.T)
    expected = np.sum((mu_real - mu_fake) ** 2) + np.sum(
        var_real + var_fake - 2.0 * np.sqrt(var_real * var_fake)
    )
    return (mu_real, sigma_real, mu_fake, sigma_fake), expected


def test_fid_of_positive_definite_covariances_is_the_closed_form():
    rng = np.random.default_rng(6)
    stats, expected = _shared_basis_gaussians(
        rng, rng.uniform(0.1, 3.0, 48), rng.uniform(0.1, 3.0, 48)
    )
    assert _is_positive_definite(stats[1])  # the Cholesky route
    np.testing.assert_allclose(frechet_distance(*stats), expected, rtol=1e-12)


@pytest.mark.parametrize("singular", ["real", "both"])
def test_fid_of_singular_covariances_is_the_closed_form(singular):
    # 20 of 48 variances exactly 0 (rank 28): S_real has no Cholesky factor, so the real one
    # is swapped with a positive definite fake one, or both are factored by eigh.
    rng = np.random.default_rng(7)
    var_real = np.concatenate([rng.uniform(0.1, 3.0, 28), np.zeros(20)])
    var_fake = rng.uniform(0.1, 3.0, 48)
    if singular == "both":
        var_fake[rng.permutation(48)[:20]] = 0.0
    stats, expected = _shared_basis_gaussians(rng, var_real, var_fake)
    assert not _is_positive_definite(stats[1])
    assert _is_positive_definite(stats[3]) == (singular == "real")
    np.testing.assert_allclose(frechet_distance(*stats), expected, rtol=1e-7)
    mu_real, sigma_real, mu_fake, sigma_fake = stats
    np.testing.assert_allclose(
        frechet_distance(mu_fake, sigma_fake, mu_real, sigma_real), expected, rtol=1e-7
    )


@pytest.mark.filterwarnings("ignore:The `disp` argument is deprecated:DeprecationWarning")
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fid_agrees_with_clean_fid(seed):
    """The Cholesky route (more samples than dimensions), to rounding."""
    rng = np.random.default_rng(seed)
    mu_real, sigma_real = feature_statistics(_correlated_features(rng, 3000, 96, shift=0.5))
    mu_fake, sigma_fake = feature_statistics(_correlated_features(rng, 2500, 96, shift=0.5))
    assert np.abs(sigma_real - np.diag(np.diag(sigma_real))).max() > 0.1  # non-diagonal
    assert _is_positive_definite(sigma_real)
    expected = cleanfid_frechet_distance(mu_real, sigma_real, mu_fake, sigma_fake)
    actual = frechet_distance(mu_real, sigma_real, mu_fake, sigma_fake)
    np.testing.assert_allclose(actual, expected, rtol=1e-10)
    # The same value from the eigenvalues of the non-symmetric product S_real S_fake.
    product_eigenvalues = np.linalg.eigvals(sigma_real @ sigma_fake).real
    reference = (
        np.sum((mu_real - mu_fake) ** 2)
        + np.trace(sigma_real)
        + np.trace(sigma_fake)
        - 2.0 * np.sqrt(np.clip(product_eigenvalues, 0.0, None)).sum()
    )
    np.testing.assert_allclose(actual, reference, rtol=1e-10)


@pytest.mark.filterwarnings("ignore:The `disp` argument is deprecated:DeprecationWarning")
@pytest.mark.parametrize(("n_real", "n_fake"), [(40, 2000), (2000, 40), (40, 50), (10, 10)])
def test_rank_deficient_covariances_agree_with_clean_fid(n_real, n_fake):
    # Fewer feature vectors than the 64 dimensions: rank n - 1 covariances, where both
    # routes lose about sqrt(machine epsilon) on the near-zero eigenvalues.
    rng = np.random.default_rng(n_real + n_fake)
    mu_real, sigma_real = feature_statistics(_correlated_features(rng, n_real, 64, shift=0.5))
    mu_fake, sigma_fake = feature_statistics(_correlated_features(rng, n_fake, 64, shift=0.5))
    assert _is_positive_definite(sigma_real) == (n_real > 64)
    assert _is_positive_definite(sigma_fake) == (n_fake > 64)
    expected = cleanfid_frechet_distance(mu_real, sigma_real, mu_fake, sigma_fake)
    actual = frechet_distance(mu_real, sigma_real, mu_fake, sigma_fake)
    np.testing.assert_allclose(actual, expected, rtol=1e-7)


def test_fid_is_symmetric():
    rng = np.random.default_rng(4)
    real = feature_statistics(_correlated_features(rng, 400, 20, shift=1.0))
    fake = feature_statistics(_correlated_features(rng, 300, 20, shift=1.0))
    np.testing.assert_allclose(frechet_distance(*real, *fake), frechet_distance(*fake, *real))


def test_fid_of_singular_covariances_is_a_real_non_negative_float():
    # 10 samples in 64 dimensions: rank-9 covariances, where sqrtm of the product is unstable.
    rng = np.random.default_rng(5)
    real = _correlated_features(rng, 10, 64, shift=1.0)
    fake = _correlated_features(rng, 10, 64, shift=1.0)
    for score in (fid_from_features(real, fake), fid_from_features(real, real)):
        assert type(score) is float
        assert np.isfinite(score) and score >= 0.0
    _, sigma = feature_statistics(real)
    assert frechet_distance(np.zeros(64), sigma, np.zeros(64), sigma) < 1e-6


def test_fid_rejects_bad_inputs():
    feats = np.zeros((5, 3))
    with pytest.raises(ValueError, match="at least 2"):
        feature_statistics(feats[:1])
    with pytest.raises(ValueError, match="same D"):
        fid_from_features(feats, np.zeros((5, 4)))
    with pytest.raises(ValueError, match="covariances"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(3), np.eye(4)[:3])
    with pytest.raises(ValueError, match="means"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(3))
    with pytest.raises(ValueError, match="finite"):
        frechet_distance(np.zeros(3), np.diag([1.0, np.nan, 1.0]), np.zeros(3), np.eye(3))
    with pytest.raises(ValueError, match="finite"):
        frechet_distance(np.zeros(3), np.eye(3), np.array([0.0, np.inf, 0.0]), np.eye(3))
