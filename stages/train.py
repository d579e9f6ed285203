"""Stage ``train``: train one (dataset, variant, seed), checkpoint it, and draw its
evaluation samples. Its ``run.json`` holds what the report stage logs to MLflow.

Every ``checkpoint_every`` steps the full training state goes to the ``--progress`` folder
(outside DVC's outputs, which DVC clears before a stage runs), with a generator snapshot and
a sample grid. With ``--resume`` a run continues from that state when it was written for
the same settings, seed and data; it ends bit-identical to an uninterrupted run on the CPU.
On success the snapshots and grids move into ``--out/checkpoints`` and the progress folder
is removed.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import shutil
import time
from pathlib import Path

import torch
from tqdm import tqdm

from gan_core.config import to_plain
from gan_core.data import load_dataset
from gan_core.device import default_device, set_threads
from gan_core.figures import save_samples_figure
from gan_core.io import atomic_dir, atomic_path, read_json, write_npz
from gan_core.training.checkpoint import save_checkpoint
from gan_core.training.loop import GANTrainer, balanced_labels, generate
from gan_core.training.variants import from_model_range, plan_run, to_model_range
from stages.params import load_params

N_PREVIEW = 64
# Evaluation samples use a noise stream distinct from the training stream of the seed.
SAMPLING_SEED_OFFSET = 1_000_003
STATE_FILE = "state.pt"
SNAPSHOT_PREFIX = "step_"  # snapshots are step_<7-digit step>.pt, their sample grids .png


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--variant", required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--data", required=True, help="prepared dataset folder")
    parser.add_argument("--out", required=True, help="output folder for checkpoint and logs")
    parser.add_argument(
        "--samples", required=True, help="output .npz of n_fake samples: x, and y if conditional"
    )
    parser.add_argument("--progress", required=True, help="folder for resumable checkpoints")
    parser.add_argument(
        "--resume", action="store_true", help="continue from --progress when it matches"
    )


def run(args: argparse.Namespace) -> None:
    params = load_params(args.params)
    setup, variant = params.setups[args.dataset], params.variants[args.variant]
    dataset = load_dataset(args.data)
    device = default_device()
    set_threads(setup.threads)
    plan = plan_run(dataset, setup, variant, args.seed)
    labels = None if dataset.train.y is None else torch.from_numpy(dataset.train.y)
    trainer = GANTrainer(
        plan.gen, plan.disc, plan.loss, to_model_range(dataset.train.x), labels,
        plan.train, setup.z_dim, args.seed, device,
    )  # fmt: skip
    progress = Path(args.progress)
    fingerprint = _fingerprint(setup, variant, args.seed, args.data)
    if args.resume:
        _resume(trainer, progress, fingerprint)
    else:
        shutil.rmtree(progress, ignore_errors=True)
    preview_labels = _labels(N_PREVIEW, plan.model.n_classes)

    def preview() -> object:
        samples = generate(
            trainer.sampler, N_PREVIEW, setup.z_dim, args.seed, device, preview_labels
        )
        return from_model_range(samples, dataset.is_image)

    def save_progress(step: int) -> None:
        name = f"{SNAPSHOT_PREFIX}{step:07d}"
        (progress / "snapshots").mkdir(parents=True, exist_ok=True)
        save_samples_figure(
            progress / "snapshots" / f"{name}.png", preview(), dataset.train.x[:5000]
        )
        with atomic_path(progress / "snapshots" / f"{name}.pt") as tmp:
            torch.save(trainer.sampler.state_dict(), tmp)
        with atomic_path(progress / STATE_FILE) as tmp:
            torch.save({"fingerprint": fingerprint, **trainer.state_dict()}, tmp)

    run_params = {
        "arch": plan.arch,
        **{f"model.{k}": v for k, v in to_plain(plan.model).items()},
        **{f"variant.{k}": v for k, v in to_plain(variant).items()},
        **{f"train.{k}": v for k, v in to_plain(plan.train).items()},
        "seed": args.seed,
        "device": str(device),
        "resumed_from_step": trainer.step,
    }
    started_ms = int(time.time() * 1000)
    start = time.perf_counter()
    with tqdm(total=setup.steps, initial=trainer.step, desc=args.out, disable=None) as bar:

        def on_step(step: int) -> None:
            bar.update(1)
            if setup.checkpoint_every and step % setup.checkpoint_every == 0:
                save_progress(step)

        result = trainer.train(on_step=on_step)
    train_seconds = time.perf_counter() - start
    summary = {
        "status": result.status,
        "steps": result.steps_done,
        "train_seconds": round(train_seconds, 3),
        "started_ms": started_ms,
        "finished_ms": int(time.time() * 1000),
        "params": run_params,
    }
    # The evaluation samples: noise from a stream of their own; a conditional generator
    # draws every class equally often, and its labels are saved as y.
    sample_labels = _labels(setup.n_fake, plan.model.n_classes)
    seed = args.seed + SAMPLING_SEED_OFFSET
    samples = generate(trainer.sampler, setup.n_fake, setup.z_dim, seed, device, sample_labels)
    arrays = {"x": from_model_range(samples, dataset.is_image)}
    if sample_labels is not None:
        arrays["y"] = sample_labels.numpy()
    with atomic_dir(args.out) as out:
        save_checkpoint(
            out / "checkpoint.pt", trainer.sampler, plan.disc, plan.arch, plan.model,
            seed=args.seed, status=result.status, steps=result.steps_done,
        )  # fmt: skip
        _write_history(out / "history.csv", result.history)
        save_samples_figure(out / "samples.png", preview(), dataset.train.x[:5000])
        (out / "run.json").write_text(json.dumps(summary, indent=2) + "\n")
        if (progress / "snapshots").exists():
            shutil.copytree(progress / "snapshots", out / "checkpoints")
    write_npz(args.samples, **arrays)
    shutil.rmtree(progress, ignore_errors=True)
    print(f"trained {args.out}: {result.status}, {result.steps_done} steps, {train_seconds:.1f} s")


def _labels(n: int, n_classes: int) -> torch.Tensor | None:
    return balanced_labels(n, n_classes) if n_classes else None


def _fingerprint(setup, variant, seed: int, data: str) -> str:
    """What a saved state must match to be resumed: settings, seed and the data's hashes."""
    manifest = read_json(Path(data) / "manifest.json")
    facts = {"setup": to_plain(setup), "variant": to_plain(variant), "seed": seed, "data": manifest}
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()


def _resume(trainer: GANTrainer, progress: Path, fingerprint: str) -> None:
    path = progress / STATE_FILE
    if not path.exists():
        return
    state = torch.load(path, map_location="cpu", weights_only=True)
    if state.pop("fingerprint") != fingerprint:
        print(f"{path}: written for other settings, seed or data; starting from step 0")
        shutil.rmtree(progress)
        return
    trainer.load_state_dict(state)
    print(f"resuming from {path} at step {trainer.step}")


def _write_history(path: Path, history: dict[str, list[float]]) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(history)
        writer.writerows(zip(*history.values(), strict=True))
