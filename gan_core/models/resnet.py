"""The ResNet generator and discriminator of SNGAN (Miyato et al. 2018, "Spectral
Normalization for Generative Adversarial Networks", Appendix B, Table 4: the CIFAR-10 32x32
ResNet), built from the residual blocks of WGAN-GP (Gulrajani et al. 2017, "Improved Training
of Wasserstein GANs").

Generator: a dense layer from z to a base x base map, one up-sampling residual block per
stage (nearest-neighbour 2x), then norm, ReLU, a 3x3 convolution to the data channels and
tanh; batch norm by default. Discriminator: an "optimized" first down block (no activation
before its first convolution, which sees the raw image), further down blocks, two blocks that
keep the resolution, ReLU and global sum pooling; no normalization by default, since SNGAN's
regularizer is spectral normalization (``spectral_norm_d``). All blocks have ``width``
channels: Table 4 uses 256 for G and 128 for D.

Sized by resolution (:func:`gan_core.models.sizing.resolution_stages`): G starts from 4x4
(7x7 for 28x28 images) and upsamples once per stage; D downsamples one stage less, as in
Table 4 (32x32: down, down, plain, plain, ending at 8x8; 28x28 ends at 14x14). ``depth`` is
not used: the table fixes the block counts.
"""

from __future__ import annotations

import torch
from torch import nn

from gan_core.models import ARCHITECTURES, Architecture, ModelConfig, NormFactory
from gan_core.models.sizing import resolution_stages


def _conv3x3(c_in: int, c_out: int) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, 3, 1, 1)  # keeps H x W


class GeneratorBlock(nn.Module):
    """``[N, c_in, H, W] -> [N, c_out, 2H, 2W]``: norm, ReLU, 2x nearest-neighbour upsample,
    conv3x3, norm, ReLU, conv3x3; shortcut: upsample, conv1x1."""

    def __init__(self, c_in: int, c_out: int, norm: NormFactory) -> None:
        super().__init__()
        self.residual = nn.Sequential(
            norm(c_in, True),
            nn.ReLU(),
            nn.Upsample(scale_factor=2, mode="nearest"),
            _conv3x3(c_in, c_out),
            norm(c_out, True),
            nn.ReLU(),
            _conv3x3(c_out, c_out),
        )
        self.shortcut = nn.Sequential(
            nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c_in, c_out, 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.residual(x) + self.shortcut(x)


class FirstDiscriminatorBlock(nn.Module):
    """The "optimized" first block, ``[N, c_in, H, W] -> [N, c_out, H/2, W/2]``: conv3x3,
    norm, ReLU, conv3x3, 2x2 average pooling; shortcut: pooling, then conv1x1 (cheaper on
    the smaller map)."""

    def __init__(self, c_in: int, c_out: int, norm: NormFactory) -> None:
        super().__init__()
        self.residual = nn.Sequential(
            _conv3x3(c_in, c_out),
            norm(c_out, True),
            nn.ReLU(),
            _conv3x3(c_out, c_out),
            nn.AvgPool2d(2),
        )
        self.shortcut = nn.Sequential(nn.AvgPool2d(2), nn.Conv2d(c_in, c_out, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.residual(x) + self.shortcut(x)


class DiscriminatorBlock(nn.Module):
    """``[N, c_in, H, W] -> [N, c_out, H', W']``, ``H' = H/2`` when ``downsample`` else
    ``H``: norm, ReLU, conv3x3, norm, ReLU, conv3x3 (then 2x2 average pooling). Shortcut:
    conv1x1 (then pooling) when the shape changes, else the identity (as SNGAN's code)."""

    def __init__(self, c_in: int, c_out: int, norm: NormFactory, downsample: bool) -> None:
        super().__init__()
        pool: list[nn.Module] = [nn.AvgPool2d(2)] if downsample else []
        self.residual = nn.Sequential(
            norm(c_in, True),
            nn.ReLU(),
            _conv3x3(c_in, c_out),
            norm(c_out, True),
            nn.ReLU(),
            _conv3x3(c_out, c_out),
            *pool,
        )
        self.shortcut = (
            nn.Sequential(nn.Conv2d(c_in, c_out, 1), *pool)
            if downsample or c_in != c_out
            else nn.Identity()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.residual(x) + self.shortcut(x)


class ResNetGenerator(nn.Module):
    def __init__(self, cfg: ModelConfig, n_in: int, norm: NormFactory) -> None:
        super().__init__()
        base, n_stages = resolution_stages(cfg, "resnet")
        self.base_shape = (cfg.width, base, base)
        self.dense = nn.Linear(n_in, cfg.width * base * base)
        self.blocks = nn.Sequential(
            *[GeneratorBlock(cfg.width, cfg.width, norm) for _ in range(n_stages)]
        )
        self.to_data = nn.Sequential(
            norm(cfg.width, True), nn.ReLU(), _conv3x3(cfg.width, cfg.data_shape[0]), nn.Tanh()
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.dense(z).view(len(z), *self.base_shape)  # [N, width, base, base]
        h = self.blocks(h)  # [N, width, H, W]
        return self.to_data(h)  # [N, C, H, W] in [-1, 1]


class ResNetFeatures(nn.Module):
    def __init__(self, cfg: ModelConfig, in_shape: tuple[int, ...], norm: NormFactory) -> None:
        super().__init__()
        _, n_stages = resolution_stages(cfg, "resnet")
        ch = cfg.disc_width
        # The first block always halves the side; n_stages - 2 more down blocks (none at
        # 28x28) leave the map at twice the base side, 8x8 at 32x32 as in Table 4.
        blocks: list[nn.Module] = [FirstDiscriminatorBlock(in_shape[0], ch, norm)]
        blocks += [DiscriminatorBlock(ch, ch, norm, downsample=True) for _ in range(n_stages - 2)]
        blocks += [DiscriminatorBlock(ch, ch, norm, downsample=False) for _ in range(2)]
        self.blocks = nn.Sequential(*blocks)
        self.out_shape = (ch,)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.blocks(x))  # [N, width, h, w], >= 0
        # Global sum pooling (not mean): the paper's choice, the sum grows with h * w.
        return h.sum(dim=(2, 3))  # [N, width]


ARCHITECTURES.register("resnet")(
    Architecture(ResNetGenerator, ResNetFeatures, norm_g="batch", norm_d="none")
)
