"""The metric suite: each score equals its own module's on the same features, the protocol
is recorded beside it, the real reference is what it says, and too few samples is an error
naming the metric, never a NaN."""

from __future__ import annotations

import numpy as np
import pytest

from gan_core.metrics.fid import feature_statistics, fid_from_features
from gan_core.metrics.inception_score import inception_score
from gan_core.metrics.kid import kernel_inception_distance
from gan_core.metrics.precision_recall import (
    density_coverage,
    knn_squared_radii,
    precision_recall,
)
from gan_core.metrics.protocol import MetricProtocol
from gan_core.metrics.suite import real_reference, score_features

PROTOCOL = MetricProtocol(kid_subsets=20, kid_subset_size=50, is_splits=5, seed=3)
KS = (PROTOCOL.pr_k, PROTOCOL.dc_k)


def _sets(seed: int = 0):
    rng = np.random.default_rng(seed)
    real = rng.normal(size=(200, 6))
    fake = rng.normal(0.3, 1.2, size=(150, 6))
    probs = rng.dirichlet(np.ones(4), size=150)
    return real, fake, probs


def test_the_real_reference_holds_statistics_and_radii():
    real, _, _ = _sets()
    reference = real_reference(real, (5, 3, 5))
    mu, sigma = feature_statistics(real)
    np.testing.assert_array_equal(reference.mu, mu)
    np.testing.assert_array_equal(reference.sigma, sigma)
    assert sorted(reference.sq_radii) == [3, 5]
    np.testing.assert_array_equal(reference.sq_radii[3], knn_squared_radii(real, 3))


def test_suite_equals_each_metric_module():
    real, fake, probs = _sets()
    scores = score_features(real_reference(real, KS), fake, probs, PROTOCOL)
    kid = kernel_inception_distance(real, fake, n_subsets=20, subset_size=50, seed=3)
    score = inception_score(probs, n_splits=5, seed=3)
    expected = {
        "fid": fid_from_features(real, fake),
        "kid": kid["kid"],
        "kid_std": kid["kid_std"],
        **precision_recall(real, fake, k=3),
        **density_coverage(real, fake, k=5),
        "is_mean": score["inception_score"],
        "is_std": score["inception_score_std"],
    }
    for key, value in expected.items():
        assert scores[key] == pytest.approx(value, rel=1e-12), key
    protocol = {"kid_subsets": 20, "kid_subset_size": 50, "kid_feature_scale": 1.0, "pr_k": 3,
                "dc_k": 5, "is_splits": 5}  # fmt: skip
    assert {key: scores[key] for key in protocol} == protocol


def test_without_probabilities_there_is_no_inception_score():
    real, fake, _ = _sets()
    scores = score_features(real_reference(real, KS), fake, None, PROTOCOL)
    assert not {"is_mean", "is_std"} & scores.keys()


def test_same_distribution_scores_near_the_floor():
    real, _, _ = _sets()
    other = np.random.default_rng(9).normal(size=(200, 6))
    scores = score_features(real_reference(real, KS), other, None, PROTOCOL)
    assert scores["fid"] < 0.5 and abs(scores["kid"]) < 0.05
    assert scores["precision"] > 0.8 and scores["recall"] > 0.8


@pytest.mark.parametrize(
    ("n_fake", "n_probs", "expected"),
    [
        (3, None, "these metrics need at least 4 fake samples, got 3"),
        (4, 4, "the Inception Score's splits need at least 5 fake samples, got 4"),
    ],
)
def test_too_few_fake_samples_is_a_clear_error(n_fake, n_probs, expected):
    rng = np.random.default_rng(0)
    probs = None if n_probs is None else rng.dirichlet(np.ones(3), size=n_probs)
    reference = real_reference(rng.normal(size=(100, 4)), KS)
    with pytest.raises(ValueError, match=expected):
        score_features(reference, rng.normal(size=(n_fake, 4)), probs, PROTOCOL)


def test_too_few_real_samples_and_missing_radii_are_clear_errors():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="these metrics need at least 6 real samples, got 5"):
        real_reference(rng.normal(size=(5, 4)), KS)
    reference = real_reference(rng.normal(size=(50, 4)), (3,))
    with pytest.raises(ValueError, match=r"no 5-NN radii; it has k in \[3\]"):
        score_features(reference, rng.normal(size=(50, 4)), None, PROTOCOL)


def test_fid_infinity_needs_its_largest_size():
    real, fake, _ = _sets()
    with pytest.raises(ValueError, match="FID-infinity need at least 50000 fake samples, got 150"):
        score_features(real_reference(real, KS), fake, None, MetricProtocol(fid_infinity=True))
