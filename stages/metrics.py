"""``ganbench metrics``: score any set of images against any other, outside the pipeline.

REAL and FAKE are each a folder of PNG/JPEG images or an ``.npz`` with a uint8 ``images``
array ``[N, H, W, C]``; REAL may also name a prepared dataset (its test split). Prints one
JSON object: the scores and the protocol they were computed under.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from gan_core.image_sets import load_image_set
from gan_core.metrics.suite import real_reference
from gan_core.scoring import score_images
from stages.params import load_params
from stages.spaces import feature_space

PREPARED_ROOT = "data/prepared"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--real", required=True, help="folder, .npz, or prepared dataset name")
    parser.add_argument("--fake", required=True, help="folder or .npz")
    parser.add_argument(
        "--features", required=True, help="feature space: inception or classifier:<dataset>"
    )
    parser.add_argument("--n", type=int, help="score a seeded random N of each set")
    parser.add_argument(
        "--classifier", help="classifier stage output folder (default: models/classifier/<dataset>)"
    )
    parser.add_argument("--inception", help="Inception weights (default: from params)")


def run(args: argparse.Namespace) -> None:
    params = load_params(args.params)
    inception = args.inception or params.inception
    space = feature_space(args.features, args.classifier, inception, params.device)
    real = _subset(load_image_set(args.real, PREPARED_ROOT), args.n, "--real")
    fake = _subset(load_image_set(args.fake), args.n, "--fake")
    protocol = params.metrics
    reference = real_reference(space.extract(real).feats, (protocol.pr_k, protocol.dc_k))
    row = score_images(space, reference, fake, protocol)
    print(json.dumps({"feature_space": space.name, "n_fake": len(fake), **row}, indent=2))


def _subset(images: np.ndarray, n: int | None, flag: str) -> np.ndarray:
    if n is None:
        return images
    if not 0 < n <= len(images):
        raise ValueError(f"--n: {n} is not in 1..{len(images)}, the size of {flag}")
    return images[np.sort(np.random.default_rng(0).permutation(len(images))[:n])]
