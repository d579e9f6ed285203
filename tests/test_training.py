"""The training loop: seeded runs are bit-identical on the CPU, and training helps."""

from __future__ import annotations

import numpy as np
import torch

from gan_core.data.toy import RingConfig, build_ring
from gan_core.metrics.modes import mixture_mode_metrics
from gan_core.training import generate, train_gan
from gan_core.variants import SetupConfig, VariantConfig, plan_run, to_model_range

CPU = torch.device("cpu")
# Tiny MLPs: one thread avoids the cost of sharing very short ops between cores.
torch.set_num_threads(1)
RING = build_ring("ring8", RingConfig("ring", n_train=20_000, n_test=100), None)
SETUP = SetupConfig(arch="mlp", z_dim=2, width=64, depth=2, steps=30, batch_size=64, n_fake=500)


def _train(seed: int, steps: int = 30):
    plan = plan_run(RING, SETUP, VariantConfig(loss="ns"), seed)
    cfg = plan.train.__class__(**{**plan.train.__dict__, "steps": steps})
    result = train_gan(
        plan.gen, plan.disc, plan.loss, to_model_range(RING.train.x), cfg, 2, seed, CPU
    )
    return plan, result


def test_same_seed_gives_bit_identical_weights():
    (a, history_a), (b, history_b) = _train(0), _train(0)
    for p, q in zip(a.gen.state_dict().values(), b.gen.state_dict().values(), strict=True):
        assert torch.equal(p, q)
    assert history_a.history == history_b.history
    c, _ = _train(1)
    assert not torch.equal(next(iter(a.gen.parameters())), next(iter(c.gen.parameters())))


def test_history_has_every_logged_quantity():
    _, result = _train(0)
    assert result.status == "ok" and result.steps_done == 30
    assert result.history["step"] == [10.0, 20.0, 30.0]
    for values in result.history.values():
        assert len(values) == 3 and all(np.isfinite(values))
    assert all(0 <= v <= 1 for v in result.history["d_real"])  # probabilities for ns


def test_generate_is_seeded():
    plan, _ = _train(0)
    a = generate(plan.gen, 100, 2, seed=5, device=CPU)
    b = generate(plan.gen, 100, 2, seed=5, device=CPU)
    assert a.shape == (100, 2) and torch.equal(a, b)


def _hq_fraction(plan) -> float:
    fake = generate(plan.gen, 1000, 2, seed=9, device=CPU).numpy()
    info = RING.info
    return mixture_mode_metrics(fake, np.asarray(info["modes"]), np.asarray(info["stds"]) * 10)[
        "high_quality_fraction"
    ]


def test_training_beats_an_untrained_generator():
    untrained = plan_run(RING, SETUP, VariantConfig(loss="ns"), 0)
    trained, _ = _train(0, steps=600)
    assert _hq_fraction(trained) > _hq_fraction(untrained) + 0.2
