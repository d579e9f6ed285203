"""Pictures of samples: an image grid, or a scatter of points over the real data."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np


def image_grid(images: np.ndarray, n_cols: int = 8) -> np.ndarray:
    """Tile ``[N, H, W, C]`` uint8 images into one ``[rows*H, n_cols*W, C]`` uint8 image
    with a 2-pixel dark border between tiles."""
    n, h, w, c = images.shape
    n_rows = math.ceil(n / n_cols)
    pad = 2
    grid = np.zeros((n_rows * (h + pad) + pad, n_cols * (w + pad) + pad, c), dtype=np.uint8)
    for i, image in enumerate(images):
        r, col = divmod(i, n_cols)
        top, left = pad + r * (h + pad), pad + col * (w + pad)
        grid[top : top + h, left : left + w] = image
    return grid


def save_samples_figure(
    path: str | Path, fake: np.ndarray, real: np.ndarray | None = None, n_images: int = 64
) -> None:
    """PNG of generated samples: a grid of the first ``n_images`` images, or for points a
    scatter of ``fake`` over ``real`` (1D data as histograms)."""
    from PIL import Image

    from gan_core.io import atomic_path

    path = Path(path)
    if fake.ndim == 4:
        grid = image_grid(fake[:n_images])
        with atomic_path(path) as tmp:
            Image.fromarray(grid.squeeze(-1) if grid.shape[-1] == 1 else grid).save(tmp, "PNG")
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 4), dpi=100)
    if fake.shape[1] == 1:
        bins = np.linspace(*_limits(fake, real), 121)
        if real is not None:
            ax.hist(real[:, 0], bins=bins, density=True, alpha=0.5, label="real")
        ax.hist(fake[:, 0], bins=bins, density=True, alpha=0.5, label="generated")
    else:
        if real is not None:
            ax.scatter(real[:, 0], real[:, 1], s=2, alpha=0.3, label="real")
        ax.scatter(fake[:, 0], fake[:, 1], s=2, alpha=0.5, label="generated")
        ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=7)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)


def _limits(fake: np.ndarray, real: np.ndarray | None) -> tuple[float, float]:
    values = fake if real is None else np.concatenate([fake, real])
    low, high = np.percentile(values, [0.5, 99.5])
    margin = 0.1 * (high - low + 1e-6)
    return float(low - margin), float(high + margin)
