"""Progressive growing of GANs (Karras et al. 2018), ``arch: progan``.

Both networks grow from the base map (4x4; 7x7 for 28-pixel images, see
:func:`gan_core.models.sizing.resolution_stages`) to the data's resolution, one level per
phase. A new level fades in: G's output is ``(1 - alpha) * upsample(toRGB(h))`` of the level
below blended with ``alpha * toRGB(block(h))`` of the new block, and D's input path the
mirror image, alpha rising linearly from 0 to 1. The schedule counts training images
(``growth_images``, a variant's option, see :func:`growth`): the base level for that many,
then each level fades in over that many and is trained alone for that many more;
``growth_images: 0`` trains the fully grown networks from the start.

The networks always speak the data's resolution, so the training loop, the metrics and the
samples need nothing of the growth: G upsamples a low-resolution output to full size
(nearest neighbour) and D average-pools its input down to the current level, which turns
G's upsampled output back into exactly the low-resolution image and shows D the real data
at the same resolution (the paper's downsampled training images).

Layers as in the paper: equalized learning rate everywhere (:mod:`gan_core.models.equalized`),
pixelwise feature normalization in G (``norm_g: pixel``), leaky ReLU (0.2), a minibatch
standard deviation channel before D's last convolution, nothing in D that couples samples
(WGAN-GP's penalty, the paper's loss, needs that). Channels: see
:func:`gan_core.models.sizing.level_channels`. The images trained so far are a
buffer of each network (``images_seen``), so checkpoints and snapshots carry the growth.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gan_core.models import ARCHITECTURES, Architecture, ModelConfig, NormFactory
from gan_core.models.equalized import LEAKY_GAIN, EqualizedConv2d, EqualizedLinear, PixelNorm
from gan_core.models.minibatch import MinibatchStd
from gan_core.models.sizing import level_channels, resolution_stages

Tensor = torch.Tensor


def growth(images: int, growth_images: int, n_levels: int) -> tuple[int, float]:
    """(level, alpha) after ``images`` training images: level 0 is the base map, level
    ``n_levels - 1`` the full resolution; alpha in (0, 1) while a level fades in, else 1.
    Phases of ``growth_images`` each: base; fade in level 1; level 1 alone; fade in level 2;
    ...; fully grown after ``2 (n_levels - 1) growth_images`` images."""
    if growth_images <= 0:
        return n_levels - 1, 1.0
    phase = images // growth_images
    if phase >= 2 * (n_levels - 1):
        return n_levels - 1, 1.0
    level = (phase + 1) // 2
    alpha = (images - phase * growth_images) / growth_images if phase % 2 else 1.0
    return level, alpha


class Growing(nn.Module):
    """A network that grows over ``n_levels`` levels on :func:`growth`'s schedule."""

    def __init__(self, growth_images: int, n_levels: int) -> None:
        super().__init__()
        self.growth_images, self.n_levels = growth_images, n_levels
        self.register_buffer("images_seen", torch.zeros((), dtype=torch.int64))

    def level_alpha(self) -> tuple[int, float]:
        return growth(int(self.images_seen), self.growth_images, self.n_levels)


def growing_parts(*nets: nn.Module) -> list[Growing]:
    """The parts of ``nets`` that grow: the training loop sets their ``images_seen``."""
    return [module for net in nets for module in net.modules() if isinstance(module, Growing)]


def _lrelu() -> nn.Module:
    return nn.LeakyReLU(0.2)


def _conv_pair(c_in: int, c_mid: int, c_out: int, norm: NormFactory) -> list[nn.Module]:
    """Two 3x3 equalized convolutions, each followed by leaky ReLU and ``norm``."""
    return [
        EqualizedConv2d(c_in, c_mid, 3), _lrelu(), norm(c_mid, True),
        EqualizedConv2d(c_mid, c_out, 3), _lrelu(), norm(c_out, True),
    ]  # fmt: skip


class ProGANGenerator(Growing):
    def __init__(self, cfg: ModelConfig, n_in: int, norm: NormFactory) -> None:
        base, n_stages = resolution_stages(cfg, "progan")
        super().__init__(cfg.growth_images, n_stages + 1)
        self.base = base
        channels = level_channels(cfg.width, self.n_levels)
        self.c0 = channels[0]
        self.latent_norm = PixelNorm()
        # The paper's code gives the dense base layer gain sqrt(2) / 4.
        self.dense = EqualizedLinear(n_in, self.c0 * self.base**2, gain=LEAKY_GAIN / 4)
        self.base_block = nn.Sequential(
            _lrelu(), norm(self.c0, True), EqualizedConv2d(self.c0, self.c0, 3), _lrelu(),
            norm(self.c0, True),
        )  # fmt: skip
        self.blocks = nn.ModuleList(
            nn.Sequential(
                nn.Upsample(scale_factor=2, mode="nearest"), *_conv_pair(c_in, c_out, c_out, norm)
            )
            for c_in, c_out in zip(channels[:-1], channels[1:], strict=True)
        )
        self.to_rgb = nn.ModuleList(
            EqualizedConv2d(c, cfg.data_shape[0], 1, gain=1.0) for c in channels
        )

    def forward(self, z: Tensor) -> Tensor:
        level, alpha = self.level_alpha()
        h = self.dense(self.latent_norm(z)).view(-1, self.c0, self.base, self.base)
        h = self.base_block(h)
        for block in self.blocks[: max(level - 1, 0)]:
            h = block(h)
        if level == 0:
            rgb = self.to_rgb[0](h)
        else:
            rgb = self.to_rgb[level](self.blocks[level - 1](h))
            if alpha < 1.0:
                below = F.interpolate(self.to_rgb[level - 1](h), scale_factor=2, mode="nearest")
                rgb = torch.lerp(below, rgb, alpha)
        scale = 2 ** (self.n_levels - 1 - level)
        if scale > 1:
            rgb = F.interpolate(rgb, scale_factor=scale, mode="nearest")
        return rgb  # [N, C, H, W]: linear output, as the paper's (sampling clips to the range)


class ProGANFeatures(Growing):
    def __init__(self, cfg: ModelConfig, in_shape: tuple[int, ...], norm: NormFactory) -> None:
        base, n_stages = resolution_stages(cfg, "progan")
        super().__init__(cfg.growth_images, n_stages + 1)
        self.base = base
        channels = level_channels(cfg.disc_width, self.n_levels)
        c0 = channels[0]
        self.from_rgb = nn.ModuleList(EqualizedConv2d(in_shape[0], c, 1) for c in channels)
        self.blocks = nn.ModuleList(
            nn.Sequential(*_conv_pair(c_in, c_in, c_out, norm), nn.AvgPool2d(2))
            # blocks[level - 1] takes level's resolution down to level - 1's
            for c_in, c_out in zip(channels[1:], channels[:-1], strict=True)
        )
        self.minibatch_std = MinibatchStd((c0, self.base, self.base))
        self.last = nn.Sequential(
            EqualizedConv2d(c0 + 1, c0, 3), _lrelu(), nn.Flatten(),
            EqualizedLinear(c0 * self.base**2, c0), _lrelu(),
        )  # fmt: skip
        self.out_shape = (c0,)

    def forward(self, x: Tensor) -> Tensor:
        level, alpha = self.level_alpha()
        scale = 2 ** (self.n_levels - 1 - level)
        if scale > 1:
            x = F.avg_pool2d(x, scale)
        h = F.leaky_relu(self.from_rgb[level](x), 0.2)
        if level > 0:
            h = self.blocks[level - 1](h)
            if alpha < 1.0:
                below = F.leaky_relu(self.from_rgb[level - 1](F.avg_pool2d(x, 2)), 0.2)
                h = torch.lerp(below, h, alpha)
            for below_level in range(level - 1, 0, -1):
                h = self.blocks[below_level - 1](h)
        return self.last(self.minibatch_std(h))  # [N, c0]


ARCHITECTURES.register("progan")(
    Architecture(ProGANGenerator, ProGANFeatures, norm_g="pixel", norm_d="none")
)
