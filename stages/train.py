"""Stage ``train``: train one (dataset, variant, seed), track it in MLflow, checkpoint it."""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import time
from pathlib import Path

from gan_core.checkpoint import save_checkpoint
from gan_core.data import load_dataset
from gan_core.device import default_device, set_threads
from gan_core.figures import save_samples_figure
from gan_core.io import atomic_dir
from gan_core.training import generate, train_gan
from gan_core.variants import from_model_range, plan_run, to_model_range
from stages.params import load_params
from stages.tracking import log_history, open_run

N_PREVIEW = 64


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--variant", required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--data", required=True, help="prepared dataset folder")
    parser.add_argument("--out", required=True, help="output folder for checkpoint and logs")


def run(args: argparse.Namespace) -> None:
    params = load_params(args.params)
    setup, variant = params.setups[args.dataset], params.variants[args.variant]
    dataset = load_dataset(args.data)
    device = default_device()
    set_threads(setup.threads)
    plan = plan_run(dataset, setup, variant, args.seed)
    data = to_model_range(dataset.train.x)

    tags = {"dataset": args.dataset, "variant": args.variant, "seed": str(args.seed)}
    run_name = f"{args.dataset}/{args.variant}/seed{args.seed}"
    with open_run(
        params.tracking_uri, params.tracking.experiment, run_name=run_name, tags=tags
    ) as mlflow:
        mlflow.log_params(
            {
                "arch": plan.arch,
                **{f"model.{k}": v for k, v in dataclasses.asdict(plan.model).items()},
                **{f"variant.{k}": v for k, v in dataclasses.asdict(variant).items()},
                **{f"train.{k}": v for k, v in dataclasses.asdict(plan.train).items()},
                "seed": args.seed,
                "device": str(device),
            }
        )
        start = time.perf_counter()
        result = train_gan(
            plan.gen, plan.disc, plan.loss, data, plan.train, setup.z_dim, args.seed, device
        )
        train_seconds = time.perf_counter() - start
        log_history(mlflow, result.history)
        preview = from_model_range(
            generate(plan.gen, N_PREVIEW, setup.z_dim, args.seed, device), dataset.is_image
        )
        summary = {
            "run_id": mlflow.active_run().info.run_id,
            "status": result.status,
            "steps": result.steps_done,
            "train_seconds": round(train_seconds, 3),
            "device": str(device),
        }
        with atomic_dir(args.out) as out:
            save_checkpoint(
                out / "checkpoint.pt", plan.gen, plan.disc, plan.arch, plan.model,
                seed=args.seed, status=result.status, steps=result.steps_done,
            )  # fmt: skip
            _write_history(out / "history.csv", result.history)
            save_samples_figure(out / "samples.png", preview, dataset.train.x[:5000])
            (out / "run.json").write_text(json.dumps(summary, indent=2) + "\n")
            mlflow.log_artifact(str(out / "samples.png"))
            mlflow.log_artifact(str(out / "checkpoint.pt"))
            mlflow.log_metric("train_seconds", train_seconds)
    print(f"trained {run_name}: {result.status}, {result.steps_done} steps, {train_seconds:.1f} s")


def _write_history(path: Path, history: dict[str, list[float]]) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(history)
        writer.writerows(zip(*history.values(), strict=True))
