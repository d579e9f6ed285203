"""Mixed precision (a setup's ``precision: bf16``) against fp32, side by side in one run, on
the device the pipeline would pick (a GPU when present):

- speed: the default profile's MNIST step (gan_ns, DCGAN), alternating blocks, median;
- result: ring8 trained to the default profile's budget by gan_ns and hinge_sn (spectral
  norm), each as a group of 5 seeds, in both precisions from the same initial weights and
  streams: the high-quality fraction and modes (2500 samples per seed).

    python bench/precision.py [--quick]

A speed ratio below 1 means bf16 is faster; the result lines show whether it stays correct.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics

import numpy as np
from common import ROOT, make_trainer, ms_per_step, raw_dataset

from gan_core.device import pick_device
from gan_core.metrics.modes import mixture_mode_metrics
from gan_core.training.loop import generate
from gan_core.training.variants import plan_run
from stages.params import load_params

SEEDS = (0, 1, 2, 3, 4)


def step_speed(params, device, blocks: int, steps: int) -> None:
    dataset = raw_dataset(params, "mnist")
    variant = params.variants["gan_ns"]
    trainers = {
        precision: make_trainer(
            dataset, dataclasses.replace(params.setups["mnist"], precision=precision),
            variant, 0, device,
        )
        for precision in ("fp32", "bf16")
    }  # fmt: skip
    times: dict[str, list[float]] = {name: [] for name in trainers}
    for trainer in trainers.values():
        trainer.train(until=1)  # warm-up
    for _ in range(blocks):
        for name, trainer in trainers.items():
            times[name].append(ms_per_step(lambda t=trainer: t.train(until=t.step + 1), steps))
    fp32, bf16 = (statistics.median(times[name]) for name in ("fp32", "bf16"))
    print(f"precision MNIST DCGAN step on {device}: fp32 {fp32:.1f} ms, bf16 {bf16:.1f} ms, "
          f"{bf16 / fp32:.2f}x fp32", flush=True)  # fmt: skip


def ring_results(params, device, steps: int | None) -> None:
    ring = raw_dataset(params, "ring8")
    modes, stds = np.asarray(ring.info["modes"]), np.asarray(ring.info["stds"])
    base = params.setups["ring8"]
    base = base if steps is None else dataclasses.replace(base, steps=steps)
    for name in ("gan_ns", "hinge_sn"):
        line = []
        for precision in ("fp32", "bf16"):
            setup = dataclasses.replace(base, precision=precision)
            trainer = make_trainer(ring, setup, params.variants[name], SEEDS, device)
            trainer.train()
            scores = []
            for index, seed in enumerate(SEEDS):
                gen = plan_run(ring, setup, params.variants[name], seed).gen
                gen.load_state_dict(trainer.member_states(index)["gen"])
                fake = generate(gen, base.n_fake, base.z_dim, seed, device).cpu().numpy()
                scores.append(mixture_mode_metrics(fake, modes, stds))
            hq = np.mean([s["high_quality_fraction"] for s in scores])
            captured = np.mean([s["modes_captured"] for s in scores])
            line.append(f"{precision} high quality {hq:.3f}, modes {captured:.1f}")
        print(f"precision ring8 {name}, {base.steps} steps, seeds {SEEDS}: " + "; ".join(line),
              flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps (a smoke test)")
    args = parser.parse_args()
    params = load_params(ROOT / "params.yaml")
    device = pick_device(params.device)
    step_speed(params, device, *((2, 3) if args.quick else (5, 20)))
    ring_results(params, device, 200 if args.quick else None)


if __name__ == "__main__":
    main()
