"""The report's reproduction section: a paper's published numbers beside this profile's
own (mean and standard deviation over seeds), the budget run against the paper's, and each
metric over training, so a reader sees whether a shorter run had levelled off."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from gan_core.plots import series_figure
from stages.document import Block, Heading, Paragraph, Table
from stages.evaluate import checkpoint_table
from stages.params import Params
from stages.report_sections import FigureFolder


def reproduction_section(
    params: Params, table: pd.DataFrame, results: Path, folder: FigureFolder
) -> list[Block]:
    """Nothing when the profile names no published result."""
    spec = params.reproduction
    if not spec.published:
        return []
    blocks: list[Block] = [Heading(2, f"Published results reproduced: {spec.source}")]
    steps = {params.setups[dataset].steps for dataset in spec.published}
    budget = ", ".join(str(s) for s in sorted(steps))
    text = f"Our runs: {budget} generator steps"
    if spec.paper_steps:
        share = ", ".join(f"{s / spec.paper_steps:.2%}" for s in sorted(steps))
        text += f", {share} of the paper's {spec.paper_steps}"
    blocks.append(Paragraph(f"{text}. {spec.notes}".strip()))
    for dataset, rows in spec.published.items():
        metrics = list(dict.fromkeys(m for values in rows.values() for m in values))
        header = ("row", "seeds", *(f"{m}: paper / ours" for m in metrics))
        body = []
        for variant, paper in rows.items():
            runs = table[(table["dataset"] == dataset) & (table["variant"] == variant)]
            cells = [_compare(paper.get(m), runs.get(m)) for m in metrics]
            body.append((f"{spec.labels[variant]} (`{variant}`)", str(len(runs)), *cells))
        blocks += [Heading(3, dataset), Table(header, tuple(body))]
        blocks += _curves(dataset, list(rows), params, metrics, results, folder)
    return blocks


def _compare(paper: float | None, ours: pd.Series | None) -> str:
    """``paper / mean ± std (ddof 1) over the finite per-seed values``."""
    left = "n/a" if paper is None else f"{paper:.3g}"
    values = np.array([] if ours is None else ours, dtype=np.float64)
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return f"{left} / n/a"
    spread = f" ± {values.std(ddof=1):.2g}" if len(values) > 1 else ""
    return f"{left} / {values.mean():.3g}{spread}"


def _curves(
    dataset: str,
    variants: list[str],
    params: Params,
    metrics: list[str],
    results: Path,
    folder: FigureFolder,
) -> list[Block]:
    """One figure per metric scored at the snapshots: its mean over seeds per variant."""
    seeds = {
        v: s.seeds for s in params.suites.values() for v in s.variants if dataset in s.datasets
    }
    tables = {
        variant: pd.concat(
            checkpoint_table(results, dataset, variant, seed) for seed in seeds[variant]
        )
        for variant in variants
    }
    blocks: list[Block] = []
    for metric in metrics:
        series = {}
        for variant, runs in tables.items():
            if metric in runs and runs[metric].notna().any():
                mean = runs.groupby("step")[metric].mean()
                series[params.reproduction.labels[variant]] = (list(mean.index), list(mean))
        if series:
            n = params.evaluation.checkpoint_samples
            blocks.append(
                folder.add(
                    f"reproduction_{dataset}_{metric}.png",
                    series_figure(series, "generator step", f"{metric} (mean over seeds)"),
                    f"{dataset}: {metric} over training, mean over seeds, {n} samples per "
                    "snapshot (the table scores the final model on n_fake samples).",
                )
            )
    return blocks
