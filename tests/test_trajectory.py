"""Scores over training: the loss windows, the rank correlation, mode hopping, and the
snapshots scored with the same noise."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gan_core.metrics.fid import feature_statistics
from gan_core.metrics.modes import nearest_mode_counts
from gan_core.models import ModelConfig, build_networks
from gan_core.scoring import score_snapshot_points
from gan_core.trajectory import histogram_shift, score_snapshots, spearman, window_means


def test_window_means_average_the_steps_since_the_previous_checkpoint():
    history = {"step": [10, 20, 30, 40], "g_loss": [1.0, 3.0, 5.0, 7.0], "d_loss": [0, 0, 2, 2]}
    means = window_means(history, [20, 40, 50], ["g_loss", "d_loss"])
    assert means["g_loss"][:2] == [2.0, 6.0] and means["d_loss"][:2] == [0.0, 2.0]
    assert math.isnan(means["g_loss"][2])  # nothing logged in (40, 50]


def test_spearman_is_rank_correlation_and_undefined_when_it_must_be():
    assert spearman([1, 2, 3, 4], [10, 20, 30, 1000]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # rho = 1 - 6 sum d^2 / (n (n^2 - 1)) with ranks (1,2,3,4) vs (2,1,4,3): 1 - 24/60
    assert spearman([1, 2, 3, 4], [2, 1, 4, 3]) == pytest.approx(0.6)
    assert spearman([1, 2, float("nan"), 4, 5], [1, 2, 3, 4, 5]) == pytest.approx(1.0)
    assert math.isnan(spearman([1, 2], [1, 2]))
    assert math.isnan(spearman([1, 2, 3], [5, 5, 5]))


def test_histogram_shift_is_the_mean_total_variation_between_snapshots():
    steady = np.array([[50, 50], [500, 500], [5, 5]])
    assert histogram_shift(steady) == 0.0
    hopping = np.array([[100, 0, 0], [0, 100, 0], [0, 0, 100]])
    assert histogram_shift(hopping) == 1.0
    # TV([.5, .5, 0], [.5, .25, .25]) = 0.25; TV([.5, .25, .25], [.5, .25, .25]) = 0
    assert histogram_shift(np.array([[2, 2, 0], [2, 1, 1], [4, 2, 2]])) == 0.125
    assert math.isnan(histogram_shift(np.array([[1, 2]])))
    with pytest.raises(ValueError, match=r"\[T, M\]"):
        histogram_shift(np.zeros(3))


def test_nearest_mode_counts_and_snapshot_scores_on_constructed_points():
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    points = np.array([[0.1, 0.0], [9.0, 1.0], [9.5, 0.0], [1.0, 8.0]])
    assert nearest_mode_counts(points, centres).tolist() == [1, 2, 1]
    info = {"modes": centres.tolist(), "stds": [1.0, 1.0, 1.0], "weights": [1 / 3] * 3}
    row = score_snapshot_points(info, feature_statistics(points), points)
    assert row["fid"] == pytest.approx(0.0, abs=1e-9) and row["fid_feature_space"] == "data"
    assert [row[f"mode_{i}"] for i in range(3)] == [1, 2, 1] and row["n_fake"] == 4
    # within 3 std: all but (9, 1)? |(9,1)-(10,0)| = 1.41 < 3, and (1, 8): 2.24 < 3
    assert row["modes_captured"] == 3 and row["high_quality_fraction"] == 1.0


def test_snapshots_are_scored_with_the_same_noise():
    torch.manual_seed(0)
    config = ModelConfig(data_shape=(2,), z_dim=2, width=8, depth=1)
    gen, _ = build_networks("mlp", config)
    state = {k: v.clone() for k, v in gen.state_dict().items()}
    drawn = []

    def score(points: np.ndarray) -> dict:
        drawn.append(points)
        return {"mean": float(points.mean())}

    rows = score_snapshots(gen, [(1, state), (2, state)], 2, 0, 50, 7, torch.device("cpu"),
                           False, score)  # fmt: skip
    assert [r["step"] for r in rows] == [1, 2] and rows[0]["mean"] == rows[1]["mean"]
    np.testing.assert_array_equal(drawn[0], drawn[1])
    broken = {k: torch.full_like(v, float("nan")) for k, v in state.items()}
    assert score_snapshots(gen, [(3, broken)], 2, 0, 50, 7, torch.device("cpu"), False,
                           score) == [{"step": 3}]  # fmt: skip
