"""The training loop: seeded runs are bit-identical on the CPU, resuming from a checkpoint
gives the same bits as an uninterrupted run, and training helps."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from gan_core.config import ConfigError, parse, to_plain
from gan_core.data.toy import RingConfig, build_ring
from gan_core.metrics.modes import mixture_mode_metrics
from gan_core.training.loop import GANTrainer, generate
from gan_core.training.variants import SetupConfig, VariantConfig, plan_run, to_model_range
from stages.params import load_params

CPU = torch.device("cpu")
pytestmark = pytest.mark.usefixtures("one_thread")
RING = build_ring("ring8", RingConfig("ring", n_train=20_000, n_test=100), None)
SETUP = SetupConfig(arch="mlp", z_dim=2, width=32, depth=2, steps=30, batch_size=64, n_fake=500)
# Every stochastic piece at once: penalty draws, instance noise, EMA, unrolling, spectral
# norm's power iteration, batch-norm statistics, a minibatch layer and packing.
EVERYTHING = {
    "loss": "ns", "regularizers": {"gradient_penalty": 1.0, "dragan": 1.0}, "n_critic": 2,
    "instance_noise": 0.1, "ema_decay": 0.9, "unroll_steps": 2, "spectral_norm_d": True,
    "norm_g": "batch", "minibatch": "minibatch_std", "pack": 2,
}  # fmt: skip


def _trainer(variant: dict, seed: int = 0, setup: SetupConfig = SETUP) -> GANTrainer:
    plan = plan_run(RING, setup, parse(VariantConfig, variant, "variant"), seed)
    data = to_model_range(RING.train.x)
    return GANTrainer(plan.gen, plan.disc, plan.loss, data, None, plan.train, 2, seed, CPU)


def _assert_same_weights(a: torch.nn.Module, b: torch.nn.Module) -> None:
    for (name, p), q in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(p, q), name


def test_same_seed_gives_bit_identical_weights():
    a, b, c = _trainer({"loss": "ns"}), _trainer({"loss": "ns"}), _trainer({"loss": "ns"}, 1)
    ((result_a,), (result_b,)) = a.train(), b.train()
    history_a, history_b = result_a.history, result_b.history
    _assert_same_weights(a.gen, b.gen)
    assert history_a == history_b
    c.train()
    assert not torch.equal(next(iter(a.gen.parameters())), next(iter(c.gen.parameters())))


SIMULTANEOUS = {"loss": "ns", "updates": "simultaneous", "norm_g": "batch", "ema_decay": 0.9}


@pytest.mark.parametrize(
    "variant", [{"loss": "ns"}, EVERYTHING, SIMULTANEOUS], ids=["ns", "everything", "simultaneous"]
)
def test_resume_gives_the_weights_of_an_uninterrupted_run(variant):
    uninterrupted = _trainer(variant)
    uninterrupted.train()
    interrupted = _trainer(variant)
    interrupted.train(until=13)  # stopped after k = 13 steps
    saved = io.BytesIO()
    torch.save(interrupted.state_dict(), saved)
    del interrupted
    resumed = _trainer(variant, seed=0)
    torch.manual_seed(12345)  # a fresh process: the global stream is elsewhere
    saved.seek(0)
    resumed.load_state_dict(torch.load(saved, weights_only=True))
    assert resumed.step == 13
    resumed.train()
    _assert_same_weights(uninterrupted.gen, resumed.gen)
    _assert_same_weights(uninterrupted.disc, resumed.disc)
    _assert_same_weights(uninterrupted.sampler, resumed.sampler)
    assert uninterrupted.results() == resumed.results()


def test_history_has_every_logged_quantity():
    (result,) = _trainer({"loss": "ns"}).train()
    assert result.status == "ok" and result.steps_done == 30
    assert result.history["step"] == [10.0, 20.0, 30.0]
    assert set(result.history) == {
        "step", "d_loss", "g_loss", "d_real", "d_fake", "grad_norm_d", "grad_norm_g",
    }  # fmt: skip
    for values in result.history.values():
        assert len(values) == 3 and all(np.isfinite(values))
    assert all(0 <= v <= 1 for v in result.history["d_real"])  # probabilities for ns


def test_wasserstein_losses_log_the_estimate():
    trainer = _trainer({"loss": "wasserstein", "weight_clip": 0.01, "n_critic": 2})
    (result,) = trainer.train()
    history = result.history
    assert len(history["wasserstein_estimate"]) == 3
    # d_real/d_fake are raw critic values here, and their difference is the estimate.
    difference = np.subtract(history["d_real"], history["d_fake"])
    np.testing.assert_allclose(history["wasserstein_estimate"], difference, rtol=1e-5, atol=1e-7)
    assert all(p.abs().max() <= 0.01 for p in trainer.disc.parameters())  # clipped


def test_divergence_stops_the_run():
    trainer = _trainer({"loss": "ml", "lr_g": 10.0, "lr_d": 10.0})
    (result,) = trainer.train()
    assert result.status == "diverged" and result.steps_done < 30


def test_generate_is_seeded_and_keeps_the_training_mode():
    trainer = _trainer({"loss": "ns"})
    a = generate(trainer.gen, 100, 2, seed=5, device=CPU)
    b = generate(trainer.gen, 100, 2, seed=5, device=CPU)
    assert a.shape == (100, 2) and torch.equal(a, b) and trainer.gen.training


def _modes(gen: torch.nn.Module, z_dim: int = 2) -> dict:
    fake = generate(gen, 2500, z_dim, seed=9, device=CPU).numpy()
    info = RING.info
    return mixture_mode_metrics(fake, np.asarray(info["modes"]), np.asarray(info["stds"]))


def test_gan_ns_of_the_default_profile_covers_the_ring(repo_root):
    """Behaviour: the default profile's gan_ns, on its ring8 setup, covers >= 6 of 8 modes
    and puts far more samples near the modes than the untrained generator does."""
    params = load_params(repo_root / "params.yaml")
    setup = params.setups["ring8"]
    variant = to_plain(params.variants["gan_ns"])
    untrained = _modes(_trainer(variant, setup=setup).gen)
    trainer = _trainer(variant, setup=setup)
    trainer.train()
    trained = _modes(trainer.sampler)
    assert trained["modes_captured"] >= 6
    assert trained["high_quality_fraction"] > untrained["high_quality_fraction"] + 0.02


def test_g_steps_takes_that_many_generator_updates_per_step():
    """DCGAN-tensorflow's round: one D update, then two G updates (Adam counts each)."""
    trainer = _trainer({"loss": "ns", "g_steps": 2})
    trainer.train(until=5)
    adam_steps = {int(s["step"]) for s in trainer.opt_g.state_dict()["state"].values()}
    assert adam_steps == {10}
    assert {int(s["step"]) for s in trainer.opt_d.state_dict()["state"].values()} == {5}


def test_simultaneous_updates_take_both_gradients_before_either_update():
    """One simultaneous round from one minibatch: D's update is the alternating round's first
    D update (the same draws), and G's is an Adam step on the gradient of its cost against
    D as it was before D's update, on the same fakes."""
    variant = {"loss": "ns", "norm_g": "batch"}
    simultaneous = _trainer({**variant, "updates": "simultaneous"})
    alternating, reference = _trainer(variant), _trainer(variant)
    real, _ = reference._real_batch()
    z, _ = reference._fake_batch()
    fake_scores = reference.disc(reference.gen(z))
    g_cost = reference.loss.g_loss(fake_scores)
    reference.gen.zero_grad()
    g_cost.backward()
    expected = torch.optim.Adam(reference.gen.parameters(), lr=2e-4, betas=(0.5, 0.999))
    expected.step()
    simultaneous.train(until=1)
    alternating.train(until=1)
    _assert_same_weights(simultaneous.disc, alternating.disc)
    for (name, p), q in zip(
        simultaneous.gen.named_parameters(), reference.gen.parameters(), strict=True
    ):
        torch.testing.assert_close(p, q, rtol=0, atol=1e-7, msg=name)
    pairs = zip(simultaneous.gen.parameters(), alternating.gen.parameters(), strict=True)
    # the alternating G step saw the updated D and a fresh batch
    assert any(not torch.equal(p, q) for p, q in pairs)


@pytest.mark.parametrize(
    ("key", "value"),
    [("n_critic", 5), ("g_steps", 2), ("unroll_steps", 3), ("g_objective", "feature_matching")],
)
def test_simultaneous_updates_refuse_what_a_round_of_them_cannot_do(key, value):
    variant = {"loss": "ns", "updates": "simultaneous", key: value}
    with pytest.raises(ConfigError, match=rf"variants\.pacgan\.{key}: updates 'simultaneous'"):
        parse(VariantConfig, variant, "variants.pacgan")
