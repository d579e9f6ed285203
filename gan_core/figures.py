"""Pictures of samples: an image grid, a scatter of 2D points over the real data, or the
histograms of 1D points over the real data's, all drawn with NumPy (a training snapshot's
picture costs milliseconds, and the training stage need not import matplotlib)."""

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


def class_rows(images: np.ndarray, labels: np.ndarray, per_class: int) -> np.ndarray:
    """A grid of ``[N, H, W, C]`` uint8 images by their ``labels`` ``[N]``: a row per class,
    0 first, of its first ``per_class`` images (a class with fewer leaves its row short)."""
    n_classes = int(labels.max()) + 1
    tiles = np.zeros((n_classes * per_class, *images.shape[1:]), dtype=np.uint8)
    for c in range(n_classes):
        chosen = images[labels == c][:per_class]
        tiles[c * per_class : c * per_class + len(chosen)] = chosen
    return image_grid(tiles, n_cols=per_class)


def save_samples_figure(
    path: str | Path, fake: np.ndarray, real: np.ndarray | None = None, n_images: int = 64
) -> None:
    """PNG of generated samples: a grid of the first ``n_images`` images, or for points a
    scatter of ``fake`` over ``real`` (1D points: their histograms)."""
    from PIL import Image

    from gan_core.io import atomic_path

    if fake.ndim == 4:
        picture = image_grid(fake[:n_images])
    elif fake.shape[1] == 2:
        picture = scatter_image(fake, real)
    else:
        picture = histogram_image(fake, real)
    with atomic_path(Path(path)) as tmp:
        image = Image.fromarray(picture.squeeze(-1) if picture.shape[-1] == 1 else picture)
        image.save(tmp, "PNG")


REAL_COLOUR, FAKE_COLOUR = (150, 180, 220), (200, 30, 30)  # RGB: pale blue, red


def scatter_image(fake: np.ndarray, real: np.ndarray | None = None, side: int = 400) -> np.ndarray:
    """``[side, side, 3]`` uint8 picture of 2D points ``[N, 2]``: ``real`` as pale blue dots
    under ``fake`` as red ones, on white, equal scales on both axes (y up)."""
    low, high = _limits(fake, real)
    picture = np.full((side, side, 3), 255, dtype=np.uint8)
    for points, colour in ((real, REAL_COLOUR), (fake, FAKE_COLOUR)):
        if points is None:
            continue
        points = points[np.isfinite(points).all(axis=1)]
        pixels = np.round((points - low) / (high - low) * (side - 3)).astype(int) + 1
        inside = ((pixels >= 1) & (pixels <= side - 2)).all(axis=1)
        cols, rows = pixels[inside, 0], side - 1 - pixels[inside, 1]
        for dr in (-1, 0, 1):  # 3x3 dots
            for dc in (-1, 0, 1):
                picture[rows + dr, cols + dc] = colour
    return picture


def histogram_image(
    fake: np.ndarray, real: np.ndarray | None = None, side: int = 400, bins: int = 120
) -> np.ndarray:
    """``[side, side, 3]`` uint8 picture of 1D points ``[N, 1]``: the density histogram of
    ``real`` as pale blue bars, ``fake``'s as red bars blended over them at half opacity
    (both on the same bins and height scale, on white)."""
    edges = np.linspace(*_limits(fake, real), bins + 1)
    layers = [
        (points, colour, opacity)
        for points, colour, opacity in ((real, REAL_COLOUR, 1.0), (fake, FAKE_COLOUR, 0.5))
        if points is not None
    ]
    densities = [_density(points[:, 0], edges) for points, _, _ in layers]
    top = 1.05 * max(float(d.max()) for d in densities) or 1.0
    column_bin = np.minimum(np.arange(side) * bins // side, bins - 1)  # [side]
    rows = np.arange(side)[:, None]  # [side, 1], 0 at the top
    picture = np.full((side, side, 3), 255.0)
    for (_, colour, opacity), density in zip(layers, densities, strict=True):
        heights = np.round(density[column_bin] / top * (side - 1))  # [side] per column
        bar = (rows >= side - heights[None, :])[..., None]  # [side, side, 1]
        picture = np.where(bar, (1 - opacity) * picture + opacity * np.array(colour), picture)
    return picture.round().astype(np.uint8)


def _density(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """The density histogram of the finite ``values`` on ``edges``; zeros when none is."""
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return np.zeros(len(edges) - 1)
    return np.histogram(values, edges, density=True)[0]


def _limits(fake: np.ndarray, real: np.ndarray | None) -> tuple[float, float]:
    """The drawn range: the finite values' 0.5 to 99.5 percentiles with a margin ([-1, 1]
    when no value is finite: a diverged run's samples)."""
    values = fake if real is None else np.concatenate([fake, real])
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return -1.0, 1.0
    low, high = np.percentile(values, [0.5, 99.5])
    margin = 0.1 * (high - low + 1e-6)
    return float(low - margin), float(high + margin)
