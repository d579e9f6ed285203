"""Multilayer perceptrons, the original GAN networks (Goodfellow et al. 2014).

For points ``[N, D]`` and for flattened images. ReLU hidden layers; the generator's output
is linear for points and tanh for images, the discriminator's is one logit.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from gan_core.models import ARCHITECTURES, Architecture, ModelConfig


def _mlp(
    n_in: int, width: int, depth: int, n_out: int, activation: Callable[[], nn.Module]
) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(depth):
        layers += [nn.Linear(n_in if i == 0 else width, width), activation()]
    layers.append(nn.Linear(width if depth else n_in, n_out))
    return nn.Sequential(*layers)


class MLPGenerator(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.data_shape = cfg.data_shape
        self.is_image = len(cfg.data_shape) == 3
        n_out = math.prod(cfg.data_shape)
        self.net = _mlp(cfg.z_dim, cfg.width, cfg.depth, n_out, nn.ReLU)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.net(z)
        if self.is_image:
            x = torch.tanh(x)
        return x.view(len(z), *self.data_shape)


class MLPDiscriminator(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        n_in = math.prod(cfg.data_shape)
        self.net = _mlp(n_in, cfg.width, cfg.depth, 1, lambda: nn.LeakyReLU(0.2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.flatten(1)).squeeze(1)


ARCHITECTURES.register("mlp")(Architecture(MLPGenerator, MLPDiscriminator))
