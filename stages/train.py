"""Stage ``train``: train a (dataset, variant) for one seed or for every seed of a suite,
checkpoint each seed, and draw its evaluation samples. Each seed's ``run.json`` holds what
the report stage logs to MLflow.

Two forms. One run: ``--seed --out MODEL_DIR --samples FILE.npz``. A seed group: ``--suite
--runs DIR`` trains every seed of the suite at once, as one stacked model (see
:mod:`gan_core.models.stacked`; each seed keeps its own data order, noise, weights and
history), and writes ``DIR/<seed>/model`` and ``DIR/<seed>/samples.npz``; a network with a
layer that has no stacked form (convolutions, normalization layers, embeddings) trains its
seeds one after another, and the stage says so.

Every ``checkpoint_every`` steps the full training state goes to the ``--progress`` folder
(outside DVC's outputs, which DVC clears before a stage runs), with a generator snapshot and
a sample grid per seed. With ``--resume`` a run continues from that state when it was written
for the same settings, seeds and data; it ends bit-identical to an uninterrupted run on the
CPU. On success each seed's snapshots and grids move into its ``model/checkpoints`` and the
progress folder is removed.
"""

from __future__ import annotations

import argparse
import copy
import csv
import dataclasses
import hashlib
import json
import shutil
import time
from pathlib import Path

import torch
from tqdm import tqdm

from gan_core.config import to_plain
from gan_core.data import Dataset, load_dataset
from gan_core.device import pick_device, set_threads
from gan_core.figures import save_samples_figure
from gan_core.io import atomic_dir, atomic_path, check_writable, read_json, write_npz
from gan_core.models.stacked import NotStackableError, stack_networks
from gan_core.training.checkpoint import save_checkpoint
from gan_core.training.loop import (
    HISTORY_KEYS,
    GANTrainer,
    TrainResult,
    balanced_labels,
    generate,
)
from gan_core.training.variants import (
    RunPlan,
    SetupConfig,
    VariantConfig,
    from_model_range,
    plan_run,
    to_model_range,
)
from stages.params import load_params

N_PREVIEW = 64
# Evaluation samples use a noise stream distinct from the training stream of the seed.
SAMPLING_SEED_OFFSET = 1_000_003
STATE_FILE = "state.pt"
SNAPSHOT_PREFIX = "step_"  # snapshots are step_<7-digit step>.pt, their sample grids .png
# Part of the resume fingerprint: a saved state of another layout is not resumed.
STATE_FORMAT = "seed-group-1"


@dataclasses.dataclass(frozen=True)
class SeedRun:
    """Where one seed's outputs go."""

    seed: int
    out: Path  # the model folder: checkpoint, history, run.json, snapshots
    samples: Path  # the evaluation samples .npz


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--variant", required=True)
    parser.add_argument("--data", required=True, help="prepared dataset folder")
    one = parser.add_argument_group("one run")
    one.add_argument("--seed", type=int)
    one.add_argument("--out", help="output folder for checkpoint and logs")
    one.add_argument("--samples", help="output .npz of n_fake samples: x, and y if conditional")
    group = parser.add_argument_group("a seed group: every seed of a suite, trained together")
    group.add_argument("--suite", help="suite of params.yaml whose seeds to train")
    group.add_argument("--runs", help="output folder of <seed>/{model,samples.npz}")
    parser.add_argument("--progress", required=True, help="folder for resumable checkpoints")
    parser.add_argument(
        "--resume", action="store_true", help="continue from --progress when it matches"
    )


def _seed_runs(args: argparse.Namespace, params) -> list[SeedRun]:
    if args.suite is None:
        for flag in ("seed", "out", "samples"):
            if getattr(args, flag) is None:
                raise ValueError(f"--{flag}: required to train one run (or give --suite, --runs)")
        return [SeedRun(args.seed, Path(args.out), Path(args.samples))]
    if args.runs is None:
        raise ValueError("--runs: required with --suite (where the seeds' outputs go)")
    if args.suite not in params.suites:
        raise ValueError(
            f"--suite: unknown suite {args.suite!r}; valid: {', '.join(params.suites)}"
        )
    runs = Path(args.runs)
    seeds = params.suites[args.suite].seeds
    return [
        SeedRun(seed, runs / str(seed) / "model", runs / str(seed) / "samples.npz")
        for seed in seeds
    ]


def run(args: argparse.Namespace) -> None:
    params = load_params(args.params)
    seed_runs = _seed_runs(args, params)
    check_writable([run.out.parent for run in seed_runs] + [Path(args.progress).parent])
    try:
        _run(args, params, seed_runs)
    except RuntimeError as err:  # the allocator's: networks or batches too large
        if not isinstance(err, torch.OutOfMemoryError) and "alloc" not in str(err):
            raise
        reason = str(err).strip().splitlines()[0][:200]
        raise ValueError(
            f"{args.dataset}/{args.variant}: out of memory ({reason}); lower "
            f"setups.{args.dataset}.width or batch_size"
        ) from None


def _run(args: argparse.Namespace, params, seed_runs: list[SeedRun]) -> None:
    setup, variant = params.setups[args.dataset], params.variant(args.variant, args.dataset)
    dataset = load_dataset(args.data)
    device = pick_device(params.device)
    set_threads(setup.threads)
    plans = [plan_run(dataset, setup, variant, run.seed) for run in seed_runs]
    progress = Path(args.progress)
    if not args.resume:
        remove_progress(progress)
    context = _Context(args, dataset, setup, variant, device)
    try:
        stacked = args.suite is not None  # even one seed: its bits do not depend on the suite
        trainers = [(_trainer(plans, seed_runs, context, stacked), seed_runs, plans)]
    except NotStackableError as err:
        print(f"{args.dataset}/{args.variant}: {err}; training the seeds one after another")
        trainers = [
            (_trainer([plan], [run], context, False), [run], [plan])
            for run, plan in zip(seed_runs, plans, strict=True)
        ]
    for trainer, runs, group_plans in trainers:
        folder = progress if len(trainers) == 1 else progress / str(runs[0].seed)
        _train(trainer, runs, group_plans, folder, context)
    remove_progress(progress)


def remove_progress(progress: Path) -> None:
    """Remove a progress folder, its resume states first: a removal killed midway leaves
    nothing to resume from (rather than a state whose snapshots are half gone)."""
    for state in progress.rglob(STATE_FILE):
        state.unlink()
    shutil.rmtree(progress, ignore_errors=True)


@dataclasses.dataclass(frozen=True)
class _Context:
    args: argparse.Namespace
    dataset: Dataset
    setup: SetupConfig
    variant: VariantConfig
    device: torch.device


def _trainer(
    plans: list[RunPlan], runs: list[SeedRun], context: _Context, stacked: bool
) -> GANTrainer:
    """The plans' networks stacked into a seed group, else one model for one plan (raises
    :class:`NotStackableError` when they do not stack)."""
    dataset, plan = context.dataset, plans[0]
    labels = None if dataset.train.y is None else torch.from_numpy(dataset.train.y)
    seeds = tuple(run.seed for run in runs) if stacked else runs[0].seed
    if stacked:
        gen, disc = stack_networks([p.gen for p in plans]), stack_networks([p.disc for p in plans])
    else:
        gen, disc = plan.gen, plan.disc
    return GANTrainer(
        gen, disc, plan.loss, to_model_range(dataset.train.x), labels, plan.train,
        context.setup.z_dim, seeds, context.device,
    )  # fmt: skip


def _train(
    trainer: GANTrainer,
    runs: list[SeedRun],
    plans: list[RunPlan],
    progress: Path,
    context: _Context,
) -> None:
    """Train ``trainer`` (its seeds are ``runs``' in order) from ``progress`` when resuming,
    snapshot it there, and write each seed's outputs."""
    args, dataset, setup, device = context.args, context.dataset, context.setup, context.device
    # Fresh single-model networks to sample each seed from (the trainer trains its own).
    samplers = [copy.deepcopy(plan.gen) for plan in plans]
    discs = [copy.deepcopy(plan.disc) for plan in plans]
    fingerprint = _fingerprint(setup, context.variant, [run.seed for run in runs], args.data)
    if args.resume:
        _resume(trainer, progress, fingerprint)
    preview_labels = _labels(N_PREVIEW, plans[0].model.n_classes)

    def member(index: int) -> torch.nn.Module:
        states = trainer.member_states(index)
        samplers[index].load_state_dict(states["gen"])
        discs[index].load_state_dict(states["disc"])
        return samplers[index]

    def preview(index: int) -> object:
        samples = generate(
            member(index), N_PREVIEW, setup.z_dim, runs[index].seed, device, preview_labels
        )
        return from_model_range(samples, dataset.is_image)

    def save_progress(step: int) -> None:
        for index, result in enumerate(trainer.results()):
            if result.steps_done != step:  # diverged earlier: no more snapshots
                continue
            name, folder = f"{SNAPSHOT_PREFIX}{step:07d}", progress / str(runs[index].seed)
            folder.mkdir(parents=True, exist_ok=True)
            save_samples_figure(folder / f"{name}.png", preview(index), dataset.train.x[:5000])
            with atomic_path(folder / f"{name}.pt") as tmp:
                torch.save(samplers[index].state_dict(), tmp)
        with atomic_path(progress / STATE_FILE) as tmp:
            torch.save({"fingerprint": fingerprint, **trainer.state_dict()}, tmp)

    resumed_from_step = trainer.step
    started_ms = int(time.time() * 1000)
    start = time.perf_counter()
    desc = str(runs[0].out if len(runs) == 1 else args.runs)
    with tqdm(total=plans[0].train.steps, initial=trainer.step, desc=desc, disable=None) as bar:

        def on_step(step: int) -> None:
            bar.update(1)
            if setup.checkpoint_every and step % setup.checkpoint_every == 0:
                save_progress(step)

        results = trainer.train(on_step=on_step)
    train_seconds = time.perf_counter() - start
    timing = {
        # each seed's share of the group's time
        "train_seconds": round(train_seconds / len(runs), 3),
        "started_ms": started_ms,
        "finished_ms": int(time.time() * 1000),
    }
    for index, (run, plan, result) in enumerate(zip(runs, plans, results, strict=True)):
        gen = member(index)
        extra = {"resumed_from_step": resumed_from_step, "seed_group": [r.seed for r in runs]}
        _write_seed(
            run, plan, gen, discs[index], result, timing, extra, progress / str(run.seed), context
        )


def _write_seed(
    run: SeedRun, plan: RunPlan, gen: torch.nn.Module, disc: torch.nn.Module, result: TrainResult,
    timing: dict, extra: dict, snapshots: Path, context: _Context,
) -> None:  # fmt: skip
    """One seed's checkpoint, history, preview, run.json, snapshots and samples."""
    dataset, setup, device = context.dataset, context.setup, context.device
    run_params = {
        "arch": plan.arch,
        **{f"model.{k}": v for k, v in to_plain(plan.model).items()},
        **{f"variant.{k}": v for k, v in to_plain(context.variant).items()},
        **{f"train.{k}": v for k, v in to_plain(plan.train).items()},
        "seed": run.seed,
        "device": str(device),
        **extra,
    }
    summary = {"status": result.status, "steps": result.steps_done, **timing, "params": run_params}
    # The evaluation samples: noise from a stream of their own; a conditional generator
    # draws every class equally often, and its labels are saved as y.
    sample_labels = _labels(setup.n_fake, plan.model.n_classes)
    seed = run.seed + SAMPLING_SEED_OFFSET
    samples = generate(gen, setup.n_fake, setup.z_dim, seed, device, sample_labels)
    arrays = {"x": from_model_range(samples, dataset.is_image)}
    if sample_labels is not None:
        arrays["y"] = sample_labels.numpy()
    preview_labels = _labels(N_PREVIEW, plan.model.n_classes)
    preview = generate(gen, N_PREVIEW, setup.z_dim, run.seed, device, preview_labels)
    with atomic_dir(run.out) as out:
        save_checkpoint(
            out / "checkpoint.pt", gen, disc, plan.arch, plan.model,
            seed=run.seed, status=result.status, steps=result.steps_done,
        )  # fmt: skip
        _write_history(out / "history.csv", result.history)
        save_samples_figure(
            out / "samples.png", from_model_range(preview, dataset.is_image), dataset.train.x[:5000]
        )
        (out / "run.json").write_text(json.dumps(summary, indent=2) + "\n")
        if snapshots.exists():
            # (a write killed midway left a temporary folder, never a snapshot: not copied)
            shutil.copytree(snapshots, out / "checkpoints", ignore=shutil.ignore_patterns("*.tmp"))
    write_npz(run.samples, **arrays)
    seconds = timing["train_seconds"]
    print(f"trained {run.out}: {result.status}, {result.steps_done} steps, {seconds:.1f} s")


def _labels(n: int, n_classes: int) -> torch.Tensor | None:
    return balanced_labels(n, n_classes) if n_classes else None


def training_code_hash() -> str:
    """sha256 of the code a saved training state depends on: this stage and the training
    and model packages (every .py file, by its path relative to the project)."""
    root = Path(__file__).resolve().parent.parent
    files = [Path(__file__).resolve()]
    for package in ("gan_core/training", "gan_core/models"):
        files += sorted((root / package).rglob("*.py"))
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _fingerprint(setup, variant, seeds: list[int], data: str) -> str:
    """What a saved state must match to be resumed: settings, seeds, data's hashes, layout
    and the training code."""
    manifest = read_json(Path(data) / "manifest.json")
    facts = {
        "setup": to_plain(setup), "variant": to_plain(variant), "seeds": seeds,
        "data": manifest, "format": STATE_FORMAT, "code": training_code_hash(),
    }  # fmt: skip
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()


def _resume(trainer: GANTrainer, progress: Path, fingerprint: str) -> None:
    """Continue from ``progress``'s saved state when it was written for ``fingerprint``;
    otherwise (other settings, seeds, data or code, or a file that does not load) say why,
    remove the folder and start from step 0."""
    path = progress / STATE_FILE
    if not path.exists():
        return
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        matches = isinstance(state, dict) and state.pop("fingerprint", None) == fingerprint
        reason = "written for other settings, seeds, data or code"
    except Exception as err:  # noqa: BLE001  (any unreadable file: restart, saying why)
        matches, reason = False, f"damaged ({type(err).__name__}: {' '.join(str(err).split())})"
    if not matches:
        print(f"{path}: {reason[:200]}; starting from step 0")
        remove_progress(progress)
        return
    trainer.load_state_dict(state)
    print(f"resuming from {path} at step {trainer.step}")


def _write_history(path: Path, history: dict[str, list[float]]) -> None:
    """The logged values, one row per logged step; a run that stopped before its first log
    (diverged at once) gets the header alone, so the file still parses."""
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(history or HISTORY_KEYS)
        writer.writerows(zip(*history.values(), strict=True))
