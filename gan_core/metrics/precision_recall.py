"""k-NN manifold metrics: improved precision and recall (Kynkaanniemi et al. 2019, "Improved
Precision and Recall Metric for Assessing Generative Models", k = 3) and density and coverage
(Naeem et al. 2020, "Reliable Fidelity and Diversity Metrics for Generative Models", k = 5).

Each feature's k-NN radius is the Euclidean distance to its k-th nearest neighbour in its own
set (itself excluded). With B(x, r) the closed ball ``||y - x|| <= r``:

- precision: fraction of fakes inside some real ball B(r_i, radius_k(r_i));
- recall: fraction of reals inside some fake ball B(f_j, radius_k(f_j));
- density: (1 / (k M)) sum_j #{i : f_j in B(r_i, radius_k(r_i))}, M fakes (about 1 when the
  two distributions are equal; can exceed 1);
- coverage: fraction of reals whose ball B(r_i, radius_k(r_i)) holds some fake.

Swapping real and fake swaps precision and recall. The closed ball (``<=``) is Kynkaanniemi
et al.'s Eq. 1 and their code; Naeem et al.'s ``prdc`` package compares with ``<``. The two
differ only on exact ties, which continuous features almost never produce; with ``<=``,
duplicated features (radius 0) still cover themselves, where ``<`` scores them 0.

Every ball test compares a squared distance with a squared radius, both from the expansion
below, and no square root is taken: a radius rooted and squared back moves by an ulp either
way, which counts some points lying exactly on a boundary out (quantized features have many).
The statistic kept, and cached, is therefore the squared k-NN radius.

Distances come from ``||a||^2 + ||b||^2 - 2 a.b`` in float64, in blocks of ``chunk_size``
rows, so memory stays near ``2 * 8 * chunk_size * N`` bytes (400 MB at the default and
N = 50,000) and no N x N matrix is built; k-NN radii use ``np.partition`` per block.
Squared distances below the expansion's rounding error (``1e-12 * (||a||^2 + ||b||^2)``)
count as 0, so exact duplicates are at distance exactly 0; on integer features of moderate
size (squared norms below 2^53) every squared distance is exact. Cost: one pass over the
pairs of each set for its radii and one over the real-fake pairs, each ``O(N^2 D)``.

Layers: :func:`knn_squared_radii` (statistics; cache the real ones across evaluations) ->
:func:`precision_recall_from_radii`, :func:`density_coverage_from_radii` (scores) ->
:func:`precision_recall`, :func:`density_coverage` (both in one call).
"""

from __future__ import annotations

import numpy as np

from gan_core.metrics.protocol import DC_NEIGHBOURS, PR_NEIGHBOURS

CHUNK_SIZE = 500  # rows per distance block
_ROUNDING = 1e-12  # relative rounding error of the squared-distance expansion, generously


def knn_squared_radii(feats: np.ndarray, k: int, *, chunk_size: int = CHUNK_SIZE) -> np.ndarray:
    """Squared distance ``[N]`` (float64, >= 0) from each of ``feats`` ``[N, D]`` to its k-th
    nearest other feature (the (k+1)-th smallest, counting the feature itself). Needs N > k.
    """
    feats = _as_features(feats, "feats")
    if k < 1 or len(feats) <= k:
        raise ValueError(f"need 1 <= k < N for k-NN radii, got k={k}, N={len(feats)}")
    _check_chunk_size(chunk_size)
    sq_norms = _squared_norms(feats)
    sq_radii = np.empty(len(feats), dtype=np.float64)
    for start in range(0, len(feats), chunk_size):
        stop = start + chunk_size
        block = _squared_distances(feats[start:stop], sq_norms[start:stop], feats, sq_norms)
        block.partition(k, axis=1)  # in place; column k holds the (k+1)-th smallest
        sq_radii[start:stop] = block[:, k]
    return sq_radii


def precision_recall_from_radii(
    real_feats: np.ndarray,
    fake_feats: np.ndarray,
    real_sq_radii: np.ndarray,
    fake_sq_radii: np.ndarray,
    *,
    chunk_size: int = CHUNK_SIZE,
) -> dict[str, float]:
    """Improved ``precision`` and ``recall`` (both in [0, 1]) of ``fake_feats`` ``[M, D]``
    against ``real_feats`` ``[N, D]``, given their squared k-NN radii ``[N]`` and ``[M]``
    (:func:`knn_squared_radii`)."""
    real_feats, fake_feats = _as_pair(real_feats, fake_feats)
    real_sq_radii = _as_radii(real_sq_radii, len(real_feats), "real_sq_radii")
    fake_sq_radii = _as_radii(fake_sq_radii, len(fake_feats), "fake_sq_radii")
    in_real_ball = np.zeros(len(fake_feats), dtype=bool)  # [M]
    in_fake_ball = np.zeros(len(real_feats), dtype=bool)  # [N]
    for start, block in _fake_real_blocks(real_feats, fake_feats, chunk_size):
        stop = start + len(block)
        in_real_ball[start:stop] = (block <= real_sq_radii[None, :]).any(axis=1)
        in_fake_ball |= (block <= fake_sq_radii[start:stop, None]).any(axis=0)
    return {"precision": float(in_real_ball.mean()), "recall": float(in_fake_ball.mean())}


def density_coverage_from_radii(
    real_feats: np.ndarray,
    fake_feats: np.ndarray,
    real_sq_radii: np.ndarray,
    k: int,
    *,
    chunk_size: int = CHUNK_SIZE,
) -> dict[str, float]:
    """``density`` (>= 0, ~1 for equal distributions) and ``coverage`` (in [0, 1]) of
    ``fake_feats`` ``[M, D]`` against ``real_feats`` ``[N, D]`` with the reals' squared k-NN
    radii ``[N]`` (:func:`knn_squared_radii`).
    """
    real_feats, fake_feats = _as_pair(real_feats, fake_feats)
    real_sq_radii = _as_radii(real_sq_radii, len(real_feats), "real_sq_radii")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    balls_per_fake = np.zeros(len(fake_feats), dtype=np.int64)  # [M]
    covered = np.zeros(len(real_feats), dtype=bool)  # [N]
    for start, block in _fake_real_blocks(real_feats, fake_feats, chunk_size):
        inside = block <= real_sq_radii[None, :]  # [m, N]: fake j inside real ball i
        balls_per_fake[start : start + len(block)] = inside.sum(axis=1)
        covered |= inside.any(axis=0)
    return {
        "density": float(balls_per_fake.sum() / (k * len(fake_feats))),
        "coverage": float(covered.mean()),
    }


def precision_recall(
    real_feats: np.ndarray,
    fake_feats: np.ndarray,
    *,
    k: int = PR_NEIGHBOURS,
    chunk_size: int = CHUNK_SIZE,
) -> dict[str, float]:
    """Improved precision and recall of fakes ``[M, D]`` against reals ``[N, D]``; M, N > k."""
    real_sq_radii = knn_squared_radii(real_feats, k, chunk_size=chunk_size)
    fake_sq_radii = knn_squared_radii(fake_feats, k, chunk_size=chunk_size)
    return precision_recall_from_radii(
        real_feats, fake_feats, real_sq_radii, fake_sq_radii, chunk_size=chunk_size
    )


def density_coverage(
    real_feats: np.ndarray,
    fake_feats: np.ndarray,
    *,
    k: int = DC_NEIGHBOURS,
    chunk_size: int = CHUNK_SIZE,
) -> dict[str, float]:
    """Density and coverage of fakes ``[M, D]`` against reals ``[N, D]``; N > k."""
    real_sq_radii = knn_squared_radii(real_feats, k, chunk_size=chunk_size)
    return density_coverage_from_radii(
        real_feats, fake_feats, real_sq_radii, k, chunk_size=chunk_size
    )


def _fake_real_blocks(real_feats: np.ndarray, fake_feats: np.ndarray, chunk_size: int):
    """Yield ``(start, block)``: squared distances ``[m, N]`` from fakes ``start:start+m``
    to all reals."""
    _check_chunk_size(chunk_size)
    real_sq_norms = _squared_norms(real_feats)
    fake_sq_norms = _squared_norms(fake_feats)
    for start in range(0, len(fake_feats), chunk_size):
        stop = start + chunk_size
        yield (
            start,
            _squared_distances(
                fake_feats[start:stop], fake_sq_norms[start:stop], real_feats, real_sq_norms
            ),
        )


def _squared_norms(feats: np.ndarray) -> np.ndarray:
    return np.einsum("nd,nd->n", feats, feats)  # [N]


def _squared_distances(
    rows: np.ndarray, row_sq_norms: np.ndarray, cols: np.ndarray, col_sq_norms: np.ndarray
) -> np.ndarray:
    """Squared Euclidean distances ``[R, C]`` >= 0; rounding-level values are set to 0."""
    # In place, so that a block needs two [R, C] float64 buffers.
    scale = np.add.outer(row_sq_norms, col_sq_norms)  # [R, C]
    sq = rows @ cols.T
    sq *= -2.0
    sq += scale
    scale *= _ROUNDING
    sq[sq <= scale] = 0.0
    return sq


def _as_features(feats: np.ndarray, name: str) -> np.ndarray:
    feats = np.asarray(feats, dtype=np.float64)
    if feats.ndim != 2 or len(feats) == 0:
        raise ValueError(f"{name} must be a non-empty [N, D] array, got shape {feats.shape}")
    if not np.isfinite(feats).all():
        raise ValueError(f"{name} must be finite (found NaN or inf)")
    return feats


def _as_pair(real_feats: np.ndarray, fake_feats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    real_feats = _as_features(real_feats, "real_feats")
    fake_feats = _as_features(fake_feats, "fake_feats")
    if real_feats.shape[1] != fake_feats.shape[1]:
        raise ValueError(
            f"real_feats and fake_feats must share D; got {real_feats.shape} and {fake_feats.shape}"
        )
    return real_feats, fake_feats


def _as_radii(radii: np.ndarray, n: int, name: str) -> np.ndarray:
    radii = np.asarray(radii, dtype=np.float64)
    if radii.shape != (n,) or not np.isfinite(radii).all() or (radii < 0).any():
        raise ValueError(f"{name} must be [{n}] finite and >= 0, got shape {radii.shape}")
    return radii


def _check_chunk_size(chunk_size: int) -> None:
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
