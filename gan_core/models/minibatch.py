"""Layers that let the discriminator look across the minibatch, against mode collapse.

Each entry of ``MINIBATCH_LAYERS`` is ``in_shape -> nn.Module``: the module maps the
discriminator's features ``[*lead, N, *in_shape]`` to ``[*lead, N, *out_shape]`` and has
``out_shape``. The batch is dim ``N``: leading dims (a seed group's seeds) never mix.
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
        self.n_dims = len(in_shape)
        self.out_shape = (in_shape[0] + 1, *in_shape[1:])

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        batch_dim = h.dim() - self.n_dims - 1
        std = (h.var(dim=batch_dim, unbiased=False) + 1e-8).sqrt()  # [*lead, *in_shape]
        std = std.mean(dim=tuple(range(batch_dim, std.dim())))  # [*lead]
        lead, n, spatial = h.shape[:batch_dim], h.shape[batch_dim], h.shape[batch_dim + 2 :]
        column = std.view(*lead, 1, 1, *[1] * len(spatial)).expand(*lead, n, 1, *spatial)
        return torch.cat([h, column], dim=batch_dim + 1)


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
        self.in_shape = in_shape
        self.out_shape = (n_in + n_kernels,)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        f = h.flatten(h.dim() - len(self.in_shape))  # [*lead, N, A]
        m = torch.matmul(f, self.T).unflatten(-1, (self.n_kernels, self.kernel_dim))
        o = _kernel_sums(m.transpose(-3, -2))  # [*lead, B, N]
        return torch.cat([f, o.transpose(-2, -1)], dim=-1)


def _kernel_sums(m: torch.Tensor) -> torch.Tensor:
    """``sum_j exp(-||m_i - m_j||_1)`` over the rows of ``m`` ``[*lead, B, N, C]`` ->
    ``[*lead, B, N]``. A seed group's members one at a time: one call on all of them works
    on ten times the pairs out of cache, measured slower than the members one by one (which
    compute the same numbers)."""
    if m.dim() == 3:
        return torch.exp(-torch.cdist(m, m, p=1.0)).sum(dim=-1)
    return torch.stack([_kernel_sums(member) for member in m])
