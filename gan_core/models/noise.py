"""Where a generator's own random inputs come from (StyleGAN's per-pixel noise, its style
mixing draws): the source the caller sets with :func:`noise_from`, so that training (from
the trainer's checkpointed streams) and sampling (from the sampling seed) stay
reproducible; outside any source, PyTorch's global generator.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator

import torch

Tensor = torch.Tensor
# shape -> standard normal draws of that shape (float32)
NoiseSource = Callable[[tuple[int, ...]], Tensor]

_SOURCE: contextvars.ContextVar[NoiseSource | None] = contextvars.ContextVar(
    "noise_source", default=None
)


@contextlib.contextmanager
def noise_from(source: NoiseSource) -> Iterator[None]:
    """Generators called inside draw their noise from ``source``."""
    token = _SOURCE.set(source)
    try:
        yield
    finally:
        _SOURCE.reset(token)


def standard_normal(shape: tuple[int, ...], like: Tensor) -> Tensor:
    """N(0, 1) draws of ``shape`` on ``like``'s device and dtype, from the current source."""
    source = _SOURCE.get()
    if source is None:
        return torch.randn(shape, device=like.device, dtype=like.dtype)
    return source(shape).to(device=like.device, dtype=like.dtype)
