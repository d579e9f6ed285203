"""Low-dimensional Gaussian mixtures with known densities: the mode-collapse benchmarks.

``ring`` and ``grid`` follow the 2D protocol of PacGAN (Lin et al. 2018, Sec. 5.1, itself
after VEEGAN, Srivastava et al. 2017): 8 modes at (cos(2 pi i/8), sin(2 pi i/8)) with
std 0.01, and 25 modes at (-4 + 2i, -4 + 2j), i, j in 0..4, with std 0.05; equal weights.
``mix1d`` is a 1D mixture whose density the theory diagnostics integrate against.
The label of each point is the index of the component it was drawn from.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np

from gan_core.config import ConfigError
from gan_core.data import Dataset, Split, register_kind


@dataclasses.dataclass(frozen=True)
class RingConfig:
    kind: str
    n_modes: int = 8
    radius: float = 1.0
    std: float = 0.01
    n_train: int = 100_000
    n_test: int = 10_000
    seed: int = 0


@dataclasses.dataclass(frozen=True)
class GridConfig:
    kind: str
    side: int = 5
    spacing: float = 2.0
    std: float = 0.05
    n_train: int = 100_000
    n_test: int = 10_000
    seed: int = 0


@dataclasses.dataclass(frozen=True)
class Mix1dConfig:
    kind: str
    means: tuple[float, ...] = (-2.0, 2.0)
    stds: tuple[float, ...] = (0.5, 0.5)
    weights: tuple[float, ...] = (0.5, 0.5)
    n_train: int = 100_000
    n_test: int = 10_000
    seed: int = 0

    def validate(self, where: str) -> None:
        if not len(self.means) == len(self.stds) == len(self.weights):
            raise ConfigError(f"{where}: means, stds and weights must have the same length")
        if not math.isclose(sum(self.weights), 1.0, abs_tol=1e-9):
            raise ConfigError(f"{where}.weights: must sum to 1, got {sum(self.weights)}")


def ring_centres(n_modes: int, radius: float) -> np.ndarray:
    """``[n_modes, 2]`` float64 points evenly spaced on a circle, the first at angle 0."""
    angles = 2.0 * np.pi * np.arange(n_modes) / n_modes
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def grid_centres(side: int, spacing: float) -> np.ndarray:
    """``[side**2, 2]`` float64 points of a square lattice centred on the origin."""
    offsets = spacing * (np.arange(side) - (side - 1) / 2.0)
    xs, ys = np.meshgrid(offsets, offsets, indexing="ij")
    return np.stack([xs.ravel(), ys.ravel()], axis=1)


def sample_mixture(
    centres: np.ndarray, stds: np.ndarray, weights: np.ndarray, n: int, rng: np.random.Generator
) -> Split:
    """Draw ``n`` points of an isotropic Gaussian mixture; ``y`` is the component index."""
    labels = rng.choice(len(centres), size=n, p=weights)
    noise = rng.standard_normal((n, centres.shape[1]))
    points = centres[labels] + stds[labels, None] * noise
    return Split(points.astype(np.float32), labels.astype(np.int64))


def mixture_density(x: np.ndarray, info: dict) -> np.ndarray:
    """Density of a 1D mixture described by ``info`` (as written by ``mix1d``) at ``x``."""
    means = np.asarray(info["modes"], dtype=np.float64)[:, :1]  # [M, 1]
    stds, weights = (np.asarray(info[k], dtype=np.float64)[:, None] for k in ("stds", "weights"))
    z = (np.asarray(x, dtype=np.float64)[None, :] - means) / stds
    return np.sum(weights * np.exp(-0.5 * z**2) / (stds * math.sqrt(2.0 * math.pi)), axis=0)


def _mixture_dataset(name, centres, stds, weights, n_train, n_test, seed) -> Dataset:
    centres = np.asarray(centres, dtype=np.float64)
    stds = np.asarray(stds, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    rng = np.random.default_rng(seed)
    train = sample_mixture(centres, stds, weights, n_train, rng)
    test = sample_mixture(centres, stds, weights, n_test, rng)
    info = {
        "modality": "points",
        "modes": centres.tolist(),
        "stds": stds.tolist(),
        "weights": weights.tolist(),
        "n_classes": len(centres),
        "seed": seed,
    }
    return Dataset(name, train, test, info)


@register_kind("ring", RingConfig)
def build_ring(name: str, cfg: RingConfig, raw_dir: Path) -> Dataset:
    centres = ring_centres(cfg.n_modes, cfg.radius)
    stds = np.full(cfg.n_modes, cfg.std)
    weights = np.full(cfg.n_modes, 1.0 / cfg.n_modes)
    return _mixture_dataset(name, centres, stds, weights, cfg.n_train, cfg.n_test, cfg.seed)


@register_kind("grid", GridConfig)
def build_grid(name: str, cfg: GridConfig, raw_dir: Path) -> Dataset:
    centres = grid_centres(cfg.side, cfg.spacing)
    n_modes = len(centres)
    stds = np.full(n_modes, cfg.std)
    weights = np.full(n_modes, 1.0 / n_modes)
    return _mixture_dataset(name, centres, stds, weights, cfg.n_train, cfg.n_test, cfg.seed)


@register_kind("mix1d", Mix1dConfig)
def build_mix1d(name: str, cfg: Mix1dConfig, raw_dir: Path) -> Dataset:
    centres = np.asarray(cfg.means, dtype=np.float64)[:, None]
    return _mixture_dataset(name, centres, cfg.stds, cfg.weights, cfg.n_train, cfg.n_test, cfg.seed)
