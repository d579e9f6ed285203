"""Stage ``generate``: draw the evaluation samples from a trained generator."""

from __future__ import annotations

import argparse

from gan_core.checkpoint import load_generator
from gan_core.device import default_device, set_threads
from gan_core.io import write_npz
from gan_core.training import generate
from gan_core.variants import from_model_range
from stages.params import load_params

# Sampling noise comes from its own stream, distinct from the training stream of the seed.
SAMPLING_SEED_OFFSET = 1_000_003


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--model", required=True, help="train stage output folder")
    parser.add_argument("--out", required=True, help="output .npz with array 'x'")


def run(args: argparse.Namespace) -> None:
    setup = load_params(args.params).setups[args.dataset]
    device = default_device()
    set_threads(setup.threads)
    gen, state = load_generator(f"{args.model}/checkpoint.pt", device)
    is_image = len(state["model"]["data_shape"]) == 3
    samples = generate(gen, setup.n_fake, setup.z_dim, args.seed + SAMPLING_SEED_OFFSET, device)
    write_npz(args.out, x=from_model_range(samples, is_image))
    print(f"generated {setup.n_fake} samples -> {args.out}")
