"""The theory diagnostics: the optimal discriminator (Goodfellow et al. 2014, Prop. 1) and
generator gradients as D wins (Goodfellow 2016, Fig. 16; Arjovsky & Bottou 2017)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from gan_core.data.toy import Mix1dConfig, build_mix1d, mixture_density
from gan_core.diagnostics.optimal_discriminator import (
    OptimalDConfig,
    compute_jsd,
    compute_optimal_d,
    compute_value,
    make_grid,
    measure_optimal_discriminator,
)
from gan_core.diagnostics.vanishing_gradients import (
    VanishingGradientsConfig,
    checkpoint_steps,
    measure_vanishing_gradients,
)

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def mix1d_info() -> dict:
    """The repository's default 1D data: modes at -2 and 2, std 0.5, equal weights."""
    return build_mix1d("mix1d", Mix1dConfig("mix1d", n_train=10, n_test=10), None).info


def gaussian_info(mean: float, std: float) -> dict:
    return {"modes": [[mean]], "stds": [std], "weights": [1.0]}


def scalar(value: float) -> torch.Tensor:
    return torch.tensor(value, dtype=torch.float64)


# Optimal discriminator


def test_trained_d_reaches_the_optimum(mix1d_info):
    result = measure_optimal_discriminator(mix1d_info, OptimalDConfig())
    assert result.max_abs_error < 0.05
    assert result.gap < 0.02
    assert result.mean_abs_error <= result.max_abs_error
    # V(D, G) <= V(D*, G): D* maximizes V pointwise, so no D can exceed the bound.
    assert result.value <= result.value_optimal
    assert 0.0 < result.jsd < math.log(2.0)


def test_jsd_of_identical_densities_is_zero(mix1d_info):
    x = make_grid(mix1d_info, mix1d_info, 2001)
    p = mixture_density(x, mix1d_info)
    assert compute_jsd(x, p, p) == 0.0


def test_jsd_of_disjoint_densities_is_log_2():
    real_info, fake_info = gaussian_info(-5.0, 0.1), gaussian_info(5.0, 0.1)
    x = make_grid(real_info, fake_info, 4001)
    p, q = mixture_density(x, real_info), mixture_density(x, fake_info)
    assert_close(scalar(compute_jsd(x, p, q)), scalar(math.log(2.0)), rtol=0.0, atol=1e-6)


def test_value_of_optimal_d_is_the_bound(mix1d_info):
    cfg = OptimalDConfig()
    fake_info = cfg.fake_info()
    x = make_grid(mix1d_info, fake_info, cfg.grid_size)
    p, q = mixture_density(x, mix1d_info), mixture_density(x, fake_info)
    d_star = compute_optimal_d(p, q)
    assert_close(d_star, p / (p + q))
    logits = np.log(d_star) - np.log1p(-d_star)
    bound = -math.log(4.0) + 2.0 * compute_jsd(x, p, q)
    assert_close(scalar(compute_value(x, p, q, logits)), scalar(bound), rtol=0.0, atol=1e-6)
    # D = 1/2 everywhere (logit 0): V = -log 2 (int p + int q) = -log 4.
    value_half = compute_value(x, p, q, np.zeros_like(x))
    assert_close(scalar(value_half), scalar(-math.log(4.0)), rtol=0.0, atol=1e-6)


def test_optimal_d_measurement_is_deterministic(mix1d_info):
    cfg = OptimalDConfig(steps=30, batch_size=256, grid_size=201, seed=3)
    first = measure_optimal_discriminator(mix1d_info, cfg)
    second = measure_optimal_discriminator(mix1d_info, cfg)
    np.testing.assert_array_equal(first.d, second.d)
    assert (first.value, first.gap) == (second.value, second.gap)
    other = measure_optimal_discriminator(mix1d_info, dataclasses.replace(cfg, seed=4))
    assert not np.array_equal(first.d, other.d)


# Vanishing gradients


def test_checkpoints_start_at_zero_and_end_at_steps():
    steps = checkpoint_steps(1000, 5)
    np.testing.assert_array_equal(steps, [0, 1, 10, 100, 1000])


def test_d_on_fakes_falls_as_d_trains(mix1d_info):
    cfg = VanishingGradientsConfig(steps=300, n_checkpoints=6, n_measure=256)
    result = measure_vanishing_gradients(mix1d_info, cfg)
    assert result.steps[0] == 0 and result.steps[-1] == 300
    assert result.mean_d_fake[-1] < 0.1 * result.mean_d_fake[0]
    assert set(result.grad_norms) == {"minimax", "ns", "ml"}


def test_gradient_ratios_follow_the_cost_derivatives(mix1d_info):
    # One sample: every cost's gradient is c'(logit) times the same d logit / d theta, so the
    # norms differ by |c'| alone. With D = sigmoid(logit): minimax log(1 - D) has c' = -D,
    # ns -log D has c' = -(1 - D), ml -1/2 exp(logit) has c' = -1/2 exp(logit) = -1/2 D/(1 - D).
    cfg = VanishingGradientsConfig(steps=300, n_checkpoints=6, n_measure=1)
    result = measure_vanishing_gradients(mix1d_info, cfg)
    d = torch.from_numpy(result.mean_d_fake)
    norms = {name: torch.from_numpy(v) for name, v in result.grad_norms.items()}
    assert_close(norms["minimax"] / norms["ns"], d / (1.0 - d), rtol=1e-5, atol=0.0)
    assert_close(norms["ml"] / norms["ns"], 0.5 * d / (1.0 - d) ** 2, rtol=1e-5, atol=0.0)
