"""What the generator minimizes, by name (a variant's ``g_objective``).

An objective is ``(disc, loss, fake, fake_labels, real, real_labels) -> Tensor``: ``fake``
``[*lead, N, ...]`` carries the generator's graph, ``real`` is a fresh data batch; ``disc`` is
a :class:`gan_core.models.composite.Discriminator` (or a seed group's stacked one, whose
batches carry a leading seed dim). It returns the cost ``[*lead]``: a scalar for one model,
one per seed for a group. The loop calls the chosen one and never
looks at its name.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from gan_core.registry import Registry
from gan_core.training.losses import Loss

Tensor = torch.Tensor
Labels = Tensor | None
GeneratorObjective = Callable[[nn.Module, Loss, Tensor, Labels, Tensor, Labels], Tensor]
G_OBJECTIVES: Registry[GeneratorObjective] = Registry("generator objective")


@G_OBJECTIVES.register("adversarial")
def adversarial(
    disc: nn.Module,
    loss: Loss,
    fake: Tensor,
    fake_labels: Tensor | None,
    real: Tensor,
    real_labels: Tensor | None,
) -> Tensor:
    """The loss's own generator cost on D's scores of the fakes."""
    del real, real_labels  # the common signature; the adversarial cost sees fakes only
    return loss.g_loss(disc(fake, fake_labels))


@G_OBJECTIVES.register("feature_matching")
def feature_matching(
    disc: nn.Module,
    loss: Loss,
    fake: Tensor,
    fake_labels: Tensor | None,
    real: Tensor,
    real_labels: Tensor | None,
) -> Tensor:
    """Feature matching (Salimans et al. 2016, Sec. 3.1): ||E f(x) - E f(G(z))||_2^2 with f
    the discriminator's last hidden layer, batch means for the expectations. D keeps
    training with ``loss``'s discriminator cost."""
    del loss  # the common signature; D's own loss is not what G minimizes here
    real_feats = disc.hidden(real, real_labels).mean(dim=-2).detach()  # [*lead, F]
    fake_feats = disc.hidden(fake, fake_labels).mean(dim=-2)
    return (real_feats - fake_feats).pow(2).sum(dim=-1)
