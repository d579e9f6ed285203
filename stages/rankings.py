"""``ganbench rankings``: does a profile's ranking of the variants hold at a longer budget,
scored as its results tables are?

A report's own ranking check (``stages/report_stability.py``) compares snapshot scores, on
``evaluation.checkpoint_samples`` samples each, within one profile's runs. This command sets
the final scores of two sets of reports side by side instead: the numbers of their results
tables, on each run's full ``n_fake`` samples, at a shorter budget (``--base``) and a longer
one (``--longer``), e.g. the default profile against ``profiles/double*.yaml``. Training is
deterministic per seed, so a profile that only adds seeds (``profiles/stacked_seeds.yaml``)
adds runs to the same comparison: the reports given for one budget are pooled, and a seed
that two of them share must have the same score in both.

Per dataset that ``evaluation.ranked_by`` names: Kendall's tau-b between the variants'
seed means at the two budgets, 'held' at tau >= ``STABLE`` as in the reports; the pairs
that Welch's t-test separates at the shorter budget and how many keep their order; and how
much of tau is the seeds' doing: its 95% percentile interval over resamples of each
variant's seeds (a seed drawn keeps its scores at both budgets).

    ganbench rankings --base reports/results.csv reports/stacked_seeds/results.csv \\
        --longer reports/double/results.csv reports/double_stacked_seeds/results.csv \\
        --out reports/rankings.md
"""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from gan_core.io import atomic_path
from gan_core.metrics.protocol import FLOOR_VARIANT, SNAPSHOT_RANKING
from gan_core.statistics import ALPHA, ranking_agreement, separated_pairs_kept
from stages.document import Heading, Paragraph, Table, to_markdown
from stages.params import load_params
from stages.report_stability import STABLE, _steps_cell, ranking, seed_means

RESAMPLES = 2000
CONFIDENCE = 0.95
# Settings that must agree between the two budgets for their scores to share a scale.
PROTOCOL = ("feature_space", "n_fake", "batch_size")
# The columns read from each results table besides the score.
COLUMNS = ["dataset", "variant", "seed", "steps", *PROTOCOL]


def read_side(paths: Sequence[Path], metric_of: Mapping[str, str]) -> pd.DataFrame:
    """One row per (dataset, variant, seed) of the reports ``paths`` (results.csv files) with
    a ``score``: the run's ``metric_of[dataset]`` in the first feature space that scores it.
    Every variant's protocol columns must agree across the files."""
    frames = []
    for path in paths:
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such results table")
        table = pd.read_csv(path)
        missing = set(COLUMNS) - set(table.columns)
        if missing:
            raise ValueError(f"{path}: columns {sorted(missing)} missing; expected a results.csv")
        for dataset, metric in metric_of.items():
            rows = table[(table.dataset == dataset) & (table.variant != FLOOR_VARIANT)]
            if metric not in rows or rows[metric].isna().all():
                continue
            space = rows.loc[rows[metric].notna(), "feature_space"].iloc[0]
            rows = rows[rows.feature_space == space]
            frames.append(rows[COLUMNS]
                          .assign(steps=rows.steps.astype(int), score=rows[metric],
                                  source=str(path)))  # fmt: skip
    if not frames:
        return pd.DataFrame(columns=[*COLUMNS, "score"])
    side = pd.concat(frames, ignore_index=True)
    for (dataset, variant), runs in side.groupby(["dataset", "variant"]):
        for column in ("steps", *PROTOCOL):
            if runs[column].nunique(dropna=False) > 1:
                sources = ", ".join(sorted(runs.source.unique()))
                raise ValueError(
                    f"{sources}: {dataset} {variant} has {column} "
                    f"{sorted(runs[column].astype(str).unique())}; pooled reports must agree"
                )
        for seed, copies in runs.groupby("seed"):
            scores = copies.score.to_numpy(dtype=np.float64)
            if not np.array_equal(scores, np.full_like(scores, scores[0]), equal_nan=True):
                sources = ", ".join(copies.source)
                raise ValueError(
                    f"{sources}: {dataset} {variant} seed {seed} scores {list(scores)}; "
                    "a seed's runs must be the same run in every report"
                )
    return side.drop(columns="source").drop_duplicates(["dataset", "variant", "seed"])


def paired_scores(
    base: pd.DataFrame, longer: pd.DataFrame, dataset: str
) -> tuple[dict[str, tuple[int, int]], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Per variant scored at both budgets on ``dataset``: its (shorter, longer) steps, and its
    per-seed scores at each, over the seeds both budgets have, in the same seed order."""
    steps, before, after = {}, {}, {}
    for variant, short in base[base.dataset == dataset].groupby("variant", sort=False):
        long = longer[(longer.dataset == dataset) & (longer.variant == variant)]
        seeds = sorted(set(short.seed) & set(long.seed))
        if not seeds:
            continue
        for column in PROTOCOL:
            a, b = short[column].iloc[0], long[column].iloc[0]
            if a != b:
                raise ValueError(
                    f"{dataset} {variant}: {column} is {a} at the shorter budget and {b} at "
                    "the longer; the two budgets must be scored alike"
                )
        short, long = short.set_index("seed").loc[seeds], long.set_index("seed").loc[seeds]
        steps[variant] = (int(short.steps.iloc[0]), int(long.steps.iloc[0]))
        before[variant] = short.score.to_numpy(dtype=np.float64)
        after[variant] = long.score.to_numpy(dtype=np.float64)
    return steps, before, after


def tau_interval(
    before: Mapping[str, np.ndarray], after: Mapping[str, np.ndarray], *, seed: int = 0
) -> tuple[float, float]:
    """The 95% percentile interval of Kendall's tau-b between the two budgets' seed means
    over :data:`RESAMPLES` resamples, each variant's seeds drawn with replacement (the same
    draw at both budgets). NaN where fewer than 2 seeds leave nothing to resample."""
    if min(len(v) for v in before.values()) < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    draws = {v: rng.integers(len(s), size=(RESAMPLES, len(s))) for v, s in before.items()}
    with warnings.catch_warnings():  # a resample of only diverged seeds has a NaN mean
        warnings.simplefilter("ignore", RuntimeWarning)
        means = [
            {v: np.nanmean(scores[v][i], axis=1) for v, i in draws.items()}
            for scores in (before, after)
        ]
    taus = [
        ranking_agreement({v: m[r] for v, m in means[0].items()},
                          {v: m[r] for v, m in means[1].items()})
        for r in range(RESAMPLES)
    ]  # fmt: skip
    taus = np.asarray(taus)
    taus = taus[np.isfinite(taus)]
    tail = 100 * (1 - CONFIDENCE) / 2
    return float(np.percentile(taus, tail)), float(np.percentile(taus, 100 - tail))


def ranking_rows(base: pd.DataFrame, longer: pd.DataFrame, metric_of: Mapping[str, str]):
    """One table row per dataset of ``metric_of`` that both budgets score."""
    rows = []
    for dataset, metric in metric_of.items():
        steps, before, after = paired_scores(base, longer, dataset)
        if len(steps) < 3:
            continue
        means_before, means_after = seed_means(before), seed_means(after)
        tau = ranking_agreement(means_before.to_dict(), means_after.to_dict())
        low, high = tau_interval(before, after)
        verdict = "n/a" if np.isnan(tau) else "held" if tau >= STABLE else "changed"
        kept, separated = separated_pairs_kept(before, means_after.to_dict())
        seeds = sorted({len(v) for v in before.values()})
        rows.append((
            dataset, f"{metric} ({SNAPSHOT_RANKING[metric]} is better)", _steps_cell(steps),
            str(len(steps)), "/".join(map(str, seeds)), f"{tau:.2f}", f"[{low:.2f}, {high:.2f}]",
            verdict, f"{kept} of {separated}" if separated else "none",
            ranking(means_before, metric), ranking(means_after, metric),
        ))  # fmt: skip
    return rows


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base", nargs="+", type=Path, required=True,
                        help="results.csv of the reports at the shorter budget")  # fmt: skip
    parser.add_argument("--longer", nargs="+", type=Path, required=True,
                        help="results.csv of the reports at the longer budget")  # fmt: skip
    parser.add_argument("--out", type=Path, required=True, help="the Markdown file to write")


def run(args: argparse.Namespace) -> None:
    metric_of = {d: m for d, m in load_params(args.params).evaluation.ranked_by.items() if m}
    base, longer = read_side(args.base, metric_of), read_side(args.longer, metric_of)
    rows = ranking_rows(base, longer, metric_of)
    if not rows:
        raise ValueError(
            f"{', '.join(map(str, args.longer))}: no dataset with 3 or more variants scored at "
            f"both budgets; expected reports of the same datasets as {args.base[0]}"
        )
    header = (
        "dataset", "ranked by", "steps", "variants", "seeds", "Kendall tau",
        "95% interval over seeds", "ranking", "separated pairs kept",
        "order at the shorter budget", "order at the longer budget",
    )  # fmt: skip
    blocks = [
        Heading(1, "Do the rankings hold at a longer budget? Scored as the results tables are"),
        Paragraph(
            f"Each variant's final scores (the results tables' numbers: every run's n_fake "
            f"samples in its dataset's first feature space that gives the score) at the shorter "
            f"budget, from {names(args.base)}, against the longer budget, from "
            f"{names(args.longer)}; seeds pooled over the reports of a budget, and only the "
            "seeds scored at both. Kendall's tau-b between the variants' seed means, 'held' "
            f"at tau >= {STABLE}; its 95% interval over {RESAMPLES} resamples of each "
            "variant's seeds (a seed drawn brings its scores at both budgets), which says how "
            "much of tau the choice of seeds decides; and of the pairs of variants that "
            f"differ significantly at the shorter budget (Welch's t-test, two-sided, alpha "
            f"{ALPHA:g}), how many keep their order at the longer one. The reports' own "
            "section 'Does the ranking hold over training?' makes the same check on the "
            "snapshot scores, on fewer samples per run. Written by `ganbench rankings`."
        ),
        Table(header, tuple(rows)),
    ]
    with atomic_path(args.out) as tmp:
        tmp.write_text(to_markdown(blocks, args.out.parent))
    print(f"{args.out}: {len(rows)} datasets")


def names(paths: Sequence[Path]) -> str:
    """``paths`` as a list of code spans."""
    return ", ".join(f"`{path.as_posix()}`" for path in paths)
