"""Conditional generation scored per class: intra-FID against hand-computed per-class FIDs,
the classifier's accuracy on requested labels, and the result row of a classifier space."""

from __future__ import annotations

import numpy as np
import pytest

from gan_core.feature_spaces import ClassifierSpace, Features
from gan_core.metrics.conditional import class_accuracy, full_rank_per_class, intra_fid
from gan_core.metrics.protocol import MetricProtocol
from gan_core.metrics.suite import real_reference
from gan_core.scoring import score_images


def _classes(rng, n_per_class: int, n_classes: int, dim: int):
    """Features ``[n_classes * n_per_class, dim]``, class c centred at 5c, and their labels."""
    labels = np.repeat(np.arange(n_classes), n_per_class)
    return rng.normal(size=(len(labels), dim)) + 5.0 * labels[:, None], labels


def test_intra_fid_of_shifted_classes_is_the_mean_squared_shift():
    # A class's fakes are its reals shifted by delta_c: same covariance, so its FID is
    # exactly ||delta_c||^2, and intra-FID their mean (worst: their max).
    rng = np.random.default_rng(0)
    real, labels = _classes(rng, 50, 3, 4)
    shifts = np.array([[0.0, 0, 0, 0], [1.0, 0, 0, 0], [0.0, 2.0, 2.0, 0]])  # 0, 1, 8
    fake = real + shifts[labels]
    scores = intra_fid(real, labels, fake, labels, 3)
    assert scores["intra_fid"] == pytest.approx(3.0, abs=1e-6)
    assert scores["intra_fid_worst"] == pytest.approx(8.0, abs=1e-6)


def test_intra_fid_sees_fakes_of_the_wrong_class_where_fid_does_not():
    # fakes of class 0 drawn as class 1 and the other way round: the whole set's
    # distribution is the real one, but every class is far from its own
    rng = np.random.default_rng(1)
    real, labels = _classes(rng, 200, 2, 3)
    fake, fake_labels = real.copy(), 1 - labels
    assert intra_fid(real, labels, fake, fake_labels, 2)["intra_fid"] > 40  # ||5 * 1||^2 * 3 = 75
    assert intra_fid(real, labels, real, labels, 2)["intra_fid"] == pytest.approx(0.0, abs=1e-6)


def test_intra_fid_names_a_class_without_samples():
    rng = np.random.default_rng(2)
    real, labels = _classes(rng, 5, 3, 2)
    with pytest.raises(ValueError, match="class 2 has 5 real and 0 fake samples"):
        intra_fid(real, labels, real[labels < 2], labels[labels < 2], 3)


def test_class_accuracy_counts_the_argmax_hits():
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    assert class_accuracy(probs, np.array([0, 1, 1, 0])) == 0.5
    with pytest.raises(ValueError, match="3 probability rows for 4 labels"):
        class_accuracy(probs[:3], np.array([0, 1, 1, 0]))


def test_full_rank_needs_more_samples_than_dimensions_in_every_class():
    labels = np.repeat([0, 1, 2], [5, 5, 4])
    assert full_rank_per_class(labels, 3, 3)
    assert not full_rank_per_class(labels, 3, 4)  # class 2 has 4 samples in 4 dimensions
    assert not full_rank_per_class(labels, 4, 1)  # class 3 has none


class _Classifier(ClassifierSpace):
    """A classifier space whose features are the pixels, its class the brightest pixel."""

    def __init__(self) -> None:
        self.name, self.weights_sha256, self.preprocessing = "classifier:toy", "none", "none"

    def extract(self, images: np.ndarray) -> Features:
        feats = images.reshape(len(images), -1).astype(np.float64)
        return Features(feats, np.eye(feats.shape[1])[feats.argmax(axis=1)])


def _images(rng, labels: np.ndarray) -> np.ndarray:
    """2-pixel images ``[N, 1, 2, 1]``, the pixel of the label bright."""
    images = rng.integers(0, 50, size=(len(labels), 1, 2, 1), dtype=np.uint8)
    images[np.arange(len(labels)), 0, labels, 0] += 200
    return images


def test_a_classifier_row_scores_requested_labels_per_class():
    rng = np.random.default_rng(3)
    real_labels, fake_labels = np.repeat([0, 1], 30), np.repeat([0, 1], 20)
    real = _Classifier().extract(_images(rng, real_labels)).feats
    protocol = MetricProtocol(kid_subsets=4, kid_subset_size=10, seed=0)
    reference = real_reference(real, (protocol.pr_k, protocol.dc_k))
    fakes = _images(rng, fake_labels)
    fakes[:5] = _images(rng, np.ones(5, dtype=int))  # 5 of class 0's fakes drew a 1
    row = score_images(_Classifier(), reference, fakes, protocol, (real_labels, fake_labels))
    assert row["class_accuracy"] == 35 / 40
    feats = _Classifier().extract(fakes).feats
    assert row["intra_fid"] == intra_fid(real, real_labels, feats, fake_labels, 2)["intra_fid"]
    unconditional = score_images(_Classifier(), reference, fakes, protocol)
    assert "class_accuracy" not in unconditional and "intra_fid" not in unconditional
    # 2 fakes per class in 2 dimensions: no full-rank covariance, no intra-FID
    small = MetricProtocol(kid_subsets=2, kid_subset_size=2, is_splits=2)
    labels = (real_labels, fake_labels[18:22])
    few = score_images(_Classifier(), reference, fakes[18:22], small, labels)
    assert "intra_fid" not in few and few["class_accuracy"] == 1.0
