"""Sizing of convolutional architectures by image resolution, shared by the architectures
that grow (or shrink) a square feature map by 2x per stage from a small base map."""

from __future__ import annotations

import math

from gan_core.models import ModelConfig


def resolution_stages(cfg: ModelConfig, arch_name: str) -> tuple[int, int]:
    """(side of the base feature map, number of 2x up/down-sampling stages) for square
    images ``cfg.data_shape`` ``(C, H, W)`` with ``H = W = base * 2^k``: base 7 for sides
    divisible by 7 (28 -> (7, 2)), else 4 (32 -> (4, 3), 64 -> (4, 4)). ``arch_name`` names
    the architecture in the ValueError raised for any other shape."""
    shape = cfg.data_shape
    if len(shape) != 3 or shape[1] != shape[2]:
        raise ValueError(f"{arch_name} needs square images (C, H, W), got shape {shape}")
    side = shape[1]
    base = 7 if side % 7 == 0 else 4
    n_stages = round(math.log2(side / base))
    if n_stages < 1 or base * 2**n_stages != side:
        raise ValueError(
            f"{arch_name} supports sides 28, 32, 64, ... (7 or 4 times 2^k), got shape {shape}"
        )
    return base, n_stages


def level_channels(width: int, n_levels: int) -> list[int]:
    """Channels per resolution level of the Karras et al. networks, base first: ``width`` at
    the top, doubling per level down, at most ``8 * width``."""
    return [min(width * 2 ** (n_levels - 1 - level), 8 * width) for level in range(n_levels)]
