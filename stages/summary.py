"""The per-variant summary of the results table: for each (dataset, feature space, variant)
and headline metric, the distribution over seeds (mean, std, bootstrap confidence interval,
seeds, diverged runs), which variant is best, and which are tied with it; and the report
legend's line on how ties are tested."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from gan_core.metrics.protocol import FLOOR_VARIANT
from gan_core.statistics import seed_summary, tie_test, tie_test_description
from stages.params import SuiteConfig

COLUMNS = [
    "dataset", "feature_space", "variant", "metric", "direction", "n_seeds", "n_diverged",
    "mean", "std", "ci_low", "ci_high", "best", "tied_with_best", "p_value_vs_best",
]  # fmt: skip


def summarize(table: pd.DataFrame, directions: Mapping[str, str]) -> pd.DataFrame:
    """One row per (dataset, feature space, variant, metric) of ``directions`` (metric ->
    ``"lower"`` or ``"higher"`` is better) present in ``table``. The floor rows are
    summarized but never best nor tied."""
    records = []
    for (dataset, space), group in table.groupby(["dataset", "feature_space"], sort=False):
        variants = dict(tuple(group.groupby("variant", sort=False)))
        for metric, direction in directions.items():
            if metric not in group or group[metric].isna().all():
                continue
            summaries = {v: seed_summary(runs[metric]) for v, runs in variants.items()}
            best = _best(summaries, direction)
            for variant, runs in variants.items():
                summary = summaries[variant]
                compared = best is not None and variant not in (best, FLOOR_VARIANT)
                tie = tie_test(variants[best][metric], runs[metric]) if compared else None
                records.append({
                    "dataset": dataset, "feature_space": space, "variant": variant,
                    "metric": metric, "direction": direction, "n_seeds": int(summary["n"]),
                    "n_diverged": int((runs["status"] != "ok").sum()),
                    "mean": summary["mean"], "std": summary["std"],
                    "ci_low": summary["ci_low"], "ci_high": summary["ci_high"],
                    "best": variant == best,
                    "tied_with_best": bool(tie["tied"]) if tie else False,
                    "p_value_vs_best": tie["p_value"] if tie else np.nan,
                })  # fmt: skip
    return pd.DataFrame.from_records(records, columns=COLUMNS)


def _best(summaries: Mapping[str, Mapping[str, float]], direction: str) -> str | None:
    means = {
        variant: s["mean"]
        for variant, s in summaries.items()
        if variant != FLOOR_VARIANT and np.isfinite(s["mean"])
    }
    if not means:
        return None
    pick = min if direction == "lower" else max
    return pick(means, key=means.__getitem__)


def tie_test_legend(suites: Mapping[str, SuiteConfig]) -> str:
    """The tie test of the report's tables at each dataset's fewest seeds per variant, for
    the legend; datasets are named where the descriptions differ (one seed is untestable)."""
    seeds: dict[str, int] = {}
    for suite in suites.values():
        for dataset in suite.datasets if suite.variants else ():
            seeds[dataset] = min(seeds.get(dataset, len(suite.seeds)), len(suite.seeds))
    datasets: dict[str, list[str]] = {}
    for dataset, n in seeds.items():
        datasets.setdefault(tie_test_description(n, n), []).append(dataset)
    if len(datasets) == 1:
        return next(iter(datasets))
    return "; ".join(f"{', '.join(names)}: {text}" for text, names in datasets.items())
