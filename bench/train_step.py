"""Overhead of the training loop: a GANTrainer generator step against a bare PyTorch loop
with the same networks, optimizers, loss and batch size (the non-saturating GAN), timed
side by side in the same run, on the default profile's MNIST setup (DCGAN) and ring8 setup
(MLP, one thread).

    python bench/train_step.py [--quick]

The bare loop is what one would write by hand: draw a batch and latents, one D step, one G
step, read the two losses every ``log_every`` steps. The trainer also keeps per-seed random
streams, the history (gradient norms, D outputs) and its divergence check. The two are
timed in alternating blocks and the median block taken, so a load change on the machine
hits both alike. A ratio of 1.10 means the trainer's step costs 10% more.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics

import torch
import torch.nn.functional as F
from common import ROOT, ms_per_step, raw_dataset

from gan_core.data.toy import RingConfig, build_ring
from gan_core.device import set_threads
from gan_core.training.loop import GANTrainer
from gan_core.training.variants import plan_run, to_model_range
from stages.params import load_params

CPU = torch.device("cpu")


def _bare_loop(plan, data: torch.Tensor, z_dim: int, log_every: int):
    """A step function for the hand-written loop on ``plan``'s own (fresh) networks."""
    gen, disc, cfg = plan.gen.train(), plan.disc.train(), plan.train
    opt_g = torch.optim.Adam(gen.parameters(), cfg.lr_g, betas=cfg.betas)
    opt_d = torch.optim.Adam(disc.parameters(), cfg.lr_d, betas=cfg.betas)
    rng = torch.Generator().manual_seed(0)
    batch = cfg.batch_size
    count = [0]

    def step() -> None:
        real = data[torch.randint(len(data), (batch,), generator=rng)]
        z = torch.randn(batch, z_dim, generator=rng)
        with torch.no_grad():
            fake = gen(z, None)
        d_loss = F.softplus(-disc(real, None)).mean() + F.softplus(disc(fake, None)).mean()
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        disc.requires_grad_(False)
        g_loss = F.softplus(-disc(gen(torch.randn(batch, z_dim, generator=rng), None), None))
        g_loss = g_loss.mean()
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        disc.requires_grad_(True)
        count[0] += 1
        if count[0] % log_every == 0:  # read the losses back, as a logged step does
            d_loss.item(), g_loss.item()

    return step


def _trainer_loop(plan, data: torch.Tensor, z_dim: int):
    trainer = GANTrainer(plan.gen, plan.disc, plan.loss, data, None, plan.train, z_dim, 0, CPU)

    def step() -> None:
        trainer.train(until=trainer.step + 1)

    return step


def compare(name: str, dataset, setup, variant, threads: int, steps: int, blocks: int) -> None:
    set_threads(threads)
    data = to_model_range(dataset.train.x)
    # the trainer logs every log_every steps as in a run (its last step would also log)
    setup = dataclasses.replace(setup, steps=10**9)
    ours = _trainer_loop(plan_run(dataset, setup, variant, 0), data, setup.z_dim)
    bare = _bare_loop(plan_run(dataset, setup, variant, 0), data, setup.z_dim, setup.log_every)
    ours(), bare()  # warm-up
    times = {"trainer": [], "bare": []}
    for _ in range(blocks):
        times["trainer"].append(ms_per_step(ours, steps))
        times["bare"].append(ms_per_step(bare, steps))
    trainer_ms, bare_ms = (statistics.median(times[k]) for k in ("trainer", "bare"))
    threads = threads or torch.get_num_threads()
    print(
        f"train step {name} gan_ns, {threads} thread(s), batch {setup.batch_size}: trainer "
        f"{trainer_ms:.2f} ms/step, bare loop {bare_ms:.2f} ms/step, "
        f"ratio {trainer_ms / bare_ms:.2f}x (goal <= 1.10x)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps (a smoke test)")
    args = parser.parse_args()
    params = load_params(ROOT / "params.yaml")
    variant = params.variants["gan_ns"]
    blocks, steps = (2, 5) if args.quick else (7, 40)
    mnist = raw_dataset(params, "mnist")
    compare("mnist dcgan", mnist, params.setups["mnist"], variant, 0, steps, blocks)
    ring = build_ring("ring8", RingConfig("ring", n_train=20_000, n_test=100), None)
    compare("ring8 mlp", ring, params.setups["ring8"], variant, 1, steps * 5, blocks)


if __name__ == "__main__":
    main()
