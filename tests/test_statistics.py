"""Statistics over seeds on constructed inputs with known answers."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import stats

from gan_core.statistics import (
    seed_summary,
    separated_pairs_kept,
    tie_test,
    tie_test_description,
)


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


def _welch_p(best: list[float], other: list[float]) -> float:
    """Two-sided Welch p-value from the formula: t = (mean_b - mean_o) / sqrt(vb + vo) with
    v = s^2 / n (s^2 with ddof 1), Welch-Satterthwaite df = (vb + vo)^2 / (vb^2 / (n_b - 1)
    + vo^2 / (n_o - 1)), p = 2 P(T_df > |t|)."""
    b, o = np.asarray(best, dtype=float), np.asarray(other, dtype=float)
    vb, vo = b.var(ddof=1) / len(b), o.var(ddof=1) / len(o)
    t = (b.mean() - o.mean()) / math.sqrt(vb + vo)
    df = (vb + vo) ** 2 / (vb**2 / (len(b) - 1) + vo**2 / (len(o) - 1))
    return 2 * stats.t.sf(abs(t), df)


def test_three_seeds_against_three_can_be_significant():
    # Means 1 and 5, variances 0.01 and 0.04: t = -4 / sqrt(0.05 / 3), df = 50 / 17. The
    # rank test this replaces could not go below p = 0.1 here.
    result = tie_test([1.0, 1.1, 0.9], [5.0, 5.2, 4.8])
    expected = 2 * stats.t.sf(4 / math.sqrt(0.05 / 3), 50 / 17)
    assert result["p_value"] == pytest.approx(expected, rel=1e-9)
    assert result["p_value"] < 1e-4 and not result["tied"]


def test_separated_samples_of_five_are_not_tied():
    # Equal variances 2.5: t = -5 / sqrt(2 * 2.5 / 5) = -5, df = 8.
    result = tie_test([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])
    assert result["p_value"] == pytest.approx(2 * stats.t.sf(5, 8), rel=1e-9)
    assert not result["tied"]


def test_unequal_sizes_and_variances_match_the_welch_formula():
    best, other = [0.3, 1.9, 0.8, 1.1], [1.2, 2.5, 3.9, 0.7, 2.2, 1.8]
    result = tie_test(best, other)
    assert result["p_value"] == pytest.approx(_welch_p(best, other), rel=1e-9)
    assert result["tied"]  # p ~ 0.11


def test_a_constant_side_leaves_the_other_variance():
    # vb = 0, vo = 1 / 3: t = -2 / sqrt(1 / 3), df = (1/3)^2 / ((1/3)^2 / 2) = 2.
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # scipy's precision warning on a constant side is silenced
        result = tie_test([1.0, 1.0, 1.0], [2.0, 3.0, 4.0])
    assert result["p_value"] == pytest.approx(2 * stats.t.sf(2 * math.sqrt(3), 2), rel=1e-9)
    assert result["tied"]  # p ~ 0.074


def test_two_constant_sides_are_tied_only_when_equal():
    assert tie_test([2.0, 2.0, 2.0], [2.0, 2.0]) == {"p_value": 1.0, "tied": True}
    assert tie_test([2.0, 2.0, 2.0], [3.0, 3.0]) == {"p_value": 0.0, "tied": False}


def test_too_few_values_are_untestable_and_tied():
    for best, other in (([1.0], [2.0, 3.0]), ([1.0, 2.0], [3.0, np.nan]), ([], [])):
        result = tie_test(best, other)
        assert math.isnan(result["p_value"]) and result["tied"]


def test_the_description_names_the_test_and_its_smallest_p_value():
    assert tie_test_description(3, 3) == (
        "Welch's t-test, two-sided, alpha 0.05 per comparison with the best, not corrected "
        "for multiple comparisons: smallest attainable p-value 0 (continuous), assuming "
        "roughly normal per-seed values"
    )
    assert tie_test_description(2, 10) == tie_test_description(3, 3)
    assert tie_test_description(1, 3) == (
        "untestable at 1 vs 3 seeds (fewer than 2 on a side): no p-value, every variant "
        "reported as tied"
    )


def test_separated_pairs_kept_checks_only_the_pairs_the_test_tells_apart():
    before = {"a": [1.0, 1.1, 0.9], "b": [5.0, 5.1, 4.9], "c": [5.05, 4.95, 5.0], "d": [9, 9]}
    # a-b, a-c, a-d, b-d, c-d are separated (b-c is not: means 5.0 and 5.0); d has no value
    # after, so of a-b and a-c, a-b flips (1 < 5 before, 2 > 1 after) and a-c keeps.
    after = {"a": 2.0, "b": 1.0, "c": 3.0, "d": float("nan")}
    assert separated_pairs_kept(before, after) == (1, 2)
    assert separated_pairs_kept({"a": [1.0], "b": [2.0]}, {"a": 1.0, "b": 2.0}) == (0, 0)
