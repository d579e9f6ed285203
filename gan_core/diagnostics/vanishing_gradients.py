"""Generator gradients as the discriminator wins (Goodfellow 2016, NIPS tutorial, Fig. 16;
Arjovsky & Bottou 2017, Sec. 2.2).

A fixed generator faces a discriminator trained with the binary cross-entropy loss. As D
learns to reject the fakes, D(G(z)) -> 0, and the gradient of the minimax cost
E[log(1 - D(G(z)))] w.r.t. the generator's parameters vanishes, the non-saturating cost
-E[log D(G(z))] keeps it, and the maximum-likelihood cost -1/2 E[exp(logit)] vanishes too.
This module only measures: mean D(G(z)) and each cost's gradient norm at log-spaced points of
D's training. The costs are the registered generator losses of
``gan_core.training.losses``.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import torch
from torch import nn

from gan_core.diagnostics.optimal_discriminator import build_discriminator, sample_points
from gan_core.training.losses import LOSSES

Tensor = torch.Tensor


@dataclasses.dataclass(frozen=True)
class VanishingGradientsConfig:
    """The fixed generator x = shift + scale * z, z ~ N(0, 1) (a learnable affine map whose
    parameters are never updated), the discriminator and its training, and the measurement.

    The default generator N(8, 0.5) sits 12 standard deviations beyond the data's right mode
    (2, std 0.5 in the default ``mix1d``): the densities barely overlap, so D* is ~0 on the
    fakes and D(G(z)) keeps falling as D trains. Nearer, D(G(z)) stops at D*'s small but
    nonzero value on the overlap (~1e-3 for a generator at 5)."""

    generator_shift: float = 8.0
    generator_scale: float = 0.5
    width: int = 64  # discriminator hidden units per layer
    depth: int = 2  # discriminator hidden layers
    steps: int = 2000  # discriminator updates
    n_checkpoints: int = 12  # measurements: before training, then log-spaced up to ``steps``
    batch_size: int = 256  # real and fake samples per discriminator step, each
    n_measure: int = 1024  # fixed z batch the gradients are measured on
    lr: float = 1e-3  # Adam, constant
    seed: int = 0
    costs: tuple[str, ...] = ("minimax", "ns", "ml")  # generator losses by registry key


@dataclasses.dataclass(frozen=True)
class VanishingGradientsResult:
    """``steps`` ``[K]`` int64: discriminator updates done at each measurement (0 first).
    ``mean_d_fake`` ``[K]`` float64: mean D(G(z)) over the fixed z batch, 0..1.
    ``grad_norms``: cost name -> ``[K]`` float64, L2 norm of the gradient of that cost w.r.t.
    all generator parameters, on the same batch."""

    steps: np.ndarray
    mean_d_fake: np.ndarray
    grad_norms: dict[str, np.ndarray]
    seconds: float  # wall time


class AffineGenerator(nn.Module):
    """G(z) = shift + scale * z for z ``[N, 1]``: a 1D Gaussian generator with two parameters."""

    def __init__(self, shift: float, scale: float) -> None:
        super().__init__()
        self.shift = nn.Parameter(torch.tensor(shift))
        self.scale = nn.Parameter(torch.tensor(scale))

    def forward(self, z: Tensor) -> Tensor:
        return self.shift + self.scale * z  # [N, 1]


def checkpoint_steps(steps: int, n_checkpoints: int) -> np.ndarray:
    """0, then up to ``n_checkpoints - 1`` log-spaced update counts from 1 to ``steps``
    (rounded, duplicates dropped), int64 ascending."""
    spaced = np.geomspace(1, steps, max(n_checkpoints - 1, 1)) if steps > 0 else []
    return np.unique(np.concatenate([[0], np.rint(spaced)]).astype(np.int64))


def measure_generator_gradients(
    gen: nn.Module, disc: nn.Module, z: Tensor, costs: tuple[str, ...]
) -> tuple[float, dict[str, float]]:
    """Mean D(G(z)) (0..1) on ``z`` ``[N, 1]`` and, per cost name, the L2 norm of the
    gradient of that generator loss w.r.t. all parameters of ``gen``. D is not changed."""
    params = [p for p in gen.parameters() if p.requires_grad]
    fake_logits = disc(gen(z))  # [N]
    norms = {}
    for name in costs:
        grads = torch.autograd.grad(LOSSES.get(name).g_loss(fake_logits), params, retain_graph=True)
        norms[name] = float(torch.sqrt(sum(g.pow(2).sum() for g in grads)))
    return float(torch.sigmoid(fake_logits.detach()).mean()), norms


def measure_vanishing_gradients(
    real_info: dict, cfg: VanishingGradientsConfig
) -> VanishingGradientsResult:
    """Train D on data ``real_info`` (a 1D mixture ``info`` as ``gan_core.data.toy``'s
    ``mix1d`` writes) against the fixed generator of ``cfg``, measuring mean D(G(z)) and the
    generator-cost gradient norms at ``checkpoint_steps``. Deterministic given ``cfg.seed``
    on the CPU; torch's global random state is left as it was."""
    start = time.perf_counter()
    for name in cfg.costs:
        LOSSES.get(name)  # an unknown cost fails before training, listing the valid ones
    gen = AffineGenerator(cfg.generator_shift, cfg.generator_scale)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        disc = build_discriminator(cfg.width, cfg.depth)
    rng = np.random.default_rng(cfg.seed)
    z_measure = torch.from_numpy(rng.standard_normal((cfg.n_measure, 1), dtype=np.float32))
    d_loss = LOSSES.get("ns").d_loss  # binary cross-entropy, the same for every cost here
    opt = torch.optim.Adam(disc.parameters(), lr=cfg.lr)

    steps = checkpoint_steps(cfg.steps, cfg.n_checkpoints)
    mean_d_fake = np.zeros(len(steps))
    grad_norms = {name: np.zeros(len(steps)) for name in cfg.costs}
    done = 0
    for k, target in enumerate(steps):
        for _ in range(target - done):
            real = sample_points(real_info, cfg.batch_size, rng)
            z = torch.from_numpy(rng.standard_normal((cfg.batch_size, 1), dtype=np.float32))
            with torch.no_grad():
                fake = gen(z)
            loss = d_loss(disc(real), disc(fake))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        done = target
        mean_d_fake[k], norms = measure_generator_gradients(gen, disc, z_measure, cfg.costs)
        for name in cfg.costs:
            grad_norms[name][k] = norms[name]
    return VanishingGradientsResult(steps, mean_d_fake, grad_norms, time.perf_counter() - start)
