"""Stage ``features``: a dataset's real features in each feature space that scores it,
computed once and reused by the evaluation of every variant and seed; and the real-versus-
real floor.

Writes ``--out/<space>.npz`` (the test split's features, see :mod:`gan_core.scoring`) and
``--floor``: result rows (variant ``real``) scoring ``n_fake`` train images, a seeded random
subset the size of the setup's fake sets, against the test split, in every space (per class
too, their labels read as requested ones). A digit space's reference holds each distinct
test digit once. No generator can be expected to beat the real
data's own train/test gap.
"""

from __future__ import annotations

import argparse

import numpy as np

from gan_core.data import load_dataset
from gan_core.feature_spaces import DigitSpace
from gan_core.io import atomic_dir, write_json
from gan_core.scoring import floor_protocol, floor_sample, save_real_features, score_images
from stages.params import load_params
from stages.spaces import pipeline_spaces, real_features_file


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dataset", help="labelled image dataset name")
    parser.add_argument("--data", required=True, help="prepared dataset folder")
    parser.add_argument(
        "--classifiers", required=True, help="folder of the classifier stages' outputs"
    )
    parser.add_argument("--out", required=True, help="output folder of real features")
    parser.add_argument("--floor", required=True, help="output JSON of the floor's result rows")


def run(args: argparse.Namespace) -> None:
    params = load_params(args.params)
    dataset = load_dataset(args.data)
    n = params.setups[args.dataset].n_fake
    train_subset, train_labels = floor_sample(dataset, n, params.metrics.seed)
    labels = None if train_labels is None else (dataset.test.y, train_labels)
    rows = []
    with atomic_dir(args.out) as out:
        for space in pipeline_spaces(params, args.dataset, args.classifiers):
            feats = space.extract(dataset.test.x).feats
            if isinstance(space, DigitSpace):
                # A test digit drawn into several triples counts once: its copies would
                # be each other's nearest neighbours, at distance zero.
                feats = np.unique(feats, axis=0)
            path = real_features_file(out, space)
            real = save_real_features(path, space, feats, params.metrics)
            row = score_images(space, real, train_subset, params.metrics, labels)
            rows.append(floor_protocol(args.dataset, n) | row)
            print(f"features {args.dataset} in {space.name}: {len(feats)} test feature vectors")
    write_json(args.floor, rows)
