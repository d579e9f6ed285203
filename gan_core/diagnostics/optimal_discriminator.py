"""The optimal discriminator of a fixed generator (Goodfellow et al. 2014, Proposition 1).

For data density p and a fixed generator density q, the discriminator maximizing
V(D, G) = E_p[log D(x)] + E_q[log(1 - D(x))] is D*(x) = p(x) / (p(x) + q(x)), and
V(D*, G) = -log 4 + 2 JSD(p || q) (Theorem 1). Here q is a fixed 1D Gaussian mixture, a small
MLP discriminator is trained with the binary cross-entropy discriminator loss, and its D and
V(D, G) are compared with D* and the bound on a grid. Integrals are trapezoid sums on that
grid, in float64.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np
import torch
from torch import nn

from gan_core.data.toy import mixture_density, sample_mixture
from gan_core.training.losses import LOSSES

Tensor = torch.Tensor

# The grid reaches this many standard deviations beyond the outermost component of p and q,
# so the tails left out of the integrals weigh below 1e-8.
GRID_REACH_STDS = 6.0
# Grid points where p + q exceeds this fraction of its maximum are where D is compared with
# D*: elsewhere D barely sees a sample and its value barely enters V(D, G).
MASK_FRACTION = 0.01


@dataclasses.dataclass(frozen=True)
class OptimalDConfig:
    """The fixed generator q (a 1D Gaussian mixture), the discriminator and its training.

    The default q, N(0.5, 1), overlaps both modes of the default data mixture (-2 and 2,
    std 0.5) partially, so D* takes values from near 0 to near 1 on the grid. The defaults
    reach max |D - D*| 0.015..0.024 and |V(D, G) - target| below 3e-4 (seeds 0..3)."""

    fake_means: tuple[float, ...] = (0.5,)
    fake_stds: tuple[float, ...] = (1.0,)
    fake_weights: tuple[float, ...] = (1.0,)
    width: int = 64  # hidden units per layer
    depth: int = 2  # hidden layers
    steps: int = 3000
    batch_size: int = 2048  # real and fake samples per step, each
    lr: float = 1e-2  # Adam's initial rate, cosine-decayed to 0 over ``steps``
    grid_size: int = 2001
    seed: int = 0

    def fake_info(self) -> dict:
        """q in the ``info`` format of ``gan_core.data.toy`` (``modes``, ``stds``, ``weights``)."""
        if not len(self.fake_means) == len(self.fake_stds) == len(self.fake_weights):
            raise ValueError("fake_means, fake_stds and fake_weights must have the same length")
        return {
            "modes": [[m] for m in self.fake_means],
            "stds": list(self.fake_stds),
            "weights": list(self.fake_weights),
        }


@dataclasses.dataclass(frozen=True)
class OptimalDResult:
    """Trained D against D* on the grid. Arrays are float64 ``[grid_size]`` except ``mask``
    (bool). ``value`` is V(D, G), ``value_optimal`` V(D*, G), ``target`` -log 4 + 2 JSD, and
    ``gap`` |V(D, G) - target|; errors are |D - D*| over ``mask``."""

    x: np.ndarray
    real_density: np.ndarray  # p
    fake_density: np.ndarray  # q
    d: np.ndarray  # sigmoid of the trained logit, 0..1
    d_star: np.ndarray  # p / (p + q), 0..1
    mask: np.ndarray  # p + q > MASK_FRACTION * max(p + q)
    max_abs_error: float
    mean_abs_error: float
    value: float
    value_optimal: float
    jsd: float  # nats, 0..log 2
    target: float
    gap: float
    seconds: float  # wall time of training and evaluation


def build_discriminator(width: int, depth: int) -> nn.Module:
    """A plain MLP ``[N, 1] -> [N]`` logits: ``depth`` hidden layers of ``width`` units with
    LeakyReLU(0.2), as the repository's MLP discriminator. Initialized from torch's global
    generator: seed it (or fork it) first."""
    layers: list[nn.Module] = []
    n_in = 1
    for _ in range(depth):
        layers += [nn.Linear(n_in, width), nn.LeakyReLU(0.2)]
        n_in = width
    layers += [nn.Linear(n_in, 1), nn.Flatten(0)]
    return nn.Sequential(*layers)


def sample_points(info: dict, n: int, rng: np.random.Generator) -> Tensor:
    """``n`` points ``[n, 1]`` float32 of the 1D mixture ``info`` (``gan_core.data.toy``)."""
    split = sample_mixture(
        np.asarray(info["modes"], dtype=np.float64),
        np.asarray(info["stds"], dtype=np.float64),
        np.asarray(info["weights"], dtype=np.float64),
        n,
        rng,
    )
    return torch.from_numpy(split.x)


def fit_discriminator(real_info: dict, cfg: OptimalDConfig) -> nn.Module:
    """Train D on real samples of ``real_info`` (label 1) against fakes of ``cfg``'s q
    (label 0) with the binary cross-entropy loss; fresh samples every step. Deterministic
    given ``cfg.seed`` on the CPU; torch's global random state is left as it was."""
    fake_info = cfg.fake_info()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        disc = build_discriminator(cfg.width, cfg.depth)
    rng = np.random.default_rng(cfg.seed)
    d_loss = LOSSES.get("ns").d_loss  # -E_p[log D] - E_q[log(1 - D)]: minus V(D, G)
    opt = torch.optim.Adam(disc.parameters(), lr=cfg.lr)
    # The cosine decay takes the step size to 0, so D settles instead of jittering around D*.
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.steps)
    for _ in range(cfg.steps):
        real = sample_points(real_info, cfg.batch_size, rng)
        fake = sample_points(fake_info, cfg.batch_size, rng)
        loss = d_loss(disc(real), disc(fake))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        schedule.step()
    return disc.eval()


def make_grid(real_info: dict, fake_info: dict, grid_size: int) -> np.ndarray:
    """``[grid_size]`` float64 uniform grid covering every component of both mixtures to
    ``GRID_REACH_STDS`` standard deviations."""
    lows, highs = [], []
    for info in (real_info, fake_info):
        means = np.asarray(info["modes"], dtype=np.float64)[:, 0]
        stds = np.asarray(info["stds"], dtype=np.float64)
        lows.append(np.min(means - GRID_REACH_STDS * stds))
        highs.append(np.max(means + GRID_REACH_STDS * stds))
    return np.linspace(min(lows), max(highs), grid_size)


def compute_optimal_d(real_density: np.ndarray, fake_density: np.ndarray) -> np.ndarray:
    """D* = p / (p + q) pointwise, 0..1; 1/2 where both densities are 0 (D* is undefined)."""
    total = real_density + fake_density
    safe = np.where(total > 0, total, 1.0)
    return np.where(total > 0, real_density / safe, 0.5)


def compute_value(
    x: np.ndarray, real_density: np.ndarray, fake_density: np.ndarray, d_logits: np.ndarray
) -> float:
    """V(D, G) = int p log D + int q log(1 - D), D = sigmoid(logit), by the trapezoid rule on
    the grid ``x`` ``[K]``; all arrays ``[K]``. log D = -softplus(-logit) stays finite where
    the sigmoid rounds to 0 or 1."""
    log_d = -np.logaddexp(0.0, -d_logits)
    log_one_minus_d = -np.logaddexp(0.0, d_logits)
    return float(np.trapezoid(real_density * log_d + fake_density * log_one_minus_d, x))


def compute_jsd(x: np.ndarray, real_density: np.ndarray, fake_density: np.ndarray) -> float:
    """JSD(p || q) = 1/2 KL(p || m) + 1/2 KL(q || m), m = (p + q) / 2, in nats (0..log 2), by
    the trapezoid rule on the grid ``x`` ``[K]``; 0 log 0 = 0."""
    mid = 0.5 * (real_density + fake_density)
    safe_mid = np.where(mid > 0, mid, 1.0)

    def half_kl(density: np.ndarray) -> np.ndarray:
        ratio = np.where(density > 0, density / safe_mid, 1.0)
        return 0.5 * density * np.log(ratio)

    return float(np.trapezoid(half_kl(real_density) + half_kl(fake_density), x))


def compare_to_optimum(disc: nn.Module, real_info: dict, cfg: OptimalDConfig) -> OptimalDResult:
    """Evaluate the discriminator ``disc`` (``[N, 1] -> [N]`` logits) against D* on the grid;
    ``seconds`` is left 0."""
    fake_info = cfg.fake_info()
    x = make_grid(real_info, fake_info, cfg.grid_size)
    p = mixture_density(x, real_info)
    q = mixture_density(x, fake_info)
    with torch.no_grad():
        logits = disc(torch.from_numpy(x).float()[:, None]).double().numpy()
    d = np.exp(-np.logaddexp(0.0, -logits))  # sigmoid, without overflow warnings
    d_star = compute_optimal_d(p, q)
    mask = p + q > MASK_FRACTION * np.max(p + q)
    errors = np.abs(d - d_star)[mask]
    # D*'s logit log p - log q; the logs of 0 densities give +-inf, which softplus handles.
    with np.errstate(divide="ignore"):
        d_star_logits = np.log(p) - np.log(q)
    jsd = compute_jsd(x, p, q)
    value = compute_value(x, p, q, logits)
    target = -math.log(4.0) + 2.0 * jsd
    return OptimalDResult(
        x=x,
        real_density=p,
        fake_density=q,
        d=d,
        d_star=d_star,
        mask=mask,
        max_abs_error=float(np.max(errors)),
        mean_abs_error=float(np.mean(errors)),
        value=value,
        value_optimal=compute_value(x, p, q, d_star_logits),
        jsd=jsd,
        target=target,
        gap=abs(value - target),
        seconds=0.0,
    )


def measure_optimal_discriminator(real_info: dict, cfg: OptimalDConfig) -> OptimalDResult:
    """Train D against ``cfg``'s fixed q on data ``real_info`` (a 1D mixture ``info`` as
    ``gan_core.data.toy``'s ``mix1d`` writes) and compare it with D* and -log 4 + 2 JSD."""
    start = time.perf_counter()
    disc = fit_discriminator(real_info, cfg)
    result = compare_to_optimum(disc, real_info, cfg)
    return dataclasses.replace(result, seconds=time.perf_counter() - start)
