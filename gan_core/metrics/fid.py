"""Fréchet distance between Gaussians fitted to features (FID; Heusel et al. 2017,
"GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash Equilibrium").

    FD = ||mu_real - mu_fake||^2 + Tr(S_real) + Tr(S_fake) - 2 Tr((S_real S_fake)^(1/2))

The statistics follow clean-fid and pytorch-fid: float64 mean and unbiased covariance
(``np.cov(feats, rowvar=False)``). The score agrees with clean-fid's ``frechet_distance``
(to rounding, about 1e-12 relative, on well-conditioned covariances), but takes the trace term from
the eigenvalues of the symmetric positive semi-definite matrix
``sqrt(S_real) S_fake sqrt(S_real)``, which has the same eigenvalues as ``S_real S_fake``.
That avoids ``scipy.linalg.sqrtm`` (slow, and it returned complex parts in SciPy
1.11.2-1.12) and never yields a complex number. The feature space (Inception pool3, a
domain classifier, ...) is chosen by the caller and must be recorded with the score.
"""

from __future__ import annotations

import numpy as np


def feature_statistics(feats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``[D]`` and unbiased covariance ``[D, D]`` (float64) of features ``[N, D]``."""
    feats = np.asarray(feats, dtype=np.float64)
    if feats.ndim != 2:
        raise ValueError(f"features must be [N, D], got shape {feats.shape}")
    if len(feats) < 2:
        raise ValueError(f"need at least 2 feature vectors for a covariance, got {len(feats)}")
    mu = feats.mean(axis=0)
    sigma = np.atleast_2d(np.cov(feats, rowvar=False))  # [D, D]; D = 1 gives a 0-d array
    return mu, sigma


def frechet_distance(
    mu_real: np.ndarray, sigma_real: np.ndarray, mu_fake: np.ndarray, sigma_fake: np.ndarray
) -> float:
    """Fréchet distance between N(mu_real, sigma_real) and N(mu_fake, sigma_fake).

    Means ``[D]``, covariances ``[D, D]`` symmetric positive semi-definite. Returns a
    float >= 0 (a squared 2-Wasserstein distance; rounding below 0 is clipped to 0).
    """
    mu_real = np.atleast_1d(np.asarray(mu_real, dtype=np.float64))
    mu_fake = np.atleast_1d(np.asarray(mu_fake, dtype=np.float64))
    sigma_real = np.atleast_2d(np.asarray(sigma_real, dtype=np.float64))
    sigma_fake = np.atleast_2d(np.asarray(sigma_fake, dtype=np.float64))
    dim = mu_real.shape[0]
    if mu_real.shape != (dim,) or mu_fake.shape != (dim,):
        raise ValueError(f"means must both be [D]; got {mu_real.shape} and {mu_fake.shape}")
    if sigma_real.shape != (dim, dim) or sigma_fake.shape != (dim, dim):
        raise ValueError(
            f"covariances must both be [{dim}, {dim}]; got {sigma_real.shape} and "
            f"{sigma_fake.shape}"
        )
    sqrt_real = _psd_sqrt(sigma_real)
    # Symmetrize against rounding so that eigvalsh sees the matrix it assumes.
    inner = sqrt_real @ sigma_fake @ sqrt_real
    inner = 0.5 * (inner + inner.T)
    eigenvalues = np.clip(np.linalg.eigvalsh(inner), 0.0, None)
    trace_sqrt = np.sqrt(eigenvalues).sum()  # Tr((S_real S_fake)^(1/2))
    diff = mu_real - mu_fake
    distance = diff @ diff + np.trace(sigma_real) + np.trace(sigma_fake) - 2.0 * trace_sqrt
    return max(float(distance), 0.0)


def check_feature_pair(
    real_feats: np.ndarray, fake_feats: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Both feature sets as arrays, or a ValueError unless both are ``[N, D]`` with one D."""
    real_feats = np.asarray(real_feats)
    fake_feats = np.asarray(fake_feats)
    if real_feats.ndim != 2 or fake_feats.ndim != 2 or real_feats.shape[1] != fake_feats.shape[1]:
        raise ValueError(
            f"features must be [N, D] with the same D; got {real_feats.shape} and "
            f"{fake_feats.shape}"
        )
    return real_feats, fake_feats


def fid_from_features(real_feats: np.ndarray, fake_feats: np.ndarray) -> float:
    """FID between features ``[N_real, D]`` and ``[N_fake, D]`` of one feature space."""
    real_feats, fake_feats = check_feature_pair(real_feats, fake_feats)
    mu_real, sigma_real = feature_statistics(real_feats)
    mu_fake, sigma_fake = feature_statistics(fake_feats)
    return frechet_distance(mu_real, sigma_real, mu_fake, sigma_fake)


def _psd_sqrt(sigma: np.ndarray) -> np.ndarray:
    """Symmetric square root of a PSD matrix; tiny negative eigenvalues count as 0."""
    eigenvalues, eigenvectors = np.linalg.eigh(0.5 * (sigma + sigma.T))
    root = np.sqrt(np.clip(eigenvalues, 0.0, None))
    return (eigenvectors * root) @ eigenvectors.T
