"""The generator and discriminator every architecture is wrapped in: conditioning on labels
(Mirza & Osindero 2014; projection, Miyato & Koyama 2018), PacGAN packing (Lin et al.
2018), a minibatch layer, the output head, and spectral normalization (Miyato et al. 2018).
An architecture only supplies its bodies (see :class:`gan_core.models.Architecture`).

Batches may carry leading dims ``[*lead, N, ...]`` that pass through untouched: a seed
group's stacked copy (:mod:`gan_core.models.stacked`) runs on ``[S, N, ...]``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from gan_core.models import Architecture, ModelConfig
from gan_core.models.minibatch import MINIBATCH_LAYERS
from gan_core.models.norms import NORMALIZATIONS

Tensor = torch.Tensor
_SPECTRAL_NORM_LAYERS = (nn.Linear, nn.Conv2d, nn.ConvTranspose2d, nn.Embedding)


def apply_spectral_norm(module: nn.Module) -> None:
    """Spectrally normalize (Miyato et al. 2018) every linear, convolution and embedding
    weight of ``module`` in place: W / sigma(W), sigma estimated by one power iteration per
    training-mode forward pass."""
    for layer in list(module.modules()):
        if isinstance(layer, _SPECTRAL_NORM_LAYERS):
            spectral_norm(layer)


def _require_labels(labels: Tensor | None, n_classes: int) -> Tensor:
    if labels is None:
        raise ValueError(f"a conditional network ({n_classes} classes) needs labels")
    return labels


def normal_to_uniform(z: Tensor) -> Tensor:
    """N(0, 1) draws -> U[-1, 1] draws, elementwise: 2 Phi(z) - 1, Phi the normal CDF (the
    probability integral transform), so every sampler keeps drawing standard normal noise."""
    return torch.special.ndtr(z) * 2.0 - 1.0


class Generator(nn.Module):
    """``z`` ``[N, z_dim]`` (+ ``labels`` ``[N]`` int64) -> data ``[N, *data_shape]``. A
    conditional generator sees the one-hot label concatenated to ``z``. ``z`` is standard
    normal noise; with ``latent="uniform"`` the generator maps it to U[-1, 1] first, so
    its body sees a uniform prior."""

    def __init__(self, arch: Architecture, cfg: ModelConfig) -> None:
        super().__init__()
        self.n_classes = cfg.n_classes
        self.uniform_latent = cfg.latent == "uniform"
        norm = NORMALIZATIONS.get(cfg.norm_g or arch.norm_g)
        self.body = arch.generator(cfg, cfg.z_dim + cfg.n_classes, norm)
        if arch.init is not None:
            arch.init(self)
        if cfg.spectral_norm_g:
            apply_spectral_norm(self)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.body(self.body_input(z, labels))

    def body_input(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """What the body sees: ``z`` (mapped to a uniform prior if asked) with the one-hot
        label appended for a conditional generator."""
        if self.uniform_latent:
            z = normal_to_uniform(z)
        if self.n_classes:
            one_hot = F.one_hot(_require_labels(labels, self.n_classes), self.n_classes)
            z = torch.cat([z, one_hot.to(z.dtype)], dim=-1)
        return z


class Discriminator(nn.Module):
    """Data ``[*lead, N, *data_shape]`` (+ ``labels`` ``[*lead, N]``) -> logits
    ``[*lead, N // pack]``.

    Concat conditioning appends the one-hot label to the input (as constant planes for
    images); projection adds ``<embed(y), phi(x)>`` to the output. Packing concatenates
    ``pack`` consecutive samples along the channel (or feature) axis, so ``N`` must be a
    multiple of ``pack``.
    """

    def __init__(self, arch: Architecture, cfg: ModelConfig) -> None:
        super().__init__()
        if cfg.pack > 1 and cfg.n_classes and cfg.conditioning == "projection":
            raise ValueError("packing and a projection discriminator do not combine")
        self.n_classes, self.pack = cfg.n_classes, cfg.pack
        self.n_sample_dims = len(cfg.data_shape)
        self.concat_labels = cfg.n_classes > 0 and cfg.conditioning == "concat"
        channels = cfg.data_shape[0] + (cfg.n_classes if self.concat_labels else 0)
        in_shape = (channels * cfg.pack, *cfg.data_shape[1:])
        self.features = arch.features(cfg, in_shape, NORMALIZATIONS.get(cfg.norm_d or arch.norm_d))
        shape = self.features.out_shape
        if cfg.minibatch is None:
            self.minibatch = nn.Identity()
        else:
            self.minibatch = MINIBATCH_LAYERS.get(cfg.minibatch)(shape)
            shape = self.minibatch.out_shape
        self.n_head_dims = len(shape)
        self.head = nn.Linear(math.prod(shape), 1)
        self.embed = (
            nn.Embedding(cfg.n_classes, math.prod(shape))
            if cfg.n_classes and cfg.conditioning == "projection"
            else None
        )
        if arch.init is not None:
            arch.init(self)
        if cfg.spectral_norm_d:
            apply_spectral_norm(self)

    def _features(self, x: Tensor, labels: Tensor | None) -> Tensor:
        """The body's output ``[*lead, N // pack, *features.out_shape]``."""
        lead = x.shape[: x.dim() - self.n_sample_dims - 1]
        if self.concat_labels:
            one_hot = F.one_hot(_require_labels(labels, self.n_classes), self.n_classes)
            one_hot = one_hot.to(x.dtype)  # [*lead, N, n_classes]
            spatial = x.shape[len(lead) + 2 :]  # () for points, (H, W) for images
            planes = one_hot.view(*one_hot.shape, *[1] * len(spatial))
            x = torch.cat([x, planes.expand(*one_hot.shape, *spatial)], dim=len(lead) + 1)
        if self.pack > 1:
            n, channels, rest = x.shape[len(lead)], x.shape[len(lead) + 1], x.shape[len(lead) + 2 :]
            if n % self.pack:
                raise ValueError(f"batch of {n} is not a multiple of pack={self.pack}")
            x = x.reshape(*lead, n // self.pack, self.pack * channels, *rest)
        return self.features(x)

    def hidden(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        """The last hidden layer's activations ``[*lead, N // pack, F]`` (flattened), before
        any minibatch layer: what feature matching (Salimans et al. 2016) compares."""
        return self._features(x, labels).flatten(-len(self.features.out_shape))

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        h = self.minibatch(self._features(x, labels)).flatten(-self.n_head_dims)
        logits = self.head(h).squeeze(-1)  # [*lead, N // pack]
        if self.embed is not None:
            logits = logits + (self.embed(_require_labels(labels, self.n_classes)) * h).sum(dim=-1)
        return logits
