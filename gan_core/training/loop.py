"""The one generic GAN training loop.

Alternating updates (Goodfellow et al. 2014, Algorithm 1): ``n_critic`` discriminator steps
on fresh minibatches, then one generator step. What differs between variants lives in the
registered pieces and numbers of :class:`TrainConfig` (loss pair, penalties, generator
objective, optimizer, clipping, unrolling, EMA, instance noise); the loop never looks at a
variant's name.

:class:`GANTrainer` holds the whole training state (networks, optimizers, random streams,
history), so a run can be checkpointed with :meth:`GANTrainer.state_dict` and resumed with
:meth:`GANTrainer.load_state_dict` to the same bits as an uninterrupted run on the CPU.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import math
import types
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from gan_core.training.generator_objectives import G_OBJECTIVES
from gan_core.training.losses import Loss
from gan_core.training.optimizers import OPTIMIZERS
from gan_core.training.regularizers import REGULARIZERS, weight_clip

Tensor = torch.Tensor


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainingOptions:
    """What a variant chooses about training. ``regularizers`` maps penalty names to
    weights; ``weight_clip`` > 0 clamps D's weights to [-c, c] after each D step (WGAN);
    ``unroll_steps`` > 0 lets the generator step see D after that many extra D steps
    (unrolled GAN); ``ema_decay`` > 0 keeps an exponential moving average of G for
    sampling; ``instance_noise`` > 0 adds Gaussian noise of that std, annealed linearly to 0,
    to every input of D."""

    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, ...] = (0.5, 0.999)
    optimizer: str = "adam"
    n_critic: int = 1
    regularizers: Mapping[str, float] = dataclasses.field(
        default_factory=lambda: types.MappingProxyType({})
    )
    weight_clip: float = 0.0
    g_objective: str = "adversarial"
    unroll_steps: int = 0
    ema_decay: float = 0.0
    instance_noise: float = 0.0


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainConfig(TrainingOptions):
    """How to train: the variant's options plus the budget and logging interval."""

    steps: int
    batch_size: int
    log_every: int = 10


@dataclasses.dataclass
class TrainResult:
    """``history`` maps each logged quantity to its values at the logged steps."""

    history: dict[str, list[float]]
    steps_done: int
    status: str  # "ok", or "diverged" when a loss became NaN or infinite


# Logged every ``log_every`` steps; losses with a Wasserstein estimate add
# "wasserstein_estimate" (mean critic value on real minus on fake).
HISTORY_KEYS = ("step", "d_loss", "g_loss", "d_real", "d_fake", "grad_norm_d", "grad_norm_g")


def sample_latent(n: int, z_dim: int, generator: torch.Generator, device: torch.device) -> Tensor:
    """``[n, z_dim]`` standard normal noise drawn from ``generator`` (a CPU generator, so the
    draws are the same on every device)."""
    return torch.randn(n, z_dim, generator=generator).to(device)


def grad_norm(module: nn.Module) -> float:
    """Euclidean norm of all of ``module``'s parameter gradients together."""
    norms = [p.grad.detach().norm() for p in module.parameters() if p.grad is not None]
    return torch.linalg.vector_norm(torch.stack(norms)).item() if norms else 0.0


@torch.no_grad()
def update_ema(ema: nn.Module, model: nn.Module, decay: float) -> None:
    """ema <- decay * ema + (1 - decay) * model for parameters; buffers (batch-norm
    statistics, spectral-norm vectors) are copied (as in Karras et al. 2018's G averaging)."""
    for p_ema, p in zip(ema.parameters(), model.parameters(), strict=True):
        p_ema.lerp_(p, 1.0 - decay)
    for b_ema, b in zip(ema.buffers(), model.buffers(), strict=True):
        b_ema.copy_(b)


class GANTrainer:
    """Trains ``gen`` and ``disc`` in place on ``data`` ``[N, ...]`` (in the generator's
    value range), with ``labels`` ``[N]`` int64 for a conditional generator (ignored
    otherwise). Deterministic for a seed on the CPU: minibatches and latents come from a
    CPU generator seeded with ``seed``; penalties and instance noise from torch's global
    generator, seeded here too."""

    def __init__(
        self,
        gen: nn.Module,
        disc: nn.Module,
        loss: Loss,
        data: Tensor,
        labels: Tensor | None,
        cfg: TrainConfig,
        z_dim: int,
        seed: int,
        device: torch.device,
    ) -> None:
        self.gen, self.disc = gen.to(device).train(), disc.to(device).train()
        self.loss, self.cfg, self.z_dim, self.device = loss, cfg, z_dim, device
        self.data = data
        self.labels = labels if getattr(gen, "n_classes", 0) else None
        self.penalties = {name: REGULARIZERS.get(name) for name in cfg.regularizers}
        self.g_objective = G_OBJECTIVES.get(cfg.g_objective)
        make_optimizer = OPTIMIZERS.get(cfg.optimizer)
        self.opt_g = make_optimizer(gen.parameters(), cfg.lr_g, cfg.betas)
        self.opt_d = make_optimizer(disc.parameters(), cfg.lr_d, cfg.betas)
        self.gen_ema = copy.deepcopy(self.gen).eval() if cfg.ema_decay > 0 else None
        self.rng = torch.Generator().manual_seed(seed)
        torch.manual_seed(seed)
        self.step = 0
        self.status = "ok"
        self.history: dict[str, list[float]] = {}

    @property
    def sampler(self) -> nn.Module:
        """The generator to sample from: its moving average when EMA is on."""
        return self.gen_ema if self.gen_ema is not None else self.gen

    # -- batches -------------------------------------------------------------------------

    def _real_batch(self) -> tuple[Tensor, Tensor | None]:
        index = torch.randint(len(self.data), (self.cfg.batch_size,), generator=self.rng)
        labels = None if self.labels is None else self.labels[index].to(self.device)
        return self.data[index].to(self.device), labels

    def _fake_batch(self) -> tuple[Tensor, Tensor | None]:
        """Latents ``[B, z_dim]`` and labels drawn from the data's label frequencies."""
        z = sample_latent(self.cfg.batch_size, self.z_dim, self.rng, self.device)
        if self.labels is None:
            return z, None
        index = torch.randint(len(self.labels), (self.cfg.batch_size,), generator=self.rng)
        return z, self.labels[index].to(self.device)

    def _noisy(self, x: Tensor) -> Tensor:
        """Instance noise (Sønderby et al. 2017; Arjovsky & Bottou 2017): D's inputs plus
        N(0, sigma^2), sigma annealed linearly from ``instance_noise`` to 0 over training."""
        if self.cfg.instance_noise <= 0:
            return x
        sigma = self.cfg.instance_noise * max(0.0, 1.0 - self.step / self.cfg.steps)
        return x + sigma * torch.randn_like(x)

    # -- updates -------------------------------------------------------------------------

    def _d_step(self, record: bool) -> dict[str, Tensor | float]:
        real, real_labels = self._real_batch()
        z, fake_labels = self._fake_batch()
        with torch.no_grad():
            fake = self.gen(z, fake_labels)
        real, fake = self._noisy(real), self._noisy(fake)
        real_logits = self.disc(real, real_labels)
        fake_logits = self.disc(fake, fake_labels)
        d_loss = self.loss.d_loss(real_logits, fake_logits)
        scores = functools.partial(self.disc, labels=real_labels)
        for name, penalty in self.penalties.items():
            d_loss = d_loss + self.cfg.regularizers[name] * penalty(scores, real, fake)
        self.opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        self.opt_d.step()
        if self.cfg.weight_clip > 0:
            weight_clip(self.disc, self.cfg.weight_clip)
        if not record:
            return {"d_loss": d_loss}
        real_logits, fake_logits = real_logits.detach(), fake_logits.detach()
        stats: dict[str, Tensor | float] = {
            "d_loss": d_loss.detach(),
            "d_real": self.loss.d_output(real_logits).mean(),
            "d_fake": self.loss.d_output(fake_logits).mean(),
            "grad_norm_d": grad_norm(self.disc),
        }
        if self.loss.wasserstein_estimate:
            stats["wasserstein_estimate"] = real_logits.mean() - fake_logits.mean()
        return stats

    @contextmanager
    def _lookahead(self) -> Iterator[None]:
        """Unrolled GAN (Metz et al. 2017): take ``unroll_steps`` more D steps, let the
        generator step against that future D, then restore D and its optimizer. First-order:
        G's gradient is taken at the unrolled D without differentiating through the D
        updates (the paper's surrogate also backpropagates through them)."""
        if self.cfg.unroll_steps <= 0:
            yield
            return
        saved_d = _clone_tensors(self.disc.state_dict())
        saved_opt = _clone_tensors(self.opt_d.state_dict())
        for _ in range(self.cfg.unroll_steps):
            self._d_step(record=False)
        yield
        self.disc.load_state_dict(saved_d)
        self.opt_d.load_state_dict(saved_opt)

    def _g_step(self, record: bool) -> dict[str, Tensor | float]:
        real, real_labels = self._real_batch()
        z, fake_labels = self._fake_batch()
        self.disc.requires_grad_(False)  # G's step leaves D's gradients alone
        fake = self.gen(z, fake_labels)
        g_loss = self.g_objective(
            self.disc, self.loss, self._noisy(fake), fake_labels, self._noisy(real), real_labels
        )
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()
        self.disc.requires_grad_(True)
        if self.gen_ema is not None:
            update_ema(self.gen_ema, self.gen, self.cfg.ema_decay)
        if not record:
            return {"g_loss": g_loss}
        return {"g_loss": g_loss.detach(), "grad_norm_g": grad_norm(self.gen)}

    def train(
        self, until: int | None = None, on_step: Callable[[int], None] | None = None
    ) -> TrainResult:
        """Train from the current step up to ``until`` (default ``cfg.steps``) generator
        steps, calling ``on_step(step)`` after each; stop early if a loss is not finite."""
        until = self.cfg.steps if until is None else until
        while self.status == "ok" and self.step < until:
            self.step += 1
            record = self.step % self.cfg.log_every == 0 or self.step == self.cfg.steps
            for _ in range(self.cfg.n_critic):
                d_stats = self._d_step(record)
            with self._lookahead():
                g_stats = self._g_step(record)
            losses = (d_stats["d_loss"].item(), g_stats["g_loss"].item())
            if not all(math.isfinite(value) for value in losses):
                self.status = "diverged"
            elif record:
                for key, value in {"step": self.step, **d_stats, **g_stats}.items():
                    self.history.setdefault(key, []).append(float(value))
            if on_step is not None:
                on_step(self.step)
        return TrainResult(self.history, self.step, self.status)

    # -- checkpoints ---------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue bit-identically: weights, optimizer moments, the
        random streams' states, the step and the history so far (CPU tensors)."""
        state = {
            "step": self.step,
            "status": self.status,
            "history": copy.deepcopy(self.history),
            "gen": _cpu(self.gen.state_dict()),
            "disc": _cpu(self.disc.state_dict()),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "rng": self.rng.get_state(),
            "torch_rng": torch.get_rng_state(),
        }
        if self.gen_ema is not None:
            state["gen_ema"] = _cpu(self.gen_ema.state_dict())
        if torch.cuda.is_available():
            state["cuda_rng"] = torch.cuda.get_rng_state_all()
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a :meth:`state_dict` taken from a trainer built the same way."""
        self.step, self.status = int(state["step"]), str(state["status"])
        self.history = copy.deepcopy(dict(state["history"]))
        self.gen.load_state_dict(state["gen"])
        self.disc.load_state_dict(state["disc"])
        if self.gen_ema is not None:
            self.gen_ema.load_state_dict(state["gen_ema"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.rng.set_state(state["rng"])
        torch.set_rng_state(state["torch_rng"])
        if "cuda_rng" in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda_rng"])


def _clone_tensors(state: Any) -> Any:
    """A copy of nested dicts and lists in which every tensor is cloned (what ``deepcopy``
    does to a state dict, several times faster)."""
    if isinstance(state, Tensor):
        return state.clone()
    if isinstance(state, dict):
        return {key: _clone_tensors(value) for key, value in state.items()}
    if isinstance(state, list):
        return [_clone_tensors(value) for value in state]
    return state


def _cpu(tensors: Mapping[str, Tensor]) -> dict[str, Tensor]:
    return {key: value.detach().cpu().clone() for key, value in tensors.items()}


def balanced_labels(n: int, n_classes: int) -> Tensor:
    """Labels ``[n]`` cycling through 0..n_classes-1: every class (near) equally often."""
    return torch.arange(n) % n_classes


@torch.no_grad()
def generate(
    gen: nn.Module,
    n: int,
    z_dim: int,
    seed: int,
    device: torch.device,
    labels: Tensor | None = None,
    batch_size: int = 500,
) -> Tensor:
    """``n`` samples ``[n, ...]`` on the CPU from ``gen`` in eval mode (its mode is restored
    after), noise seeded by ``seed``; a conditional ``gen`` needs ``labels`` ``[n]``."""
    was_training = gen.training
    gen.to(device).eval()
    rng = torch.Generator().manual_seed(seed)
    chunks = []
    for start in range(0, n, batch_size):
        z = sample_latent(min(batch_size, n - start), z_dim, rng, device)
        batch_labels = None if labels is None else labels[start : start + len(z)].to(device)
        chunks.append(gen(z, batch_labels).cpu())
    gen.train(was_training)
    return torch.cat(chunks)
