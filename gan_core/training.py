"""The one generic GAN training loop.

Alternating updates (Goodfellow et al. 2014, Algorithm 1): ``n_critic`` discriminator steps
on fresh minibatches, then one generator step. What differs between variants lives in the
registered pieces passed in (the loss pair); the loop never looks at a variant's name.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import torch
from torch import nn

from gan_core.losses import Loss

Tensor = torch.Tensor


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    steps: int
    batch_size: int
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, ...] = (0.5, 0.999)
    n_critic: int = 1
    log_every: int = 10


@dataclasses.dataclass
class TrainResult:
    """``history`` maps each logged quantity to its values at the logged steps."""

    history: dict[str, list[float]]
    steps_done: int
    status: str  # "ok", or "diverged" when a loss became NaN or infinite


HISTORY_KEYS = ("step", "d_loss", "g_loss", "d_real", "d_fake", "grad_norm_d", "grad_norm_g")


def sample_latent(n: int, z_dim: int, generator: torch.Generator, device: torch.device) -> Tensor:
    """``[n, z_dim]`` standard normal noise drawn from ``generator`` (a CPU generator, so the
    draws are the same on every device)."""
    return torch.randn(n, z_dim, generator=generator).to(device)


def grad_norm(module: nn.Module) -> float:
    """Euclidean norm of all of ``module``'s parameter gradients together."""
    norms = [p.grad.detach().norm() for p in module.parameters() if p.grad is not None]
    return torch.linalg.vector_norm(torch.stack(norms)).item() if norms else 0.0


def train_gan(
    gen: nn.Module,
    disc: nn.Module,
    loss: Loss,
    data: Tensor,
    cfg: TrainConfig,
    z_dim: int,
    seed: int,
    device: torch.device,
    on_step: Callable[[int], None] | None = None,
) -> TrainResult:
    """Train ``gen`` and ``disc`` in place on ``data`` (``[N, ...]``, in the generator's value
    range) for ``cfg.steps`` generator steps. Deterministic for a seed on the CPU."""
    gen.to(device).train()
    disc.to(device).train()
    opt_g = torch.optim.Adam(gen.parameters(), lr=cfg.lr_g, betas=tuple(cfg.betas))
    opt_d = torch.optim.Adam(disc.parameters(), lr=cfg.lr_d, betas=tuple(cfg.betas))
    rng = torch.Generator().manual_seed(seed)
    history: dict[str, list[float]] = {key: [] for key in HISTORY_KEYS}

    def real_batch() -> Tensor:
        index = torch.randint(len(data), (cfg.batch_size,), generator=rng)
        return data[index].to(device)

    for step in range(1, cfg.steps + 1):
        for _ in range(cfg.n_critic):
            real = real_batch()
            fake = gen(sample_latent(cfg.batch_size, z_dim, rng, device)).detach()
            real_logits, fake_logits = disc(real), disc(fake)
            d_loss = loss.d_loss(real_logits, fake_logits)
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()

        fake_logits_g = disc(gen(sample_latent(cfg.batch_size, z_dim, rng, device)))
        g_loss = loss.g_loss(fake_logits_g)
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()

        if not (math.isfinite(d_loss.item()) and math.isfinite(g_loss.item())):
            return TrainResult(history, step, "diverged")
        if step % cfg.log_every == 0 or step == cfg.steps:
            values = {
                "step": step,
                "d_loss": d_loss.item(),
                "g_loss": g_loss.item(),
                "d_real": loss.d_output(real_logits.detach()).mean().item(),
                "d_fake": loss.d_output(fake_logits.detach()).mean().item(),
                "grad_norm_d": grad_norm(disc),
                "grad_norm_g": grad_norm(gen),
            }
            for key, value in values.items():
                history[key].append(float(value))
        if on_step is not None:
            on_step(step)
    return TrainResult(history, cfg.steps, "ok")


@torch.no_grad()
def generate(
    gen: nn.Module, n: int, z_dim: int, seed: int, device: torch.device, batch_size: int = 500
) -> Tensor:
    """``n`` samples ``[n, ...]`` on the CPU from ``gen`` in eval mode, noise seeded by ``seed``."""
    gen.to(device).eval()
    rng = torch.Generator().manual_seed(seed)
    chunks = [
        gen(sample_latent(min(batch_size, n - start), z_dim, rng, device)).cpu()
        for start in range(0, n, batch_size)
    ]
    return torch.cat(chunks)
