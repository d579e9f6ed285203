"""Fréchet distance between Gaussians fitted to features (FID; Heusel et al. 2017,
"GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash Equilibrium").

    FD = ||mu_real - mu_fake||^2 + Tr(S_real) + Tr(S_fake) - 2 Tr((S_real S_fake)^(1/2))

The statistics follow clean-fid and pytorch-fid: float64 mean and unbiased covariance
(``np.cov(feats, rowvar=False)``). The score agrees with clean-fid's ``frechet_distance``
(to rounding, about 1e-12 relative, on well-conditioned covariances) but avoids its
``scipy.linalg.sqrtm`` (slow, and it returned complex parts in SciPy 1.11.2-1.12).

The trace term is the sum of the square roots of the eigenvalues of ``S_real S_fake``,
which are real and >= 0. For any factor ``F`` with ``S_real = F F^T``, the matrix
``F^T S_fake F`` is symmetric positive semi-definite and has the same non-zero eigenvalues
as ``S_real S_fake = F (F^T S_fake)`` (``AB`` and ``BA`` share their non-zero
eigenvalues), so only the eigenvalues of a symmetric matrix are needed, never a complex
number:

* When ``S_real`` is positive definite, ``F`` is its Cholesky factor ``L``. Computing
  ``L`` and ``L^T S_fake L`` is LAPACK's reduction of the generalized symmetric-definite
  problem ``S_fake S_real v = w v`` (``dsygv`` with ``itype=2``: products with ``L`` only,
  no inverse, so backward stable), followed by a values-only symmetric eigensolver; no
  eigenvectors are computed. As ``S_real S_fake`` and ``S_fake S_real`` have the same
  eigenvalues, a singular ``S_real`` with a positive definite ``S_fake`` swaps the roles.
* When neither Cholesky factorization succeeds (both singular, e.g. from fewer feature
  vectors than dimensions), ``F = V diag(lambda)^(1/2)`` comes from the eigendecomposition
  ``S_real = V diag(lambda) V^T``, keeping only the columns with ``lambda > 0`` (tiny
  negative eigenvalues from rounding count as 0).

Tiny negative eigenvalues of ``F^T S_fake F`` from rounding also count as 0. The feature
space (Inception pool3, a domain classifier, ...) is chosen by the caller and must be
recorded with the score.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg


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
    if not all(np.isfinite(x).all() for x in (mu_real, mu_fake, sigma_real, sigma_fake)):
        raise ValueError("means and covariances must be finite (found NaN or inf)")
    trace_sqrt = _trace_sqrt_product(sigma_real, sigma_fake)  # Tr((S_real S_fake)^(1/2))
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


def _trace_sqrt_product(sigma_real: np.ndarray, sigma_fake: np.ndarray) -> float:
    """``Tr((S_real S_fake)^(1/2))``, the sum of the square roots of the eigenvalues of
    ``S_real S_fake``, for PSD ``[D, D]`` float64 covariances (see the module docstring)."""
    for factored, other in ((sigma_real, sigma_fake), (sigma_fake, sigma_real)):
        try:
            # Eigenvalues of other @ factored via factored = L L^T and L^T other L.
            eigenvalues = scipy.linalg.eigvalsh(
                other, factored, type=2, driver="gv", check_finite=False
            )
        except np.linalg.LinAlgError:  # factored is not (numerically) positive definite
            continue
        return _sum_sqrt(eigenvalues)
    factor = _psd_factor(sigma_real)  # [D, K], S_real = factor @ factor.T
    inner = factor.T @ sigma_fake @ factor  # [K, K]
    # Symmetrize against rounding so that eigvalsh sees the matrix it assumes.
    return _sum_sqrt(np.linalg.eigvalsh(0.5 * (inner + inner.T)))


def _sum_sqrt(eigenvalues: np.ndarray) -> float:
    """Sum of the square roots of PSD eigenvalues; tiny negative ones count as 0."""
    return float(np.sqrt(np.clip(eigenvalues, 0.0, None)).sum())


def _psd_factor(sigma: np.ndarray) -> np.ndarray:
    """``F`` ``[D, K]`` with ``sigma = F F^T`` for a PSD ``sigma`` ``[D, D]`` of numerical rank
    ``K``: ``V diag(lambda)^(1/2)`` over its eigenvalues ``lambda > 0`` (tiny negative ones
    count as 0)."""
    eigenvalues, eigenvectors = np.linalg.eigh(0.5 * (sigma + sigma.T))
    keep = eigenvalues > 0.0
    return eigenvectors[:, keep] * np.sqrt(eigenvalues[keep])
