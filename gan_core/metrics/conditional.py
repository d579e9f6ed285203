"""Conditional generation scored per class.

- Intra-FID (Miyato & Koyama 2018, Sec. 5.1): the FID of the fakes generated for class c
  against the real samples of class c, in one feature space, for every class; ``intra_fid``
  is their mean and ``intra_fid_worst`` their maximum. Each class has about a tenth of the
  samples of the whole set, and FID is biased upward by a term in 1/N, so intra-FID is not
  on the scale of the whole set's FID: read it against the real data's own intra-FID (the
  floor) at the same sample counts.
- Class accuracy: the fraction of fakes that a domain classifier assigns to the label they
  were generated for (the "classification accuracy score" direction of Ravuri & Vinyals 2019
  reversed: a classifier trained on real data reads the fakes).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gan_core.metrics.fid import feature_statistics, frechet_distance


def full_rank_per_class(labels: np.ndarray, n_classes: int, dim: int) -> bool:
    """Whether every class in 0..n_classes-1 has more than ``dim`` samples in ``labels``, so
    that its covariance in a ``dim``-dimensional space can be of full rank."""
    return bool(np.bincount(labels, minlength=n_classes)[:n_classes].min() > dim)


def intra_fid(
    real_feats: np.ndarray,
    real_labels: np.ndarray,
    fake_feats: np.ndarray,
    fake_labels: np.ndarray,
    n_classes: int,
) -> dict[str, float]:
    """``intra_fid`` (mean over classes) and ``intra_fid_worst`` (max) of per-class FIDs of
    fakes ``[M, D]`` with their requested labels ``[M]`` against reals ``[N, D]`` with
    theirs ``[N]``; every class in 0..n_classes-1 needs at least 2 samples on both sides."""
    fids = []
    for c in range(n_classes):
        real_c, fake_c = real_feats[real_labels == c], fake_feats[fake_labels == c]
        if min(len(real_c), len(fake_c)) < 2:
            raise ValueError(
                f"intra-FID: class {c} has {len(real_c)} real and {len(fake_c)} fake samples; "
                "each class needs at least 2 on both sides"
            )
        fids.append(frechet_distance(*feature_statistics(real_c), *feature_statistics(fake_c)))
    return {"intra_fid": float(np.mean(fids)), "intra_fid_worst": float(np.max(fids))}


def class_accuracy(probs: np.ndarray, labels: np.ndarray) -> float:
    """The fraction of samples whose most probable class (``probs`` ``[M, K]``) is their
    requested label (``labels`` ``[M]``)."""
    if len(probs) != len(labels) or len(labels) == 0:
        raise ValueError(
            f"class accuracy: {len(probs)} probability rows for {len(labels)} labels; "
            "expected as many, and at least one"
        )
    return float(np.mean(probs.argmax(axis=1) == labels))


def conditional_metrics(
    real_feats: np.ndarray,
    real_labels: np.ndarray,
    fake_feats: np.ndarray,
    fake_probs: np.ndarray,
    fake_labels: np.ndarray,
) -> dict[str, Any]:
    """Intra-FID and class accuracy of fakes generated for ``fake_labels``, the classes
    being the classifier's (``fake_probs``' columns)."""
    n_classes = fake_probs.shape[1]
    return {
        **intra_fid(real_feats, real_labels, fake_feats, fake_labels, n_classes),
        "class_accuracy": class_accuracy(fake_probs, fake_labels),
    }
