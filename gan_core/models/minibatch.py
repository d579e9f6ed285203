"""Layers that let the discriminator look across the minibatch, against mode collapse.

Each entry of ``MINIBATCH_LAYERS`` is ``in_shape -> nn.Module``: the module maps the
discriminator's features ``[N, *in_shape]`` to ``[N, *out_shape]`` and has ``out_shape``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from gan_core.registry import Registry

MINIBATCH_LAYERS: Registry = Registry("minibatch layer")


@MINIBATCH_LAYERS.register("minibatch_std")
class MinibatchStd(nn.Module):
    """Minibatch standard deviation (Karras et al. 2018, Sec. 3): the standard deviation of
    each feature at each location over the batch, averaged to one number, appended as one
    constant channel (for vectors ``[N, C]``, one feature)."""

    def __init__(self, in_shape: tuple[int, ...]) -> None:
        super().__init__()
        self.out_shape = (in_shape[0] + 1, *in_shape[1:])

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        std = (h.var(dim=0, unbiased=False) + 1e-8).sqrt().mean()  # scalar
        return torch.cat([h, std.expand(len(h), 1, *h.shape[2:])], dim=1)


@MINIBATCH_LAYERS.register("minibatch_discrimination")
class MinibatchDiscrimination(nn.Module):
    """Minibatch discrimination (Salimans et al. 2016, Sec. 3.2). Features ``f`` ``[N, A]``
    (flattened) are projected by a learned tensor ``T`` ``[A, B, C]`` to ``M`` ``[N, B, C]``;
    ``o(x_i)_b = sum_j exp(-||M_i,b - M_j,b||_1)`` over the whole batch (j = i included, as in
    the paper) is appended: output ``[N, A + B]``."""

    def __init__(self, in_shape: tuple[int, ...], n_kernels: int = 16, kernel_dim: int = 5) -> None:
        super().__init__()
        n_in = math.prod(in_shape)
        self.T = nn.Parameter(torch.randn(n_in, n_kernels * kernel_dim) * 0.1)
        self.n_kernels, self.kernel_dim = n_kernels, kernel_dim
        self.out_shape = (n_in + n_kernels,)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        f = h.flatten(1)
        m = (f @ self.T).view(len(f), self.n_kernels, self.kernel_dim).transpose(0, 1)  # [B, N, C]
        l1 = torch.cdist(m, m, p=1.0)  # [B, N, N]: ||M_i,b - M_j,b||_1
        return torch.cat([f, torch.exp(-l1).sum(dim=2).T], dim=1)
