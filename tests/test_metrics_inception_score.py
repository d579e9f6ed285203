"""Inception Score: exact values on uniform and one-hot predictions, and the split protocol."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from gan_core.metrics.inception_score import inception_score, inception_score_of_split


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _reference_split_score(part: np.ndarray) -> float:
    """Salimans et al.'s formula, for strictly positive probabilities."""
    kl = part * (np.log(part) - np.log(part.mean(axis=0, keepdims=True)))
    return float(np.exp(kl.sum(axis=1).mean()))


def test_uniform_predictions_score_one():
    probs = np.full((200, 10), 0.1)
    assert inception_score_of_split(probs) == pytest.approx(1.0, abs=1e-12)
    result = inception_score(probs)
    assert result["inception_score"] == pytest.approx(1.0, abs=1e-12)
    assert result["inception_score_std"] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("n_classes", [1, 2, 10, 1000])
def test_one_hot_predictions_evenly_covering_k_classes_score_k(n_classes):
    probs = np.eye(n_classes)[np.arange(3 * n_classes) % n_classes]  # [3K, K], each class 3x
    np.testing.assert_allclose(inception_score_of_split(probs), n_classes, rtol=1e-12)
    result = inception_score(probs, n_splits=1, seed=5)  # one part: the shuffle cannot matter
    np.testing.assert_allclose(result["inception_score"], n_classes, rtol=1e-12)


def test_one_hot_predictions_over_splits_score_exp_entropy_of_each_part():
    # With one-hot rows a part's IS is exp(entropy of its class histogram); the shuffle makes
    # parts uneven, so the mean over 10 parts lies below K.
    n_classes, seed = 5, 3
    labels = np.arange(200) % n_classes
    probs = np.eye(n_classes)[labels]
    shuffled = labels[np.random.default_rng(seed).permutation(200)]
    expected = []
    for part in np.split(shuffled, 10):
        freq = np.bincount(part, minlength=n_classes) / len(part)
        freq = freq[freq > 0]
        expected.append(np.exp(-(freq * np.log(freq)).sum()))
    result = inception_score(probs, seed=seed)
    np.testing.assert_allclose(result["inception_score"], np.mean(expected), rtol=1e-12)
    np.testing.assert_allclose(result["inception_score_std"], np.std(expected), rtol=1e-10)
    assert 1.0 < result["inception_score"] < n_classes


def test_score_matches_salimans_formula_on_the_shuffled_parts():
    rng = np.random.default_rng(0)
    probs = _softmax(3.0 * rng.standard_normal((1003, 20)))  # N not divisible by 10
    shuffled = probs[np.random.default_rng(7).permutation(len(probs))]
    bounds = [i * len(probs) // 10 for i in range(11)]
    expected = [_reference_split_score(shuffled[a:b]) for a, b in pairwise(bounds)]
    result = inception_score(probs, n_splits=10, seed=7)
    np.testing.assert_allclose(result["inception_score"], np.mean(expected), rtol=1e-12)
    np.testing.assert_allclose(result["inception_score_std"], np.std(expected), rtol=1e-9)
    assert result["n_splits"] == 10


def test_score_lies_between_one_and_k_and_is_reproducible():
    rng = np.random.default_rng(1)
    probs = _softmax(2.0 * rng.standard_normal((500, 10))).astype(np.float32)
    result = inception_score(probs, seed=4)
    assert 1.0 < result["inception_score"] < 10.0
    assert type(result["inception_score"]) is float
    assert result == inception_score(probs, seed=4)
    assert result["inception_score"] != inception_score(probs, seed=5)["inception_score"]


def test_inception_score_rejects_bad_inputs():
    probs = np.full((20, 4), 0.25)
    with pytest.raises(ValueError, match="n_splits"):
        inception_score(probs[:5], n_splits=10)
    with pytest.raises(ValueError, match="sum to 1"):
        inception_score(np.random.default_rng(0).standard_normal((20, 4)) ** 2)
    with pytest.raises(ValueError, match="non-negative"):
        inception_score_of_split(probs - 0.5)
    with pytest.raises(ValueError, match="non-negative"):
        inception_score_of_split(np.full((20, 4), np.nan))
    with pytest.raises(ValueError, match=r"\[N, K\]"):
        inception_score_of_split(np.full(4, 0.25))
