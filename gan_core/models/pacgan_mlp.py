"""The 2D-mixture networks of PacGAN (Lin et al. 2018, Sec. 5.1 and Appendix; released code
``synthetic_data_experiments/2DRing_GAN&PacGAN``), which follow VEEGAN's setup.

Generator: ``depth`` hidden layers of ``width`` ReLU units, each linear map without bias
followed by batch normalization (the paper: 4 x 400), and a linear output layer with bias.
Discriminator: ``depth_d`` maxout layers (Goodfellow et al. 2013) of ``width_d`` units with
:data:`MAXOUT_PIECES` pieces each (the paper: 3 x 200, 5 pieces), then the shared linear
head. Every weight is drawn from N(0, :data:`INIT_STD`^2) and every bias starts at 0, as in
the released code.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from gan_core.models import ARCHITECTURES, Architecture, ModelConfig, NormFactory

MAXOUT_PIECES = 5
INIT_STD = 0.02


class Maxout(nn.Module):
    """``[N, n_in] -> [N, n_out]``: the largest of ``pieces`` affine maps, unit by unit,
    ``h_j = max_k (W_k x + b_k)_j``."""

    def __init__(self, n_in: int, n_out: int, pieces: int) -> None:
        super().__init__()
        self.n_out, self.pieces = n_out, pieces
        self.linear = nn.Linear(n_in, n_out * pieces)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x).view(len(x), self.n_out, self.pieces).amax(dim=2)


def init_gaussian(module: nn.Module) -> None:
    """Every linear weight ~ N(0, INIT_STD^2), every bias 0 (the output head's too)."""
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            nn.init.normal_(layer.weight, std=INIT_STD)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)


class PacGANGenerator(nn.Module):
    def __init__(self, cfg: ModelConfig, n_in: int, norm: NormFactory) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for i in range(cfg.depth):
            layers += [
                nn.Linear(n_in if i == 0 else cfg.width, cfg.width, bias=False),
                norm(cfg.width, False),
                nn.ReLU(),
            ]
        self.net = nn.Sequential(*layers, nn.Linear(cfg.width, math.prod(cfg.data_shape)))
        self.data_shape = cfg.data_shape

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(len(z), *self.data_shape)  # [N, D], unbounded


class MaxoutFeatures(nn.Module):
    def __init__(self, cfg: ModelConfig, in_shape: tuple[int, ...], norm: NormFactory) -> None:
        super().__init__()
        width, n_in = cfg.disc_width, math.prod(in_shape)
        layers: list[nn.Module] = []
        for i in range(cfg.disc_depth):
            layers += [Maxout(n_in if i == 0 else width, width, MAXOUT_PIECES), norm(width, False)]
        self.net = nn.Sequential(*layers)
        self.out_shape = (width,)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.flatten(1))  # [N, width_d]


ARCHITECTURES.register("pacgan_mlp")(
    Architecture(PacGANGenerator, MaxoutFeatures, norm_g="batch", norm_d="none", init=init_gaussian)
)
