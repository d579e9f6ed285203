"""The pictures a style-based generator is known by (Karras et al. 2019, Figs. 3 and 8):
the same latents drawn at several truncations psi, and style mixing, the coarse styles
(every resolution but the last) of one latent with the fine styles (the last resolution's)
of another. Every image has the same per-pixel noise inputs, drawn from the seed."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from gan_core.figures import image_grid
from gan_core.models.composite import Generator
from gan_core.models.noise import noise_from
from gan_core.models.stylegan import StyleGANGenerator
from gan_core.training.loop import balanced_labels
from gan_core.training.variants import from_model_range

Tensor = torch.Tensor


@torch.no_grad()
def truncation_grids(gen: Generator, psis: Sequence[float], n: int, seed: int) -> list[np.ndarray]:
    """For each psi, a grid of the same ``n`` latents (seeded by ``seed``; a conditional
    generator's labels cycling through the classes) drawn at that truncation."""
    body, w = _body(gen), _styles(gen, n, seed)
    return [
        image_grid(draw_styles(gen, _broadcast(body, body.truncate(w, psi)), seed)) for psi in psis
    ]


@torch.no_grad()
def style_mixing_grid(gen: Generator, n: int, seed: int) -> np.ndarray:
    """An ``(n + 1) x (n + 1)`` grid: the top row ``n`` sources B, the left column ``n``
    sources A, and in row i, column j the coarse styles of A_i with the fine styles of B_j
    (the top-left tile blank). The generator's own truncation applies to every w."""
    body = _body(gen)
    w = body.truncate(_styles(gen, 2 * n, seed), body.truncation_psi)
    w_a, w_b = w[:n], w[n:]
    crossover = torch.full((n * n,), body.n_styles - 3)  # the last resolution's layers
    pairs = body.mixed(w_a.repeat_interleave(n, dim=0), w_b.repeat(n, 1), crossover)
    sources_a, sources_b = (draw_styles(gen, _broadcast(body, w), seed) for w in (w_a, w_b))
    mixed = draw_styles(gen, pairs, seed).reshape(n, n, *sources_a.shape[1:])
    tiles = [np.zeros_like(sources_a[:1]), sources_b]
    for i in range(n):
        tiles += [sources_a[i : i + 1], mixed[i]]
    return image_grid(np.concatenate(tiles), n_cols=n + 1)


def _body(gen: Generator) -> StyleGANGenerator:
    if not (isinstance(gen, Generator) and isinstance(gen.body, StyleGANGenerator)):
        raise ValueError(f"a style-based generator is needed, got {type(gen).__name__}")
    return gen.body


def _styles(gen: Generator, n: int, seed: int) -> Tensor:
    """``w`` ``[n, w_dim]`` of ``n`` seeded latents (with balanced labels if conditional)."""
    rng = torch.Generator().manual_seed(seed)
    z = torch.randn(n, gen.body.z_dim, generator=rng)
    labels = balanced_labels(n, gen.n_classes) if gen.n_classes else None
    return gen.body.styles(gen.body_input(z, labels))


def _broadcast(body: StyleGANGenerator, w: Tensor) -> Tensor:
    """``w`` ``[N, w_dim]`` as the same style for every layer ``[N, n_styles, w_dim]``."""
    return w[:, None].expand(len(w), body.n_styles, -1)


def draw_styles(gen: Generator, ws: Tensor, seed: int) -> np.ndarray:
    """uint8 NHWC images of per-layer styles ``ws``; each layer's noise map, seeded by
    ``seed``, is the same for every image."""
    rng = torch.Generator().manual_seed(seed)

    def shared(shape: tuple[int, ...]) -> Tensor:
        return torch.randn((1, *shape[1:]), generator=rng).expand(shape)

    with noise_from(shared):
        return from_model_range(gen.body.synthesis(ws), is_image=True)
