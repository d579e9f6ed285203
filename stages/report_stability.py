"""The report's ranking check: would the ranking of the variants survive a longer budget?

Every run is scored at its training snapshots, so the ranking at half of a profile's budget
can be set beside the ranking at its full budget at no extra cost: Kendall's tau between
the variants' mean snapshot scores (over seeds, on ``checkpoint_samples`` samples each) at
the two steps. A tau of at least :data:`STABLE` counts as a ranking that held. Run on a
profile with twice the budget (``profiles/double.yaml``), the same check compares the
ranking at the shorter profile's budget with the ranking at twice it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from gan_core.metrics.protocol import SNAPSHOT_RANKING
from gan_core.statistics import ALPHA, ranking_agreement, separated_pairs_kept
from stages.document import Block, Heading, Paragraph, Table
from stages.evaluate import checkpoint_table
from stages.params import Params

STABLE = 0.6  # Kendall's tau at or above which a ranking counts as held


def snapshot_scores(
    results: Path, dataset: str, seeds: Mapping[str, list[int]], metric: str
) -> dict[str, pd.DataFrame]:
    """Variant -> its ``metric`` at each snapshot step (rows) of each seed (columns)."""
    scores = {}
    for variant, variant_seeds in seeds.items():
        runs = {seed: checkpoint_table(results, dataset, variant, seed) for seed in variant_seeds}
        if all(metric in run for run in runs.values()):
            scores[variant] = pd.DataFrame(
                {seed: run.set_index("step")[metric] for seed, run in runs.items()}
            )
    return scores


def halfway_step(steps: list[int]) -> int | None:
    """The snapshot step nearest half of the last one; None without an earlier snapshot."""
    earlier = [step for step in steps if step < steps[-1]] if steps else []
    if not earlier:
        return None
    return min(earlier, key=lambda step: abs(2 * step - steps[-1]))


def budget_scores(
    scores: Mapping[str, pd.DataFrame],
) -> tuple[dict[str, tuple[int, int]], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Per variant of :func:`snapshot_scores` (variants may train budgets of their own): its
    (half, full) steps, the snapshot nearest half of its own last one and that last one; and
    its per-seed scores at each. Variants without an earlier snapshot are left out."""
    steps, half, full = {}, {}, {}
    for variant, table in scores.items():
        table = table.dropna(how="all").sort_index()
        middle = halfway_step([int(step) for step in table.index])
        if middle is None:
            continue
        last = int(table.index[-1])
        steps[variant] = (middle, last)
        half[variant], full[variant] = table.loc[middle].to_numpy(), table.loc[last].to_numpy()
    return steps, half, full


def seed_means(per_seed: Mapping[str, np.ndarray]) -> pd.Series:
    """Variant -> the mean of its finite per-seed scores (NaN where none is finite)."""
    return pd.Series({
        variant: float(np.mean(v[np.isfinite(v)])) if np.isfinite(v).any() else float("nan")
        for variant, v in per_seed.items()
    })  # fmt: skip


def ranking(means: pd.Series, metric: str) -> str:
    """The variants best first, e.g. ``a > b > c``."""
    order = means.dropna().sort_values(ascending=SNAPSHOT_RANKING[metric] == "lower")
    return " > ".join(order.index)


def _steps_cell(steps: Mapping[str, tuple[int, int]]) -> str:
    """``half → full`` of most variants, then each variant whose budget differs."""
    pairs = list(steps.values())
    common = max(pairs, key=pairs.count)
    own = [f"{v}: {h} → {f}" for v, (h, f) in steps.items() if (h, f) != common]
    return f"{common[0]} → {common[1]}" + (f" ({', '.join(own)})" if own else "")


def stability_section(params: Params, results: Path) -> list[Block]:
    """One row per dataset that ``evaluation.ranked_by`` names: the ranking at half the
    budget against the ranking at the full budget, and their Kendall tau."""
    rows = []
    for dataset in params.datasets_in_suites():
        metric = params.evaluation.ranked_by.get(dataset)
        seeds = params.seeds_by_variant(dataset)
        if metric is None or len(seeds) < 3:
            continue
        steps, half, full = budget_scores(snapshot_scores(results, dataset, seeds, metric))
        if not steps:
            continue
        half_means, full_means = seed_means(half), seed_means(full)
        tau = ranking_agreement(half_means.to_dict(), full_means.to_dict())
        verdict = "n/a" if np.isnan(tau) else "held" if tau >= STABLE else "changed"
        kept, separated = separated_pairs_kept(half, full_means.to_dict())
        rows.append((
            dataset, f"{metric} ({SNAPSHOT_RANKING[metric]} is better)", _steps_cell(steps),
            str(len(steps)), f"{tau:.2f}", verdict,
            f"{kept} of {separated}" if separated else "none",
            ranking(half_means, metric), ranking(full_means, metric),
        ))  # fmt: skip
    if not rows:
        return []
    n = params.evaluation.checkpoint_samples
    header = (
        "dataset", "ranked by", "steps", "variants", "Kendall tau", "ranking",
        "separated pairs kept", "order at half the budget", "order at the full budget",
    )  # fmt: skip
    return [
        Heading(2, "Does the ranking hold over training?"),
        Paragraph(
            "Each variant's mean snapshot score over its seeds "
            f"({n} samples per snapshot, the dataset's first feature space) at the snapshot "
            "nearest half of its budget and at its last one (the steps of a variant with a "
            "budget of its own are named); Kendall's tau-b between the two "
            f"orders, 'held' at tau >= {STABLE}. A ranking that changes between half the "
            "budget and the full one is unlikely to have settled at the full budget either; "
            "but where the results tables mark most variants tied with the best (≈), their "
            "order is within the seed-to-seed spread and a low tau says so, not that the "
            "budget is too short. So the table also checks the verdicts alone: of the pairs "
            "of variants that differ significantly at half the budget (their per-seed "
            f"snapshot scores, Welch's t-test, two-sided, alpha {ALPHA:g}), how many keep "
            "their order at the full budget ('none': no pair differs, as with one seed). "
            "On the profile `double` (`make repro PROFILE=double`: the default profile with "
            "every budget doubled), this check compares the ranking at the default budget "
            "with the ranking at twice it."
        ),
        Table(header, tuple(rows)),
    ]
