"""MLflow overhead: the time the report stage spends logging runs to MLflow against the time
the pipeline spent training them, measured on real runs in the same process.

    python bench/tracking.py

Trains, with the pipeline's own ``ganbench`` stages on the default profile's setups, the
five seeds of gan_ns on ring8 (one seed group) and one MNIST gan_ns run, into a temporary
folder; then logs the six runs into a fresh SQLite tracking database exactly as the report
stage does (a parent run, a child per run with its parameters, training curves, metrics,
sample grid and checkpoint), timing everything from ``import mlflow`` on. The ratio is the
logging time over the training processes' wall time (goal: at most 5%), split into what a
report pays once (importing MLflow, creating the database, the parent run) and per run.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

from stages.params import load_params
from stages.report import _tracked_run
from stages.tracking import pipeline_run

ROOT = Path(__file__).resolve().parent.parent


def _ganbench(*args: str) -> float:
    """Run one ``ganbench`` command from the repository root; its wall time."""
    start = time.perf_counter()
    subprocess.run(["ganbench", *args], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    params = load_params(ROOT / "params.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        runs: list[tuple[str, str, int, Path]] = []
        train_seconds = 0.0
        for dataset in ("ring8", "mnist"):
            _ganbench("prepare", dataset, "--out", str(tmp / "data" / dataset))
        data, out = tmp / "data", tmp / "runs"
        group = out / "ring8" / "gan_ns"
        train_seconds += _ganbench(
            "train", "--dataset", "ring8", "--variant", "gan_ns", "--suite", "toy",
            "--data", str(data / "ring8"), "--runs", str(group),
            "--progress", str(tmp / "progress"),
        )  # fmt: skip
        seeds = params.suites["toy"].seeds
        runs += [("ring8", "gan_ns", seed, group / str(seed) / "model") for seed in seeds]
        single = out / "mnist" / "gan_ns" / "0"
        train_seconds += _ganbench(
            "train", "--dataset", "mnist", "--variant", "gan_ns", "--seed", "0",
            "--data", str(data / "mnist"), "--out", str(single / "model"),
            "--samples", str(single / "samples.npz"), "--progress", str(tmp / "progress"),
        )  # fmt: skip
        runs.append(("mnist", "gan_ns", 0, single / "model"))
        start = time.perf_counter()
        uri = f"sqlite:///{tmp / 'mlflow.db'}"
        with pipeline_run(uri, "bench", {"n_runs": len(runs)}) as pipeline:
            opened = time.perf_counter()
            for dataset, variant, seed, model in runs:
                pipeline.log_child(_tracked_run(dataset, variant, seed, model, []))
            per_run = (time.perf_counter() - opened) / len(runs)
        log_seconds = time.perf_counter() - start
    print(
        f"mlflow logging of {len(runs)} runs (ring8 gan_ns x5 seeds at "
        f"{params.setups['ring8'].steps} steps, mnist gan_ns at "
        f"{params.setups['mnist'].steps} steps): {log_seconds:.1f} s against "
        f"{train_seconds:.1f} s of training, {log_seconds / train_seconds:.1%} (goal <= 5%); "
        f"of it {opened - start:.1f} s once per report (import, a new database, the parent "
        f"run) and {per_run:.2f} s per run, {per_run * len(runs) / train_seconds:.1%} of "
        "the training",
        flush=True,
    )


if __name__ == "__main__":
    main()
