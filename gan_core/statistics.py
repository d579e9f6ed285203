"""Statistics over seeds. Lucic et al. (2018) showed that single best runs mislead: a
variant's result is a distribution over seeds, so the report gives its mean, spread and a
bootstrap confidence interval, and calls two variants tied unless a rank test over their
seeds tells them apart.

- Confidence interval: percentile bootstrap of the mean (``scipy.stats.bootstrap``), 95%,
  10,000 resamples, seeded.
- Tie test: two-sided Mann-Whitney U over the per-seed values (``scipy.stats.mannwhitneyu``,
  exact for small samples without ties), significance level 0.05. With 3 seeds against 3 the
  smallest possible p-value is 0.1, so no difference can be significant: more seeds are
  needed to rank variants, which the report then says by calling them tied.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 10_000
ALPHA = 0.05


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
    Mann-Whitney U ``p_value`` >= :data:`ALPHA`. Fewer than two finite values on a side:
    untestable, reported as tied with a NaN p-value."""
    best, other = _finite(best), _finite(other)
    if len(best) < 2 or len(other) < 2:
        return {"p_value": np.nan, "tied": True}
    p_value = float(stats.mannwhitneyu(best, other, alternative="two-sided").pvalue)
    return {"p_value": p_value, "tied": p_value >= ALPHA}


def _finite(values: Any) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64).ravel()
    return values[np.isfinite(values)]
