"""The SNGAN ResNet (Miyato et al. 2018, Table 4): shapes and ranges, the block layout,
global sum pooling, conditioning and spectral norm, sizing errors, parameter counts."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gan_core.models import ModelConfig, build_networks
from gan_core.models.resnet import DiscriminatorBlock, FirstDiscriminatorBlock, GeneratorBlock

pytestmark = pytest.mark.usefixtures("one_thread")


def _n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("shape", [(3, 32, 32), (1, 28, 28)])
def test_shapes_and_ranges(shape):
    torch.manual_seed(0)
    gen, disc = build_networks("resnet", ModelConfig(shape, z_dim=16, width=8))
    fake = gen(torch.randn(4, 16))
    assert fake.shape == (4, *shape)
    assert fake.min() >= -1 and fake.max() <= 1  # tanh output
    assert disc(fake).shape == (4,)  # logits [N]


@pytest.mark.parametrize(
    ("shape", "n_down", "final_side"), [((3, 32, 32), 2, 8), ((1, 28, 28), 1, 14)]
)
def test_discriminator_blocks_follow_table_4(shape, n_down, final_side):
    _, disc = build_networks("resnet", ModelConfig(shape, z_dim=16, width=8))
    blocks = list(disc.features.blocks)
    # 32x32: down (optimized), down, plain, plain, as in Table 4.
    assert isinstance(blocks[0], FirstDiscriminatorBlock)
    assert all(isinstance(b, DiscriminatorBlock) for b in blocks[1:])
    pools = [any(isinstance(m, nn.AvgPool2d) for m in b.residual) for b in blocks]
    assert pools == [True] * n_down + [False, False]
    assert isinstance(blocks[-1].shortcut, nn.Identity)  # plain blocks: identity shortcut
    assert disc.features.out_shape == (8,)
    h = disc.features.blocks(torch.randn(2, *shape))
    assert h.shape == (2, 8, final_side, final_side)


def test_generator_upsamples_once_per_stage():
    gen, _ = build_networks("resnet", ModelConfig((3, 32, 32), z_dim=16, width=8))
    assert [type(b) for b in gen.body.blocks] == [GeneratorBlock] * 3  # 4 -> 8 -> 16 -> 32
    assert gen.body.base_shape == (8, 4, 4)


def test_features_are_global_sum_pooled():
    torch.manual_seed(0)
    _, disc = build_networks("resnet", ModelConfig((3, 32, 32), z_dim=16, width=8))
    x = torch.randn(3, 3, 32, 32)
    h = torch.relu(disc.features.blocks(x))  # [3, 8, 8, 8]
    torch.testing.assert_close(disc.features(x), h.sum(dim=(2, 3)))
    torch.testing.assert_close(disc.features(x), 64 * h.mean(dim=(2, 3)))


def test_chosen_normalizations_apply_to_every_block():
    cfg = ModelConfig((3, 32, 32), z_dim=16, width=8)
    gen, disc = build_networks("resnet", cfg)
    # Defaults: batch norm in G (2 per block + 1 before the output), none in D.
    assert sum(isinstance(m, nn.BatchNorm2d) for m in gen.modules()) == 2 * 3 + 1
    assert not any(isinstance(m, nn.BatchNorm2d | nn.GroupNorm) for m in disc.modules())
    _, disc = build_networks("resnet", ModelConfig((3, 32, 32), z_dim=16, width=8, norm_d="layer"))
    # The optimized block normalizes once, the other three blocks twice.
    assert sum(isinstance(m, nn.GroupNorm) for m in disc.modules()) == 1 + 3 * 2


def test_projection_conditioning_and_spectral_norm():
    torch.manual_seed(0)
    cfg = ModelConfig(
        (3, 32, 32), z_dim=16, width=8, n_classes=10, conditioning="projection",
        spectral_norm_d=True,
    )  # fmt: skip
    gen, disc = build_networks("resnet", cfg)
    labels = torch.arange(4)
    fake = gen(torch.randn(4, 16), labels)
    assert fake.shape == (4, 3, 32, 32)
    logits = disc(fake, labels)
    assert logits.shape == (4,) and torch.isfinite(logits).all()
    assert not torch.equal(disc(fake, labels + 1), logits)  # the projection sees the label
    convs = [m for m in disc.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 2 + 1 + 2 + 1 + 2 + 2  # optimized, down, plain, plain (+ shortcuts)
    assert all(hasattr(m, "parametrizations") for m in [*convs, disc.head, disc.embed])


@pytest.mark.parametrize("shape", [(3, 48, 48), (3, 32, 16), (1, 30, 30), (2,)])
def test_unsupported_shape_is_a_clear_error(shape):
    with pytest.raises(ValueError, match=r"resnet (supports sides|needs square images)"):
        build_networks("resnet", ModelConfig(shape, z_dim=4, width=4))


def test_parameter_counts_match_sngan_cifar10():
    """Table 4 sizes (z 128, G width 256, D width 128): about 4.3M and 1.0M parameters."""
    gen, _ = build_networks("resnet", ModelConfig((3, 32, 32), z_dim=128, width=256))
    _, disc = build_networks("resnet", ModelConfig((3, 32, 32), z_dim=128, width=128))
    conv3, conv1, bn = 256 * 256 * 9 + 256, 256 * 256 + 256, 2 * 256
    g_block = 2 * bn + 2 * conv3 + conv1
    dense, to_rgb = 128 * 4 * 4 * 256 + 4 * 4 * 256, bn + 256 * 3 * 9 + 3
    assert _n_params(gen) == dense + 3 * g_block + to_rgb == 4_276_739
    conv3, conv1 = 128 * 128 * 9 + 128, 128 * 128 + 128
    first = (3 * 9 * 128 + 128) + conv3 + (3 * 128 + 128)
    d_blocks = first + (2 * conv3 + conv1) + 2 * (2 * conv3)
    assert _n_params(disc) == d_blocks + (128 + 1) == 1_053_825
