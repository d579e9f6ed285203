"""Penalties equal their formulas on critics whose input gradients are known in closed form,
and a seed group's penalty is each seed's own."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from gan_core.training.regularizers import REGULARIZERS, dragan, gradient_penalty, r1, weight_clip
from gan_core.training.streams import RandomStreams

DTYPE = torch.float64
W = torch.tensor([0.5, -1.0, 2.0, 0.0, 1.5, -0.5], dtype=DTYPE)  # ||W|| = sqrt(7.75) != 1
REAL = torch.tensor(
    [[[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]], [[0.25, 0.5, -0.5], [2.0, -1.5, 1.0]]], dtype=DTYPE
)  # [N=2, 2, 3]
FAKE = torch.tensor(
    [[[-1.0, 0.0, 2.0], [1.0, 1.0, 1.0]], [[0.0, -0.5, 0.5], [-2.0, 1.0, 0.0]]], dtype=DTYPE
)


class LinearCritic(nn.Module):
    """D(x) = flatten(x) @ w: grad_x D = w everywhere, so every gradient norm is ||w||."""

    def __init__(self, w: torch.Tensor) -> None:
        super().__init__()
        self.w = nn.Parameter(w.clone())
        self.inputs: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.inputs.append(x.detach().clone())
        return x.flatten(1) @ self.w  # [N]


class QuadraticCritic(nn.Module):
    """D(x) = a * sum(x^2) per sample ``[2, 3]``: grad_x D = 2 a x. Leading dims pass."""

    def __init__(self, a: float) -> None:
        super().__init__()
        self.a = nn.Parameter(torch.tensor(a, dtype=DTYPE))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.a * x.pow(2).flatten(-2).sum(dim=-1)  # [..., N]


def _streams(seed: int) -> RandomStreams:
    return RandomStreams((seed,), stacked=False, device=torch.device("cpu"))


def test_registry_lists_exactly_the_penalties():
    assert REGULARIZERS.names() == ["dragan", "drift", "gradient_penalty", "r1"]
    assert REGULARIZERS.get("gradient_penalty") is gradient_penalty
    assert REGULARIZERS.get("r1") is r1
    assert REGULARIZERS.get("dragan") is dragan


@pytest.mark.parametrize("penalty", [gradient_penalty, dragan])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_unit_gradient_penalties_on_a_linear_critic(penalty, seed):
    # Whatever point the penalty draws, the gradient norm is ||w||.
    critic = LinearCritic(W)
    value = penalty(critic, REAL, FAKE, _streams(seed))
    norm = W.norm()
    assert_close(value, (norm - 1.0) ** 2)
    # Differentiable w.r.t. D's parameters: d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w||.
    value.backward()
    assert_close(critic.w.grad, 2.0 * (norm - 1.0) * W / norm)


def test_gradient_penalty_interpolates_per_sample():
    critic = LinearCritic(W)
    gradient_penalty(critic, REAL, FAKE, _streams(0))
    (x_hat,) = critic.inputs
    # x_hat = eps * real + (1 - eps) * fake with one eps in [0, 1] per sample.
    eps = (x_hat - FAKE) / (REAL - FAKE)  # REAL != FAKE everywhere
    assert_close(eps, eps[:, :1, :1].expand_as(eps))
    assert ((eps >= 0) & (eps <= 1)).all()
    assert eps[0, 0, 0] != eps[1, 0, 0]


def test_gradient_penalty_exact_on_a_quadratic_critic():
    # eps is drawn from the seed's noise stream, shape [N, 1, 1]: replay the draw.
    eps = torch.rand(2, 1, 1, dtype=DTYPE, generator=torch.Generator().manual_seed(3))
    x_hat = eps * REAL + (1.0 - eps) * FAKE
    expected = ((2.0 * 0.7 * x_hat).flatten(1).norm(dim=1) - 1.0).pow(2).mean()
    assert_close(gradient_penalty(QuadraticCritic(0.7), REAL, FAKE, _streams(3)), expected)


def test_dragan_perturbs_real_data_within_half_a_std():
    critic = LinearCritic(W)
    dragan(critic, REAL, FAKE, _streams(0))
    (x_hat,) = critic.inputs
    # x_hat = x + alpha * 0.5 * std(x) * u with alpha, u in [0, 1]; std over the whole batch.
    std = (REAL - REAL.mean()).pow(2).mean().sqrt()
    step = x_hat - REAL
    assert ((step >= 0) & (step <= 0.5 * std)).all()
    assert (step > 0).any()


def test_r1_exact_on_a_quadratic_critic():
    a = 0.7
    critic = QuadraticCritic(a)
    value = r1(critic, REAL, FAKE, _streams(0))
    # ||2 a x||^2 per sample: sum(x^2) = 1 + 4 + 0.25 + 0 + 9 + 1 = 15.25 and
    # 0.0625 + 0.25 + 0.25 + 4 + 2.25 + 1 = 7.8125.
    mean_sq = (15.25 + 7.8125) / 2
    assert_close(value, torch.tensor(4 * a**2 * mean_sq, dtype=DTYPE))
    # Differentiable w.r.t. D's parameters: d/da 4 a^2 m = 8 a m.
    value.backward()
    assert_close(critic.a.grad, torch.tensor(8 * a * mean_sq, dtype=DTYPE))


def test_r1_ignores_fake():
    critic = QuadraticCritic(0.7)
    assert_close(r1(critic, REAL, FAKE, _streams(0)), r1(critic, REAL, 100 * FAKE, _streams(0)))


@pytest.mark.parametrize("penalty", [gradient_penalty, r1, dragan])
def test_penalties_send_no_gradient_to_the_generator(penalty):
    scale = torch.tensor(1.0, dtype=DTYPE, requires_grad=True)  # a stand-in generator weight
    penalty(QuadraticCritic(0.7), REAL, scale * FAKE, _streams(0)).backward()
    assert scale.grad is None


@pytest.mark.parametrize("penalty", [gradient_penalty, r1, dragan])
def test_a_seed_groups_penalty_is_each_seeds_own(penalty):
    """Batches [S, N, ...] of a group of seeds (3, 7): member s gets exactly the penalty
    seed s gets alone, with its own draws (DRAGAN: the std of its own batch)."""
    real = torch.stack([REAL, 3.0 * REAL])  # [S=2, N=2, 2, 3]
    fake = torch.stack([FAKE, -FAKE])
    group = RandomStreams((3, 7), stacked=True, device=torch.device("cpu"))
    values = penalty(QuadraticCritic(0.7), real, fake, group)
    alone = [
        penalty(QuadraticCritic(0.7), real[s], fake[s], _streams(seed))
        for s, seed in enumerate((3, 7))
    ]
    assert values.shape == (2,)
    assert_close(values, torch.stack(alone), rtol=0, atol=0)


def test_weight_clip_clamps_in_place():
    critic = nn.Linear(3, 1)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[-1.0, 0.005, 0.5]]))
        critic.bias.fill_(-0.02)
    weight = critic.weight
    assert weight_clip(critic, 0.01) is None
    assert critic.weight is weight
    assert_close(critic.weight, torch.tensor([[-0.01, 0.005, 0.01]]))
    assert_close(critic.bias, torch.tensor([-0.01]))
