"""Stage ``classifier``: train the domain classifier that gives a labelled image dataset its
feature space (features for FID, softmax for class coverage)."""

from __future__ import annotations

import argparse
import dataclasses
import time

from gan_core.classifier import save_classifier, train_classifier
from gan_core.data import load_dataset
from gan_core.device import pick_device
from gan_core.io import atomic_dir, sha256_file, write_json
from stages.params import load_params


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dataset", help="labelled image dataset name")
    parser.add_argument("--data", required=True, help="prepared dataset folder")
    parser.add_argument("--out", required=True, help="output folder (weights)")
    parser.add_argument("--metrics", required=True, help="output JSON with the test accuracy")


def run(args: argparse.Namespace) -> None:
    params = load_params(args.params)
    cfg = params.classifier.train
    dataset = load_dataset(args.data)
    start = time.perf_counter()
    model, accuracy = train_classifier(
        dataset.train,
        dataset.test,
        dataset.n_classes,
        cfg,
        params.classifier.seed,
        pick_device(params.device),
    )
    seconds = time.perf_counter() - start
    with atomic_dir(args.out) as out:
        save_classifier(out / "classifier.pt", model, {"dataset": args.dataset})
        digest = sha256_file(out / "classifier.pt")
    write_json(
        args.metrics,
        {
            "dataset": args.dataset,
            "test_accuracy": accuracy,
            "train_seconds": round(seconds, 3),
            "sha256": digest,
            "config": dataclasses.asdict(cfg),
        },
    )
    print(f"classifier {args.dataset}: test accuracy {accuracy:.4f} in {seconds:.0f} s")
