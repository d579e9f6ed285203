"""DCGAN (Radford et al. 2015), following the seed guidelines table exactly.

Generator: strided transposed convolutions (no pooling), batch norm on every layer except
the output, ReLU hidden activations, tanh output. Discriminator: strided convolutions, batch
norm on every layer except the first, LeakyReLU(0.2), no fully connected hidden layers (its
output is the shared linear head on the last feature map). Sized by resolution: 28x28 images
start from a 7x7 map, 32 and 64 from 4x4; each stage doubles the side and halves the
channels. The normalization can be swapped per network (``norm_g``, ``norm_d``).
"""

from __future__ import annotations

import torch
from torch import nn

from gan_core.models import ARCHITECTURES, Architecture, ModelConfig, NormFactory
from gan_core.models.sizing import resolution_stages


class DCGANGenerator(nn.Module):
    def __init__(self, cfg: ModelConfig, n_in: int, norm: NormFactory) -> None:
        super().__init__()
        base, n_stages = resolution_stages(cfg, "dcgan")
        channels = [cfg.width * 2 ** (n_stages - 1 - i) for i in range(n_stages)]
        layers: list[nn.Module] = [
            # z as a 1x1 map -> [N, channels[0], base, base]
            nn.ConvTranspose2d(n_in, channels[0], base, 1, 0),
            norm(channels[0], True),
            nn.ReLU(),
        ]
        for c_in, c_out in zip(channels[:-1], channels[1:], strict=True):
            layers += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1), norm(c_out, True), nn.ReLU()]
        layers += [nn.ConvTranspose2d(channels[-1], cfg.data_shape[0], 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z[:, :, None, None])  # [N, C, H, W] in [-1, 1]


class DCGANFeatures(nn.Module):
    def __init__(self, cfg: ModelConfig, in_shape: tuple[int, ...], norm: NormFactory) -> None:
        super().__init__()
        base, n_stages = resolution_stages(cfg, "dcgan")
        channels = [cfg.disc_width * 2**i for i in range(n_stages)]
        layers: list[nn.Module] = [nn.Conv2d(in_shape[0], channels[0], 4, 2, 1), nn.LeakyReLU(0.2)]
        for c_in, c_out in zip(channels[:-1], channels[1:], strict=True):
            layers += [nn.Conv2d(c_in, c_out, 4, 2, 1), norm(c_out, True), nn.LeakyReLU(0.2)]
        self.net = nn.Sequential(*layers)
        self.out_shape = (channels[-1], base, base)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)  # [N, channels[-1], base, base]


ARCHITECTURES.register("dcgan")(
    Architecture(DCGANGenerator, DCGANFeatures, norm_g="batch", norm_d="batch")
)
