"""Statistics over seeds on constructed inputs with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gan_core.statistics import seed_summary, tie_test


def test_three_points_have_the_extreme_means_as_their_interval():
    # Resampling [1, 2, 3] gives mean 1 and mean 3 each with probability 1/27 > 2.5%.
    summary = seed_summary([1.0, 2.0, 3.0])
    assert summary["n"] == 3 and summary["mean"] == 2.0 and summary["std"] == 1.0
    assert (summary["ci_low"], summary["ci_high"]) == (1.0, 3.0)


def test_a_large_normal_sample_has_the_textbook_interval():
    values = np.random.default_rng(0).normal(5.0, 2.0, size=4000)
    summary = seed_summary(values)
    half_width = 1.96 * values.std(ddof=1) / math.sqrt(len(values))
    assert summary["ci_low"] == pytest.approx(values.mean() - half_width, abs=0.1 * half_width)
    assert summary["ci_high"] == pytest.approx(values.mean() + half_width, abs=0.1 * half_width)


def test_constant_single_and_missing_values():
    assert seed_summary([4.0, 4.0, 4.0]) == {
        "n": 3.0, "mean": 4.0, "std": 0.0, "ci_low": 4.0, "ci_high": 4.0,
    }  # fmt: skip
    single = seed_summary([7.0, np.nan])  # a diverged seed's NaN is not a value
    assert single["n"] == 1 and single["mean"] == 7.0
    assert all(math.isnan(single[k]) for k in ("std", "ci_low", "ci_high"))
    assert math.isnan(seed_summary([])["mean"])


def test_the_interval_is_reproducible_for_a_seed():
    values = [0.3, 1.9, 0.8, 1.1]
    assert seed_summary(values, seed=1) == seed_summary(values, seed=1)


def test_separated_samples_of_five_are_not_tied():
    result = tie_test([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])
    assert result["p_value"] == pytest.approx(2 / 252) and not result["tied"]


def test_three_seeds_against_three_are_always_tied():
    # The exact two-sided p-value of completely separated 3 vs 3 is 2 / C(6, 3) = 0.1.
    result = tie_test([1, 2, 3], [4, 5, 6])
    assert result["p_value"] == pytest.approx(0.1) and result["tied"]


def test_too_few_values_are_untestable_and_tied():
    result = tie_test([1.0], [2.0, 3.0])
    assert math.isnan(result["p_value"]) and result["tied"]
