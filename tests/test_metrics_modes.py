"""Mode-collapse metrics on constructed samples with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gan_core.metrics.modes import label_histogram_metrics, mixture_mode_metrics

STD = 0.01


def _ring(n_modes: int = 8) -> np.ndarray:
    angles = 2.0 * np.pi * np.arange(n_modes) / n_modes
    return np.stack([np.cos(angles), np.sin(angles)], axis=1)  # [8, 2]


def test_points_on_six_of_eight_centres():
    centres = _ring()
    counts = np.array([3, 1, 2, 2, 1, 1, 0, 0])  # 10 samples on modes 0..5
    points = np.repeat(centres, counts, axis=0)
    result = mixture_mode_metrics(points, centres, np.full(8, STD))
    # KL(q || uniform) with q = counts / 10 and p = 1/8; empty modes contribute 0.
    expected_kl = (
        0.3 * math.log(0.3 * 8) + 2 * 0.2 * math.log(0.2 * 8) + 3 * 0.1 * math.log(0.1 * 8)
    )
    assert result["modes_captured"] == 6
    assert result["n_modes"] == 8
    assert result["high_quality_fraction"] == 1.0
    np.testing.assert_allclose(result["reverse_kl"], expected_kl, rtol=1e-12)


def test_every_mode_equally_hit_has_zero_reverse_kl():
    centres = _ring()
    points = np.tile(centres, (5, 1))
    result = mixture_mode_metrics(points, centres, np.full(8, STD))
    assert result["modes_captured"] == 8
    assert result["reverse_kl"] == 0.0


def test_points_far_from_all_modes_are_low_quality():
    centres = _ring()
    points = np.zeros((20, 2))  # the ring's centre: 100 stds from every mode
    result = mixture_mode_metrics(points, centres, np.full(8, STD))
    assert result["modes_captured"] == 0
    assert result["high_quality_fraction"] == 0.0
    # All 20 are nearest to mode 0 (ties go to the first centre): KL = log 8.
    np.testing.assert_allclose(result["reverse_kl"], math.log(8), rtol=1e-12)
    # No high-quality sample: the high-quality histogram is 0/0, undefined.
    assert math.isnan(result["reverse_kl_hq"])


def test_reverse_kl_hq_counts_only_high_quality_samples_as_pacgan():
    centres = _ring()
    hq_counts = np.array([4, 2, 2, 1, 1, 0, 0, 0])  # 10 samples on modes 0..4
    junk_counts = np.array([0, 0, 0, 0, 0, 2, 2, 1])  # 5 samples 4 units out, 400 stds
    points = np.concatenate(
        [np.repeat(centres, hq_counts, axis=0), 5.0 * np.repeat(centres, junk_counts, axis=0)]
    )
    result = mixture_mode_metrics(points, centres, np.full(8, STD))
    # All 15 samples: q = (4, 2, 2, 1, 1, 2, 2, 1) / 15, p = 1/8; the junk fills modes 5..7.
    q_all = np.array([4, 2, 2, 1, 1, 2, 2, 1]) / 15
    expected_all = sum(q * math.log(q * 8) for q in q_all)
    # High-quality samples only (PacGAN): q = (4, 2, 2, 1, 1, 0, 0, 0) / 10.
    expected_hq = 0.4 * math.log(0.4 * 8) + 2 * 0.2 * math.log(0.2 * 8) + 2 * 0.1 * math.log(0.8)
    assert result["modes_captured"] == 5
    np.testing.assert_allclose(result["high_quality_fraction"], 10 / 15, rtol=1e-12)
    np.testing.assert_allclose(result["reverse_kl"], expected_all, rtol=1e-12)
    np.testing.assert_allclose(result["reverse_kl_hq"], expected_hq, rtol=1e-12)
    assert result["reverse_kl_hq"] > result["reverse_kl"]


def test_high_quality_threshold_is_three_stds_of_the_nearest_centre():
    centres = np.array([[0.0, 0.0], [10.0, 0.0]])
    stds = np.array([1.0, 2.0])
    # Mode 0: 2.9 stds (hq), 3.1 stds (not). Mode 1: 5.9 = 2.95 of its stds (hq), 6.5 (not).
    points = np.array([[0.0, 2.9], [0.0, -3.1], [10.0, 5.9], [10.0, -6.5]])
    result = mixture_mode_metrics(points, centres, stds)
    assert result["modes_captured"] == 2
    assert result["high_quality_fraction"] == 0.5
    assert result["reverse_kl"] == 0.0
    assert result["reverse_kl_hq"] == 0.0  # one high-quality sample on each mode


def test_only_low_quality_samples_do_not_capture_a_mode():
    centres = np.array([[0.0], [1.0]])
    points = np.array([[0.0], [0.0], [0.9]])  # 0.9 is nearest to mode 1 but 10 stds away
    result = mixture_mode_metrics(points, centres, np.full(2, STD))
    assert result["modes_captured"] == 1
    np.testing.assert_allclose(result["high_quality_fraction"], 2 / 3)


def test_reverse_kl_uses_the_given_weights():
    centres = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]])
    weights = np.array([0.5, 0.25, 0.25])
    points = np.repeat(centres, [1, 1, 2], axis=0)  # q = (1/4, 1/4, 1/2)
    result = mixture_mode_metrics(points, centres, np.full(3, STD), weights=weights)
    expected = 0.25 * math.log(0.25 / 0.5) + 0.25 * math.log(1.0) + 0.5 * math.log(0.5 / 0.25)
    np.testing.assert_allclose(result["reverse_kl"], expected, rtol=1e-12)


def test_mixture_metrics_reject_bad_inputs():
    centres = _ring()
    with pytest.raises(ValueError, match="share D"):
        mixture_mode_metrics(np.zeros((3, 3)), centres, np.full(8, STD))
    with pytest.raises(ValueError, match="stds"):
        mixture_mode_metrics(np.zeros((3, 2)), centres, np.full(7, STD))
    with pytest.raises(ValueError, match="weights"):
        mixture_mode_metrics(np.zeros((3, 2)), centres, np.full(8, STD), weights=np.zeros(8))


def test_label_histogram_metrics():
    result = label_histogram_metrics(np.array([0, 0, 1, 2]), n_classes=4)
    # q = (1/2, 1/4, 1/4, 0): KL = 1/2 log 2 + 2 * 1/4 log 1 = log(2) / 2.
    assert result["modes_captured"] == 3
    assert result["n_modes"] == 4
    np.testing.assert_allclose(result["kl_to_uniform"], math.log(2) / 2, rtol=1e-12)


def test_label_histogram_of_stacked_mnist_modes():
    all_modes = np.arange(1000).repeat(3)
    assert label_histogram_metrics(all_modes, 1000) == {
        "modes_captured": 1000,
        "n_modes": 1000,
        "kl_to_uniform": 0.0,
    }
    collapsed = label_histogram_metrics(np.full(50, 123), 1000)
    assert collapsed["modes_captured"] == 1
    np.testing.assert_allclose(collapsed["kl_to_uniform"], math.log(1000), rtol=1e-12)


def test_label_histogram_rejects_out_of_range_labels():
    with pytest.raises(ValueError, match="0..9"):
        label_histogram_metrics(np.array([0, 10]), n_classes=10)
    with pytest.raises(ValueError, match="integers"):
        label_histogram_metrics(np.array([0.0, 1.0]), n_classes=10)


def test_escaped_samples_lie_beyond_twice_the_data_radius():
    # Ring of radius 1, std 0.01: the data radius is 1 + 3 * 0.01 = 1.03, so a sample has
    # escaped beyond 2.06 from the ring's middle.
    points = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 2.07], [0.0, -10.0]])
    assert mixture_mode_metrics(points, _ring(), np.full(8, STD))["escaped_fraction"] == 0.5
    on_modes = _ring()
    assert mixture_mode_metrics(on_modes, _ring(), np.full(8, STD))["escaped_fraction"] == 0.0
