"""The report's reproduction section: a paper's published numbers beside this profile's
own (mean and standard deviation over seeds), the budget run against the paper's, and each
metric over training, so a reader sees whether a shorter run had levelled off."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from gan_core.plots import series_figure
from stages.document import Block, Heading, Paragraph, Table
from stages.evaluate import checkpoint_table
from stages.params import Params
from stages.report_sections import FigureFolder

# A curve that moved by at most this fraction of its final value over the last third of
# training counts as levelled off.
LEVELLED = 0.05


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
    text = f"Our runs: {budget} steps"
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
    seeds = params.seeds_by_variant(dataset)
    tables = {
        variant: pd.concat(
            checkpoint_table(results, dataset, variant, seed) for seed in seeds[variant]
        )
        for variant in variants
    }
    labels = params.reproduction.labels
    blocks: list[Block] = []
    findings = []
    for metric in metrics:
        series = {}
        for variant, runs in tables.items():
            if metric in runs and runs[metric].notna().any():
                mean = runs.groupby("step")[metric].mean()
                series[variant] = (list(mean.index), list(mean))
        if series:
            n = params.evaluation.checkpoint_samples
            blocks.append(
                folder.add(
                    f"reproduction_{dataset}_{metric}.png",
                    series_figure(
                        {labels[v]: curve for v, curve in series.items()},
                        "generator step",
                        f"{metric} (mean over seeds)",
                    ),
                    f"{dataset}: {metric} over training, mean over seeds, {n} samples per "
                    "snapshot (the table scores the final model on n_fake samples).",
                )
            )
            paper = {v: params.reproduction.published[dataset][v].get(metric) for v in series}
            findings.append(_last_third(metric, series, labels, paper))
    if findings:
        blocks.append(
            Paragraph(f"{dataset}, over the last third of training: " + "; ".join(findings) + ".")
        )
    return blocks


def last_third_change(steps: list[int], values: list[float]) -> tuple[float, float]:
    """The mean curve's value at the snapshot nearest two thirds of the last step, and at the
    last step: how much a run still moved at the end of its budget."""
    target = 2 * steps[-1] / 3
    start = min(range(len(steps)), key=lambda i: abs(steps[i] - target))
    return values[start], values[-1]


def _last_third(
    metric: str,
    series: dict[str, tuple[list[int], list[float]]],
    labels: Mapping[str, str],
    paper: Mapping[str, float | None],
) -> str:
    """``metric``: for each row, its change over the last third, whether it levelled off
    (moved by at most :data:`LEVELLED` of its final value), and whether it moved towards
    the paper's value or away from it."""
    parts = []
    for variant, (steps, values) in series.items():
        before, after = last_third_change(steps, values)
        text = f"{labels[variant]} "
        if abs(after - before) <= LEVELLED * max(abs(after), 1e-12):
            text += f"levelled off ({before:.3g} to {after:.3g})"
        else:
            text += f"{'rose' if after > before else 'fell'} ({before:.3g} to {after:.3g}"
            target = paper.get(variant)
            if target is not None:
                towards = (target - after) * (after - before) > 0
                text += f", {'towards' if towards else 'away from'} the paper's {target:.3g}"
            text += ")"
        parts.append(text)
    return f"{metric}: " + ", ".join(parts)
