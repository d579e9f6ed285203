"""GAN objectives as pure (discriminator loss, generator loss) pairs on logits.

Each loss is registered under the name ``params.yaml`` uses. ``d_loss(real_logits,
fake_logits)`` and ``g_loss(fake_logits)`` take the discriminator's raw scores ``[..., N]``
and return the loss to minimize ``[...]``: a scalar for one model's scores ``[N]``, one loss
per seed for a seed group's ``[S, N]`` (averages run over the last dim only, so a seed's loss
is what it would be alone); nothing here calls ``backward`` or logs.
``d_output`` maps logits to the value reported as D(x): a probability for the
classification losses (``minimax``, ``ns``, ``ml``, ``ns_label_smoothing``), the raw output
for the losses that never pass it through a sigmoid (``lsgan``, ``wasserstein``, ``hinge``).

Penalties on the discriminator (gradient penalty, R1, DRAGAN) and WGAN weight clipping are
not losses; they live in ``gan_core.training.regularizers``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import torch
import torch.nn.functional as F

from gan_core.registry import Registry

Tensor = torch.Tensor

# One-sided label smoothing (Salimans et al. 2016, Sec. 3.4): the discriminator's target for
# real samples; fake samples keep target 0.
SMOOTH_REAL_TARGET = 0.9


@dataclasses.dataclass(frozen=True)
class Loss:
    """``wasserstein_estimate``: E[D(x)] - E[D(G(z))] estimates the Wasserstein distance
    (up to the critic's Lipschitz constant), so the loop logs it."""

    d_loss: Callable[[Tensor, Tensor], Tensor]
    g_loss: Callable[[Tensor], Tensor]
    d_output: Callable[[Tensor], Tensor] = torch.sigmoid
    wasserstein_estimate: bool = False


LOSSES: Registry[Loss] = Registry("loss")


def identity(logits: Tensor) -> Tensor:
    """The raw discriminator output, for losses whose D(x) is not a probability."""
    return logits


# Classification losses: D(x) = sigmoid(logit). log D = -softplus(-logit) and
# log(1 - D) = -softplus(logit) stay finite where log(sigmoid(.)) underflows to -inf.


def bce_d_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """-E[log D(x)] - E[log(1 - D(G(z)))], D = sigmoid(logit) (Goodfellow et al. 2014)."""
    return F.softplus(-real_logits).mean(-1) + F.softplus(fake_logits).mean(-1)


def minimax_g_loss(fake_logits: Tensor) -> Tensor:
    """E[log(1 - D(G(z)))]: the saturating generator cost of the original minimax game."""
    return -F.softplus(fake_logits).mean(-1)


def non_saturating_g_loss(fake_logits: Tensor) -> Tensor:
    """-E[log D(G(z))] (Goodfellow et al. 2014, Sec. 3): strong gradients when D wins."""
    return F.softplus(-fake_logits).mean(-1)


def maximum_likelihood_g_loss(fake_logits: Tensor) -> Tensor:
    """-1/2 E[exp(sigma^-1(D(G(z))))] = -1/2 E[exp(logit)] (Goodfellow 2016, NIPS tutorial,
    Sec. 3.2.3): with an optimal D, its expected gradient is that of KL(p_data || p_g).
    Unbounded below: ``exp`` overflows to inf for logits above ~88 in float32."""
    return -0.5 * torch.exp(fake_logits).mean(-1)


def label_smoothing_d_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """Binary cross-entropy with target ``SMOOTH_REAL_TARGET`` (0.9) for real and 0 for fake:
    one-sided label smoothing (Salimans et al. 2016, Sec. 3.4).
    -E[t log D(x) + (1 - t) log(1 - D(x))] - E[log(1 - D(G(z)))], D = sigmoid(logit)."""
    t = SMOOTH_REAL_TARGET
    real_term = t * F.softplus(-real_logits) + (1.0 - t) * F.softplus(real_logits)
    return real_term.mean(-1) + F.softplus(fake_logits).mean(-1)


# Losses on the raw output D(x) = logit, no sigmoid.


def least_squares_d_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """1/2 E[(D(x) - 1)^2] + 1/2 E[D(G(z))^2]: LSGAN with a=0, b=1 (Mao et al. 2017)."""
    return 0.5 * (real_logits - 1.0).pow(2).mean(-1) + 0.5 * fake_logits.pow(2).mean(-1)


def least_squares_g_loss(fake_logits: Tensor) -> Tensor:
    """1/2 E[(D(G(z)) - 1)^2]: LSGAN with c=1 (Mao et al. 2017)."""
    return 0.5 * (fake_logits - 1.0).pow(2).mean(-1)


def wasserstein_d_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """E[D(G(z))] - E[D(x)]: the critic's estimate of -W(p_data, p_g) to minimize (Arjovsky
    et al. 2017). Only an estimate when D is kept Lipschitz: weight clipping or a gradient
    penalty, see ``gan_core.training.regularizers``."""
    return fake_logits.mean(-1) - real_logits.mean(-1)


def hinge_d_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """E[relu(1 - D(x))] + E[relu(1 + D(G(z)))] (Lim & Ye 2017; Miyato et al. 2018)."""
    return F.relu(1.0 - real_logits).mean(-1) + F.relu(1.0 + fake_logits).mean(-1)


def critic_g_loss(fake_logits: Tensor) -> Tensor:
    """-E[D(G(z))]: the generator loss of WGAN (Arjovsky et al. 2017) and of the hinge loss
    (Lim & Ye 2017; Miyato et al. 2018)."""
    return -fake_logits.mean(-1)


LOSSES.register("minimax")(Loss(bce_d_loss, minimax_g_loss))
LOSSES.register("ns")(Loss(bce_d_loss, non_saturating_g_loss))
LOSSES.register("ml")(Loss(bce_d_loss, maximum_likelihood_g_loss))
LOSSES.register("ns_label_smoothing")(Loss(label_smoothing_d_loss, non_saturating_g_loss))
LOSSES.register("lsgan")(Loss(least_squares_d_loss, least_squares_g_loss, identity))
LOSSES.register("wasserstein")(Loss(wasserstein_d_loss, critic_g_loss, identity, True))
LOSSES.register("hinge")(Loss(hinge_d_loss, critic_g_loss, identity))
