"""Optimizers by name: ``(params, lr, betas, fused) -> torch.optim.Optimizer``.

``fused``: one kernel updating all parameters at once where the optimizer has one (fast for
small networks). Its rounding depends on where an element sits in its tensor (vectorized
body or scalar tail), so a seed group (stacked ``[S, ...]`` parameters) asks for the
per-operation implementation, whose result for an element does not depend on its position:
each seed's update is then the same whatever seeds share its group.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch

from gan_core.registry import Registry

Parameters = Iterable[torch.nn.Parameter]
OptimizerFactory = Callable[[Parameters, float, tuple[float, ...], bool], torch.optim.Optimizer]
OPTIMIZERS: Registry[OptimizerFactory] = Registry("optimizer")


@OPTIMIZERS.register("adam")
def adam(
    params: Parameters, lr: float, betas: tuple[float, ...], fused: bool
) -> torch.optim.Optimizer:
    """Adam (Kingma & Ba 2015); DCGAN's choice with betas (0.5, 0.999) (Radford et al. 2015).
    ``fused``: PyTorch's fused kernel, one update for all parameters, on the CPU as on a GPU;
    for the small networks of the CPU profile it halves the cost of a training step."""
    if fused:
        return torch.optim.Adam(params, lr=lr, betas=tuple(betas), fused=True)
    return torch.optim.Adam(params, lr=lr, betas=tuple(betas), foreach=True)


@OPTIMIZERS.register("rmsprop")
def rmsprop(
    params: Parameters, lr: float, betas: tuple[float, ...], fused: bool
) -> torch.optim.Optimizer:
    """RMSProp without momentum, WGAN's choice (Arjovsky et al. 2017, Algorithm 1, lr 5e-5):
    momentum-based optimizers made the clipped critic unstable. ``betas`` do not apply, and
    there is no fused kernel: always the per-operation implementation."""
    del betas, fused  # the common signature; RMSProp has no momentum terms here
    return torch.optim.RMSprop(params, lr=lr)
