"""What pays on the DCGAN step on the CPU: the default profile's MNIST setup (gan_ns, 16-wide
DCGAN, batch 64) trained by GANTrainer as the pipeline does, against the same with one
change at a time, timed in alternating blocks in the same run (median block):

- threads: torch's default (one per core) against one thread;
- memory order: the trainer's channels-last networks and data (``gan_core.device.place``)
  against torch's default order (NCHW, contiguous);
- ``torch.compile`` of both networks (its compile time printed apart, as every stage would
  pay it once per process);
- sampling 5000 images for evaluation under ``torch.no_grad`` (what ``generate`` does)
  against ``torch.inference_mode``.

    python bench/image_step.py [--quick]

A ratio below 1 means the change makes the step faster.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
from common import ROOT, ms_per_step, raw_dataset

from gan_core.training.loop import GANTrainer, generate
from gan_core.training.variants import plan_run, to_model_range
from stages.params import load_params

CPU = torch.device("cpu")


def _trainer(dataset, setup, variant, data, change: str) -> Callable[[], None]:
    plan = plan_run(dataset, setup, variant, 0)
    gen, disc = plan.gen, plan.disc
    if change == "compile":
        gen, disc = torch.compile(gen), torch.compile(disc)
    trainer = GANTrainer(gen, disc, plan.loss, data, None, plan.train, setup.z_dim, 0, CPU)
    if change == "NCHW":  # undo the trainer's channels-last order (same parameter objects)
        trainer.gen.to(memory_format=torch.contiguous_format)
        trainer.disc.to(memory_format=torch.contiguous_format)
        trainer.data = data.contiguous()
    return lambda: trainer.train(until=trainer.step + 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps (a smoke test)")
    args = parser.parse_args()
    blocks, steps = (2, 3) if args.quick else (5, 20)
    params = load_params(ROOT / "params.yaml")
    dataset = raw_dataset(params, "mnist")
    setup, variant = params.setups["mnist"], params.variants["gan_ns"]
    data = to_model_range(dataset.train.x)
    cores = torch.get_num_threads()

    changes = {}
    for change in ("baseline", "NCHW", "compile"):
        start = time.perf_counter()
        changes[change] = _trainer(dataset, setup, variant, data, change)
        changes[change]()  # warm-up (compiles)
        if change == "compile":
            print(f"image step compile: {time.perf_counter() - start:.1f} s to compile", flush=True)
    times: dict[str, list[float]] = {name: [] for name in (*changes, "one thread")}
    for _ in range(blocks):
        for name, step in changes.items():
            times[name].append(ms_per_step(step, steps))
        torch.set_num_threads(1)
        times["one thread"].append(ms_per_step(changes["baseline"], steps))
        torch.set_num_threads(cores)
    base = statistics.median(times["baseline"])
    for name, samples in times.items():
        ms = statistics.median(samples)
        print(f"image step {name}: {ms:.1f} ms/step, {ms / base:.2f}x baseline "
              f"({cores} threads unless one)", flush=True)  # fmt: skip

    gen = plan_run(dataset, setup, variant, 0).gen
    sampled = {}
    for name, context in (("no_grad", torch.no_grad), ("inference_mode", torch.inference_mode)):
        runs = []
        for _ in range(blocks):
            start = time.perf_counter()
            with context():
                generate(gen, 5000, setup.z_dim, 0, CPU)
            runs.append(time.perf_counter() - start)
        sampled[name] = statistics.median(runs)
    print(f"image sampling 5000: no_grad {sampled['no_grad']:.2f} s, inference_mode "
          f"{sampled['inference_mode']:.2f} s, "
          f"{sampled['inference_mode'] / sampled['no_grad']:.2f}x", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
