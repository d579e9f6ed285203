"""A style-based generator (Karras et al. 2019; StyleGAN2's weight demodulation, Karras et
al. 2020), ``arch: stylegan``.

Mapping: pixel-normalized ``z`` through ``mapping_layers`` equalized linear layers (learning
rate x 0.01) to ``w``. A conditional generator embeds its one-hot label first, as
StyleGAN2-ADA's mapping network does: a linear layer of ``w_dim`` outputs at the full
learning rate, pixel-normalized like ``z`` and concatenated to it, so the label enters the
mapping at the latent's scale (appended as a bare one-hot, 10 of 74 inputs learning at x 0.01,
it moved ``w`` about a quarter as far as the latent did and the samples ignored it,
measured).
Synthesis: a learned constant at the base resolution; per layer a 3x3 convolution whose
weights are modulated by an affine style of ``w`` (scaled per input channel) and
demodulated (each output channel back to unit expected variance), per-pixel noise with a
learned per-channel strength, a bias and a leaky ReLU; two layers per doubling of the
resolution (the first after a nearest-neighbour upsampling); RGB outputs at every
resolution summed after upsampling (StyleGAN2's skip generator). ``w`` is broadcast to one
style per layer (``n_styles``): in training, with probability ``style_mixing`` a sample
takes the styles from a crossover layer on from a second latent's ``w`` (style mixing
regularization); in eval mode the styles are truncated towards the running mean of ``w``,
``w_avg + psi (w - w_avg)``, ``psi = truncation_psi`` (1: none).

The discriminator is progressive growing's, fully grown (as in StyleGAN). The noise and the
mixing draws come from :mod:`gan_core.models.noise`, so runs stay reproducible.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gan_core.models import ARCHITECTURES, Architecture, ModelConfig, NormFactory
from gan_core.models.equalized import (
    LEAKY_GAIN,
    EqualizedLinear,
    PixelNorm,
    he_constant,
    pixel_norm,
)
from gan_core.models.noise import standard_normal
from gan_core.models.progan import ProGANFeatures
from gan_core.models.sizing import level_channels, resolution_stages

Tensor = torch.Tensor
W_AVG_DECAY = 0.995  # StyleGAN2's w_avg_beta


class ModulatedConv2d(nn.Module):
    """A ``kernel x kernel`` convolution ("same" padding) with weights ``c W * s_in`` per
    sample, ``s = affine(w)`` (bias 1 at the start), then demodulated:
    each output channel's weights divided by their root sum of squares."""

    def __init__(self, c_in: int, c_out: int, kernel: int, w_dim: int, demodulate: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(c_out, c_in, kernel, kernel))
        self.scale = he_constant(c_in * kernel * kernel, gain=1.0)
        self.affine = EqualizedLinear(w_dim, c_in, gain=1.0, bias_init=1.0)
        self.demodulate = demodulate

    def forward(self, x: Tensor, w: Tensor) -> Tensor:
        n, c_in = x.shape[:2]
        style = self.affine(w)  # [N, c_in]
        weight = self.weight[None] * self.scale * style[:, None, :, None, None]
        if self.demodulate:  # [N, c_out, c_in, k, k] / ||.|| over (c_in, k, k)
            weight = weight * torch.rsqrt(weight.pow(2).sum(dim=(2, 3, 4), keepdim=True) + 1e-8)
        c_out, kernel = weight.shape[1], weight.shape[-1]
        out = F.conv2d(
            x.reshape(1, n * c_in, *x.shape[2:]), weight.reshape(n * c_out, c_in, kernel, kernel),
            padding=kernel // 2, groups=n,
        )  # fmt: skip
        return out.reshape(n, c_out, *out.shape[2:])


class StyledLayer(nn.Module):
    """Modulated 3x3 convolution, per-pixel noise, bias, leaky ReLU (gain sqrt 2)."""

    def __init__(self, c_in: int, c_out: int, w_dim: int, upsample: bool = False) -> None:
        super().__init__()
        self.upsample = upsample
        self.conv = ModulatedConv2d(c_in, c_out, 3, w_dim)
        self.noise_strength = nn.Parameter(torch.zeros(c_out))
        self.bias = nn.Parameter(torch.zeros(c_out))

    def forward(self, x: Tensor, w: Tensor) -> Tensor:
        if self.upsample:
            x = F.interpolate(x, scale_factor=2, mode="nearest")
        x = self.conv(x, w)
        noise = standard_normal((x.shape[0], 1, *x.shape[2:]), x)
        x = x + noise * self.noise_strength[:, None, None] + self.bias[:, None, None]
        return F.leaky_relu(x, 0.2) * LEAKY_GAIN


class ToRGB(nn.Module):
    def __init__(self, c_in: int, channels: int, w_dim: int) -> None:
        super().__init__()
        self.conv = ModulatedConv2d(c_in, channels, 1, w_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: Tensor, w: Tensor) -> Tensor:
        return self.conv(x, w) + self.bias[:, None, None]


class StyleGANGenerator(nn.Module):
    def __init__(self, cfg: ModelConfig, n_in: int, norm: NormFactory) -> None:
        super().__init__()
        del norm  # demodulation takes normalization's place
        base, n_stages = resolution_stages(cfg, "stylegan")
        channels = level_channels(cfg.width, n_stages + 1)
        self.z_dim, self.w_dim = cfg.z_dim, channels[0]
        self.style_mixing, self.truncation_psi = cfg.style_mixing, cfg.truncation_psi
        n_labels = n_in - cfg.z_dim
        self.embed = EqualizedLinear(n_labels, self.w_dim, gain=1.0) if n_labels else None
        n_first = cfg.z_dim + (self.w_dim if n_labels else 0)  # the latent, then the label's
        mapping: list[nn.Module] = [PixelNorm()]
        for index in range(cfg.mapping_layers):
            n_mapped = n_first if index == 0 else self.w_dim
            mapping += [EqualizedLinear(n_mapped, self.w_dim, lr_mul=0.01), nn.LeakyReLU(0.2)]
        self.mapping = nn.Sequential(*mapping)
        self.register_buffer("w_avg", torch.zeros(self.w_dim))
        self.const = nn.Parameter(torch.randn(channels[0], base, base))
        self.base_layer = StyledLayer(channels[0], channels[0], self.w_dim)
        self.layers = nn.ModuleList(
            nn.ModuleList([
                StyledLayer(c_in, c_out, self.w_dim, upsample=True),
                StyledLayer(c_out, c_out, self.w_dim),
            ])
            for c_in, c_out in zip(channels[:-1], channels[1:], strict=True)
        )  # fmt: skip
        self.to_rgb = nn.ModuleList(ToRGB(c, cfg.data_shape[0], self.w_dim) for c in channels)
        self.n_styles = 2 + 2 * n_stages  # StyleGAN2's count: each ToRGB shares the next w

    def styles(self, z: Tensor) -> Tensor:
        """``w`` ``[N, w_dim]`` of inputs ``z`` ``[N, n_in]`` (latent, then any one-hot).
        The mapping's leading pixel norm normalizes a bare latent; a conditional input is
        already at unit root mean square (two halves that are), which it leaves as it is."""
        if self.embed is None:
            return self.mapping(z)
        latent, label = z[:, : self.z_dim], self.embed(z[:, self.z_dim :])
        return self.mapping(torch.cat([pixel_norm(latent), pixel_norm(label)], dim=1))

    def truncate(self, w: Tensor, psi: float) -> Tensor:
        """The truncation trick: ``w_avg + psi (w - w_avg)``."""
        return torch.lerp(self.w_avg, w, psi)

    def mixed(self, w1: Tensor, w2: Tensor, crossover: Tensor) -> Tensor:
        """Per-layer styles ``[N, n_styles, w_dim]``: ``w1`` before layer ``crossover`` (a
        tensor ``[N]``), ``w2`` from it on."""
        layer = torch.arange(self.n_styles, device=w1.device)
        second = (layer[None] >= crossover[:, None])[..., None]  # [N, n_styles, 1]
        return torch.where(second, w2[:, None], w1[:, None])

    def synthesis(self, ws: Tensor) -> Tensor:
        """Images ``[N, C, H, W]`` from per-layer styles ``ws`` ``[N, n_styles, w_dim]``."""
        h = self.const.expand(len(ws), *self.const.shape)
        h = self.base_layer(h, ws[:, 0])
        rgb = self.to_rgb[0](h, ws[:, 1])
        for level, (up, same) in enumerate(self.layers, start=1):
            h = same(up(h, ws[:, 2 * level - 1]), ws[:, 2 * level])
            rgb = F.interpolate(rgb, scale_factor=2, mode="nearest")
            rgb = rgb + self.to_rgb[level](h, ws[:, 2 * level + 1])
        return rgb  # linear output, as the paper's (sampling clips to the range)

    def forward(self, z: Tensor) -> Tensor:
        w = self.styles(z)
        if not self.training:
            w = self.truncate(w, self.truncation_psi)
        else:
            with torch.no_grad():
                self.w_avg.lerp_(w.detach().mean(dim=0), 1.0 - W_AVG_DECAY)
            if self.style_mixing > 0:
                return self.synthesis(self._mixing(z, w))
        return self.synthesis(w[:, None].expand(len(w), self.n_styles, self.w_dim))

    def _mixing(self, z: Tensor, w: Tensor) -> Tensor:
        """Style mixing regularization: each sample, with probability ``style_mixing``,
        takes its styles from a crossover layer on from a second latent's ``w`` (the same
        label, if any)."""
        n = len(z)
        second_z = torch.cat([standard_normal((n, self.z_dim), z), z[:, self.z_dim :]], dim=1)
        u = torch.special.ndtr(standard_normal((2, n), z))  # two U[0, 1] draws per sample
        # a crossover layer in 1 .. n_styles - 1, uniformly (StyleGAN2's)
        crossover = 1 + (u[1] * (self.n_styles - 1)).long().clamp(max=self.n_styles - 2)
        crossover = torch.where(u[0] < self.style_mixing, crossover, self.n_styles)
        return self.mixed(w, self.styles(second_z), crossover)


# The discriminator: progressive growing's, fully grown (a stylegan variant cannot set
# growth_images).
ARCHITECTURES.register("stylegan")(
    Architecture(StyleGANGenerator, ProGANFeatures, norm_g="none", norm_d="none")
)
