"""The one generic GAN training loop.

Alternating updates (Goodfellow et al. 2014, Algorithm 1): ``n_critic`` discriminator steps
on fresh minibatches, then ``g_steps`` generator steps (one, except where a paper's code takes
more); or, where a paper's code does so, simultaneous updates of both players from one
minibatch. A step of the budget is one such round. What differs between variants lives in the
registered pieces and numbers of :class:`TrainConfig` (loss pair, penalties, generator
objective, optimizer, clipping, unrolling, EMA, instance noise); the loop never looks at a
variant's name.

:class:`GANTrainer` holds the whole training state (networks, optimizers, random streams,
history), so a run can be checkpointed with :meth:`GANTrainer.state_dict` and resumed with
:meth:`GANTrainer.load_state_dict` to the same bits as an uninterrupted run on the CPU.
It trains one model, or a seed group: several seeds' copies of a network stacked into one
(:mod:`gan_core.models.stacked`), each seed with its own data order, noise, weights and
history, none affecting another.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import math
import types
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Literal

import torch
from torch import nn

from gan_core.device import autocast, image_layout, place
from gan_core.models.noise import noise_from
from gan_core.models.progan import growing_parts
from gan_core.models.stacked import is_stacked, member_state
from gan_core.training.generator_objectives import G_OBJECTIVES
from gan_core.training.losses import Loss
from gan_core.training.optimizers import OPTIMIZERS
from gan_core.training.regularizers import REGULARIZERS, weight_clip
from gan_core.training.streams import RandomStreams

Tensor = torch.Tensor


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainingOptions:
    """What a variant chooses about training. ``regularizers`` maps penalty names to
    weights; ``weight_clip`` > 0 clamps D's weights to [-c, c] after each D step (WGAN);
    ``unroll_steps`` > 0 lets the generator step see D after that many extra D steps
    (unrolled GAN); ``ema_decay`` > 0 keeps an exponential moving average of G for
    sampling; ``instance_noise`` > 0 adds Gaussian noise of that std, annealed linearly to 0,
    to every input of D; ``g_steps`` generator steps follow the ``n_critic`` D steps of a
    round (DCGAN-tensorflow, and PacGAN's Stacked MNIST code on it, take 2);
    ``regularize_every`` k > 1 adds the penalties only in every k-th round, k times as
    strong (lazy regularization, Karras et al. 2020, Sec. 3.1). ``updates``: "alternating"
    (the rounds above), or "simultaneous": each round one minibatch, both players'
    gradients at the same parameters, both updated at once (the update of ALI's and
    PacGAN's code); it takes one D and one G update a round, the adversarial objective and
    no unrolling."""

    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, ...] = (0.5, 0.999)
    optimizer: str = "adam"
    n_critic: int = 1
    g_steps: int = 1
    regularizers: Mapping[str, float] = dataclasses.field(
        default_factory=lambda: types.MappingProxyType({})
    )
    weight_clip: float = 0.0
    g_objective: str = "adversarial"
    unroll_steps: int = 0
    ema_decay: float = 0.0
    instance_noise: float = 0.0
    regularize_every: int = 1
    updates: Literal["alternating", "simultaneous"] = "alternating"


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainConfig(TrainingOptions):
    """How to train: the variant's options plus the budget, logging interval and the
    networks' arithmetic (``precision``: see :func:`gan_core.device.autocast`)."""

    steps: int
    batch_size: int
    log_every: int = 10
    precision: str = "fp32"


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


def grad_norm(module: nn.Module, lead: int = 0) -> Tensor:
    """Euclidean norm of all of ``module``'s parameter gradients together, per member of
    its ``lead`` leading dims (``[S]`` for a stacked seed group, a scalar for one model).
    Member by member, so that a member's norm is summed as its copy's is."""
    grads = [p.grad.detach() for p in module.parameters() if p.grad is not None]
    if not lead:
        return torch.linalg.vector_norm(torch.stack([g.norm() for g in grads]))
    members = zip(*(g.unbind(0) for g in grads), strict=True)
    return torch.stack([torch.linalg.vector_norm(torch.stack([g.norm() for g in member]))
                        for member in members])  # fmt: skip


@torch.no_grad()
def update_ema(ema: nn.Module, model: nn.Module, decay: float) -> None:
    """ema <- decay * ema + (1 - decay) * model for parameters; buffers (batch-norm
    statistics, spectral-norm vectors) are copied (as in Karras et al. 2018's G averaging)."""
    for p_ema, p in zip(ema.parameters(), model.parameters(), strict=True):
        p_ema.lerp_(p, 1.0 - decay)
    for b_ema, b in zip(ema.buffers(), model.buffers(), strict=True):
        b_ema.copy_(b)


@dataclasses.dataclass
class _Member:
    """One seed's bookkeeping; ``frozen``: its networks' states when it diverged."""

    history: dict[str, list[float]] = dataclasses.field(default_factory=dict)
    steps_done: int = 0
    status: str = "ok"
    frozen: dict[str, dict[str, Tensor]] | None = None


class GANTrainer:
    """Trains ``gen`` and ``disc`` in place on ``data`` ``[N, ...]`` (in the generator's
    value range), with ``labels`` ``[N]`` int64 for a conditional generator (ignored
    otherwise).

    ``seed`` an int: one model. A tuple of seeds: a seed group, ``gen`` and ``disc`` stacked
    copies (:func:`gan_core.models.stacked.stack_networks`), one member per seed in that
    order, every batch ``[S, B, ...]``; each loss is the sum over seeds of each seed's own
    loss, so each member gets the gradient it would get alone, and the optimizers (Adam,
    RMSProp) and weight clipping act elementwise. Each seed draws from its own streams
    (:class:`gan_core.training.streams.RandomStreams`), keeps its own history, and stops
    (its networks frozen) when its own loss diverges. Deterministic for the seeds on the
    CPU.
    """

    def __init__(
        self,
        gen: nn.Module,
        disc: nn.Module,
        loss: Loss,
        data: Tensor,
        labels: Tensor | None,
        cfg: TrainConfig,
        z_dim: int,
        seed: int | tuple[int, ...],
        device: torch.device,
    ) -> None:
        self.gen, self.disc = place(gen, device).train(), place(disc, device).train()
        self.loss, self.cfg, self.z_dim, self.device = loss, cfg, z_dim, device
        self.data = image_layout(data)
        self.labels = labels if getattr(gen, "n_classes", 0) else None
        self.penalties = {name: REGULARIZERS.get(name) for name in cfg.regularizers}
        # The networks as the updates call them: in fp32 the networks themselves; in mixed
        # precision their passes under autocast, their outputs back in float32.
        self.gen_pass, self.disc_pass = (
            (self.gen, self.disc)
            if cfg.precision == "fp32"
            else (_Autocast(self.gen, device, cfg.precision),
                  _Autocast(self.disc, device, cfg.precision))
        )  # fmt: skip
        self.g_objective = G_OBJECTIVES.get(cfg.g_objective)
        stacked = isinstance(seed, tuple)
        if stacked != is_stacked(gen) or stacked != is_stacked(disc):
            raise ValueError("a tuple of seeds trains stacked networks, an int seed one model")
        # A group's optimizer must update a seed's slice as it would update it alone.
        make_optimizer = OPTIMIZERS.get(cfg.optimizer)
        self.opt_g = make_optimizer(gen.parameters(), cfg.lr_g, cfg.betas, stacked)
        self.opt_d = make_optimizer(disc.parameters(), cfg.lr_d, cfg.betas, stacked)
        self.gen_ema = copy.deepcopy(self.gen).eval() if cfg.ema_decay > 0 else None
        # Progressive growing: the networks' growth follows the training images shown.
        self.growing = growing_parts(*(net for net in (gen, disc, self.gen_ema) if net is not None))
        self.seeds = seed if stacked else (seed,)
        self.streams = RandomStreams(self.seeds, stacked, device)
        self.step = 0
        self.members = [_Member() for _ in self.seeds]

    @property
    def sampler(self) -> nn.Module:
        """The generator to sample from: its moving average when EMA is on."""
        return self.gen_ema if self.gen_ema is not None else self.gen

    # -- batches -------------------------------------------------------------------------

    def _real_batch(self) -> tuple[Tensor, Tensor | None]:
        index = self.streams.indices(len(self.data), self.cfg.batch_size).cpu()  # [*lead, B]
        labels = None if self.labels is None else self.labels[index].to(self.device)
        return self.data[index].to(self.device), labels

    def _fake_batch(self) -> tuple[Tensor, Tensor | None]:
        """Latents ``[*lead, B, z_dim]`` and labels drawn from the data's label frequencies."""
        z = self.streams.latents(self.cfg.batch_size, self.z_dim)
        if self.labels is None:
            return z, None
        index = self.streams.indices(len(self.labels), self.cfg.batch_size).cpu()
        return z, self.labels[index].to(self.device)

    def _noisy(self, x: Tensor) -> Tensor:
        """Instance noise (Sønderby et al. 2017; Arjovsky & Bottou 2017): D's inputs plus
        N(0, sigma^2), sigma annealed linearly from ``instance_noise`` to 0 over training."""
        if self.cfg.instance_noise <= 0:
            return x
        sigma = self.cfg.instance_noise * max(0.0, 1.0 - self.step / self.cfg.steps)
        return x + sigma * self.streams.normal(x.shape[self.streams.lead :], x.dtype)

    # -- updates -------------------------------------------------------------------------

    def _d_objective(
        self, real: Tensor, real_labels: Tensor | None, fake: Tensor, fake_labels: Tensor | None
    ) -> tuple[Tensor, Tensor, Tensor]:
        """D's loss ``[*lead]`` (with the penalties due this round) and its logits on
        ``real`` and ``fake``."""
        real, fake = self._noisy(real), self._noisy(fake)
        real_logits = self.disc_pass(real, real_labels)
        fake_logits = self.disc_pass(fake, fake_labels)
        d_loss = self.loss.d_loss(real_logits, fake_logits)  # [*lead]
        # Penalties differentiate D twice: in float32, whatever the precision.
        scores = functools.partial(self.disc, labels=real_labels)
        lazy = self.cfg.regularize_every
        for name, penalty in self.penalties.items() if self.step % lazy == 0 else ():
            d_loss = d_loss + lazy * self.cfg.regularizers[name] * penalty(
                scores, real, fake.detach(), self.streams
            )
        return d_loss, real_logits, fake_logits

    def _d_step(self, record: bool) -> dict[str, Tensor]:
        real, real_labels = self._real_batch()
        z, fake_labels = self._fake_batch()
        with torch.no_grad():
            fake = self.gen_pass(z, fake_labels)
        d_loss, real_logits, fake_logits = self._d_objective(real, real_labels, fake, fake_labels)
        self.opt_d.zero_grad(set_to_none=True)
        d_loss.sum().backward()  # the members' graphs are disjoint: each gets its own gradient
        self._d_update()
        return self._d_stats(record, d_loss, real_logits, fake_logits)

    def _d_update(self) -> None:
        self.opt_d.step()
        if self.cfg.weight_clip > 0:
            weight_clip(self.disc, self.cfg.weight_clip)

    def _d_stats(
        self, record: bool, d_loss: Tensor, real_logits: Tensor, fake_logits: Tensor
    ) -> dict[str, Tensor]:
        if not record:
            return {"d_loss": d_loss.detach()}
        real_logits, fake_logits = real_logits.detach(), fake_logits.detach()
        stats = {
            "d_loss": d_loss.detach(),
            "d_real": self.loss.d_output(real_logits).mean(-1),
            "d_fake": self.loss.d_output(fake_logits).mean(-1),
            "grad_norm_d": grad_norm(self.disc, self.streams.lead),
        }
        if self.loss.wasserstein_estimate:
            stats["wasserstein_estimate"] = real_logits.mean(-1) - fake_logits.mean(-1)
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

    def _g_step(self, record: bool) -> dict[str, Tensor]:
        real, real_labels = self._real_batch()
        z, fake_labels = self._fake_batch()
        self.disc.requires_grad_(False)  # G's step leaves D's gradients alone
        fake = self.gen_pass(z, fake_labels)
        g_loss = self.g_objective(
            self.disc_pass,
            self.loss,
            self._noisy(fake),
            fake_labels,
            self._noisy(real),
            real_labels,
        )  # [*lead]
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.sum().backward()
        self.disc.requires_grad_(True)
        return self._g_update(record, g_loss)

    def _g_update(self, record: bool, g_loss: Tensor) -> dict[str, Tensor]:
        self.opt_g.step()
        if self.gen_ema is not None:
            update_ema(self.gen_ema, self.gen, self.cfg.ema_decay)
        if not record:
            return {"g_loss": g_loss.detach()}
        return {"g_loss": g_loss.detach(), "grad_norm_g": grad_norm(self.gen, self.streams.lead)}

    def _simultaneous_step(self, record: bool) -> dict[str, Tensor]:
        """Simultaneous gradient descent (``updates: simultaneous``, the update of ALI's code
        and of PacGAN's on it): one real batch and one fake batch, both players' gradients
        taken at the current parameters, then both updates. G's gradient is that of the
        loss's generator cost on the same D scores that D's loss uses."""
        real, real_labels = self._real_batch()
        z, fake_labels = self._fake_batch()
        fake = self.gen_pass(z, fake_labels)
        d_loss, real_logits, fake_logits = self._d_objective(real, real_labels, fake, fake_labels)
        g_loss = self.loss.g_loss(fake_logits)
        for loss, net, opt in ((d_loss, self.disc, self.opt_d), (g_loss, self.gen, self.opt_g)):
            opt.zero_grad(set_to_none=True)
            # Each player's loss into its own gradients only, each gradient in its parameter's
            # memory layout (the fused Adam misapplied autograd.grad's transposed gradients of
            # a seed group's stacked weights, measured).
            loss.sum().backward(inputs=list(net.parameters()), retain_graph=net is self.disc)
        self._d_update()
        return {
            **self._d_stats(record, d_loss, real_logits, fake_logits),
            **self._g_update(record, g_loss),
        }

    def train(
        self, until: int | None = None, on_step: Callable[[int], None] | None = None
    ) -> list[TrainResult]:
        """Train from the current step up to ``until`` (default ``cfg.steps``) generator
        steps, calling ``on_step(step)`` after each; a seed stops early when its loss is not
        finite, the run when every seed has. One result per seed, in ``seeds`` order."""
        until = self.cfg.steps if until is None else until
        while self.step < until and any(member.status == "ok" for member in self.members):
            self.step += 1
            for part in self.growing:
                part.images_seen.fill_((self.step - 1) * self.cfg.batch_size)
            record = self.step % self.cfg.log_every == 0 or self.step == self.cfg.steps
            with noise_from(self._generator_noise):
                if self.cfg.updates == "simultaneous":
                    stats = self._simultaneous_step(record)
                else:
                    for _ in range(self.cfg.n_critic):
                        stats = self._d_step(record)
                    for _ in range(self.cfg.g_steps):
                        with self._lookahead():
                            stats = {**stats, **self._g_step(record)}
            self._book(record, stats)
            if on_step is not None:
                on_step(self.step)
        return self.results()

    def _generator_noise(self, shape: tuple[int, ...]) -> Tensor:
        """A generator's own noise (StyleGAN's) from the trainer's checkpointed streams."""
        return self.streams.normal(shape, torch.float32)

    def _book(self, record: bool, stats: Mapping[str, Tensor]) -> None:
        """Per seed: mark a non-finite loss as divergence (freezing its networks), else log
        ``stats`` (each ``[*lead]``) when ``record``."""
        keys = list(stats) if record else ["d_loss", "g_loss"]
        table = torch.stack([stats[key].reshape(-1).float().cpu() for key in keys]).tolist()
        for index, member in enumerate(self.members):
            if member.status != "ok":
                continue
            values = dict(zip(keys, (column[index] for column in table), strict=True))
            if not all(math.isfinite(values[key]) for key in ("d_loss", "g_loss")):
                member.status, member.frozen = "diverged", self.member_states(index)
            elif record:
                for key, value in {"step": float(self.step), **values}.items():
                    member.history.setdefault(key, []).append(value)
            member.steps_done = self.step

    def results(self) -> list[TrainResult]:
        """Each seed's history, steps done and status so far."""
        return [TrainResult(m.history, m.steps_done, m.status) for m in self.members]

    def member_states(self, index: int) -> dict[str, dict[str, Tensor]]:
        """Seed ``index``'s networks as one model's state dicts (CPU): ``"gen"`` (the
        sampler: the EMA generator when EMA is on) and ``"disc"``; for a seed that diverged,
        as they were at that step."""
        member = self.members[index]
        if member.frozen is not None:
            return member.frozen
        if not self.streams.lead:
            return {"gen": _cpu(self.sampler.state_dict()), "disc": _cpu(self.disc.state_dict())}
        return {"gen": member_state(self.sampler, index), "disc": member_state(self.disc, index)}

    # -- checkpoints ---------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue bit-identically: weights, optimizer moments, the
        random streams' states, the step and each seed's history so far (CPU tensors)."""
        state = {
            "step": self.step,
            "members": [dataclasses.asdict(member) for member in self.members],
            "gen": _cpu(self.gen.state_dict()),
            "disc": _cpu(self.disc.state_dict()),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "streams": self.streams.state_dict(),
        }
        if self.gen_ema is not None:
            state["gen_ema"] = _cpu(self.gen_ema.state_dict())
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a :meth:`state_dict` taken from a trainer built the same way."""
        self.step = int(state["step"])
        self.members = [_Member(**copy.deepcopy(member)) for member in state["members"]]
        self.gen.load_state_dict(state["gen"])
        self.disc.load_state_dict(state["disc"])
        if self.gen_ema is not None:
            self.gen_ema.load_state_dict(state["gen_ema"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.streams.load_state_dict(state["streams"])


@dataclasses.dataclass(frozen=True)
class _Autocast:
    """``net`` with its forward passes (and a discriminator's ``hidden``, for feature
    matching) under :func:`gan_core.device.autocast`, its outputs cast back to float32, so
    the losses are computed in float32."""

    net: nn.Module
    device: torch.device
    precision: str

    def __call__(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        with autocast(self.device, self.precision):
            return self.net(x, labels).float()

    def hidden(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        with autocast(self.device, self.precision):
            return self.net.hidden(x, labels).float()


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
    after), noise (latents and any noise of the generator's own) seeded by ``seed``; a
    conditional ``gen`` needs ``labels`` ``[n]``."""
    was_training = gen.training
    place(gen, device).eval()
    rng = torch.Generator().manual_seed(seed)
    chunks = []
    with noise_from(lambda shape: torch.randn(shape, generator=rng)):
        for start in range(0, n, batch_size):
            z = sample_latent(min(batch_size, n - start), z_dim, rng, device)
            batch_labels = None if labels is None else labels[start : start + len(z)].to(device)
            chunks.append(gen(z, batch_labels).cpu())
    gen.train(was_training)
    return torch.cat(chunks)
