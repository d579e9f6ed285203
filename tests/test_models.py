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


@pytest.mark.parametrize("arch", ["progan", "stylegan"])
@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 28, 28), (3, 32, 32), (3, 64, 64)])
def test_karras_generators_fit_any_square_image_dataset(arch, shape):
    """Any image dataset of side 7 or 4 times a power of two takes them by params alone:
    the networks size themselves from the data's shape (linear outputs: sampling clips)."""
    torch.manual_seed(0)
    gen, disc = build_networks(arch, ModelConfig(shape, z_dim=16, width=4))
    fake = gen(torch.randn(5, 16))
    assert fake.shape == (5, *shape) and torch.isfinite(fake).all()
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


@pytest.mark.parametrize("shape", [(3, 28, 28), (1, 32, 32)])
def test_dcgan_tf_follows_dcgan_tensorflow(shape):
    """PacGAN's Stacked MNIST network: a linear map to 8w x 2 x 2, four 5x5 stride-2 layers
    each way, batch norm on all of D's convolutions but the first."""
    width, z_dim = 4, 10
    gen, disc = build_networks("dcgan_tf", ModelConfig(shape, z_dim=z_dim, width=width))
    fake = gen(torch.randn(6, z_dim))
    assert fake.shape == (6, *shape) and fake.abs().max() <= 1
    assert disc(fake).shape == (6,)
    assert gen.body.project.out_features == 8 * width * 2 * 2
    g_convs = [m for m in gen.modules() if isinstance(m, nn.ConvTranspose2d)]
    d_convs = [m for m in disc.modules() if isinstance(m, nn.Conv2d)]
    assert [m.out_channels for m in g_convs] == [4 * width, 2 * width, width, shape[0]]
    assert [m.out_channels for m in d_convs] == [width, 2 * width, 4 * width, 8 * width]
    assert all(m.kernel_size == (5, 5) and m.stride == (2, 2) for m in g_convs + d_convs)
    d_layers = list(disc.features.net)
    assert [type(d_layers[i + 1]) for i, m in enumerate(d_layers) if isinstance(m, nn.Conv2d)] \
        == [nn.LeakyReLU, nn.BatchNorm2d, nn.BatchNorm2d, nn.BatchNorm2d]  # fmt: skip


def test_dcgan_tf_packs_and_refuses_small_images():
    gen, disc = build_networks("dcgan_tf", ModelConfig((3, 28, 28), z_dim=8, width=4, pack=2))
    assert disc(gen(torch.randn(6, 8))).shape == (3,)
    with pytest.raises(ValueError, match="dcgan_tf needs square images of side >= 16"):
        build_networks("dcgan_tf", ModelConfig((1, 8, 8), z_dim=4, width=4))


def test_uniform_latent_is_the_probability_integral_transform():
    """2 Phi(z) - 1: 0 -> 0, the normal's 97.5% quantile -> 0.95, and N(0, 1) draws come out
    uniform on [-1, 1] (Kolmogorov-Smirnov)."""
    from scipy import stats

    from gan_core.models.composite import normal_to_uniform

    z = torch.tensor([0.0, 1.959963984540054, -1.959963984540054], dtype=torch.float64)
    expected = torch.tensor([0.0, 0.95, -0.95], dtype=torch.float64)
    assert torch.allclose(normal_to_uniform(z), expected)
    u = normal_to_uniform(torch.randn(20_000, generator=torch.Generator().manual_seed(0)))
    assert u.min() >= -1 and u.max() <= 1
    assert stats.kstest(u.numpy(), stats.uniform(loc=-1, scale=2).cdf).pvalue > 0.01
    gen, _ = build_networks("mlp", ModelConfig((2,), z_dim=3, width=8, latent="uniform"))
    seen = []
    gen.body.register_forward_pre_hook(lambda _module, args: seen.append(args[0]))
    z = torch.randn(4, 3)
    gen(z)
    assert torch.equal(seen[0], normal_to_uniform(z))


def test_the_device_is_chosen_by_params():
    from gan_core.device import pick_device

    assert pick_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert pick_device("auto").type == expected
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="device: 'cuda' asked for, but torch sees no CUDA"):
            pick_device("cuda")
    with pytest.raises(ValueError, match="device: expected one of auto, cpu, cuda, got 'tpu'"):
        pick_device("tpu")


def test_convolutional_networks_are_placed_channels_last_and_compute_the_same():
    from gan_core.device import image_layout, place

    torch.manual_seed(0)
    gen, disc = build_networks("dcgan", ModelConfig((3, 32, 32), z_dim=16, width=8))
    z = torch.randn(4, 16)
    before = disc(gen(z))
    for net in (gen, disc):
        place(net, torch.device("cpu"))
    convs = [m.weight for m in gen.modules() if isinstance(m, nn.modules.conv._ConvNd)]
    assert convs and all(w.is_contiguous(memory_format=torch.channels_last) for w in convs)
    images = gen(z)
    assert images.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(disc(images), before)  # the order of float sums only
    x = torch.randn(2, 3, 5, 5)
    assert image_layout(x).is_contiguous(memory_format=torch.channels_last)
    assert image_layout(x).equal(x)
    mlp, _ = build_networks("mlp", ModelConfig((2,), z_dim=2, width=8))
    weights = [p.clone() for p in mlp.parameters()]
    place(mlp, torch.device("cpu"))
    assert all(
        p.is_contiguous() and p.equal(w) for p, w in zip(mlp.parameters(), weights, strict=True)
    )
