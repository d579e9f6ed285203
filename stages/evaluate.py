"""Stage ``evaluate``: score generated samples.

Two forms. One run: ``--variant --seed --model --samples --out FILE.json``. Every run of a
suite on one dataset: ``--suite --runs DIR --out DIR`` reads ``DIR/<variant>/<seed>/model``
and ``.../samples.npz`` and writes ``OUT/<variant>/<seed>.json``, and the dataset's
real-versus-real floor to ``OUT/real/0.json``; the toy datasets use it, since scoring 2D
points takes milliseconds and a stage per run would cost more than its work.

Each JSON is a list of result rows, one per feature space, each carrying the protocol
(feature_space, n_real, n_fake, ...) beside its metrics. A run whose training diverged is
not scored (its generator's weights are not finite): its rows carry the protocol only.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from gan_core.data import Dataset, load_dataset
from gan_core.io import atomic_dir, write_json
from gan_core.metrics.modes import mixture_mode_metrics
from gan_core.scoring import (
    FLOOR_VARIANT,
    floor_protocol,
    floor_sample,
    load_real_features,
    score_images,
)
from stages.params import load_params
from stages.spaces import pipeline_spaces, real_features_file


@dataclasses.dataclass(frozen=True)
class Scorer:
    """The feature spaces a dataset is scored in, and ``score(samples)`` -> a row each."""

    spaces: list[str]
    score: Callable[[np.ndarray], list[dict[str, Any]]]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--data", required=True, help="prepared dataset folder")
    parser.add_argument("--out", required=True, help="output JSON (one run) or folder (--runs)")
    one = parser.add_argument_group("one run")
    one.add_argument("--variant")
    one.add_argument("--seed", type=int)
    one.add_argument("--model", help="train stage output folder")
    one.add_argument("--samples", help="train stage samples .npz")
    many = parser.add_argument_group("every run of a suite on the dataset")
    many.add_argument("--suite", help="suite of params.yaml whose runs to score")
    many.add_argument("--runs", help="folder of <variant>/<seed>/{model,samples.npz}")
    images = parser.add_argument_group("image datasets")
    images.add_argument("--classifier", help="classifier stage output folder")
    images.add_argument("--real-features", help="features stage output folder")


def run(args: argparse.Namespace) -> None:
    dataset = load_dataset(args.data)
    score = _scorer(dataset, args)
    if args.runs is None:
        for flag in ("variant", "seed", "model", "samples"):
            if getattr(args, flag) is None:
                raise ValueError(f"--{flag}: required to score one run (or give --suite, --runs)")
        model, samples = Path(args.model), Path(args.samples)
        evaluate_run(args.dataset, args.variant, args.seed, model, samples, Path(args.out), score)
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
    floor = floor_sample(dataset, n, params.metrics.seed)
    with atomic_dir(args.out) as out:
        for variant in suite.variants:
            for seed in suite.seeds:
                run_dir = runs / variant / str(seed)
                samples, result = run_dir / "samples.npz", out / variant / f"{seed}.json"
                evaluate_run(args.dataset, variant, seed, run_dir / "model", samples, result, score)
        floor_rows = [floor_protocol(args.dataset, n) | row for row in score.score(floor)]
        write_json(out / FLOOR_VARIANT / "0.json", floor_rows)


def evaluate_run(
    dataset: str, variant: str, seed: int, model: Path, samples: Path, out: Path, score: Scorer
) -> None:
    """Score one run's samples and write its result rows to ``out``."""
    summary = json.loads((model / "run.json").read_text())
    with np.load(samples) as arrays:
        fake = arrays["x"]
    protocol = {
        "dataset": dataset,
        "variant": variant,
        "seed": seed,
        "status": summary["status"],
        "steps": summary["steps"],
        "train_seconds": summary["train_seconds"],
        "n_fake": len(fake),
    }
    if summary["status"] == "ok":
        entries = score.score(fake)
    else:
        entries = [{"feature_space": space} for space in score.spaces]
    rows = [{**protocol, **entry} for entry in entries]
    write_json(out, rows)
    print(f"evaluated {dataset}/{variant}/seed{seed}: {rows}")


def _scorer(dataset: Dataset, args: argparse.Namespace) -> Scorer:
    if not dataset.is_image:
        return Scorer(["modes"], lambda fake: [mode_scores(dataset, fake)])
    if args.classifier is None or args.real_features is None:
        raise ValueError(
            f"--classifier and --real-features: required to score image dataset '{args.dataset}'"
        )
    params = load_params(args.params)
    spaces = pipeline_spaces(params, args.dataset, args.classifier)
    reals = [
        load_real_features(real_features_file(args.real_features, space), space) for space in spaces
    ]
    return Scorer(
        [space.name for space in spaces],
        lambda fake: [
            score_images(space, real, fake, params.metrics)
            for space, real in zip(spaces, reals, strict=True)
        ],
    )


def mode_scores(dataset: Dataset, fake: np.ndarray) -> dict[str, Any]:
    """Mixture-mode metrics of generated points against the dataset's known modes."""
    info = dataset.info
    metrics = mixture_mode_metrics(
        fake, np.asarray(info["modes"]), np.asarray(info["stds"]), np.asarray(info["weights"])
    )
    return {"feature_space": "modes", "n_real": 0, **metrics}
