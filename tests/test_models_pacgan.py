"""PacGAN's 2D networks (Lin et al. 2018): the maxout layer's formula, the paper's sizes,
initialization and packing, and a variant's own batch size, budget and width."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from gan_core.config import ConfigError
from gan_core.models import ModelConfig, build_networks
from gan_core.models.pacgan_mlp import INIT_STD, Maxout
from gan_core.training.variants import SetupConfig, VariantConfig, plan_run

PAPER = ModelConfig((2,), z_dim=2, width=400, depth=4, width_d=200, depth_d=3)


def test_maxout_is_the_largest_affine_piece_unit_by_unit():
    torch.manual_seed(0)
    layer = Maxout(3, 4, pieces=5)
    x = torch.randn(7, 3)
    w = layer.linear.weight.view(4, 5, 3)  # [unit, piece, input]
    b = layer.linear.bias.view(4, 5)
    pieces = torch.einsum("upi,ni->nup", w, x) + b  # [N, unit, piece]
    torch.testing.assert_close(layer(x), pieces.max(dim=2).values)


def test_the_paper_sizes_and_parameter_counts():
    gen, disc = build_networks("pacgan_mlp", PAPER)
    # G: 2->400 (no bias: batch norm follows), 3 x 400->400 (no bias), 4 batch norms
    # (scale, shift), 400->2 with bias.
    assert sum(p.numel() for p in gen.parameters()) == 2 * 400 + 3 * 400 * 400 + 4 * 800 + 802
    # D: maxout 2->200 x 5 pieces, 2 x maxout 200->200 x 5, head 200->1.
    expected_d = (2 * 1000 + 1000) + 2 * (200 * 1000 + 1000) + 201
    assert sum(p.numel() for p in disc.parameters()) == expected_d
    assert gen(torch.randn(16, 2)).shape == (16, 2)
    assert disc(torch.randn(16, 2)).shape == (16,)
    _, packed = build_networks("pacgan_mlp", ModelConfig((2,), 2, 400, 4, 200, 3, pack=4))
    assert packed.features.net[0].linear.in_features == 8  # 4 samples of 2 coordinates
    assert packed(torch.randn(16, 2)).shape == (4,)


def test_every_weight_starts_gaussian_with_the_paper_std_and_every_bias_at_zero():
    torch.manual_seed(0)
    gen, disc = build_networks("pacgan_mlp", PAPER)
    for net in (gen, disc):
        linears = [m for m in net.modules() if isinstance(m, torch.nn.Linear)]
        weights = torch.cat([m.weight.detach().flatten() for m in linears])
        # ~485k (G) and ~404k (D) draws: the sample std is within 1% of 0.02.
        assert abs(weights.std().item() / INIT_STD - 1) < 0.01
        assert all(m.bias is None or not m.bias.any() for m in linears)
    assert disc.head.weight.abs().max() < 10 * INIT_STD  # the shared head too


def test_a_variant_batch_size_budget_and_width_override_the_setup():
    setup = SetupConfig(arch="pacgan_mlp", z_dim=2, width=8, steps=1, batch_size=100, n_fake=10)
    dataset = SimpleNamespace(
        name="ring8", n_classes=0, is_image=False,
        train=SimpleNamespace(x=np.zeros((10, 2), np.float32), y=None),
    )  # fmt: skip
    packed = VariantConfig(loss="ns", pack=4, batch_size=400)
    assert plan_run(dataset, setup, packed, 0).train.batch_size == 400
    assert plan_run(dataset, setup, VariantConfig(loss="ns"), 0).train.batch_size == 100
    # the budget too (the Karras et al. schedules are longer than a DCGAN's)
    assert plan_run(dataset, setup, VariantConfig(loss="ns", steps=7), 0).train.steps == 7
    assert plan_run(dataset, setup, VariantConfig(loss="ns"), 0).train.steps == 1
    with pytest.raises(ConfigError, match=r"v\.steps: expected an integer >= 1, got 0"):
        VariantConfig(loss="ns", steps=0).validate("v")
    # and the width, of both networks (the setup's own discriminator width included)
    split = dataclasses.replace(setup, width_d=16)
    assert plan_run(dataset, split, VariantConfig(loss="ns"), 0).model.disc_width == 16
    narrow = plan_run(dataset, split, VariantConfig(loss="ns", width=4), 0).model
    assert (narrow.width, narrow.disc_width) == (4, 4)
    with pytest.raises(ConfigError, match=r"v\.width: expected an integer >= 1, got 0"):
        VariantConfig(loss="ns", width=0).validate("v")
