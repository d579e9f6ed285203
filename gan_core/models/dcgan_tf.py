"""The DCGAN of Taehoon Kim's DCGAN-tensorflow, as PacGAN (Lin et al. 2018, Table 2; released
code ``stacked_MNIST_experiments/VEEGAN_experiment/model.py``) and VEEGAN ran it on Stacked
MNIST. It differs from :mod:`gan_core.models.dcgan` (the seed guidelines' network) in its
5x5 kernels, its 4 stages at every resolution and its linear first generator layer.

Generator: a linear map of ``z`` to an ``8 width`` x s/16 x s/16 map (sides rounded up at
each halving: 28 -> 14 -> 7 -> 4 -> 2), batch norm and ReLU, then four 5x5 stride-2
transposed convolutions to ``4 width``, ``2 width``, ``width`` and the image's channels,
batch norm and ReLU between them, tanh at the end. Discriminator: four 5x5 stride-2
convolutions to ``width``, ``2 width``, ``4 width``, ``8 width`` channels, LeakyReLU(0.2),
batch norm on all but the first, then the shared linear head on the flattened map. Weights
start as in that code: convolutions from a normal truncated at 2 std, transposed
convolutions and linear maps from N(0, 0.02^2), biases 0.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from gan_core.models import ARCHITECTURES, Architecture, ModelConfig, NormFactory

INIT_STD = 0.02
N_STAGES = 4
KERNEL = 5


def sides(cfg: ModelConfig) -> list[int]:
    """The feature map's side after each halving, from the image's: 28 -> [28, 14, 7, 4, 2]."""
    shape = cfg.data_shape
    if len(shape) != 3 or shape[1] != shape[2] or shape[1] < 2**N_STAGES:
        raise ValueError(f"dcgan_tf needs square images of side >= 16, got shape {shape}")
    out = [shape[1]]
    for _ in range(N_STAGES):
        out.append(math.ceil(out[-1] / 2))
    return out


class DCGANTFGenerator(nn.Module):
    def __init__(self, cfg: ModelConfig, n_in: int, norm: NormFactory) -> None:
        super().__init__()
        size = sides(cfg)[::-1]  # [2, 4, 7, 14, 28]
        channels = [cfg.width * 2 ** (N_STAGES - 1 - i) for i in range(N_STAGES)]
        self.base = (channels[0], size[0], size[0])
        self.project = nn.Linear(n_in, math.prod(self.base))
        layers: list[nn.Module] = [norm(channels[0], True), nn.ReLU()]
        outs = [*channels[1:], cfg.data_shape[0]]
        for i, (c_in, c_out) in enumerate(zip(channels, outs, strict=True)):
            # stride 2 with "same" padding: side n -> 2n, trimmed to the target side
            extra = size[i + 1] - (2 * size[i] - 1)
            layers.append(nn.ConvTranspose2d(c_in, c_out, KERNEL, 2, KERNEL // 2, extra))
            layers += [norm(c_out, True), nn.ReLU()] if i < N_STAGES - 1 else [nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(self.project(z).view(len(z), *self.base))  # [N, C, H, W] in [-1, 1]


class DCGANTFFeatures(nn.Module):
    def __init__(self, cfg: ModelConfig, in_shape: tuple[int, ...], norm: NormFactory) -> None:
        super().__init__()
        channels = [cfg.disc_width * 2**i for i in range(N_STAGES)]
        layers: list[nn.Module] = []
        for i, (c_in, c_out) in enumerate(
            zip([in_shape[0], *channels[:-1]], channels, strict=True)
        ):
            layers.append(nn.Conv2d(c_in, c_out, KERNEL, 2, KERNEL // 2))
            layers += [norm(c_out, True)] if i > 0 else []
            layers.append(nn.LeakyReLU(0.2))
        self.net = nn.Sequential(*layers)
        side = sides(cfg)[-1]
        self.out_shape = (channels[-1], side, side)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)  # [N, 8 width, s/16, s/16]


def init_tf(module: nn.Module) -> None:
    """The released code's initialization (see the module docstring)."""
    for layer in module.modules():
        if isinstance(layer, nn.Conv2d):
            nn.init.trunc_normal_(layer.weight, std=INIT_STD, a=-2 * INIT_STD, b=2 * INIT_STD)
        elif isinstance(layer, nn.ConvTranspose2d | nn.Linear):
            nn.init.normal_(layer.weight, std=INIT_STD)
        else:
            continue
        if layer.bias is not None:
            nn.init.zeros_(layer.bias)


ARCHITECTURES.register("dcgan_tf")(
    Architecture(DCGANTFGenerator, DCGANTFFeatures, norm_g="batch", norm_d="batch", init=init_tf)
)
