"""Normalization layers, chosen per network by name (``norm_g``, ``norm_d``).

Each entry is ``(channels, spatial) -> nn.Module``; ``spatial`` says the input is
``[N, C, H, W]`` rather than ``[N, C]``.
"""

from __future__ import annotations

import math

from torch import nn

from gan_core.models import NormFactory
from gan_core.models.equalized import PixelNorm
from gan_core.registry import Registry

NORMALIZATIONS: Registry[NormFactory] = Registry("normalization")


@NORMALIZATIONS.register("none")
def no_norm(channels: int, spatial: bool) -> nn.Module:
    del channels, spatial  # the common signature
    return nn.Identity()


@NORMALIZATIONS.register("batch")
def batch_norm(channels: int, spatial: bool) -> nn.Module:
    """Batch normalization (Ioffe & Szegedy 2015): statistics over the minibatch, so the
    samples of a batch interact (see ``gan_core.training.regularizers`` on gradient penalties)."""
    return nn.BatchNorm2d(channels) if spatial else nn.BatchNorm1d(channels)


@NORMALIZATIONS.register("layer")
def layer_norm(channels: int, spatial: bool) -> nn.Module:
    """Layer normalization (Ba et al. 2016) over all of a sample's features; the critic
    normalization Gulrajani et al. 2017 recommend with a gradient penalty."""
    return nn.GroupNorm(1, channels) if spatial else nn.LayerNorm(channels)


@NORMALIZATIONS.register("instance")
def instance_norm(channels: int, spatial: bool) -> nn.Module:
    """Instance normalization (Ulyanov et al. 2016): per sample and channel over H x W."""
    if not spatial:
        raise ValueError("normalization 'instance' needs feature maps [N, C, H, W], not vectors")
    return nn.GroupNorm(channels, channels)


@NORMALIZATIONS.register("group")
def group_norm(channels: int, spatial: bool) -> nn.Module:
    """Group normalization (Wu & He 2018) with 32 groups, or the largest count dividing
    ``channels`` when it has fewer."""
    del spatial  # GroupNorm takes [N, C] and [N, C, H, W] alike
    return nn.GroupNorm(math.gcd(32, channels), channels)


@NORMALIZATIONS.register("pixel")
def pixel_norm(channels: int, spatial: bool) -> nn.Module:
    """Pixelwise feature normalization (Karras et al. 2018, Sec. 4.2): each pixel's feature
    vector to unit root mean square; no statistics, no parameters, no batch coupling."""
    del channels, spatial  # the same on [N, C] and [N, C, H, W]
    return PixelNorm()
