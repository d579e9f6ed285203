"""Stage ``features``: the real data's features in a dataset's classifier feature space,
computed once and reused by the evaluation of every variant and seed.

Writes an ``.npz`` with ``feats`` ``[N, D]`` and ``probs`` ``[N, K]`` (float64) of the test
split, and ``weights_sha256``, the hash of the classifier that produced them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from gan_core.classifier import extract, load_classifier
from gan_core.data import load_dataset
from gan_core.device import default_device
from gan_core.io import sha256_file, write_npz

BATCH_SIZE = 500


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dataset", help="labelled image dataset name")
    parser.add_argument("--data", required=True, help="prepared dataset folder")
    parser.add_argument("--classifier", required=True, help="classifier stage output folder")
    parser.add_argument("--out", required=True, help="output .npz of real features")


def run(args: argparse.Namespace) -> None:
    device = default_device()
    weights = Path(args.classifier) / "classifier.pt"
    model, _ = load_classifier(weights, device)
    real = load_dataset(args.data).test.x
    feats, probs = extract(model, real, BATCH_SIZE, device)
    write_npz(args.out, feats=feats, probs=probs, weights_sha256=np.array(sha256_file(weights)))
    print(f"features {args.dataset}: {feats.shape[0]} test images -> {args.out}")
