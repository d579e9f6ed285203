"""Statistics over seeds. Lucic et al. (2018) showed that single best runs mislead: a
variant's result is a distribution over seeds, so the report gives its mean, spread and a
bootstrap confidence interval, and calls two variants tied unless a test over their seeds
tells them apart.

- Confidence interval: percentile bootstrap of the mean (``scipy.stats.bootstrap``), 95%,
  10,000 resamples, seeded.
- Tie test: Welch's unequal-variance t-test over the per-seed values
  (``scipy.stats.ttest_ind(equal_var=False)``), two-sided, significance level 0.05 for each
  comparison with the best variant, not corrected for the several comparisons of a table.
  Its p-value is continuous, so any p-value down to 0 can be reached with 2 seeds or more on
  each side: 3 seeds against 3 can be significant, which a rank test cannot be (the smallest
  two-sided Mann-Whitney U p-value of 3 against 3 is 2 / C(6, 3) = 0.1). The price is an
  assumption: the per-seed values are roughly normal. Degenerate cases: both sides constant
  over seeds give p = 1 (tied) when the constants are equal and p = 0 (not tied) when they
  differ, since with no seed-to-seed spread any difference is certain; fewer than two finite
  values on a side are untestable and reported as tied with a NaN p-value.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 10_000
ALPHA = 0.05
MIN_SEEDS = 2  # per side: the t-test needs a variance on each


def seed_summary(values: Any, *, seed: int = 0) -> dict[str, float]:
    """``n``, ``mean``, ``std`` (ddof 1) and the bootstrap ``ci_low``/``ci_high`` of the
    finite entries of ``values``; NaN where fewer than two values make them undefined."""
    values = _finite(values)
    n = len(values)
    summary = {"n": float(n), "mean": np.nan, "std": np.nan, "ci_low": np.nan, "ci_high": np.nan}
    if n == 0:
        return summary
    summary["mean"] = float(values.mean())
    if n < 2:
        return summary
    summary["std"] = float(values.std(ddof=1))
    if np.ptp(values) == 0:  # every resample has the same mean
        summary["ci_low"] = summary["ci_high"] = summary["mean"]
        return summary
    interval = stats.bootstrap(
        (values,), np.mean, confidence_level=CONFIDENCE, n_resamples=BOOTSTRAP_RESAMPLES,
        method="percentile", random_state=seed,
    ).confidence_interval  # fmt: skip
    summary["ci_low"], summary["ci_high"] = float(interval.low), float(interval.high)
    return summary


def tie_test(best: Any, other: Any) -> dict[str, float | bool]:
    """Whether ``other``'s per-seed values cannot be told apart from ``best``'s: two-sided
    Welch's t-test ``p_value`` >= :data:`ALPHA` (the module docstring gives the degenerate
    cases). ``best``, ``other``: one value per seed; NaN (a diverged seed) is no value."""
    best, other = _finite(best), _finite(other)
    if len(best) < MIN_SEEDS or len(other) < MIN_SEEDS:
        return {"p_value": np.nan, "tied": True}
    if np.ptp(best) == 0 and np.ptp(other) == 0:  # no spread: the t statistic is 0/0 or x/0
        p_value = 1.0 if best[0] == other[0] else 0.0
    else:
        with warnings.catch_warnings():
            # scipy flags a constant side as "nearly identical" data; its variance 0 is exact.
            warnings.filterwarnings("ignore", "Precision loss", RuntimeWarning)
            p_value = float(stats.ttest_ind(best, other, equal_var=False).pvalue)
    return {"p_value": p_value, "tied": p_value >= ALPHA}


def tie_test_description(n_best: int, n_other: int) -> str:
    """What :func:`tie_test` does with ``n_best`` seeds against ``n_other``, and the
    smallest p-value it can reach, for a report's legend."""
    if n_best < MIN_SEEDS or n_other < MIN_SEEDS:
        return (
            f"untestable at {n_best} vs {n_other} seeds (fewer than {MIN_SEEDS} on a side): no "
            "p-value, every variant reported as tied"
        )
    return (
        f"Welch's t-test, two-sided, alpha {ALPHA:g} per comparison with the best, not "
        "corrected for multiple comparisons: smallest attainable p-value 0 (continuous), "
        "assuming roughly normal per-seed values"
    )


def ranking_agreement(before: Mapping[str, float], after: Mapping[str, float]) -> float:
    """Kendall's tau-b between two scorings of the same entries (variant -> value): 1 when
    they order the entries alike, -1 when exactly reversed. Entries without a finite value
    on both sides are left out; NaN with fewer than 3 left or a constant side."""
    names = [n for n in before if n in after and np.isfinite(before[n]) and np.isfinite(after[n])]
    x = np.array([before[n] for n in names], dtype=np.float64)
    y = np.array([after[n] for n in names], dtype=np.float64)
    if len(names) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(stats.kendalltau(x, y).statistic)


def separated_pairs_kept(before: Mapping[str, Any], after: Mapping[str, float]) -> tuple[int, int]:
    """Of the pairs of entries that :func:`tie_test` tells apart in ``before`` (entry -> its
    per-seed values), how many ``after`` (entry -> a value) orders the same way as the
    per-seed means of ``before``: (kept, separated). Entries without a finite value after
    are left out. The verdicts a results table makes, checked against a later scoring."""
    means = {n: float(np.mean(_finite(v))) for n, v in before.items() if len(_finite(v))}
    names = sorted(n for n in means if n in after and np.isfinite(after[n]))
    kept = separated = 0
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            if tie_test(before[a], before[b])["tied"]:
                continue
            separated += 1
            kept += np.sign(means[a] - means[b]) == np.sign(after[a] - after[b])
    return int(kept), separated


def _finite(values: Any) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64).ravel()
    return values[np.isfinite(values)]
