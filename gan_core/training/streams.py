"""The random streams of a training run, one pair per seed.

Each seed owns two CPU generators seeded with the seed: ``batches`` for minibatch indices
and latents, ``noise`` for the draws inside a step (a penalty's interpolation weights and
perturbations, instance noise). Draws are made on the CPU, so they are the same on every
device. A seed group (several seeds trained as one stacked model, see
:mod:`gan_core.models.stacked`) draws each seed's part from that seed's own generators and
stacks the parts on a leading seed dim ``[S, ...]``: what a seed draws does not depend on
which other seeds share its group.

For one model on the CPU, the noise stream gives the same numbers torch's global generator
gave after ``torch.manual_seed(seed)`` (the same Mersenne Twister, seeded alike).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

Tensor = torch.Tensor


class RandomStreams:
    """The streams of ``seeds``. ``stacked``: draws get a leading seed dim ``[S, ...]``
    (a seed group); otherwise there is one seed and draws have no such dim. ``lead`` is
    the number of leading member dims every batch carries: 1 stacked, else 0."""

    def __init__(self, seeds: Sequence[int], stacked: bool, device: torch.device) -> None:
        if not stacked and len(seeds) != 1:
            raise ValueError(f"an unstacked run has one seed, got {list(seeds)}")
        self.seeds = tuple(int(seed) for seed in seeds)
        self.lead = 1 if stacked else 0
        self.device = device
        self.batches = [torch.Generator().manual_seed(seed) for seed in self.seeds]
        self.noise = [torch.Generator().manual_seed(seed) for seed in self.seeds]

    def _draw(self, generators: list[torch.Generator], draw: Callable[..., Tensor]) -> Tensor:
        parts = [draw(generator) for generator in generators]
        return (torch.stack(parts) if self.lead else parts[0]).to(self.device)

    def indices(self, high: int, n: int) -> Tensor:
        """``[*lead, n]`` int64 uniform in [0, high): a minibatch's rows."""
        return self._draw(self.batches, lambda g: torch.randint(high, (n,), generator=g))

    def latents(self, n: int, z_dim: int) -> Tensor:
        """``[*lead, n, z_dim]`` standard normal noise for the generator."""
        return self._draw(self.batches, lambda g: torch.randn(n, z_dim, generator=g))

    def uniform(self, shape: Sequence[int], dtype: torch.dtype = torch.float32) -> Tensor:
        """``[*lead, *shape]`` U[0, 1) draws from the noise streams."""
        return self._draw(self.noise, lambda g: torch.rand(*shape, generator=g, dtype=dtype))

    def normal(self, shape: Sequence[int], dtype: torch.dtype = torch.float32) -> Tensor:
        """``[*lead, *shape]`` N(0, 1) draws from the noise streams."""
        return self._draw(self.noise, lambda g: torch.randn(*shape, generator=g, dtype=dtype))

    def state_dict(self) -> dict[str, Any]:
        return {
            "seeds": list(self.seeds),
            "batches": [g.get_state() for g in self.batches],
            "noise": [g.get_state() for g in self.noise],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if list(state["seeds"]) != list(self.seeds):
            raise ValueError(f"streams of seeds {state['seeds']}, not {list(self.seeds)}")
        for generator, saved in zip(
            self.batches + self.noise, state["batches"] + state["noise"], strict=True
        ):
            generator.set_state(saved)
