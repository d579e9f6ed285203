"""k-NN manifold metrics: exact values against a brute-force reference, and their properties."""

from __future__ import annotations

import numpy as np
import pytest

from gan_core.metrics.precision_recall import (
    density_coverage,
    density_coverage_from_radii,
    knn_squared_radii,
    precision_recall,
    precision_recall_from_radii,
)


def _reference(real: np.ndarray, fake: np.ndarray, k: int) -> dict[str, float]:
    """Full squared-distance matrices from exact differences (exact in integers for integer
    features); closed balls, as in the module."""

    def sq_distances(a, b):
        return ((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=2)

    real_sq_radii = np.sort(sq_distances(real, real), axis=1)[:, k]  # column 0: the point itself
    fake_sq_radii = np.sort(sq_distances(fake, fake), axis=1)[:, k]
    real_fake = sq_distances(real, fake)  # [N, M]
    in_real_ball = real_fake <= real_sq_radii[:, None]  # [N, M]: fake j in real ball i
    in_fake_ball = real_fake <= fake_sq_radii[None, :]  # [N, M]: real i in fake ball j
    return {
        "real_sq_radii": real_sq_radii,
        "fake_sq_radii": fake_sq_radii,
        "precision": in_real_ball.any(axis=0).mean(),
        "recall": in_fake_ball.any(axis=1).mean(),
        "density": in_real_ball.sum() / (k * len(fake)),
        "coverage": in_real_ball.any(axis=1).mean(),
    }


@pytest.mark.parametrize(("seed", "chunk_size"), [(0, 7), (1, 64), (2, 1000)])
def test_scores_equal_a_brute_force_reference(seed, chunk_size):
    rng = np.random.default_rng(seed)
    real = rng.standard_normal((230, 6))
    fake = rng.standard_normal((170, 6)) + 0.8
    for k in (3, 5):
        expected = _reference(real, fake, k)
        real_sq_radii = knn_squared_radii(real, k, chunk_size=chunk_size)
        np.testing.assert_allclose(real_sq_radii, expected["real_sq_radii"], rtol=1e-12)
        np.testing.assert_allclose(
            knn_squared_radii(fake, k, chunk_size=chunk_size),
            expected["fake_sq_radii"],
            rtol=1e-12,
        )
        pr = precision_recall(real, fake, k=k, chunk_size=chunk_size)
        dc = density_coverage(real, fake, k=k, chunk_size=chunk_size)
        for name, value in {**pr, **dc}.items():
            assert type(value) is float
            np.testing.assert_allclose(value, expected[name], rtol=1e-12, atol=1e-12)
        assert min(pr.values()) > 0.0 and max(pr.values()) < 1.0 and 0.0 < dc["coverage"] < 1.0


@pytest.mark.parametrize("chunk_size", [7, 500])
def test_points_on_ball_boundaries_count_inside_on_quantized_features(chunk_size):
    # Integer features: each fake is a real moved by -1, 0 or 1 per coordinate, so many lie
    # at exactly a real's k-NN radius. Every score must equal a brute-force "<=" on squared
    # distances computed in integers.
    rng = np.random.default_rng(10)
    real = rng.integers(0, 6, size=(150, 4))  # int64, values 0..5
    fake = real[rng.integers(0, 150, size=120)] + rng.integers(-1, 2, size=(120, 4))
    real_fake = ((real[:, None, :] - fake[None, :, :]) ** 2).sum(axis=2)  # [N, M] int64
    for k in (3, 5):
        expected = _reference(real, fake, k)  # int64 squared distances and radii: exact
        sq_radii = expected["real_sq_radii"][:, None]  # [N, 1] int64
        assert (real_fake == sq_radii).sum() > 200  # many fakes on a real ball's boundary
        # The case the module avoids: a radius rooted and squared back drops some of them.
        assert (real_fake <= np.sqrt(sq_radii) ** 2).sum() < (real_fake <= sq_radii).sum()
        real_sq_radii = knn_squared_radii(real, k, chunk_size=chunk_size)
        np.testing.assert_array_equal(real_sq_radii, expected["real_sq_radii"])
        pr = precision_recall(real, fake, k=k, chunk_size=chunk_size)
        dc = density_coverage(real, fake, k=k, chunk_size=chunk_size)
        assert {**pr, **dc} == {
            name: float(expected[name]) for name in ("precision", "recall", "density", "coverage")
        }


def test_identical_sets_score_one():
    feats = np.random.default_rng(3).standard_normal((300, 10))
    assert precision_recall(feats, feats.copy()) == {"precision": 1.0, "recall": 1.0}
    assert density_coverage(feats, feats.copy())["coverage"] == 1.0


def test_duplicated_features_cover_themselves():
    # Discrete features: every point repeated 6 times, so all k-NN radii are exactly 0; the
    # closed ball still holds the point's copies (prdc's strict "<" scores these sets 0).
    points = 50.0 + np.random.default_rng(4).standard_normal((40, 16))
    feats = np.repeat(points, 6, axis=0)
    assert np.all(knn_squared_radii(feats, 5) == 0.0)
    assert precision_recall(feats, feats[::-1].copy()) == {"precision": 1.0, "recall": 1.0}
    dc = density_coverage(feats, feats[::-1].copy())
    assert dc["coverage"] == 1.0
    np.testing.assert_allclose(dc["density"], 6 / 5, rtol=1e-12)  # each fake in 6 real balls


def test_mode_collapse_has_high_precision_low_recall_and_low_coverage():
    rng = np.random.default_rng(5)
    real = rng.standard_normal((500, 8))
    collapsed = real[0] + 0.01 * rng.standard_normal((300, 8))  # every fake near real[0]
    pr = precision_recall(real, collapsed)
    dc = density_coverage(real, collapsed)
    assert pr["precision"] == 1.0
    assert pr["recall"] < 0.02
    assert dc["coverage"] < 0.05


def test_over_spread_fakes_have_low_precision_and_high_recall():
    rng = np.random.default_rng(6)
    real = rng.standard_normal((500, 4))
    spread = 4.0 * rng.standard_normal((500, 4))
    pr = precision_recall(real, spread)
    assert pr["precision"] < 0.3
    assert pr["recall"] > 0.9
    assert density_coverage(real, spread)["density"] < 0.3


def test_swapping_real_and_fake_swaps_precision_and_recall():
    # The convention torch-fidelity tests after shipping the two swapped: precision asks how
    # many fakes lie on the real manifold, recall how many reals lie on the fake one.
    rng = np.random.default_rng(7)
    real = rng.standard_normal((400, 5))
    collapsed = 0.3 * rng.standard_normal((200, 5))  # inside the real support, narrower
    forward = precision_recall(real_feats=real, fake_feats=collapsed)
    backward = precision_recall(real_feats=collapsed, fake_feats=real)
    assert forward["precision"] > 0.9 > 0.5 > forward["recall"]
    assert forward == {"precision": backward["recall"], "recall": backward["precision"]}


def test_cached_real_radii_give_the_same_scores():
    rng = np.random.default_rng(8)
    real, fake = rng.standard_normal((120, 3)), rng.standard_normal((90, 3)) + 0.2
    pr = precision_recall_from_radii(
        real, fake, knn_squared_radii(real, 3), knn_squared_radii(fake, 3)
    )
    dc = density_coverage_from_radii(real, fake, knn_squared_radii(real, 5), 5, chunk_size=13)
    assert pr == precision_recall(real, fake)
    assert dc == density_coverage(real, fake)


def test_manifold_metrics_reject_bad_inputs():
    feats = np.zeros((4, 3))
    with pytest.raises(ValueError, match="k < N"):
        knn_squared_radii(feats, 4)
    with pytest.raises(ValueError, match="share D"):
        precision_recall(np.ones((10, 3)), np.ones((10, 2)))
    with pytest.raises(ValueError, match="finite"):
        density_coverage(np.full((10, 3), np.nan), np.ones((10, 3)))
    with pytest.raises(ValueError, match="real_sq_radii"):
        density_coverage_from_radii(feats, feats, np.zeros(3), 3)
    with pytest.raises(ValueError, match="chunk_size"):
        knn_squared_radii(feats, 2, chunk_size=0)
