"""FID-infinity: the 1/N fit, and the extrapolation on Gaussians with a known FID."""

from __future__ import annotations

import numpy as np
import pytest

from gan_core.metrics.fid import feature_statistics, frechet_distance
from gan_core.metrics.fid_infinity import (
    CHONG_FORSYTH_SIZES,
    extrapolate_fid,
    fid_infinity,
    fids_at_sizes,
)

DIM = 32
SIZES = np.linspace(250, 4000, 10).astype(int)


def _gaussians(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """True means ``[D]`` and non-diagonal covariances ``[D, D]`` of real and fake features."""
    rng = np.random.default_rng(seed)
    mix_real, mix_fake = rng.standard_normal((2, DIM, DIM)) / np.sqrt(DIM)
    sigma_real = mix_real @ mix_real.T + 0.5 * np.eye(DIM)
    sigma_fake = mix_fake @ mix_fake.T + 0.5 * np.eye(DIM)
    return np.zeros(DIM), sigma_real, 0.1 * rng.standard_normal(DIM), sigma_fake


def test_default_sizes_are_chong_and_forsyths():
    assert CHONG_FORSYTH_SIZES[:3] == (5000, 8214, 11428)
    assert len(CHONG_FORSYTH_SIZES) == 15 and CHONG_FORSYTH_SIZES[-1] == 50000


def test_extrapolation_recovers_an_exact_line_in_one_over_n():
    sizes = [100, 250, 1000, 4000]
    fids = [3.5 + 120.0 / n for n in sizes]
    result = extrapolate_fid(sizes, fids)
    np.testing.assert_allclose(result["fid_infinity"], 3.5, rtol=1e-10)
    np.testing.assert_allclose(result["slope"], 120.0, rtol=1e-10)


def test_extrapolation_is_the_least_squares_intercept():
    rng = np.random.default_rng(0)
    sizes = np.array([300, 500, 900, 2000, 5000])
    fids = 7.0 + 50.0 / sizes + 0.01 * rng.standard_normal(5)
    design = np.stack([np.ones(5), 1.0 / sizes], axis=1)  # [S, 2]
    intercept, slope = np.linalg.lstsq(design, fids, rcond=None)[0]
    result = extrapolate_fid(sizes, fids)
    np.testing.assert_allclose([result["fid_infinity"], result["slope"]], [intercept, slope])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fid_infinity_of_gaussians_is_close_to_the_closed_form(seed):
    mu_real, sigma_real, mu_fake, sigma_fake = _gaussians(seed)
    true_fid = frechet_distance(mu_real, sigma_real, mu_fake, sigma_fake)
    fake = np.random.default_rng(100 + seed).multivariate_normal(mu_fake, sigma_fake, 4000)
    # Real statistics are the true ones, so all the bias comes from the N fake samples.
    fids = fids_at_sizes(mu_real, sigma_real, fake, SIZES, seed=seed)
    result = extrapolate_fid(SIZES, fids)
    bias_at_smallest = fids[0] - true_fid
    assert bias_at_smallest > 0.1 * true_fid  # FID_N is biased upwards at small N
    assert abs(result["fid_infinity"] - true_fid) < 0.25 * bias_at_smallest
    np.testing.assert_allclose(result["fid_infinity"], true_fid, rtol=0.03)
    assert result["slope"] > 0


def test_fid_infinity_from_features_uses_all_real_features():
    mu_real, sigma_real, mu_fake, sigma_fake = _gaussians(3)
    true_fid = frechet_distance(mu_real, sigma_real, mu_fake, sigma_fake)
    rng = np.random.default_rng(3)
    real = rng.multivariate_normal(mu_real, sigma_real, 40000)
    fake = rng.multivariate_normal(mu_fake, sigma_fake, 4000)
    result = fid_infinity(real, fake, sizes=SIZES, seed=1)
    expected = extrapolate_fid(SIZES, fids_at_sizes(*feature_statistics(real), fake, SIZES, seed=1))
    assert result == {**expected, "n_real": 40000}
    fid_smallest = fids_at_sizes(*feature_statistics(real), fake, SIZES[:1], seed=1)[0]
    assert abs(result["fid_infinity"] - true_fid) < 0.25 * abs(fid_smallest - true_fid)


def test_fid_infinity_rejects_bad_inputs():
    feats = np.random.default_rng(4).standard_normal((50, 3))
    with pytest.raises(ValueError, match="2 distinct sizes"):
        fid_infinity(feats, feats, sizes=[20, 20])
    with pytest.raises(ValueError, match=r"2\.\.50"):
        fid_infinity(feats, feats, sizes=[20, 60])  # more than the 50 fakes
    with pytest.raises(ValueError, match=r"2\.\.50"):
        fid_infinity(feats, feats)  # the default sizes need 50,000 fakes
    with pytest.raises(ValueError, match="same D"):
        fid_infinity(feats, feats[:, :2], sizes=[10, 20])
    with pytest.raises(ValueError, match="finite"):
        extrapolate_fid([10, 20], [1.0, np.nan])
    with pytest.raises(ValueError, match="finite"):
        fid_infinity(feats, np.full((50, 3), np.inf), sizes=[10, 20])
