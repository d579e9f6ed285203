"""Progressive growing (arch progan): the growth schedule, the fade-in's two ends, the
equalized learning rate's constant, pixel normalization, the drift penalty, and training
and resuming across growth phases."""

from __future__ import annotations

import io
import math

import pytest
import torch
import torch.nn.functional as F

from gan_core.config import ConfigError, parse
from gan_core.models import ModelConfig, build_networks
from gan_core.models.equalized import EqualizedConv2d, EqualizedLinear, PixelNorm
from gan_core.models.progan import growing_parts, growth
from gan_core.training.loop import GANTrainer
from gan_core.training.regularizers import REGULARIZERS
from gan_core.training.streams import RandomStreams
from gan_core.training.variants import VariantConfig, plan_run
from tests.tiny_images import SETUP, image_trainer, tiny_images

CPU = torch.device("cpu")
pytestmark = pytest.mark.usefixtures("one_thread")
PROGAN = {
    "loss": "wasserstein", "arch": "progan", "growth_images": 64,
    "regularizers": {"gradient_penalty": 10.0, "drift": 0.001},
    "lr_g": 1.0e-3, "lr_d": 1.0e-3, "betas": [0.0, 0.99], "ema_decay": 0.9,
}  # fmt: skip


def _networks(shape=(1, 28, 28), growth_images=100, n_classes=0):
    torch.manual_seed(0)
    cfg = ModelConfig(shape, 8, 4, growth_images=growth_images, n_classes=n_classes)
    return build_networks("progan", cfg)


def _grow(images: int, *nets) -> None:
    for part in growing_parts(*nets):
        part.images_seen.fill_(images)


def test_growth_schedule_phases():
    # 3 levels (7, 14, 28 pixels), 100 images a phase: base, fade 1, level 1, fade 2, level 2.
    expected = {
        0: (0, 1.0), 99: (0, 1.0), 100: (1, 0.0), 125: (1, 0.25), 199: (1, 0.99),
        200: (1, 1.0), 300: (2, 0.0), 350: (2, 0.5), 400: (2, 1.0), 10**6: (2, 1.0),
    }  # fmt: skip
    for images, (level, alpha) in expected.items():
        assert growth(images, 100, 3) == (level, pytest.approx(alpha)), images
    assert growth(0, 0, 3) == (2, 1.0)  # growth_images 0: fully grown from the start


def test_fade_in_at_alpha_0_is_the_level_below_upsampled():
    gen, disc = _networks()
    z = torch.randn(5, 8)
    _grow(0, gen)
    base = gen(z)  # level 0: the 7x7 output upsampled 4x
    _grow(100, gen)
    assert torch.equal(gen(z), base)  # level 1 fading in at alpha 0
    assert torch.equal(base, base[..., ::4, ::4].repeat_interleave(4, -1).repeat_interleave(4, -2))
    _grow(200, gen)
    at_level_1 = gen(z)
    _grow(300, gen)
    assert torch.equal(gen(z), at_level_1)  # level 2 at alpha 0 is level 1 upsampled


def test_fade_in_at_alpha_1_is_the_new_block_and_linear_between():
    gen, _ = _networks()
    body = gen.body
    z = torch.randn(5, 8)
    h = body.base_block(body.dense(body.latent_norm(z)).view(-1, body.c0, 7, 7))
    new_block = body.to_rgb[1](body.blocks[0](h))  # [5, 1, 14, 14]
    _grow(200, gen)  # level 1, alpha 1
    assert torch.allclose(gen(z), F.interpolate(new_block, scale_factor=2), atol=1e-6)
    _grow(100, gen)
    start = gen(z)
    _grow(200, gen)
    end = gen(z)
    _grow(125, gen)  # alpha 0.25
    assert torch.allclose(gen(z), torch.lerp(start, end, 0.25), atol=1e-6)


def test_discriminator_fades_in_the_same_way():
    _, disc = _networks()
    x = torch.rand(6, 1, 28, 28) * 2 - 1
    _grow(0, disc)
    base = disc(x)
    _grow(100, disc)  # level 1 fading in at alpha 0: D reads the 7x7 path only
    assert torch.allclose(disc(x), base, atol=1e-5)
    _grow(125, disc)
    assert not torch.allclose(disc(x), base, atol=1e-3)


def test_discriminator_sees_an_upsampled_low_resolution_image_as_that_image():
    # D's average pooling returns G's nearest-neighbour upsampling exactly: at level 0 only
    # the 7x7 content of an image matters.
    _, disc = _networks()
    _grow(0, disc)
    low = torch.rand(4, 1, 7, 7)
    blocky = low.repeat_interleave(4, -1).repeat_interleave(4, -2)
    detail = blocky + 0.1 * torch.randn_like(blocky)
    detail = detail - F.avg_pool2d(detail, 4).repeat_interleave(4, -1).repeat_interleave(4, -2)
    assert torch.allclose(disc(blocky), disc(blocky + detail), atol=1e-5)


def test_equalized_layers_scale_by_he_constant():
    conv = EqualizedConv2d(8, 4, 3)
    assert conv.scale == pytest.approx(math.sqrt(2.0) / math.sqrt(8 * 3 * 3))
    linear = EqualizedLinear(50, 10, gain=1.0, lr_mul=0.01, bias_init=1.0)
    assert linear.scale == pytest.approx(0.01 / math.sqrt(50))
    assert torch.allclose(linear.bias * linear.lr_mul, torch.ones(10))
    # Stored weights are N(0, 1) (N(0, 1 / lr_mul^2)); unit inputs give outputs of variance
    # gain^2 whatever the fan-in.
    torch.manual_seed(0)
    wide = EqualizedLinear(4096, 2048, gain=1.0)
    assert wide.weight.std().item() == pytest.approx(1.0, rel=0.01)
    with torch.no_grad():
        y = wide(torch.randn(256, 4096))
    assert y.var().item() == pytest.approx(1.0, rel=0.05)


def test_pixel_norm_gives_unit_rms_feature_vectors():
    x = torch.randn(3, 16, 5, 5) * torch.rand(3, 1, 5, 5) * 10
    rms = PixelNorm()(x).pow(2).mean(dim=1).sqrt()
    assert torch.allclose(rms, torch.ones_like(rms), atol=1e-5)


def test_drift_penalty_is_the_mean_squared_real_score():
    real = torch.tensor([[1.0, 2.0], [3.0, -1.0], [0.0, 0.5]])
    scores = lambda x: x.sum(-1)  # noqa: E731  D(x) = x1 + x2: 3, 2, 0.5
    streams = RandomStreams((0,), False, CPU)
    value = REGULARIZERS.get("drift")(scores, real, real * 0, streams)
    assert value.item() == pytest.approx((9 + 4 + 0.25) / 3)


def _trainer(variant: dict) -> GANTrainer:
    return image_trainer(variant)


def test_training_grows_the_networks_with_the_images_shown():
    # 8x8 images: levels 4 and 8. 64 images a phase at batch 16: level 1 fades in over
    # steps 5-8 and is alone from step 9 on.
    trainer = _trainer(PROGAN)
    seen = []
    trainer.train(on_step=lambda step: seen.append(growing_parts(trainer.gen)[0].level_alpha()))
    assert seen[:4] == [(0, 1.0)] * 4
    assert seen[4:8] == [(1, 0.0), (1, 0.25), (1, 0.5), (1, 0.75)]
    assert seen[8:] == [(1, 1.0)] * 4
    assert all(math.isfinite(v) for v in trainer.results()[0].history["d_loss"])
    assert int(growing_parts(trainer.sampler)[0].images_seen) == 11 * 16  # EMA follows


@pytest.mark.parametrize("until", [6, 9], ids=["mid-fade", "after-fade"])
def test_resume_across_a_growth_phase_gives_the_uninterrupted_weights(until):
    uninterrupted = _trainer(PROGAN)
    uninterrupted.train()
    interrupted = _trainer(PROGAN)
    interrupted.train(until=until)
    saved = io.BytesIO()
    torch.save(interrupted.state_dict(), saved)
    resumed = _trainer(PROGAN)
    saved.seek(0)
    resumed.load_state_dict(torch.load(saved, weights_only=True))
    resumed.train()
    for a, b in ((uninterrupted.gen, resumed.gen), (uninterrupted.sampler, resumed.sampler)):
        for (name, p), q in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
            assert torch.equal(p, q), name


def test_conditional_progan_trains_with_both_conditionings():
    for conditioning in ("concat", "projection"):
        trainer = _trainer({**PROGAN, "conditional": True, "conditioning": conditioning})
        (result,) = trainer.train(until=5)
        assert result.status == "ok"


def test_growth_images_needs_a_growing_architecture():
    with pytest.raises(ConfigError, match="growth_images needs arch progan, not dcgan"):
        plan_run(
            tiny_images(), SETUP, parse(VariantConfig, {"loss": "ns", "growth_images": 64}, "v"), 0
        )
    with pytest.raises(ConfigError, match=r"v.growth_images: expected a value >= 0, got -1"):
        parse(VariantConfig, {"loss": "ns", "growth_images": -1}, "v").validate("v")
