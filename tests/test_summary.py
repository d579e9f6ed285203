"""The report's summary over seeds on a constructed results table with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from gan_core.statistics import tie_test_description
from stages.params import SuiteConfig
from stages.summary import summarize, tie_test_legend


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


def test_best_ties_and_seed_statistics():
    summary = summarize(_table(), {"fid": "lower"}).set_index("variant")
    assert summary.loc["good", "best"] and not summary.loc["good", "tied_with_best"]
    # Welch's t-test, every side of variance 2.5 over 5 seeds: t = -difference / 1, df = 8.
    assert summary.loc["close", "tied_with_best"]  # t = -0.5
    assert summary.loc["close", "p_value_vs_best"] == pytest.approx(2 * stats.t.sf(0.5, 8))
    assert not summary.loc["bad", "tied_with_best"]  # t = -9
    assert summary.loc["bad", "p_value_vs_best"] == pytest.approx(2 * stats.t.sf(9, 8))
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


def test_the_legend_names_datasets_only_where_their_tie_tests_differ():
    welch = tie_test_description(3, 3)
    suites = {
        "toy": SuiteConfig(datasets=("ring8", "grid25"), variants=("a", "b"), seeds=(0, 1, 2)),
        "images": SuiteConfig(datasets=("mnist",), variants=("a", "b"), seeds=(0, 1, 2)),
    }
    assert tie_test_legend(suites) == welch
    suites["images"] = SuiteConfig(datasets=("mnist",), variants=("a",), seeds=(0,))
    suites["empty"] = SuiteConfig(datasets=("cifar10",), variants=(), seeds=(0,))
    assert tie_test_legend(suites) == (
        f"ring8, grid25: {welch}; mnist: {tie_test_description(1, 1)}"
    )
