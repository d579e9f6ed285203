"""Inception Score (IS; Salimans et al. 2016, "Improved Techniques for Training GANs").

    IS = exp( E_x KL( p(y|x) || p(y) ) ),   p(y) = E_x p(y|x),

from class probabilities ``p(y|x)`` ``[N, K]`` (Inception-v3 softmax over 1000 classes, or a
domain classifier's). As in Salimans et al.'s code and torch-fidelity's
``isc_features_to_metric``, the samples are split into ``n_splits`` (10) contiguous parts,
``[i N // n_splits, (i + 1) N // n_splits)``, each part's IS uses its own marginal p(y), and
the mean and standard deviation (ddof=0) over parts are reported. As in torch-fidelity the
samples are shuffled first, here by ``np.random.default_rng(seed).permutation(N)`` (torch-
fidelity uses a ``RandomState``, so its splits differ; scores agree given the same order).
Terms with p(y|x) = 0 contribute 0 (0 log 0 = 0), so one-hot predictions give a finite score.
"""

from __future__ import annotations

import numpy as np
from scipy.special import xlogy

from gan_core.metrics.protocol import IS_SPLITS

PROBABILITY_ATOL = 1e-4  # rows of a float32 softmax sum to 1 within ~1e-6


def inception_score_of_split(probs: np.ndarray) -> float:
    """IS of one part: exp of the mean KL(p(y|x) || p(y)) over rows of ``probs`` ``[N, K]``.

    Returns a float in [1, K]; 1 when all rows are equal, K for one-hot rows spread evenly
    over K classes.
    """
    probs = _check_probs(probs)
    marginal = probs.mean(axis=0)  # p(y), [K]
    # KL per row: sum_k p log p - sum_k p log p(y); p(y) > 0 wherever p > 0.
    kl = xlogy(probs, probs).sum(axis=1) - xlogy(probs, marginal[None, :]).sum(axis=1)  # [N]
    return float(np.exp(max(kl.mean(), 0.0)))  # the mean KL is a mutual information, >= 0


def inception_score(
    probs: np.ndarray, *, n_splits: int = IS_SPLITS, seed: int = 0
) -> dict[str, float]:
    """IS of class probabilities ``probs`` ``[N, K]`` (rows >= 0, summing to 1), N >= n_splits.

    Returns ``inception_score`` (mean over parts), ``inception_score_std`` (ddof=0) and
    ``n_splits``.
    """
    probs = _check_probs(probs)
    n = len(probs)
    if n_splits < 1 or n < n_splits:
        raise ValueError(f"need 1 <= n_splits <= N samples, got n_splits={n_splits}, N={n}")
    probs = probs[np.random.default_rng(seed).permutation(n)]
    scores = np.array(
        [
            inception_score_of_split(probs[i * n // n_splits : (i + 1) * n // n_splits])
            for i in range(n_splits)
        ]
    )
    return {
        "inception_score": float(scores.mean()),
        "inception_score_std": float(scores.std()),
        "n_splits": n_splits,
    }


def _check_probs(probs: np.ndarray) -> np.ndarray:
    """``probs`` as float64 ``[N, K]``; raise unless rows are probability vectors."""
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or probs.shape[0] == 0 or probs.shape[1] == 0:
        raise ValueError(f"probabilities must be a non-empty [N, K] array, got {probs.shape}")
    if not np.isfinite(probs).all() or probs.min() < 0.0:
        raise ValueError("probabilities must be finite and non-negative (softmax outputs)")
    row_sums = probs.sum(axis=1)
    if not np.allclose(row_sums, 1.0, rtol=0.0, atol=PROBABILITY_ATOL):
        worst = row_sums[np.argmax(np.abs(row_sums - 1.0))]
        raise ValueError(
            f"probability rows must sum to 1 (softmax, not logits); one sums to {worst}"
        )
    return probs
