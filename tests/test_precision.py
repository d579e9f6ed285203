"""Mixed precision (a setup's ``precision: bf16``): the networks' passes in bfloat16 under
autocast, weights, losses and gradient penalties in float32; fp32 stays untouched."""

from __future__ import annotations

import math

import pytest
import torch

from gan_core.config import ConfigError, parse
from gan_core.data.toy import RingConfig, build_ring
from gan_core.device import autocast
from gan_core.training.loop import GANTrainer
from gan_core.training.regularizers import gradient_penalty
from gan_core.training.variants import SetupConfig, VariantConfig, plan_run, to_model_range

CPU = torch.device("cpu")
pytestmark = pytest.mark.usefixtures("one_thread")
RING = build_ring("ring8", RingConfig("ring", n_train=5000, n_test=100), None)
SETUP = {"arch": "mlp", "z_dim": 2, "width": 32, "depth": 2, "steps": 20, "batch_size": 64,
         "n_fake": 100}  # fmt: skip


def _trainer(variant: dict, precision: str) -> GANTrainer:
    setup = parse(SetupConfig, {**SETUP, "precision": precision}, "setups.ring8")
    plan = plan_run(RING, setup, parse(VariantConfig, variant, "variant"), 0)
    data = to_model_range(RING.train.x)
    return GANTrainer(plan.gen, plan.disc, plan.loss, data, None, plan.train, 2, 0, CPU)


def _output_dtypes(*modules: torch.nn.Module) -> list[torch.dtype]:
    """Records the output dtype of every linear layer of ``modules`` at each call."""
    dtypes: list[torch.dtype] = []
    for module in modules:
        for layer in module.modules():
            if isinstance(layer, torch.nn.Linear):
                layer.register_forward_hook(lambda _m, _i, out: dtypes.append(out.dtype))
    return dtypes


@pytest.mark.parametrize(
    ("precision", "dtype"), [("fp32", torch.float32), ("bf16", torch.bfloat16)]
)
def test_the_networks_compute_in_the_setups_precision(precision, dtype):
    trainer = _trainer({"loss": "ns"}, precision)
    seen = _output_dtypes(trainer.gen, trainer.disc)
    (result,) = trainer.train(until=2)
    assert seen and set(seen) == {dtype}
    params = [*trainer.gen.parameters(), *trainer.disc.parameters()]
    assert {p.dtype for p in params} == {torch.float32}
    assert {p.grad.dtype for p in params if p.grad is not None} == {torch.float32}
    assert result.status == "ok"


def test_the_losses_are_float32_and_near_the_fp32_ones():
    """bfloat16 keeps about 3 significant digits: the first step's losses agree with fp32's
    to 2%, and are themselves float32."""
    fp32, bf16 = _trainer({"loss": "ns"}, "fp32"), _trainer({"loss": "ns"}, "bf16")
    stats32, stats16 = fp32._d_step(record=True), bf16._d_step(record=True)
    assert stats16["d_loss"].dtype == torch.float32
    assert stats16["d_loss"].item() == pytest.approx(stats32["d_loss"].item(), rel=0.02)
    g32, g16 = fp32._g_step(record=True), bf16._g_step(record=True)
    assert g16["g_loss"].dtype == torch.float32
    assert g16["g_loss"].item() == pytest.approx(g32["g_loss"].item(), rel=0.02)


def test_gradient_penalties_run_outside_autocast_on_float32_batches():
    trainer = _trainer({"loss": "wasserstein", "regularizers": {"gradient_penalty": 10.0}}, "bf16")
    calls = []

    def recording_penalty(scores, real, fake, streams):
        calls.append((torch.is_autocast_enabled("cpu"), real.dtype, fake.dtype))
        value = gradient_penalty(scores, real, fake, streams)
        calls.append(value.dtype)
        return value

    trainer.penalties = {"gradient_penalty": recording_penalty}
    trainer.train(until=2)
    assert calls == [(False, torch.float32, torch.float32), torch.float32] * 2


@pytest.mark.parametrize(
    "variant",
    [
        {"loss": "ns", "g_objective": "feature_matching"},
        {"loss": "ns", "regularizers": {"r1": 5.0, "dragan": 1.0}, "unroll_steps": 2},
        {"loss": "hinge", "spectral_norm_d": True, "minibatch": "minibatch_std", "pack": 2},
    ],
    ids=["feature_matching", "penalties_unrolled", "hinge_sn_minibatch_pack"],
)
def test_every_training_piece_runs_in_mixed_precision(variant):
    (result,) = _trainer(variant, "bf16").train()
    assert result.status == "ok" and result.steps_done == SETUP["steps"]
    assert all(math.isfinite(v) for v in result.history["g_loss"])


def test_fp32_is_no_autocast_and_an_unknown_precision_is_refused():
    with autocast(CPU, "fp32"):
        assert not torch.is_autocast_enabled("cpu")
    with autocast(CPU, "bf16"):
        assert torch.is_autocast_enabled("cpu")
    with pytest.raises(ConfigError, match=r"setups\.ring8\.precision: expected one of fp32, bf16"):
        parse(SetupConfig, {**SETUP, "precision": "fp16"}, "setups.ring8")
