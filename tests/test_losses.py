"""Each registered loss equals its formula, written here independently of gan_core."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch.testing import assert_close

from gan_core.training.losses import LOSSES, SMOOTH_REAL_TARGET

REAL = torch.tensor([2.0, -1.0, 0.5], dtype=torch.float64)  # raw logits [N]
FAKE = torch.tensor([-3.0, 0.0, 1.5], dtype=torch.float64)


def log_d(logits: torch.Tensor) -> torch.Tensor:
    """log D with D = sigmoid(logit): the naive form, fine at these moderate logits."""
    return torch.log(torch.sigmoid(logits))


def log_one_minus_d(logits: torch.Tensor) -> torch.Tensor:
    return torch.log(1.0 - torch.sigmoid(logits))


def scalar(value: float) -> torch.Tensor:
    return torch.tensor(value, dtype=torch.float64)


BCE_D = -log_d(REAL).mean() - log_one_minus_d(FAKE).mean()

EXPECTED = {
    # name: (d_loss(REAL, FAKE), g_loss(FAKE))
    "minimax": (BCE_D, log_one_minus_d(FAKE).mean()),
    "ns": (BCE_D, -log_d(FAKE).mean()),
    "ml": (BCE_D, scalar(-0.5 * (math.exp(-3.0) + 1.0 + math.exp(1.5)) / 3)),
    "ns_label_smoothing": (
        -(0.9 * log_d(REAL) + 0.1 * log_one_minus_d(REAL)).mean() - log_one_minus_d(FAKE).mean(),
        -log_d(FAKE).mean(),
    ),
    # 1/2 mean([1, 4, 0.25]) + 1/2 mean([9, 0, 2.25]); 1/2 mean([16, 1, 0.25])
    "lsgan": (scalar(0.875 + 1.875), scalar(2.875)),
    # mean(FAKE) - mean(REAL) = -0.5 - 0.5; -mean(FAKE)
    "wasserstein": (scalar(-1.0), scalar(0.5)),
    # mean([0, 2, 0.5]) + mean([0, 1, 2.5]); -mean(FAKE)
    "hinge": (scalar(2.0), scalar(0.5)),
}


def test_registry_lists_exactly_the_losses():
    assert LOSSES.names() == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_loss_matches_formula(name):
    loss = LOSSES.get(name)
    expected_d, expected_g = EXPECTED[name]
    assert_close(loss.d_loss(REAL, FAKE), expected_d)
    assert_close(loss.g_loss(FAKE), expected_g)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_d_output_is_probability_only_for_classification_losses(name):
    d_output = LOSSES.get(name).d_output(REAL)
    raw = name in ("lsgan", "wasserstein", "hinge")
    assert_close(d_output, REAL if raw else torch.sigmoid(REAL))


def test_label_smoothing_is_bce_with_targets_09_and_0():
    assert SMOOTH_REAL_TARGET == 0.9
    expected = F.binary_cross_entropy_with_logits(
        REAL, torch.full_like(REAL, 0.9)
    ) + F.binary_cross_entropy_with_logits(FAKE, torch.zeros_like(FAKE))
    assert_close(LOSSES.get("ns_label_smoothing").d_loss(REAL, FAKE), expected)


def test_classification_losses_are_stable_at_extreme_logits():
    # log(sigmoid(-200)) is -inf in float32; the softplus forms give the exact values.
    real = torch.tensor([-200.0])
    fake = torch.tensor([-200.0])
    assert_close(LOSSES.get("ns").d_loss(real, fake), torch.tensor(200.0))
    assert_close(LOSSES.get("ns").g_loss(fake), torch.tensor(200.0))
    assert_close(LOSSES.get("minimax").g_loss(torch.tensor([200.0])), torch.tensor(-200.0))
    # 0.9 * softplus(200) + 0.1 * softplus(-200) + softplus(-200)
    assert_close(LOSSES.get("ns_label_smoothing").d_loss(real, fake), torch.tensor(180.0))


def logit_grad(name: str, logit: float) -> torch.Tensor:
    """d g_loss / d logit for a single fake logit."""
    fake = torch.tensor([logit], dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(LOSSES.get(name).g_loss(fake), fake)
    return grad[0]


def test_minimax_saturates_where_non_saturating_does_not():
    # D(G(z)) = sigmoid(-10) ~ 4.54e-5: D confidently rejects the fake sample.
    s = 1.0 / (1.0 + math.exp(10.0))
    minimax = logit_grad("minimax", -10.0)  # d/dl log(1 - sigmoid(l)) = -sigmoid(l)
    ns = logit_grad("ns", -10.0)  # d/dl -log sigmoid(l) = -(1 - sigmoid(l))
    ml = logit_grad("ml", -10.0)  # d/dl -1/2 exp(l) = -1/2 exp(l)
    assert_close(minimax, scalar(-s))
    assert_close(ns, scalar(-(1.0 - s)))
    assert_close(ml, scalar(-0.5 * math.exp(-10.0)))
    assert abs(minimax) == pytest.approx(4.5398e-5, rel=1e-4)
    assert abs(ns) == pytest.approx(1.0, abs=1e-4)
    assert abs(minimax) / abs(ns) < 1e-4
