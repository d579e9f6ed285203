"""Optimizers by name: ``(params, lr, betas) -> torch.optim.Optimizer``."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch

from gan_core.registry import Registry

Parameters = Iterable[torch.nn.Parameter]
OptimizerFactory = Callable[[Parameters, float, tuple[float, ...]], torch.optim.Optimizer]
OPTIMIZERS: Registry[OptimizerFactory] = Registry("optimizer")


@OPTIMIZERS.register("adam")
def adam(params: Parameters, lr: float, betas: tuple[float, ...]) -> torch.optim.Optimizer:
    """Adam (Kingma & Ba 2015); DCGAN's choice with betas (0.5, 0.999) (Radford et al. 2015).
    PyTorch's fused kernel: one update for all parameters, on the CPU as on a GPU; for the
    small networks of the CPU profile it halves the cost of a training step."""
    return torch.optim.Adam(params, lr=lr, betas=tuple(betas), fused=True)


@OPTIMIZERS.register("rmsprop")
def rmsprop(params: Parameters, lr: float, betas: tuple[float, ...]) -> torch.optim.Optimizer:
    """RMSProp without momentum, WGAN's choice (Arjovsky et al. 2017, Algorithm 1, lr 5e-5):
    momentum-based optimizers made the clipped critic unstable. ``betas`` do not apply."""
    del betas  # the common signature; RMSProp has no momentum terms here
    return torch.optim.RMSprop(params, lr=lr)
