"""Stabilizers and network options: exact values against their formulas, and every
variant of the default params.yaml builds and trains a step on its datasets."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch
from torch import nn

from gan_core.config import ConfigError, parse
from gan_core.data import Dataset, Split
from gan_core.models import ModelConfig, build_networks
from gan_core.models.minibatch import MinibatchDiscrimination, MinibatchStd
from gan_core.training.generator_objectives import feature_matching
from gan_core.training.loop import GANTrainer, update_ema
from gan_core.training.losses import LOSSES
from gan_core.training.optimizers import OPTIMIZERS
from gan_core.training.variants import VariantConfig, plan_run, to_model_range
from stages.params import load_params

CPU = torch.device("cpu")


pytestmark = pytest.mark.usefixtures("one_thread")


def test_spectral_norm_makes_top_singular_values_one():
    torch.manual_seed(0)
    _, disc = build_networks(
        "mlp", ModelConfig((2,), z_dim=2, width=32, spectral_norm_d=True, norm_d="none")
    )
    x = torch.randn(64, 2)
    for _ in range(100):  # power iterations happen in training-mode forward passes
        disc(x)
    linears = [m for m in disc.modules() if isinstance(m, nn.Linear)]
    assert len(linears) == 3  # two hidden layers and the head
    for layer in linears:
        top = torch.linalg.matrix_norm(layer.weight.detach(), ord=2)
        torch.testing.assert_close(top, torch.tensor(1.0), atol=1e-2, rtol=0)


def test_minibatch_std_appends_one_channel_with_the_batch_std():
    layer = MinibatchStd((3, 4, 4))
    h = torch.randn(8, 3, 4, 4)
    out = layer(h)
    assert layer.out_shape == (4, 4, 4) and out.shape == (8, 4, 4, 4)
    torch.testing.assert_close(out[:, :3], h)
    expected = h.std(dim=0, unbiased=False).mean()  # per feature and location, averaged
    torch.testing.assert_close(out[:, 3], expected.expand(8, 4, 4), atol=1e-6, rtol=1e-6)


def test_minibatch_discrimination_matches_its_formula():
    torch.manual_seed(0)
    layer = MinibatchDiscrimination((6,), n_kernels=3, kernel_dim=2)
    h = torch.randn(5, 6)
    out = layer(h)
    m = (h @ layer.T).view(5, 3, 2)
    l1 = (m[:, None] - m[None, :]).abs().sum(dim=3)  # [i, j, b]
    torch.testing.assert_close(out, torch.cat([h, torch.exp(-l1).sum(dim=1)], dim=1))
    # A sample's own term is exp(0) = 1, so every o(x_i)_b is at least 1.
    assert (out[:, 6:] >= 1).all()


def test_feature_matching_is_squared_distance_of_mean_features():
    torch.manual_seed(0)
    _, disc = build_networks("mlp", ModelConfig((2,), z_dim=2, width=8))
    real, fake = torch.randn(16, 2), torch.randn(16, 2) + 1
    expected = (disc.hidden(real).mean(0) - disc.hidden(fake).mean(0)).pow(2).sum()
    value = feature_matching(disc, LOSSES.get("ns"), fake, None, real, None)
    torch.testing.assert_close(value, expected)
    torch.testing.assert_close(
        feature_matching(disc, LOSSES.get("ns"), real, None, real, None), torch.tensor(0.0)
    )


def test_packing_scores_packs_of_samples():
    torch.manual_seed(0)
    cfg = ModelConfig((1, 28, 28), z_dim=4, width=4, pack=2)
    gen, disc = build_networks("dcgan", cfg)
    fake = gen(torch.randn(6, 4))
    assert disc(fake).shape == (3,)
    assert disc.features.net[0].in_channels == 2  # two 1-channel samples side by side
    with pytest.raises(ValueError, match="not a multiple of pack=2"):
        disc(fake[:5])


@pytest.mark.parametrize("conditioning", ["concat", "projection"])
def test_conditional_networks_depend_on_the_label(conditioning):
    torch.manual_seed(0)
    cfg = ModelConfig((1, 28, 28), z_dim=4, width=4, n_classes=10, conditioning=conditioning)
    gen, disc = build_networks("dcgan", cfg)
    gen.eval(), disc.eval()
    z = torch.randn(4, 4)
    zeros, ones = torch.zeros(4, dtype=torch.long), torch.ones(4, dtype=torch.long)
    assert not torch.allclose(gen(z, zeros), gen(z, ones))
    x = gen(z, zeros)
    assert not torch.allclose(disc(x, zeros), disc(x, ones))
    with pytest.raises(ValueError, match="needs labels"):
        gen(z)


@pytest.mark.parametrize(
    ("norm", "layer"),
    [("batch", nn.BatchNorm2d), ("layer", nn.GroupNorm), ("instance", nn.GroupNorm),
     ("group", nn.GroupNorm), ("none", None)],
)  # fmt: skip
def test_normalization_choice_reaches_the_networks(norm, layer):
    cfg = ModelConfig((1, 28, 28), z_dim=4, width=8, norm_g=norm, norm_d=norm)
    gen, disc = build_networks("dcgan", cfg)
    norms = [
        m for m in [*gen.modules(), *disc.modules()] if isinstance(m, nn.BatchNorm2d | nn.GroupNorm)
    ]
    if layer is None:
        assert norms == []
    else:
        assert norms and all(isinstance(m, layer) for m in norms)
    expected_groups = {
        "layer": lambda c: 1,
        "instance": lambda c: c,
        "group": lambda c: math.gcd(32, c),
    }
    if norm in expected_groups:
        assert all(m.num_groups == expected_groups[norm](m.num_channels) for m in norms)


def test_instance_norm_needs_feature_maps():
    with pytest.raises(ValueError, match="normalization 'instance' needs feature maps"):
        build_networks("mlp", ModelConfig((2,), z_dim=2, width=8, norm_d="instance"))


def test_ema_update_formula():
    ema, model = nn.Linear(2, 2), nn.Linear(2, 2)
    before = ema.weight.detach().clone()
    update_ema(ema, model, decay=0.9)
    torch.testing.assert_close(ema.weight, 0.9 * before + 0.1 * model.weight.detach())


def test_optimizers_follow_the_papers():
    params = [nn.Parameter(torch.zeros(1))]
    adam = OPTIMIZERS.get("adam")(params, 2e-4, (0.5, 0.999), False)
    assert adam.defaults["betas"] == (0.5, 0.999) and adam.defaults["lr"] == 2e-4
    assert adam.defaults["fused"]
    # a seed group's stacks: fused where each seed's slice fills whole vectors
    stacks = [nn.Parameter(torch.zeros(3, 64, 2)), nn.Parameter(torch.zeros(3, 2))]
    groups = OPTIMIZERS.get("adam")(stacks, 2e-4, (0.5, 0.999), True).param_groups
    assert [(g["params"][0].shape, g["fused"]) for g in groups] == [
        ((3, 64, 2), True), ((3, 2), None),
    ]  # fmt: skip
    rmsprop = OPTIMIZERS.get("rmsprop")(params, 5e-5, (0.5, 0.999), False)
    assert isinstance(rmsprop, torch.optim.RMSprop) and rmsprop.defaults["momentum"] == 0


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [("regularizers", {"r2": 1.0}, "unknown regularizer 'r2'; valid: dragan, drift, gradient_pe"),
     ("g_objective", "fm", "unknown generator objective 'fm'; valid: adversarial, feature_"),
     ("norm_d", "batchnorm", "unknown normalization 'batchnorm'"),
     ("minibatch", "std", "unknown minibatch layer 'std'"),
     ("optimizer", "sgd", "unknown optimizer 'sgd'; valid: adam, rmsprop"),
     ("pack", 0, "pack: expected an integer >= 1")],
)  # fmt: skip
def test_unknown_names_fail_with_the_valid_ones(key, value, message):
    with pytest.raises(ConfigError, match=message):
        parse(VariantConfig, {"loss": "ns", key: value}, "variants.v")


def _stand_in(name: str, is_image: bool) -> Dataset:
    """A small labelled dataset of the real one's shape and value type."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 256)
    x = (
        rng.integers(0, 256, (256, 28, 28, 1), dtype=np.uint8)
        if is_image
        else rng.normal(size=(256, 2)).astype(np.float32)
    )
    return Dataset(name, Split(x, labels), Split(x[:16], labels[:16]), {"n_classes": 10})


def test_every_variant_of_params_builds_and_trains(repo_root):
    """Every variant of params, with the settings it has on the dataset, resolves in the
    registries, builds its networks and takes two training steps with finite losses: on
    the MNIST setup (a DCGAN) and, unless it is conditional or brings its own (image)
    architecture, on the ring8 setup (an MLP)."""
    params = load_params(repo_root / "params.yaml")
    assert set(params.variants) >= {
        "gan_mm", "gan_ns", "gan_ml", "lsgan", "wgan", "wgan_gp", "hinge_sn", "dragan", "ns_r1",
        "ns_label_smoothing", "ns_minibatch_disc", "ns_feature_matching", "unrolled", "pacgan",
        "cgan", "cgan_projection", "progan", "stylegan",
    }  # fmt: skip
    for dataset_name in ("mnist", "ring8"):
        setup = params.setups[dataset_name]
        dataset = _stand_in(dataset_name, setup.arch != "mlp")
        small = dataclasses.replace(setup, steps=2, width=8, log_every=1)
        for variant_name in params.variants:
            # two steps, whatever budget of its own the variant has
            variant = dataclasses.replace(params.variant(variant_name, dataset_name), steps=None)
            if setup.arch == "mlp" and (variant.conditional or variant.arch is not None):
                continue
            plan = plan_run(dataset, small, variant, seed=0)
            trainer = GANTrainer(
                plan.gen, plan.disc, plan.loss, to_model_range(dataset.train.x),
                torch.from_numpy(dataset.train.y), plan.train, small.z_dim, 0, CPU,
            )  # fmt: skip
            (result,) = trainer.train()
            assert result.status == "ok", (dataset_name, variant_name)
