"""Multilayer perceptrons, the original GAN networks (Goodfellow et al. 2014).

For points ``[N, D]`` and for flattened images. ReLU hidden layers in the generator,
LeakyReLU(0.2) in the discriminator, each after the chosen normalization (none by default).
The generator's output is linear for points and tanh for images.

Leading dims pass through (``[*lead, N, ...]``): a seed group's stacked copy
(:mod:`gan_core.models.stacked`) runs these modules on ``[S, N, ...]`` batches.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from gan_core.models import ARCHITECTURES, Architecture, ModelConfig, NormFactory


def _hidden_layers(
    n_in: int, width: int, depth: int, norm: NormFactory, activation: Callable[[], nn.Module]
) -> list[nn.Module]:
    if depth < 1:
        raise ValueError(f"mlp needs depth >= 1 hidden layers, got {depth}")
    layers: list[nn.Module] = []
    for i in range(depth):
        layers += [nn.Linear(n_in if i == 0 else width, width), norm(width, False), activation()]
    return layers


class MLPGenerator(nn.Module):
    def __init__(self, cfg: ModelConfig, n_in: int, norm: NormFactory) -> None:
        super().__init__()
        self.data_shape = cfg.data_shape
        self.is_image = len(cfg.data_shape) == 3
        layers = _hidden_layers(n_in, cfg.width, cfg.depth, norm, nn.ReLU)
        self.net = nn.Sequential(*layers, nn.Linear(cfg.width, math.prod(cfg.data_shape)))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.net(z)
        if self.is_image:
            x = torch.tanh(x)
        return x.view(*z.shape[:-1], *self.data_shape)  # [*lead, N, *data_shape]


class MLPFeatures(nn.Module):
    def __init__(self, cfg: ModelConfig, in_shape: tuple[int, ...], norm: NormFactory) -> None:
        super().__init__()
        layers = _hidden_layers(
            math.prod(in_shape), cfg.disc_width, cfg.disc_depth, norm, _leaky_relu
        )
        self.net = nn.Sequential(*layers)
        self.n_sample_dims = len(in_shape)
        self.out_shape = (cfg.disc_width,)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.flatten(x.dim() - self.n_sample_dims))  # [*lead, N, width]


def _leaky_relu() -> nn.Module:
    return nn.LeakyReLU(0.2)


ARCHITECTURES.register("mlp")(Architecture(MLPGenerator, MLPFeatures))
