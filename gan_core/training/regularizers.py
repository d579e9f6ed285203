"""Penalties added to the discriminator loss, and WGAN weight clipping.

A penalty is a pure function ``(disc, real, fake, streams) -> Tensor``: ``disc`` maps a batch
``[*lead, N, ...]`` to scores ``[*lead, N]``, ``real`` and ``fake`` are batches in the data's
value range, ``streams`` (:class:`gan_core.training.streams.RandomStreams`) makes the random
draws and says how many leading member dims the batches carry (``lead``: 0 for one model's
``[N, ...]``, 1 for a seed group's ``[S, N, ...]``). It returns the unweighted penalty
``[*lead]`` (a scalar for one model, one per seed); the caller multiplies it by the
variant's weight and adds it to the discriminator loss. Each penalty differentiates D with
``create_graph=True``, so it is itself differentiable w.r.t. D's parameters; ``real`` and
``fake`` are detached, so no gradient reaches the generator. Gradient norms are per sample,
over all of a sample's dimensions.

The input gradient of a sum of per-sample scores is the per-sample gradient only when samples
do not interact inside D: batch normalization in D couples them (Gulrajani et al. 2017,
Sec. 4, drop it from the critic for this reason). The seeds of a group never interact, so
one gradient of the sum over the group serves every seed.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from gan_core.registry import Registry
from gan_core.training.streams import RandomStreams

Tensor = torch.Tensor
Scores = Callable[[Tensor], Tensor]  # a batch [*lead, N, ...] -> D's scores [*lead, N]
Penalty = Callable[[Scores, Tensor, Tensor, RandomStreams], Tensor]

REGULARIZERS: Registry[Penalty] = Registry("regularizer")


def _input_grads(disc: Scores, x: Tensor, lead: int) -> Tensor:
    """grad_x D(x) ``[*lead, N, F]`` (flattened per sample) at a detached copy of ``x``
    ``[*lead, N, ...]``, kept in the graph so that a penalty on it can be backpropagated to
    D's parameters."""
    x = x.detach().requires_grad_(True)
    (grads,) = torch.autograd.grad(disc(x).sum(), x, create_graph=True)
    return grads.flatten(lead + 1)


def _per_sample_uniform(real: Tensor, streams: RandomStreams) -> Tensor:
    """U[0, 1] draws ``[*lead, N, 1, ..., 1]``: one per sample, broadcast over its other dims."""
    n_sample_dims = real.dim() - streams.lead - 1
    shape = (real.shape[streams.lead], *[1] * n_sample_dims)
    return streams.uniform(shape, real.dtype)


@REGULARIZERS.register("gradient_penalty")
def gradient_penalty(disc: Scores, real: Tensor, fake: Tensor, streams: RandomStreams) -> Tensor:
    """WGAN-GP (Gulrajani et al. 2017, Algorithm 1): E[(||grad_x D(x_hat)||_2 - 1)^2] with
    x_hat = eps * real + (1 - eps) * fake, eps ~ U[0, 1] drawn once per sample (the paper's
    weight: lambda = 10)."""
    eps = _per_sample_uniform(real, streams)
    x_hat = eps * real.detach() + (1.0 - eps) * fake.detach()
    return (_input_grads(disc, x_hat, streams.lead).norm(dim=-1) - 1.0).pow(2).mean(-1)


@REGULARIZERS.register("r1")
def r1(disc: Scores, real: Tensor, fake: Tensor, streams: RandomStreams) -> Tensor:
    """R1 (Mescheder et al. 2018, Eq. 9): E[||grad_x D(x)||_2^2] on real data. The paper's
    regularizer is gamma/2 times this, so the caller's weight is gamma/2."""
    del fake  # the common penalty signature; R1 looks at real data only
    return _input_grads(disc, real, streams.lead).pow(2).sum(dim=-1).mean(-1)


@REGULARIZERS.register("dragan")
def dragan(disc: Scores, real: Tensor, fake: Tensor, streams: RandomStreams) -> Tensor:
    """DRAGAN (Kodali et al. 2017): E[(||grad_x D(x_hat)||_2 - 1)^2] around the real data.

    As in the authors' reference implementation (the DRAGAN notebook of
    kodalinaveen3/DRAGAN): the perturbed batch is x_p = x + 0.5 * std(x) * u, u ~ U[0, 1] per
    element, std over the whole batch of each member (population std, as numpy's
    ``x.std()``); the gradient is taken at x_hat = x + alpha * (x_p - x), alpha ~ U[0, 1] per
    sample. The paper's weight: lambda = 10.
    """
    del fake  # the common penalty signature; DRAGAN perturbs real data only
    real = real.detach()
    member_dims = tuple(range(streams.lead, real.dim()))
    std = real.std(dim=member_dims, correction=0, keepdim=True)  # [*lead, 1, ..., 1]
    x_p = real + 0.5 * std * streams.uniform(real.shape[streams.lead :], real.dtype)
    alpha = _per_sample_uniform(real, streams)
    x_hat = real + alpha * (x_p - real)
    return (_input_grads(disc, x_hat, streams.lead).norm(dim=-1) - 1.0).pow(2).mean(-1)


@torch.no_grad()
def weight_clip(disc: nn.Module, c: float) -> None:
    """Clamp every parameter of ``disc`` to [-c, c] in place, after each critic step: WGAN's
    crude Lipschitz constraint (Arjovsky et al. 2017, Algorithm 1, c = 0.01). Not a penalty:
    it changes the weights instead of adding to the loss."""
    for param in disc.parameters():
        param.clamp_(-c, c)


@REGULARIZERS.register("drift")
def drift(disc: Scores, real: Tensor, fake: Tensor, streams: RandomStreams) -> Tensor:
    """Karras et al. 2018, Appendix A.1: E[D(x)^2] over the real batch, which keeps a
    Wasserstein critic's scores from drifting far from 0 (the paper's weight: 0.001)."""
    del fake  # the common signature
    return disc(real.detach()).pow(2).mean(-1)
