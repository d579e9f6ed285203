"""The style-based generator (arch stylegan): demodulation's unit variance, truncation,
style mixing, and reproducible training and sampling with its per-pixel noise."""

from __future__ import annotations

import dataclasses
import io

import numpy as np
import pytest
import torch

from gan_core.config import ConfigError, parse
from gan_core.figures import image_grid
from gan_core.models import ModelConfig, build_networks
from gan_core.models.stylegan import ModulatedConv2d
from gan_core.style_figures import draw_styles, style_mixing_grid, truncation_grids
from gan_core.training.loop import GANTrainer, generate
from gan_core.training.variants import VariantConfig, plan_run
from tests.tiny_images import SETUP as TINY_SETUP
from tests.tiny_images import image_trainer, tiny_images

CPU = torch.device("cpu")
pytestmark = pytest.mark.usefixtures("one_thread")
STYLEGAN = {
    "loss": "ns", "arch": "stylegan", "mapping_layers": 2, "regularizers": {"r1": 5.0},
    "norm_d": "none", "lr_g": 2.0e-3, "lr_d": 2.0e-3, "betas": [0.0, 0.99], "ema_decay": 0.9,
}  # fmt: skip


def _generator(**options):
    torch.manual_seed(0)
    cfg = ModelConfig((1, 28, 28), 8, 4, mapping_layers=2, **options)
    return build_networks("stylegan", cfg)[0]


def test_demodulation_gives_unit_variance_whatever_the_style():
    torch.manual_seed(0)
    conv = ModulatedConv2d(64, 32, 3, w_dim=16)
    x = torch.randn(6, 64, 20, 20)
    w = torch.randn(6, 16)
    with torch.no_grad():
        out = conv(x, w)
        interior = out[..., 1:-1, 1:-1]  # zero padding lowers the border's variance
        assert interior.var(dim=(1, 2, 3)).numpy() == pytest.approx(np.ones(6), rel=0.1)
        conv.affine.weight.mul_(7.0)  # the styles 7x larger: demodulated away
        conv.affine.bias.mul_(7.0)
        assert torch.allclose(conv(x, w), out, atol=1e-4)
        conv.demodulate = False  # without it the output scales with the style
        assert conv(x, w).var().item() > 10 * out.var().item()


def test_truncation_at_psi_0_gives_the_mean_w():
    gen = _generator(truncation_psi=0.0)
    body = gen.body
    body.w_avg.copy_(torch.randn(body.w_dim))
    w = body.styles(torch.randn(5, 8))
    assert torch.equal(body.truncate(w, 0.0), body.w_avg.expand(5, -1))
    assert torch.allclose(body.truncate(w, 0.7), body.w_avg + 0.7 * (w - body.w_avg))
    gen.eval()
    with torch.no_grad():
        a, b = gen(torch.randn(3, 8)), gen(torch.randn(3, 8))
    # every z draws the mean w's image (the noise strengths start at 0)
    assert torch.equal(a, b) and torch.equal(a[0], a[1])


def test_style_mixing_takes_both_ws_at_the_crossover():
    gen = _generator(style_mixing=1.0)
    body = gen.body
    w1, w2 = torch.randn(4, body.w_dim), torch.randn(4, body.w_dim)
    crossover = torch.tensor([0, 2, 3, body.n_styles])
    ws = body.mixed(w1, w2, crossover)
    for row, cut in enumerate(crossover.tolist()):
        assert torch.equal(ws[row, :cut], w1[row].expand(cut, -1))
        assert torch.equal(ws[row, cut:], w2[row].expand(body.n_styles - cut, -1))
    # in training, every sample mixes (probability 1): its first styles are its own w
    seen = []
    synthesis = body.synthesis
    body.synthesis = lambda styles: seen.append(styles) or synthesis(styles)
    z = torch.randn(16, 8)
    gen.train()(z)
    (styles,) = seen
    own = body.styles(z)
    assert torch.allclose(styles[:, 0], own)
    assert all(not torch.allclose(styles[i, -1], own[i]) for i in range(16))


SETUP = dataclasses.replace(TINY_SETUP, steps=8)


def _trainer(variant: dict) -> GANTrainer:
    return image_trainer(variant, SETUP)


def test_training_and_sampling_are_reproducible_with_the_noise_inputs():
    a, b = _trainer(STYLEGAN), _trainer(STYLEGAN)
    a.train(), b.train()
    assert torch.equal(generate(a.sampler, 10, 8, 3, CPU), generate(b.sampler, 10, 8, 3, CPU))
    noise = [m.noise_strength for m in a.gen.modules() if hasattr(m, "noise_strength")]
    assert any(strength.abs().sum() > 0 for strength in noise)  # the noise inputs learned


def test_resume_gives_the_uninterrupted_weights():
    uninterrupted = _trainer(STYLEGAN)
    uninterrupted.train()
    interrupted = _trainer(STYLEGAN)
    interrupted.train(until=3)
    saved = io.BytesIO()
    torch.save(interrupted.state_dict(), saved)
    resumed = _trainer(STYLEGAN)
    torch.manual_seed(999)  # the global generator elsewhere: nothing may depend on it
    saved.seek(0)
    resumed.load_state_dict(torch.load(saved, weights_only=True))
    resumed.train()
    for (name, p), q in zip(
        uninterrupted.sampler.state_dict().items(),
        resumed.sampler.state_dict().values(),
        strict=True,
    ):
        assert torch.equal(p, q), name


def test_conditional_stylegan_trains():
    (result,) = _trainer({**STYLEGAN, "conditional": True}).train(until=3)
    assert result.status == "ok"


def test_the_label_enters_the_mapping_embedded_at_the_latents_scale():
    gen = _generator(n_classes=10, conditioning="projection")
    body = gen.body
    seen = []
    first = next(m for m in body.mapping if isinstance(m, torch.nn.Linear))
    first.register_forward_hook(lambda module, args, out: seen.append(args[0]))
    z = torch.randn(7, 8) * 5.0
    one_hot = torch.nn.functional.one_hot(torch.arange(7) % 10, 10).float()
    with torch.no_grad():
        body.styles(torch.cat([z, one_hot], dim=1))
    (mapped,) = seen
    assert mapped.shape == (7, 8 + body.w_dim)  # the latent, then the label's embedding
    for half in (mapped[:, :8], mapped[:, 8:]):  # each half at unit root mean square
        assert half.pow(2).mean(dim=1).numpy() == pytest.approx(np.ones(7), rel=1e-5)
    # At initialization, the label moves w about as far as the latent does (a bare one-hot
    # beside the latent moved it a fifth as far: 0.20)
    z = torch.randn(50, 8)
    with torch.no_grad():
        ws = torch.stack([
            body.styles(torch.cat([z, torch.nn.functional.one_hot(torch.full((50,), c), 10)], 1))
            for c in range(10)
        ])  # [label, latent, w_dim]  # fmt: skip
    across_labels = (ws - ws.mean(dim=0)).pow(2).mean().sqrt()
    across_latents = (ws - ws.mean(dim=1, keepdim=True)).pow(2).mean().sqrt()
    assert across_labels > 0.5 * across_latents


def test_style_options_need_the_style_based_generator():
    variant = parse(VariantConfig, {"loss": "ns", "style_mixing": 0.5}, "v")
    with pytest.raises(ConfigError, match="style_mixing needs arch stylegan, not dcgan"):
        plan_run(tiny_images(), SETUP, variant, 0)
    with pytest.raises(ConfigError, match=r"v.style_mixing: expected 0.0 <= value <= 1.0, got 2"):
        parse(VariantConfig, {"loss": "ns", "style_mixing": 2}, "v").validate("v")


def test_lazy_regularization_adds_the_penalty_every_kth_round_k_times_as_strong():
    losses, calls = [], []
    for value in (1.0, 0.0):  # a constant penalty: no gradient, the same training
        trainer = _trainer({**STYLEGAN, "regularize_every": 4})
        trainer.penalties["r1"] = lambda *args, v=value, t=trainer: (
            calls.append(t.step) or torch.tensor(v)
        )
        (result,) = trainer.train()
        losses.append(result.history["d_loss"][-1])  # logged at the last step, 8
    assert calls == [4, 8, 4, 8]
    assert losses[0] - losses[1] == pytest.approx(4 * 5.0 * 1.0)


def _trained_looking(gen):
    """``gen`` with random noise strengths and a random mean w, so every input matters."""
    torch.manual_seed(1)
    for layer in gen.modules():
        if hasattr(layer, "noise_strength"):
            layer.noise_strength.data.normal_()
    gen.body.w_avg.normal_()
    return gen.eval()


def test_truncation_grids_draw_the_same_latents_at_each_psi():
    gen = _trained_looking(_generator())
    at_1, at_07, again_1, at_0 = truncation_grids(gen, [1.0, 0.7, 1.0, 0.0], n=8, seed=3)
    assert at_1.dtype == np.uint8 and np.array_equal(at_1, again_1)
    assert not np.array_equal(at_1, at_07)
    tiles = at_0[2:30, 2:30], at_0[2:30, 32:60]  # psi 0: every latent draws the mean w
    assert np.array_equal(*tiles)


def test_style_mixing_grid_takes_coarse_styles_from_the_rows_and_fine_from_the_columns():
    gen = _trained_looking(_generator())
    n, side = 3, 28 + 2
    grid = style_mixing_grid(gen, n, seed=5)
    assert grid.shape == ((n + 1) * side + 2, (n + 1) * side + 2, 1)

    def tile(row, col):
        return grid[2 + row * side : row * side + side, 2 + col * side : col * side + side]

    assert not tile(0, 0).any()  # the blank corner
    body = gen.body
    z = torch.randn(2 * n, 8, generator=torch.Generator().manual_seed(5))
    w = body.styles(gen.body_input(z))
    w_a, w_b = w[:n], w[n:]
    for i in range(n):
        for j in range(n):
            crossover = torch.tensor([body.n_styles - 3])
            styles = body.mixed(w_a[i : i + 1], w_b[j : j + 1], crossover)
            expected = image_grid(draw_styles(gen, styles, seed=5))
            assert np.array_equal(tile(i + 1, j + 1), expected[2:30, 2:30])
    assert not np.array_equal(tile(1, 1), tile(2, 1))  # rows differ in their coarse styles


def test_the_figures_need_a_style_based_generator():
    torch.manual_seed(0)
    dcgan = build_networks("dcgan", ModelConfig((1, 28, 28), 8, 4))[0]
    with pytest.raises(ValueError, match="style-based generator is needed"):
        style_mixing_grid(dcgan, 2, seed=0)
