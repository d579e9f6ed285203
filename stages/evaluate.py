"""Stage ``evaluate``: score generated samples.

Two forms. One run: ``--variant --seed --model --samples --out FILE.json``. Every run of a
suite on one dataset: ``--suite --runs DIR --out DIR`` reads ``DIR/<variant>/<seed>/model``
and ``.../samples.npz`` and writes ``OUT/<variant>/<seed>.json``, and the dataset's
real-versus-real floor to ``OUT/real/0.json``; the toy datasets use it, since scoring 2D
points takes milliseconds and a stage per run would cost more than its work.

Each JSON is a list of result rows, one per feature space, each carrying the protocol
(feature_space, n_real, n_fake, ...) beside its metrics. A run whose training diverged is
not scored (its generator's weights are not finite): its rows carry the protocol only.

Beside each JSON, ``<seed>.checkpoints.csv`` follows the run over training: one row per
generator snapshot of the train stage, with the cheap scores of ``checkpoint_samples``
samples (FID in the dataset's first feature space, the count of samples per mode) and the
mean losses logged since the previous snapshot.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gan_core.data import Dataset, load_dataset
from gan_core.device import pick_device
from gan_core.io import (
    DamagedFileError,
    atomic_dir,
    atomic_path,
    read_json,
    read_npz,
    write_json,
)
from gan_core.metrics.fid import feature_statistics
from gan_core.scoring import (
    FLOOR_VARIANT,
    floor_protocol,
    floor_sample,
    load_real_features,
    score_images,
    score_points,
    score_snapshot_images,
    score_snapshot_points,
)
from gan_core.training.checkpoint import load_generator, load_snapshot
from gan_core.trajectory import score_snapshots, window_means
from stages.params import load_params
from stages.spaces import pipeline_spaces, real_features_file
from stages.train import SAMPLING_SEED_OFFSET, SNAPSHOT_PREFIX

CHECKPOINTS_SUFFIX = ".checkpoints.csv"
# A run more than half of whose samples escaped the data's range by far (see
# gan_core.metrics.modes.ESCAPE_RADII) is reported with status "escaped", not "ok".
MOSTLY_ESCAPED = 0.5
# The logged losses set beside each snapshot's scores.
LOSS_KEYS = ("d_loss", "g_loss")


@dataclasses.dataclass(frozen=True)
class Scorer:
    """The feature spaces a dataset is scored in, ``score(samples, labels)`` -> a row each
    (``labels``: those a conditional generator was asked for, else None), and
    ``snapshot(samples)`` -> the cheap scores of a training snapshot (one row)."""

    spaces: list[str]
    score: Callable[[np.ndarray, np.ndarray | None], list[dict[str, Any]]]
    snapshot: Callable[[np.ndarray], dict[str, Any]]
    is_image: bool
    n_snapshot: int  # samples drawn from each snapshot
    # One sample's shape and dtype as the dataset has them: a samples file that differs is
    # refused (None: not checked).
    sample: tuple[tuple[int, ...], np.dtype] | None = None
    device: str = "auto"  # params' device, for the snapshots' generator


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--data", required=True, help="prepared dataset folder")
    parser.add_argument("--out", required=True, help="output JSON (one run) or folder (--runs)")
    one = parser.add_argument_group("one run")
    one.add_argument("--variant")
    one.add_argument("--seed", type=int)
    one.add_argument("--model", help="train stage output folder")
    one.add_argument("--samples", help="train stage samples .npz")
    one.add_argument("--checkpoints-out", help="output CSV of the scores over training")
    many = parser.add_argument_group("every run of a suite on the dataset")
    many.add_argument("--suite", help="suite of params.yaml whose runs to score")
    many.add_argument("--runs", help="folder of <variant>/<seed>/{model,samples.npz}")
    images = parser.add_argument_group("image datasets")
    images.add_argument("--classifiers", help="folder of the classifier stages' outputs")
    images.add_argument("--real-features", help="features stage output folder")


def run(args: argparse.Namespace) -> None:
    dataset = load_dataset(args.data)
    score = _scorer(dataset, args)
    if args.runs is None:
        for flag in ("variant", "seed", "model", "samples", "checkpoints_out"):
            if getattr(args, flag) is None:
                flag = flag.replace("_", "-")
                raise ValueError(f"--{flag}: required to score one run (or give --suite, --runs)")
        model, samples = Path(args.model), Path(args.samples)
        # Both scored before either is written: a damaged file leaves no output behind.
        rows = score_run(args.dataset, args.variant, args.seed, model, samples, score)
        table = score_checkpoints(model, args.seed, score)
        write_json(args.out, rows)
        write_csv(args.checkpoints_out, table)
        return
    params = load_params(args.params)
    if args.suite is None:
        raise ValueError("--suite: required with --runs (which suite's runs to score)")
    if args.suite not in params.suites:
        valid = ", ".join(params.suites)
        raise ValueError(f"--suite: unknown suite '{args.suite}'; valid: {valid}")
    suite, runs = params.suites[args.suite], Path(args.runs)
    if args.dataset not in suite.datasets:
        raise ValueError(f"--dataset: '{args.dataset}' is not in suites.{args.suite}.datasets")
    n = params.setups[args.dataset].n_fake
    floor, _ = floor_sample(dataset, n, params.metrics.seed)
    with atomic_dir(args.out) as out:
        for variant in suite.variants:
            for seed in suite.seeds:
                run_dir = runs / variant / str(seed)
                model, samples = run_dir / "model", run_dir / "samples.npz"
                rows = score_run(args.dataset, variant, seed, model, samples, score)
                write_json(out / variant / f"{seed}.json", rows)
                table = score_checkpoints(model, seed, score)
                write_csv(out / variant / f"{seed}{CHECKPOINTS_SUFFIX}", table)
        floor_rows = [floor_protocol(args.dataset, n) | row for row in score.score(floor, None)]
        write_json(out / FLOOR_VARIANT / "0.json", floor_rows)


def score_run(
    dataset: str, variant: str, seed: int, model: Path, samples: Path, score: Scorer
) -> list[dict[str, Any]]:
    """One run's result rows: its samples scored in each feature space, with its protocol."""
    summary = read_json(model / "run.json")
    arrays = read_npz(samples, ("x",), "train the run again")
    fake, requested = arrays["x"], arrays.get("y")  # y: a conditional generator's labels
    if score.sample is not None and (fake.shape[1:], fake.dtype) != score.sample:
        shape, dtype = score.sample
        raise DamagedFileError(
            f"{samples}: 'x' holds {fake.dtype} samples of shape {fake.shape[1:]}, but "
            f"{dataset} has {dtype} samples of shape {shape}; train the run again"
        )
    protocol = {
        "dataset": dataset,
        "variant": variant,
        "seed": seed,
        "status": summary["status"],
        "steps": summary["steps"],
        "train_seconds": summary["train_seconds"],
        "n_fake": len(fake),
    }
    if summary["status"] == "ok" and not np.isfinite(fake).all():
        protocol["status"] = "non_finite"  # its losses stayed finite, its samples did not
    if protocol["status"] == "ok":
        entries = score.score(fake, requested)
        if any(entry.get("escaped_fraction", 0.0) > MOSTLY_ESCAPED for entry in entries):
            protocol["status"] = "escaped"  # scored, but most samples left the data's range
    else:
        entries = [{"feature_space": space} for space in score.spaces]
    rows = [{**protocol, **entry} for entry in entries]
    print(f"evaluated {dataset}/{variant}/seed{seed}: {rows}")
    return rows


def checkpoint_table(results: Path, dataset: str, variant: str, seed: int) -> pd.DataFrame:
    """A run's scores over training, as :func:`score_checkpoints` scored them under the
    evaluate stages' output folder ``results``."""
    return pd.read_csv(results / dataset / variant / f"{seed}{CHECKPOINTS_SUFFIX}")


def score_checkpoints(model: Path, seed: int, score: Scorer) -> pd.DataFrame:
    """Every generator snapshot of a run scored (none for a run trained without them), one
    row per snapshot, with the losses logged since the one before."""
    snapshots = sorted((model / "checkpoints").glob(f"{SNAPSHOT_PREFIX}*.pt"))
    steps = [int(path.stem.removeprefix(SNAPSHOT_PREFIX)) for path in snapshots]
    table = pd.DataFrame({"step": steps})
    if snapshots:
        device = pick_device(score.device)
        gen, state = load_generator(model / "checkpoint.pt", device)
        rows = score_snapshots(
            gen, [(step, load_snapshot(path, gen)) for step, path in zip(
                steps, snapshots, strict=True)],
            state["model"]["z_dim"], state["model"]["n_classes"], score.n_snapshot,
            seed + SAMPLING_SEED_OFFSET, device, score.is_image, score.snapshot,
        )  # fmt: skip
        history = pd.read_csv(model / "history.csv").to_dict(orient="list")
        table = pd.DataFrame(rows).assign(**window_means(history, steps, LOSS_KEYS))
    return table


def write_csv(path: str | Path, table: pd.DataFrame) -> None:
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False)


def _scorer(dataset: Dataset, args: argparse.Namespace) -> Scorer:
    params = load_params(args.params)
    n_snapshot = params.evaluation.checkpoint_samples
    if not dataset.is_image:
        real_stats = feature_statistics(dataset.test.x)
        return Scorer(
            ["modes"],
            lambda fake, _: [
                {"feature_space": "modes", "n_real": 0, **score_points(dataset.info, fake)}
            ],
            lambda fake: score_snapshot_points(dataset.info, real_stats, fake),
            is_image=False,
            n_snapshot=n_snapshot,
            sample=(dataset.train.x.shape[1:], dataset.train.x.dtype),
            device=params.device,
        )
    if args.classifiers is None or args.real_features is None:
        raise ValueError(
            f"--classifiers and --real-features: required to score image dataset '{args.dataset}'"
        )
    spaces = pipeline_spaces(params, args.dataset, args.classifiers)
    reals = [
        load_real_features(real_features_file(args.real_features, space), space) for space in spaces
    ]
    return Scorer(
        [space.name for space in spaces],
        lambda fake, requested: [
            score_images(space, real, fake, params.metrics, _labels(dataset, requested))
            for space, real in zip(spaces, reals, strict=True)
        ],
        lambda fake: score_snapshot_images(spaces[0], reals[0], fake),
        is_image=True,
        n_snapshot=n_snapshot,
        sample=(dataset.train.x.shape[1:], dataset.train.x.dtype),
        device=params.device,
    )


def _labels(dataset: Dataset, requested: np.ndarray | None) -> tuple | None:
    """The (real, requested) label pair per-class scoring needs; None for an unconditional run."""
    return None if requested is None else (dataset.test.y, requested)
