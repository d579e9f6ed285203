"""Layers of the Karras et al. generators: equalized learning rate and pixelwise feature
normalization (Karras et al. 2018, Sec. 4.1 and 4.2).

An equalized layer stores its weights as N(0, 1) draws and multiplies them at every forward
pass by He's constant ``c = gain / sqrt(fan_in)``, so that Adam's scale-invariant updates
move every layer's effective weights at the same relative speed. ``lr_mul`` (StyleGAN's
mapping network: 0.01) shrinks a layer's effective learning rate further: the stored
weights are drawn from N(0, 1 / lr_mul^2) and scaled by ``c * lr_mul``, the bias by ``lr_mul``.
The layers subclass ``nn.Linear`` and ``nn.Conv2d``, so spectral normalization
(:func:`gan_core.models.composite.apply_spectral_norm`) reaches them too.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

Tensor = torch.Tensor
LEAKY_GAIN = math.sqrt(2.0)  # He's gain for (leaky) ReLU layers


def he_constant(fan_in: int, gain: float = LEAKY_GAIN) -> float:
    """``c = gain / sqrt(fan_in)``: the scale that gives N(0, 1) weights He's initialization."""
    return gain / math.sqrt(fan_in)


class EqualizedLinear(nn.Linear):
    """``y = x (c lr_mul W)^T + lr_mul b``, stored ``W ~ N(0, 1 / lr_mul^2)`` and
    ``b = bias_init / lr_mul`` (so the effective bias starts at ``bias_init``)."""

    def __init__(
        self, n_in: int, n_out: int, gain: float = LEAKY_GAIN, lr_mul: float = 1.0,
        bias_init: float = 0.0,
    ) -> None:  # fmt: skip
        super().__init__(n_in, n_out)
        self.lr_mul = lr_mul
        self.scale = he_constant(n_in, gain) * lr_mul
        with torch.no_grad():
            self.weight.normal_(0.0, 1.0 / lr_mul)
            self.bias.fill_(bias_init / lr_mul)

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight * self.scale, self.bias * self.lr_mul)


class EqualizedConv2d(nn.Conv2d):
    """A ``kernel x kernel`` convolution, stride 1, padded to keep the size ("same"), with
    stored weights N(0, 1) scaled by ``c = gain / sqrt(c_in kernel^2)``."""

    def __init__(self, c_in: int, c_out: int, kernel: int, gain: float = LEAKY_GAIN) -> None:
        super().__init__(c_in, c_out, kernel, padding=kernel // 2)
        self.scale = he_constant(c_in * kernel * kernel, gain)
        with torch.no_grad():
            self.weight.normal_(0.0, 1.0)
            self.bias.zero_()

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.weight * self.scale, self.bias, padding=self.padding)


def pixel_norm(x: Tensor) -> Tensor:
    """``x / sqrt(mean over channels of x^2 + 1e-8)`` at each pixel (each sample for vectors):
    every feature vector to unit root mean square."""
    return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + 1e-8)


class PixelNorm(nn.Module):
    """:func:`pixel_norm` as a layer."""

    def forward(self, x: Tensor) -> Tensor:
        return pixel_norm(x)
