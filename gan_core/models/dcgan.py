"""DCGAN (Radford et al. 2015), following the seed guidelines table exactly.

Generator: strided transposed convolutions (no pooling), batch norm on every layer except
the output, ReLU hidden activations, tanh output. Discriminator: strided convolutions, batch
norm on every layer except the first, LeakyReLU(0.2). Sized by resolution: 28x28 images start
from a 7x7 map, 32 and 64 from 4x4; each stage doubles the side and halves the channels.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from gan_core.models import ARCHITECTURES, Architecture, ModelConfig


def _stages(cfg: ModelConfig) -> tuple[int, int]:
    """(side of the first feature map, number of 2x up/down-sampling stages)."""
    channels, height, width = cfg.data_shape
    if height != width:
        raise ValueError(f"dcgan needs square images, got {height}x{width}")
    base = 7 if height % 7 == 0 else 4
    n_stages = round(math.log2(height / base))
    if base * 2**n_stages != height or n_stages < 1:
        raise ValueError(f"dcgan supports sides 28, 32, 64, ... (7 or 4 times 2^k), got {height}")
    return base, n_stages


class DCGANGenerator(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        base, n_stages = _stages(cfg)
        channels = [cfg.width * 2 ** (n_stages - 1 - i) for i in range(n_stages)]
        layers: list[nn.Module] = [
            # z as a 1x1 map -> [N, channels[0], base, base]
            nn.ConvTranspose2d(cfg.z_dim, channels[0], base, 1, 0, bias=False),
            nn.BatchNorm2d(channels[0]),
            nn.ReLU(),
        ]
        for c_in, c_out in zip(channels[:-1], channels[1:], strict=True):
            layers += [
                nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False),
                nn.BatchNorm2d(c_out),
                nn.ReLU(),
            ]
        layers += [nn.ConvTranspose2d(channels[-1], cfg.data_shape[0], 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z[:, :, None, None])  # [N, C, H, W] in [-1, 1]


class DCGANDiscriminator(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        base, n_stages = _stages(cfg)
        channels = [cfg.width * 2**i for i in range(n_stages)]
        layers: list[nn.Module] = [
            nn.Conv2d(cfg.data_shape[0], channels[0], 4, 2, 1),
            nn.LeakyReLU(0.2),
        ]
        for c_in, c_out in zip(channels[:-1], channels[1:], strict=True):
            layers += [
                nn.Conv2d(c_in, c_out, 4, 2, 1, bias=False),
                nn.BatchNorm2d(c_out),
                nn.LeakyReLU(0.2),
            ]
        self.features = nn.Sequential(*layers)
        self.head = nn.Conv2d(channels[-1], 1, base, 1, 0)  # [N, C, base, base] -> [N, 1, 1, 1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)).flatten()


ARCHITECTURES.register("dcgan")(Architecture(DCGANGenerator, DCGANDiscriminator))
