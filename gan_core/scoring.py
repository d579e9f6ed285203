"""Scoring images in a feature space: the real set's features saved once, then any number of
fake sets scored against them, each result row carrying its protocol.

A real-features file (``.npz``) holds the real reference (``feats``, their ``mu`` and
``sigma``, the squared k-NN radii ``sq_radii_k<k>``) with ``feature_space``,
``weights_sha256`` and ``preprocessing``; loading it for a space whose weights differ is an
error, so stale features are never compared with fresh ones.

The real-versus-real floor scores a seeded subset of the train split, as large as a fake
set, against the test split, as if it were a generator's samples (variant ``real``).

Conditional generation is scored per class (:mod:`gan_core.metrics.conditional`) in a
classifier space, when the fakes come with the labels they were generated for and the real
set with its own: intra-FID where every class has more samples than the features have
dimensions on both sides (else its covariance is singular and intra-FID is left out), and
the classifier's accuracy on the requested labels. The floor reads its train subset's
labels as requested ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from gan_core.data import Dataset
from gan_core.feature_spaces import ClassifierSpace, FeatureSpace, InceptionSpace
from gan_core.io import read_npz, write_npz
from gan_core.metrics.conditional import class_accuracy, full_rank_per_class, intra_fid
from gan_core.metrics.fid import feature_statistics, frechet_distance
from gan_core.metrics.modes import (
    label_histogram_metrics,
    mixture_mode_metrics,
    nearest_mode_counts,
)
from gan_core.metrics.protocol import FLOOR_VARIANT, MetricProtocol
from gan_core.metrics.suite import RealReference, real_reference, score_features

SQ_RADII_PREFIX = "sq_radii_k"  # npz key of the squared k-NN radii, + k


def save_real_features(
    path: str | Path, space: FeatureSpace, feats: np.ndarray, protocol: MetricProtocol
) -> RealReference:
    """Compute the real reference of ``feats`` ``[N, D]`` and write it with its provenance."""
    reference = real_reference(feats, (protocol.pr_k, protocol.dc_k))
    sq_radii = {f"{SQ_RADII_PREFIX}{k}": r for k, r in reference.sq_radii.items()}
    write_npz(
        path, feats=reference.feats, mu=reference.mu, sigma=reference.sigma, **sq_radii,
        feature_space=np.array(space.name), weights_sha256=np.array(space.weights_sha256),
        preprocessing=np.array(space.preprocessing),
    )  # fmt: skip
    return reference


def load_real_features(path: str | Path, space: FeatureSpace) -> RealReference:
    """The reference written by :func:`save_real_features` for ``space`` (same weights); a
    file that does not load or lacks an array raises :class:`gan_core.io.DamagedFileError`."""
    keys = ("feature_space", "weights_sha256", "feats", "mu", "sigma")
    arrays = read_npz(path, keys, "re-run its features stage")
    name, digest = str(arrays["feature_space"]), str(arrays["weights_sha256"])
    if (name, digest) != (space.name, space.weights_sha256):
        raise ValueError(
            f"{path}: computed in {name} with weights sha256 {digest}, but {space.name} "
            f"now has {space.weights_sha256}; re-run its features stage"
        )
    sq_radii = {
        int(key.removeprefix(SQ_RADII_PREFIX)): value
        for key, value in arrays.items()
        if key.startswith(SQ_RADII_PREFIX)
    }
    return RealReference(arrays["feats"], arrays["mu"], arrays["sigma"], sq_radii)


def score_images(
    space: FeatureSpace,
    real: RealReference,
    fake_images: np.ndarray,
    protocol: MetricProtocol,
    labels: tuple[np.ndarray, np.ndarray] | None = None,
) -> dict[str, Any]:
    """One result row: ``fake_images`` scored against ``real`` in ``space``. In a classifier
    space the row also counts the classes (modes) the classifier assigns to the fakes and,
    given ``labels`` (the real features' labels ``[N]``, the fakes' requested labels
    ``[M]``), scores them per class. KID's features are scaled to the real features' norm
    in every space but Inception's, whose scale the kernel was made for
    (``kid_feature_scale``: 1 there)."""
    fake = space.extract(fake_images)
    scale_kid = not isinstance(space, InceptionSpace)
    row: dict[str, Any] = {
        "feature_space": space.name,
        "n_real": len(real.feats),
        "n_fake": len(fake.feats),  # in a digit space, three a sample
        "weights_sha256": space.weights_sha256,
        "preprocessing": space.preprocessing,
        **score_features(real, fake.feats, fake.probs, protocol, scale_kid_features=scale_kid),
    }
    if isinstance(space, ClassifierSpace):
        n_classes = fake.probs.shape[1]
        row |= label_histogram_metrics(fake.probs.argmax(axis=1), n_classes)
        if labels is not None:
            real_labels, fake_labels = labels
            row["class_accuracy"] = class_accuracy(fake.probs, fake_labels)
            dim = fake.feats.shape[1]
            if all(full_rank_per_class(y, n_classes, dim) for y in labels):
                row |= intra_fid(real.feats, real_labels, fake.feats, fake_labels, n_classes)
    return row


def score_snapshot_images(
    space: FeatureSpace, real: RealReference, fake_images: np.ndarray
) -> dict[str, Any]:
    """The scores followed over training, cheap enough for every snapshot: FID in ``space``
    and, in a classifier space, the count of fakes per class (``mode_<i>``)."""
    fake = space.extract(fake_images)
    fid = frechet_distance(real.mu, real.sigma, *feature_statistics(fake.feats))
    row: dict[str, Any] = {"fid_feature_space": space.name, "n_fake": len(fake_images), "fid": fid}
    if isinstance(space, ClassifierSpace):
        labels = fake.probs.argmax(axis=1)
        row |= label_histogram_metrics(labels, fake.probs.shape[1])
        counts = np.bincount(labels, minlength=fake.probs.shape[1])
        row |= {f"mode_{i}": int(count) for i, count in enumerate(counts)}
    return row


def score_points(info: dict[str, Any], fake_points: np.ndarray) -> dict[str, Any]:
    """Mixture-mode metrics of generated points ``[N, D]`` against the known modes of a
    mixture ``info`` (``modes``, ``stds``, ``weights``, as the toy datasets describe it)."""
    return mixture_mode_metrics(
        fake_points, np.asarray(info["modes"]), np.asarray(info["stds"]),
        np.asarray(info["weights"]),
    )  # fmt: skip


def score_snapshot_points(
    info: dict[str, Any], real_stats: tuple[np.ndarray, np.ndarray], fake_points: np.ndarray
) -> dict[str, Any]:
    """The same for points of a known mixture ``info``: the Fréchet distance in the data's
    own coordinates (against the real points' ``(mean, covariance)``), the mode metrics and
    the count of fakes nearest each mode centre (``mode_<i>``)."""
    counts = nearest_mode_counts(fake_points, np.asarray(info["modes"]))
    return {
        "fid_feature_space": "data", "n_fake": len(fake_points),
        "fid": frechet_distance(*real_stats, *feature_statistics(fake_points)),
        **score_points(info, fake_points),
        **{f"mode_{i}": int(count) for i, count in enumerate(counts)},
    }  # fmt: skip


def floor_sample(dataset: Dataset, n: int, seed: int) -> tuple[np.ndarray, np.ndarray | None]:
    """The floor's stand-in for a generator: ``n`` train samples, a seeded random subset,
    with their labels (None for unlabelled data)."""
    if n > len(dataset.train):
        raise ValueError(
            f"setups.{dataset.name}.n_fake: {n} exceeds the {len(dataset.train)} train samples "
            "the real-versus-real floor draws from"
        )
    rng = np.random.default_rng(seed)
    index = np.sort(rng.choice(len(dataset.train), n, replace=False))
    return dataset.train.x[index], None if dataset.train.y is None else dataset.train.y[index]


def floor_protocol(dataset: str, n: int) -> dict[str, object]:
    """The protocol columns of a floor row (nothing was trained)."""
    return {
        "dataset": dataset, "variant": FLOOR_VARIANT, "seed": 0, "status": "ok",
        "steps": None, "train_seconds": None, "n_fake": n,
    }  # fmt: skip
