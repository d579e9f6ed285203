"""Architectures: output shapes and ranges, and the DCGAN layout of the seed guidelines."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gan_core.models import ARCHITECTURES, ModelConfig, build_networks


@pytest.mark.parametrize(
    ("arch", "shape"),
    [("mlp", (2,)), ("mlp", (1, 28, 28)), ("dcgan", (1, 28, 28)), ("dcgan", (3, 32, 32)),
     ("dcgan", (3, 64, 64))],
)  # fmt: skip
def test_shapes_and_ranges(arch, shape):
    torch.manual_seed(0)
    gen, disc = build_networks(arch, ModelConfig(shape, z_dim=16, width=8))
    fake = gen(torch.randn(5, 16))
    assert fake.shape == (5, *shape)
    if len(shape) == 3:
        assert fake.min() >= -1 and fake.max() <= 1  # tanh output
    assert disc(fake).shape == (5,)


def test_dcgan_follows_the_seed_guidelines():
    gen, disc = build_networks("dcgan", ModelConfig((1, 28, 28), z_dim=16, width=8))
    gen_layers, disc_layers = list(gen.body.net), list(disc.features.net)
    assert not any(isinstance(m, nn.MaxPool2d | nn.AvgPool2d) for m in gen.modules())
    assert not any(isinstance(m, nn.MaxPool2d | nn.AvgPool2d) for m in disc.modules())
    # G: batch norm after every transposed conv but the last, ReLU hidden, tanh output.
    convs = [i for i, m in enumerate(gen_layers) if isinstance(m, nn.ConvTranspose2d)]
    assert all(isinstance(gen_layers[i + 1], nn.BatchNorm2d) for i in convs[:-1])
    assert isinstance(gen_layers[convs[-1] + 1], nn.Tanh)
    assert all(isinstance(gen_layers[i + 2], nn.ReLU) for i in convs[:-1])
    assert not any(isinstance(m, nn.LeakyReLU) for m in gen_layers)
    # D: strided convs, no batch norm on the first layer, LeakyReLU(0.2).
    assert isinstance(disc_layers[1], nn.LeakyReLU) and disc_layers[1].negative_slope == 0.2
    d_convs = [i for i, m in enumerate(disc_layers) if isinstance(m, nn.Conv2d)]
    assert all(disc_layers[i].stride == (2, 2) for i in d_convs)
    assert all(isinstance(disc_layers[i + 1], nn.BatchNorm2d) for i in d_convs[1:])


def test_unsupported_resolution_is_a_clear_error():
    with pytest.raises(ValueError, match="dcgan supports sides"):
        build_networks("dcgan", ModelConfig((1, 30, 30), z_dim=4, width=4))


def test_registry_lists_the_architectures():
    assert {"mlp", "dcgan"} <= set(ARCHITECTURES.names())
