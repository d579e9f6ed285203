"""FID-infinity (Chong and Forsyth 2020, "Effectively Unbiased FID and Inception Score and
Where to Find Them").

FID computed from N fake samples is biased upwards by roughly c / N. Following the authors'
code (``mchong6/FID_IS_infinity``, ``calculate_FID_infinity``): compute FID_N on random
subsets of the fake features (a fresh subset, drawn without replacement, for each N) against
fixed real statistics, at several N (they use 15 sizes evenly spaced from 5,000 to 50,000,
:data:`CHONG_FORSYTH_SIZES`), fit FID_N = FID_inf + slope / N by ordinary least squares,
and report the intercept FID_inf. The subset draws here come from
``np.random.default_rng(seed)``, so the value differs from theirs by sampling noise only.

Layers: real statistics (``gan_core.metrics.fid.feature_statistics``; cache them) ->
:func:`fids_at_sizes` -> :func:`extrapolate_fid` (pure fit); :func:`fid_infinity` runs all
three from features.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gan_core.metrics.fid import check_feature_pair, feature_statistics, frechet_distance

# np.linspace(5000, 50000, 15).astype("int32"), as in Chong and Forsyth's code.
CHONG_FORSYTH_SIZES: tuple[int, ...] = tuple(int(n) for n in np.linspace(5000, 50000, 15))


def fids_at_sizes(
    mu_real: np.ndarray,
    sigma_real: np.ndarray,
    fake_feats: np.ndarray,
    sizes: Sequence[int],
    *,
    seed: int = 0,
) -> np.ndarray:
    """FID_N ``[len(sizes)]`` of a random N-subset of ``fake_feats`` ``[M, D]`` against the real
    mean ``[D]`` and covariance ``[D, D]``, for each N in ``sizes`` (2 <= N <= M)."""
    fake_feats = np.asarray(fake_feats)
    if fake_feats.ndim != 2:
        raise ValueError(f"fake_feats must be [M, D], got shape {fake_feats.shape}")
    if not np.isfinite(fake_feats).all():
        raise ValueError("fake_feats must be finite (found NaN or inf)")
    sizes = _check_sizes(sizes, len(fake_feats))
    rng = np.random.default_rng(seed)
    fids = np.empty(len(sizes), dtype=np.float64)
    for i, size in enumerate(sizes):
        subset = fake_feats[rng.choice(len(fake_feats), size, replace=False)]  # [N, D]
        fids[i] = frechet_distance(mu_real, sigma_real, *feature_statistics(subset))
    return fids


def extrapolate_fid(sizes: Sequence[int], fids: Sequence[float]) -> dict[str, float]:
    """Least-squares line FID_N = ``fid_infinity`` + ``slope`` / N through ``fids`` ``[S]`` at
    ``sizes`` ``[S]`` (at least 2 distinct sizes). FID_inf may fall below 0 for near-equal
    distributions: it is an extrapolation, not clipped."""
    inverse = 1.0 / np.asarray(sizes, dtype=np.float64)  # [S]
    fids = np.asarray(fids, dtype=np.float64)
    if inverse.ndim != 1 or fids.shape != inverse.shape:
        raise ValueError(f"sizes and fids must both be [S]; got {inverse.shape} and {fids.shape}")
    _require_two_sizes(sizes)
    if not np.isfinite(fids).all():
        raise ValueError("fids must be finite")
    slope, intercept = np.polyfit(inverse, fids, deg=1)
    return {"fid_infinity": float(intercept), "slope": float(slope)}


def fid_infinity(
    real_feats: np.ndarray,
    fake_feats: np.ndarray,
    *,
    sizes: Sequence[int] = CHONG_FORSYTH_SIZES,
    seed: int = 0,
) -> dict[str, float]:
    """FID_inf of fakes ``[M, D]`` against all reals ``[N_real, D]``, extrapolated from FID at
    ``sizes`` (each at most M; the default needs M >= 50,000).

    Returns ``fid_infinity``, ``slope`` (of FID against 1/N) and ``n_real``.
    """
    real_feats, fake_feats = check_feature_pair(real_feats, fake_feats)
    _require_two_sizes(sizes)  # before the costly FIDs
    mu_real, sigma_real = feature_statistics(real_feats)
    fids = fids_at_sizes(mu_real, sigma_real, fake_feats, sizes, seed=seed)
    return {**extrapolate_fid(sizes, fids), "n_real": len(real_feats)}


def _require_two_sizes(sizes: Sequence[int]) -> None:
    if len({int(size) for size in sizes}) < 2:
        raise ValueError(
            f"need at least 2 distinct sizes to fit a line, got {[int(size) for size in sizes]}"
        )


def _check_sizes(sizes: Sequence[int], n_fake: int) -> list[int]:
    sizes = [int(size) for size in sizes]
    if not sizes:
        raise ValueError("sizes must not be empty")
    if min(sizes) < 2 or max(sizes) > n_fake:
        raise ValueError(
            f"sizes must lie in 2..{n_fake} (the number of fake features), got "
            f"{min(sizes)}..{max(sizes)}"
        )
    return sizes
