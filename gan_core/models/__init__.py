"""Generator/discriminator architectures, one per module, registered by name.

Every generator maps ``z`` ``[N, z_dim]`` (and labels ``[N]`` when conditional) to data in
the model's value range: points ``[N, D]``, or images ``[N, C, H, W]`` in [-1, 1] (tanh).
Every discriminator maps data (and labels) to logits ``[N]``, one unbounded score per sample.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from torch import nn

from gan_core.registry import Registry


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Network sizes. ``data_shape``: ``(D,)`` for points, ``(C, H, W)`` for images."""

    data_shape: tuple[int, ...]
    z_dim: int
    width: int
    depth: int = 2
    n_classes: int = 0


@dataclasses.dataclass(frozen=True)
class Architecture:
    generator: Callable[[ModelConfig], nn.Module]
    discriminator: Callable[[ModelConfig], nn.Module]


ARCHITECTURES: Registry[Architecture] = Registry("architecture")


def build_networks(arch: str, cfg: ModelConfig) -> tuple[nn.Module, nn.Module]:
    """Instantiate the registered ``arch``'s generator and discriminator."""
    entry = ARCHITECTURES.get(arch)
    return entry.generator(cfg), entry.discriminator(cfg)


# Importing the modules registers their architectures.
from gan_core.models import dcgan, mlp  # noqa: E402, F401
