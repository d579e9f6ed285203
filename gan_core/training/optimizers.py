"""Optimizers by name: ``(params, lr, betas, stacked) -> torch.optim.Optimizer``.

``stacked``: the parameters are a seed group's ``[S, ...]`` stacks (see
:mod:`gan_core.models.stacked`), and each seed's slice must be updated exactly as it would
be alone, whatever its position in the stack. A fused kernel rounds an element differently
in its vectorized body and in its scalar tail, so it is used only for stacks whose slices
fill whole vectors (sizes a multiple of 64 elements, on one thread); other stacks (biases
of one or two units) get the per-operation implementation, whose rounding does not depend
on an element's position.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch

from gan_core.registry import Registry

Parameters = Iterable[torch.nn.Parameter]
OptimizerFactory = Callable[[Parameters, float, tuple[float, ...], bool], torch.optim.Optimizer]
VECTOR_ALIGNED = 64  # elements: a multiple of any CPU vector width
OPTIMIZERS: Registry[OptimizerFactory] = Registry("optimizer")


@OPTIMIZERS.register("adam")
def adam(
    params: Parameters, lr: float, betas: tuple[float, ...], stacked: bool
) -> torch.optim.Optimizer:
    """Adam (Kingma & Ba 2015); DCGAN's choice with betas (0.5, 0.999) (Radford et al. 2015).
    PyTorch's fused kernel: one update for all parameters, on the CPU as on a GPU; for the
    small networks of the CPU profile it halves the cost of a training step (for a seed
    group: on the stacks whose slices fill whole vectors, see the module's docstring)."""
    params = list(params)
    if not stacked:
        return torch.optim.Adam(params, lr=lr, betas=tuple(betas), fused=True)
    aligned = [p for p in params if p[0].numel() % VECTOR_ALIGNED == 0]
    rest = [p for p in params if p[0].numel() % VECTOR_ALIGNED]
    groups = [{"params": aligned, "fused": True}, {"params": rest, "foreach": True}]
    groups = [group for group in groups if group["params"]]
    return torch.optim.Adam(groups, lr=lr, betas=tuple(betas))


@OPTIMIZERS.register("rmsprop")
def rmsprop(
    params: Parameters, lr: float, betas: tuple[float, ...], stacked: bool
) -> torch.optim.Optimizer:
    """RMSProp without momentum, WGAN's choice (Arjovsky et al. 2017, Algorithm 1, lr 5e-5):
    momentum-based optimizers made the clipped critic unstable. ``betas`` do not apply; the
    per-operation implementation serves one model and a seed group alike."""
    del betas, stacked  # the common signature; RMSProp has no momentum terms here
    return torch.optim.RMSprop(params, lr=lr)
