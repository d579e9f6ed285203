"""Every feature-based metric of one fake set against one real set, in one feature space.

FID, KID (mean and spread over subsets), improved precision and recall, density and
coverage, the Inception Score (or its classifier analogue) where the fakes have class
probabilities, and FID-infinity when asked. The protocol numbers (subset counts, k, splits)
are returned beside the scores, so a result row says how it was computed.

What the metrics need of the real set alone (mean, covariance, squared k-NN radii) is a
:class:`RealReference`, computed once per dataset and feature space and reused by every run.
KID's features are divided by ``kid_feature_scale`` (recorded in the row): 1 unless the caller
asks for the real features' own scale (:func:`gan_core.metrics.kid.kid_feature_scale`), which
it does for every feature space but Inception's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from gan_core.metrics.fid import check_feature_pair, feature_statistics, frechet_distance
from gan_core.metrics.fid_infinity import CHONG_FORSYTH_SIZES, extrapolate_fid, fids_at_sizes
from gan_core.metrics.inception_score import inception_score
from gan_core.metrics.kid import kernel_inception_distance, kid_feature_scale
from gan_core.metrics.precision_recall import (
    density_coverage_from_radii,
    knn_squared_radii,
    precision_recall_from_radii,
)
from gan_core.metrics.protocol import PAPERS, MetricProtocol


@dataclasses.dataclass(frozen=True)
class RealReference:
    """Real features ``[N, D]`` with their float64 mean ``[D]``, covariance ``[D, D]`` and
    squared k-NN radii ``[N]`` (:func:`knn_squared_radii`) for each k in ``sq_radii``."""

    feats: np.ndarray
    mu: np.ndarray
    sigma: np.ndarray
    sq_radii: Mapping[int, np.ndarray]


def real_reference(feats: np.ndarray, ks: Iterable[int]) -> RealReference:
    """The reference of real features ``[N, D]``, with squared radii for every k in ``ks``."""
    feats = np.asarray(feats, dtype=np.float64)
    ks = sorted(set(ks))
    _require("real", len(feats), max(2, *(k + 1 for k in ks)))
    mu, sigma = feature_statistics(feats)
    return RealReference(feats, mu, sigma, {k: knn_squared_radii(feats, k) for k in ks})


def score_features(
    real: RealReference,
    fake_feats: np.ndarray,
    fake_probs: np.ndarray | None = None,
    protocol: MetricProtocol = PAPERS,
    *,
    scale_kid_features: bool = False,
) -> dict[str, Any]:
    """All metrics of fakes ``[M, D]`` (with probabilities ``[M, K]`` or None) against the
    real reference; with ``scale_kid_features`` KID sees both sets divided by the real
    features' :func:`kid_feature_scale` (for spaces other than Inception's). Raises
    ValueError naming the metric when a set is too small for it."""
    _, fake_feats = check_feature_pair(real.feats, fake_feats)
    _require("fake", len(fake_feats), max(2, protocol.pr_k + 1))
    for k in (protocol.pr_k, protocol.dc_k):
        if k not in real.sq_radii:
            raise ValueError(
                f"the real reference has no {k}-NN radii; it has k in {sorted(real.sq_radii)}"
            )
    kid = kernel_inception_distance(
        real.feats, fake_feats, n_subsets=protocol.kid_subsets,
        subset_size=protocol.kid_subset_size, seed=protocol.seed,
        feature_scale=kid_feature_scale(real.feats) if scale_kid_features else 1.0,
    )  # fmt: skip
    fake_sq_radii = knn_squared_radii(fake_feats, protocol.pr_k)
    scores: dict[str, Any] = {
        "fid": frechet_distance(real.mu, real.sigma, *feature_statistics(fake_feats)),
        "kid": kid["kid"],
        "kid_std": kid["kid_std"],
        "kid_subset_size": kid["subset_size"],
        "kid_subsets": kid["n_subsets"],
        "kid_feature_scale": kid["feature_scale"],
        **precision_recall_from_radii(
            real.feats, fake_feats, real.sq_radii[protocol.pr_k], fake_sq_radii
        ),
        **density_coverage_from_radii(
            real.feats, fake_feats, real.sq_radii[protocol.dc_k], protocol.dc_k
        ),
        "pr_k": protocol.pr_k,
        "dc_k": protocol.dc_k,
    }
    if fake_probs is not None:
        _require("fake", len(fake_probs), protocol.is_splits, "the Inception Score's splits")
        score = inception_score(fake_probs, n_splits=protocol.is_splits, seed=protocol.seed)
        scores |= {
            "is_mean": score["inception_score"],
            "is_std": score["inception_score_std"],
            "is_splits": score["n_splits"],
        }
    if protocol.fid_infinity:
        _require("fake", len(fake_feats), max(CHONG_FORSYTH_SIZES), "FID-infinity")
        sizes = CHONG_FORSYTH_SIZES
        fids = fids_at_sizes(real.mu, real.sigma, fake_feats, sizes, seed=protocol.seed)
        scores["fid_infinity"] = extrapolate_fid(sizes, fids)["fid_infinity"]
    return scores


def _require(which: str, n: int, needed: int, purpose: str = "these metrics") -> None:
    if n < needed:
        raise ValueError(f"{purpose} need at least {needed} {which} samples, got {n}")
