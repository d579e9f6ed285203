"""Speed of toy training: 10 seeds trained as one seed group (one stacked model) against the
same 10 seeds trained one after another, measured side by side in the same run, on the
default profile's ring8 setup (MLP, batch 128, depth 3): at width 64 on one thread, gan_ns
on two threads and at width 400; then each toy variant's step cost
relative to gan_ns (one model, one thread).

    python bench/toy_seeds.py [--quick]

Prints one line per figure. A speed-up above 1 means the seed group is faster.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import torch
from common import make_trainer

from gan_core.data.toy import RingConfig, build_ring
from gan_core.training.loop import GANTrainer
from stages.params import load_params

CPU = torch.device("cpu")
SEEDS = tuple(range(10))
PARAMS = Path(__file__).resolve().parent.parent / "params.yaml"
RING = build_ring("ring8", RingConfig("ring", n_train=20_000, n_test=100), None)


def _seconds(trainers: list[GANTrainer], steps: int) -> float:
    """Wall-clock time to train each of ``trainers`` ``steps`` steps, one after another
    (after one untimed warm-up step each)."""
    for trainer in trainers:
        trainer.train(until=1)
    start = time.perf_counter()
    for trainer in trainers:
        trainer.train(until=1 + steps)
    return time.perf_counter() - start


def group_speedup(setup, variants, names: list[str], steps: int, threads: int) -> None:
    torch.set_num_threads(threads)
    for name in names:
        variant = variants[name]
        sequential = _seconds(
            [make_trainer(RING, setup, variant, seed, CPU) for seed in SEEDS], steps
        )
        vectorized = _seconds([make_trainer(RING, setup, variant, SEEDS, CPU)], steps)
        per_step = 1e3 / steps
        print(
            f"{name:20s} width {setup.width:3d}, {threads} thread(s): 10 seeds one after another "
            f"{sequential * per_step:6.1f} ms/step, as one group {vectorized * per_step:6.1f} "
            f"ms/step: speed-up {sequential / vectorized:4.1f}x"
        )


def step_costs(setup, variants, names: list[str], steps: int) -> None:
    torch.set_num_threads(1)
    costs = {
        name: _seconds([make_trainer(RING, setup, variants[name], 0, CPU)], steps) / steps
        for name in names
    }
    for name in names:
        print(
            f"{name:20s} width {setup.width}, one model, 1 thread: {costs[name] * 1e3:5.2f} "
            f"ms/step, {costs[name] / costs['gan_ns']:4.1f}x gan_ns"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps, width 64 only")
    args = parser.parse_args()
    params = load_params(PARAMS)
    base, variants = params.setups["ring8"], params.variants
    steps = 10 if args.quick else 20
    names = ["gan_ns", "wgan_gp", "ns_minibatch_disc", "unrolled"]
    group_speedup(base, variants, names, steps, 1)
    group_speedup(base, variants, ["gan_ns"], steps, 2)
    if not args.quick:
        group_speedup(dataclasses.replace(base, width=400), variants, ["gan_ns"], steps, 1)
    step_costs(base, variants, list(params.suites["toy"].variants), steps)


if __name__ == "__main__":
    main()
