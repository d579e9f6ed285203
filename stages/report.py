"""Stage ``report``: collect every run's result rows into ``results.csv``, their
distribution over seeds into ``summary.csv`` (see :mod:`stages.summary`), and a readable
``benchmark.md`` comparing the variants of each dataset side by side; log the pipeline to
MLflow: one parent run with a child per (dataset, variant, seed), the report attached."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from gan_core.io import atomic_path
from gan_core.metrics.protocol import FLOOR_VARIANT
from stages.params import load_params
from stages.summary import summarize
from stages.tracking import TrackedRun, pipeline_run

PROTOCOL_COLUMNS = [
    "dataset", "variant", "seed", "feature_space", "status", "steps", "train_seconds",
    "n_real", "n_fake", "weights_sha256", "preprocessing", "kid_subsets", "kid_subset_size",
    "pr_k", "dc_k", "is_splits", "run_id",
]  # fmt: skip
# Metrics shown in benchmark.md, in order, with the direction that is better.
HEADLINE = {
    "fid": "lower",
    "kid": "lower",
    "precision": "higher",
    "recall": "higher",
    "density": "higher",
    "coverage": "higher",
    "is_mean": "higher",
    "modes_captured": "higher",
    "high_quality_fraction": "higher",
    "reverse_kl": "lower",
    "kl_to_uniform": "lower",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--results", required=True, help="folder of evaluate stage outputs")
    parser.add_argument("--runs", required=True, help="folder of train stage outputs")
    parser.add_argument("--csv", required=True, help="output results.csv")
    parser.add_argument("--summary", required=True, help="output summary.csv")
    parser.add_argument("--markdown", required=True, help="output benchmark.md")


def run(args: argparse.Namespace) -> None:
    params = load_params(args.params)
    rows, tracked = [], []
    for dataset, variant, seed in params.runs():
        path = Path(args.results, dataset, variant, f"{seed}.json")
        if not path.exists():
            raise FileNotFoundError(f"{path}: result of {dataset}/{variant}/seed{seed} is missing")
        run_rows = json.loads(path.read_text())
        rows.append(run_rows)
        model_dir = Path(args.runs, dataset, variant, str(seed), "model")
        tracked.append(_tracked_run(dataset, variant, seed, model_dir, run_rows))
    floors = [_floor_rows(Path(args.results), dataset) for dataset in params.datasets_in_suites()]
    with pipeline_run(
        params.tracking_uri, params.tracking.experiment, {"n_runs": len(tracked)}
    ) as pipeline:
        for run_rows, run in zip(rows, tracked, strict=True):
            run_id = pipeline.log_child(run)
            for row in run_rows:
                row["run_id"] = run_id
        for row in (row for floor_rows in floors for row in floor_rows):
            row["run_id"] = pipeline.run_id
        table = collect([row for run_rows in floors + rows for row in run_rows])
        summary = summarize(table, HEADLINE)
        with atomic_path(args.csv) as tmp:
            table.to_csv(tmp, index=False)
        with atomic_path(args.summary) as tmp:
            summary.to_csv(tmp, index=False)
        with atomic_path(args.markdown) as tmp:
            tmp.write_text(render_markdown(table, summary))
        pipeline.attach([Path(args.csv), Path(args.summary), Path(args.markdown)])
    print(f"report: {len(table)} rows -> {args.csv}, {args.summary}, {args.markdown}; "
          f"MLflow run {pipeline.run_id}")  # fmt: skip


def _floor_rows(results: Path, dataset: str) -> list[dict]:
    path = results / dataset / FLOOR_VARIANT / "0.json"
    if not path.exists():
        raise FileNotFoundError(f"{path}: the real-versus-real floor of {dataset} is missing")
    return json.loads(path.read_text())


def _tracked_run(
    dataset: str, variant: str, seed: int, model_dir: Path, rows: list[dict]
) -> TrackedRun:
    """A run's MLflow record from its train outputs and its result rows."""
    summary = json.loads((model_dir / "run.json").read_text())
    history = pd.read_csv(model_dir / "history.csv").to_dict(orient="list")
    metrics = {
        f"{row['feature_space']}/{key}": value
        for row in rows
        for key, value in row.items()
        if key not in PROTOCOL_COLUMNS and isinstance(value, int | float)
    }
    return TrackedRun(
        name=f"{dataset}/{variant}/seed{seed}",
        tags={"dataset": dataset, "variant": variant, "seed": str(seed)},
        params=summary["params"],
        history=history,
        metrics={**metrics, "train_seconds": summary["train_seconds"]},
        artifacts=[model_dir / "samples.png", model_dir / "checkpoint.pt"],
        status="FINISHED" if summary["status"] == "ok" else "FAILED",
        start_ms=summary["started_ms"],
        end_ms=summary["finished_ms"],
    )


def collect(rows: list[dict]) -> pd.DataFrame:
    """One row per (dataset, variant, seed, feature_space); protocol columns first."""
    table = pd.DataFrame(rows)
    protocol = [c for c in PROTOCOL_COLUMNS if c in table.columns]
    metrics = sorted(c for c in table.columns if c not in PROTOCOL_COLUMNS)
    return table[protocol + metrics]


def render_markdown(table: pd.DataFrame, summary: pd.DataFrame) -> str:
    lines = [
        "# GANBench results",
        "",
        "Each cell is a variant's mean over seeds with its 95% bootstrap confidence interval "
        "in brackets; arrows say which direction is better. **Bold**: the best variant; "
        "≈: tied with the best (two-sided Mann-Whitney U over seeds, p >= 0.05; with 3 "
        "seeds or fewer per variant no difference can reach significance). The first row, "
        "real data, scores train samples against the test split: the floor no generator is "
        "expected to beat. Generated by `dvc repro` from `results.csv`; every number was "
        "computed in the run that wrote it.",
    ]
    cells = summary.set_index(["dataset", "feature_space", "variant", "metric"])
    for (dataset, space), group in table.groupby(["dataset", "feature_space"], sort=False):
        metrics = [m for m in HEADLINE if m in group and group[m].notna().any()]
        lines += ["", f"## {dataset} — {space}", "", _protocol_line(group, space), ""]
        lines += [
            "| variant | seeds | diverged | train s | "
            + " | ".join(f"{m} {'↓' if HEADLINE[m] == 'lower' else '↑'}" for m in metrics)
            + " |",
            "|---" * (4 + len(metrics)) + "|",
        ]
        for variant, runs in group.groupby("variant", sort=False):
            seconds = runs["train_seconds"].mean()
            row = [
                "real data (floor)" if variant == FLOOR_VARIANT else variant,
                str(len(runs)),
                str(int((runs["status"] != "ok").sum())),
                "—" if pd.isna(seconds) else f"{seconds:.0f}",
            ]
            row += [_cell(cells.loc[(dataset, space, variant, m)]) for m in metrics]
            lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def _cell(entry: pd.Series) -> str:
    if pd.isna(entry["mean"]):
        return "n/a"
    text = f"{entry['mean']:.3g}"
    if pd.notna(entry["ci_low"]):
        text += f" [{entry['ci_low']:.3g}, {entry['ci_high']:.3g}]"
    if entry["best"]:
        return f"**{text}**"
    return f"≈ {text}" if entry["tied_with_best"] else text


def _protocol_line(group: pd.DataFrame, space: str) -> str:
    trained = group[group["variant"] != FLOOR_VARIANT]
    first = (trained if len(trained) else group).iloc[0]
    parts = []
    if pd.notna(first["steps"]):
        parts.append(f"{int(first['steps'])} generator steps")
    parts += [
        f"n_fake = {int(first['n_fake'])}",
        f"n_real = {int(first['n_real'])}",
        f"feature space `{space}`",
    ]
    if "weights_sha256" in first and pd.notna(first["weights_sha256"]):
        parts.append(f"weights sha256 `{first['weights_sha256'][:12]}…`")
    if "preprocessing" in first and pd.notna(first["preprocessing"]):
        parts.append(f"preprocessing: {first['preprocessing']}")
    parts.append(f"seeds {sorted(trained['seed'].unique().tolist())}")
    return "Protocol: " + ", ".join(parts) + "."
