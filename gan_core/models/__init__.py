"""Generator/discriminator architectures, one per module, registered by name, and the
options every architecture shares (conditioning, packing, minibatch layers, normalization,
spectral normalization), applied around them by :mod:`gan_core.models.composite`.

Every generator maps ``z`` ``[N, z_dim]`` (and labels ``[N]`` when conditional) to data in
the model's value range: points ``[N, D]``, or images ``[N, C, H, W]`` in [-1, 1] (tanh).
Every discriminator maps data (and labels) to logits ``[N // pack]``, one unbounded score per
sample (per pack of samples with PacGAN packing). :mod:`gan_core.models.stacked` stacks
several seeds' copies of an MLP network into one module on ``[S, N, ...]`` batches.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Literal

from torch import nn

from gan_core.registry import Registry

# (channels, spatial) -> normalization layer; spatial: the input is [N, C, H, W], else [N, C].
NormFactory = Callable[[int, bool], nn.Module]


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Network sizes and options. ``data_shape``: ``(D,)`` for points, ``(C, H, W)`` for
    images. ``norm_g``/``norm_d`` None keeps the architecture's own choice."""

    data_shape: tuple[int, ...]
    z_dim: int
    width: int
    depth: int = 2
    # The discriminator's own sizes where a paper gives D other sizes than G (PacGAN: G 4 x
    # 400, D 3 x 200); None: the same as the generator's.
    width_d: int | None = None
    depth_d: int | None = None
    n_classes: int = 0  # > 0: conditioned on labels 0..n_classes-1
    conditioning: Literal["concat", "projection"] = "concat"
    norm_g: str | None = None
    norm_d: str | None = None
    spectral_norm_g: bool = False
    spectral_norm_d: bool = False
    minibatch: str | None = None  # a MINIBATCH_LAYERS name, inserted before D's output
    pack: int = 1  # PacGAN: D scores packs of this many samples
    # The prior of z: "normal" N(0, I), or "uniform" U[-1, 1]^z_dim (DCGAN-tensorflow's).
    latent: Literal["normal", "uniform"] = "normal"
    # Progressive growing (arch progan): training images per growth phase; 0: fully grown.
    growth_images: int = 0
    # Style-based generator (arch stylegan): mapping depth, the probability of style mixing
    # in training, and the truncation psi its eval mode samples with.
    mapping_layers: int = 8
    style_mixing: float = 0.9
    truncation_psi: float = 1.0

    @property
    def disc_width(self) -> int:
        return self.width if self.width_d is None else self.width_d

    @property
    def disc_depth(self) -> int:
        return self.depth if self.depth_d is None else self.depth_d


@dataclasses.dataclass(frozen=True)
class Architecture:
    """An architecture's two bodies.

    ``generator(cfg, n_in, norm)``: a module ``[N, n_in] -> [N, *data_shape]``.
    ``features(cfg, in_shape, norm)``: the discriminator up to its last hidden layer, a module
    ``[N, *in_shape] -> [N, *out_shape]`` with an ``out_shape`` attribute; the shared output
    head (and projection) is added by :class:`gan_core.models.composite.Discriminator`.
    ``norm_g``/``norm_d`` name the architecture's default normalizations; ``init``, if
    given, initializes each whole network (a paper's own initialization).
    """

    generator: Callable[[ModelConfig, int, NormFactory], nn.Module]
    features: Callable[[ModelConfig, tuple[int, ...], NormFactory], nn.Module]
    norm_g: str = "none"
    norm_d: str = "none"
    # Applied to each whole network (the shared head included) once it is built; None
    # keeps PyTorch's default initialization.
    init: Callable[[nn.Module], None] | None = None


ARCHITECTURES: Registry[Architecture] = Registry("architecture")


def build_networks(arch: str, cfg: ModelConfig) -> tuple[nn.Module, nn.Module]:
    """Instantiate the registered ``arch``'s generator and discriminator with ``cfg``'s options."""
    from gan_core.models.composite import Discriminator, Generator

    entry = ARCHITECTURES.get(arch)
    return Generator(entry, cfg), Discriminator(entry, cfg)


# Importing the modules registers their architectures.
from gan_core.models import dcgan, dcgan_tf, mlp, pacgan_mlp, progan, resnet, stylegan  # noqa: E402, F401
