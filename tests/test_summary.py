"""The report's summary over seeds on a constructed results table with known answers."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from stages.summary import summarize


def _table() -> pd.DataFrame:
    rows = []
    fids = {
        "good": [1, 2, 3, 4, 5],
        "close": [1.5, 2.5, 3.5, 4.5, 5.5],
        "bad": [10, 11, 12, 13, 14],
    }
    for variant, values in fids.items():
        for seed, fid in enumerate(values):
            status = "diverged" if (variant, seed) == ("bad", 4) else "ok"
            rows.append({"dataset": "d", "feature_space": "f", "variant": variant,
                         "seed": seed, "status": status, "fid": float(fid)})  # fmt: skip
    rows.append({"dataset": "d", "feature_space": "f", "variant": "real", "seed": 0,
                 "status": "ok", "fid": 0.5})  # fmt: skip
    return pd.DataFrame(rows)


def _exact_p(u: float, n: int, m: int) -> float:
    """Two-sided exact Mann-Whitney p-value of statistic ``u``, by enumerating every split
    of the ranks 1..n+m into groups of n and m (no ties)."""
    ranks = range(1, n + m + 1)
    us = [sum(c) - n * (n + 1) / 2 for c in itertools.combinations(ranks, n)]
    low = min(u, n * m - u)
    return min(1.0, 2 * sum(x <= low for x in us) / len(us))


def test_best_ties_and_seed_statistics():
    summary = summarize(_table(), {"fid": "lower"}).set_index("variant")
    assert summary.loc["good", "best"] and not summary.loc["good", "tied_with_best"]
    assert summary.loc["close", "tied_with_best"]  # interleaved ranks
    assert summary.loc["close", "p_value_vs_best"] == pytest.approx(_exact_p(10, 5, 5))
    assert not summary.loc["bad", "tied_with_best"]  # separated 5 vs 5: p = 2/252
    assert summary.loc["bad", "p_value_vs_best"] == pytest.approx(2 / 252)
    assert summary.loc["good", "mean"] == 3.0 and summary.loc["good", "n_seeds"] == 5
    assert summary.loc["bad", "n_diverged"] == 1
    floor = summary.loc["real"]  # the floor is never best, even when lowest
    assert not floor["best"] and not floor["tied_with_best"]
    assert np.isnan(floor["p_value_vs_best"]) and floor["n_seeds"] == 1


def test_the_direction_picks_the_best():
    summary = summarize(_table(), {"fid": "higher"}).set_index("variant")
    assert summary.loc["bad", "best"] and not summary.loc["good", "best"]


def test_metrics_absent_or_all_missing_are_skipped():
    table = _table().assign(kid=np.nan)
    summary = summarize(table, {"fid": "lower", "kid": "lower", "recall": "higher"})
    assert set(summary["metric"]) == {"fid"}
