"""Figures for comparing runs (matplotlib, Agg backend): sample grids side by side, generated
points over the real mixture, training curves, scores over training, and the diagnostics.
Each function takes arrays and returns a ``Figure``; :func:`save_figure` writes it."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend is chosen first)
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from gan_core.io import atomic_path  # noqa: E402

FIGURE_DPI = 90
PANEL_INCHES = 2.4
# Training curves: panel title -> the logged quantities drawn in it.
CURVE_PANELS = {
    "losses": ("d_loss", "g_loss"),
    "D(x) and D(G(z)) (or critic values)": ("d_real", "d_fake"),
    "gradient norms": ("grad_norm_d", "grad_norm_g"),
}


def save_figure(fig: Figure, path: str | Path, dpi: int = FIGURE_DPI) -> None:
    """Write ``fig`` as a PNG at ``path`` (atomically) and close it."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)


def _grid(
    n_panels: int, n_cols: int, width: float = PANEL_INCHES, height: float = PANEL_INCHES
) -> tuple[Figure, np.ndarray]:
    n_cols = min(n_cols, n_panels)
    n_rows = math.ceil(n_panels / n_cols)
    figsize = (width * n_cols, height * n_rows)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=figsize, squeeze=False)
    for ax in axes.flat[n_panels:]:
        ax.axis("off")
    return fig, axes.flat


def images_figure(
    panels: Sequence[tuple[str, np.ndarray]], n_cols: int = 4, pixel_scale: float | None = None
) -> Figure:
    """Titled pictures side by side: ``(title, [H, W], [H, W, 1] or [H, W, 3] uint8)`` each;
    with ``pixel_scale`` each panel is sized so that a picture pixel is that many figure
    pixels when saved by :func:`save_figure`, else ``PANEL_INCHES`` wide."""
    width = height = PANEL_INCHES
    if pixel_scale is not None:
        width, height = (
            pixel_scale * max(picture.shape[axis] for _, picture in panels) / FIGURE_DPI
            for axis in (1, 0)
        )
    fig, axes = _grid(len(panels), n_cols, width, height)
    for ax, (title, picture) in zip(axes, panels, strict=False):
        picture = picture[..., 0] if picture.ndim == 3 and picture.shape[2] == 1 else picture
        ax.imshow(picture, cmap="gray" if picture.ndim == 2 else None, interpolation="nearest")
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    fig.tight_layout()
    return fig


def points_figure(
    panels: Sequence[tuple[str, np.ndarray]], real: np.ndarray, centres: np.ndarray, n_cols: int = 4
) -> Figure:
    """Generated points ``[N, D]`` (one panel each) over the real data ``[M, D]`` with the
    mixture's mode centres ``[K, D]`` marked; D = 2 as scatter plots, D = 1 as histograms."""
    fig, axes = _grid(len(panels), n_cols)
    low, high = np.percentile(real, [0.1, 99.9], axis=0)
    margin = 0.25 * (high - low)
    low, high = low - margin, high + margin
    for ax, (title, fake) in zip(axes, panels, strict=False):
        if real.shape[1] == 1:
            bins = np.linspace(low[0], high[0], 81)
            ax.hist(real[:, 0], bins=bins, density=True, color="#9ab4dc", label="real")
            ax.hist(fake[:, 0], bins=bins, density=True, histtype="step", color="#c81e1e",
                    label="generated")  # fmt: skip
            for centre in centres[:, 0]:
                ax.axvline(centre, color="black", linewidth=0.6, linestyle=":")
        else:
            ax.scatter(real[:, 0], real[:, 1], s=1, color="#9ab4dc", rasterized=True)
            ax.scatter(fake[:, 0], fake[:, 1], s=1, color="#c81e1e", rasterized=True)
            ax.scatter(centres[:, 0], centres[:, 1], marker="+", s=30, color="black")
            ax.set_xlim(low[0], high[0])
            ax.set_ylim(low[1], high[1])
            ax.set_aspect("equal")
        ax.set_title(title, fontsize=9)
        ax.tick_params(labelsize=6)
    fig.tight_layout()
    return fig


def curves_figure(histories: Mapping[str, Mapping[str, Sequence[float]]]) -> Figure:
    """Training curves, one row per run (``label -> history`` with "step" and the logged
    quantities), one column per panel of :data:`CURVE_PANELS`."""
    n_rows, n_cols = len(histories), len(CURVE_PANELS)
    fig, axes = plt.subplots(
        n_rows, n_cols, figsize=(3.2 * n_cols, 1.9 * n_rows), squeeze=False, sharex=True
    )
    for row, (label, history) in zip(axes, histories.items(), strict=True):
        for ax, (panel, keys) in zip(row, CURVE_PANELS.items(), strict=True):
            for key in keys:
                if key in history:
                    ax.plot(history["step"], history[key], linewidth=0.8, label=key)
            ax.set_title(f"{label}: {panel}", fontsize=8)
            ax.tick_params(labelsize=6)
            ax.legend(fontsize=6, loc="best")
    for ax in axes[-1]:
        ax.set_xlabel("generator step", fontsize=7)
    fig.tight_layout()
    return fig


def series_figure(
    series: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    xlabel: str,
    ylabel: str,
    log_x: bool = False,
    log_y: bool = False,
) -> Figure:
    """One line per ``label -> (x, y)``, e.g. FID over training checkpoints per variant."""
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for label, (x, y) in series.items():
        ax.plot(x, y, marker="o", markersize=3, linewidth=1, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if log_x:
        ax.set_xscale("log")
    if log_y:
        ax.set_yscale("log")
    ax.legend(fontsize=7, ncol=2, loc="best")
    fig.tight_layout()
    return fig


def bars_figure(values: Mapping[str, Mapping[str, float]], ylabel: str) -> Figure:
    """Grouped bars: ``group -> {bar label -> value}`` (NaN bars are left out)."""
    groups = list(values)
    labels = list(dict.fromkeys(label for bars in values.values() for label in bars))
    width = 0.8 / max(len(labels), 1)
    fig, ax = plt.subplots(figsize=(max(6.5, 0.45 * len(groups) * len(labels)), 3.8))
    for i, label in enumerate(labels):
        heights = [values[group].get(label, np.nan) for group in groups]
        ax.bar(np.arange(len(groups)) + i * width, heights, width, label=label)
    ax.set_xticks(np.arange(len(groups)) + width * (len(labels) - 1) / 2, groups, rotation=45,
                  ha="right", fontsize=7)  # fmt: skip
    ax.axhline(0.0, color="black", linewidth=0.6)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def heatmaps_figure(
    panels: Sequence[tuple[str, Sequence[int], np.ndarray]], n_cols: int = 3
) -> Figure:
    """Mode histograms over training: ``(title, steps [T], counts [T, M])`` per panel, the
    fraction of samples per mode as colour (mode on y, step on x)."""
    fig, axes = _grid(len(panels), n_cols, height=2.0)
    for ax, (title, steps, counts) in zip(axes, panels, strict=False):
        counts = np.asarray(counts, dtype=np.float64)
        fractions = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
        image = ax.imshow(fractions.T, aspect="auto", origin="lower", cmap="viridis", vmin=0,
                          extent=(steps[0], steps[-1], -0.5, counts.shape[1] - 0.5))  # fmt: skip
        colour_bar = fig.colorbar(image, ax=ax)
        colour_bar.set_label("fraction of samples", fontsize=6)
        colour_bar.ax.tick_params(labelsize=6)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(title, fontsize=8)
        ax.set_xlabel("generator step", fontsize=7)
        ax.set_ylabel("mode", fontsize=7)
        ax.tick_params(labelsize=6)
    fig.tight_layout()
    return fig


def optimal_discriminator_figure(
    x: np.ndarray, p: np.ndarray, q: np.ndarray, d: np.ndarray, d_star: np.ndarray
) -> Figure:
    """The trained D(x) against D*(x) = p / (p + q) on a grid, over the densities p, q."""
    fig, ax = plt.subplots(figsize=(6.5, 3.5))
    ax.plot(x, d_star, color="black", linewidth=2, label="D*(x) = p/(p+q)")
    ax.plot(x, d, color="#c81e1e", linestyle="--", linewidth=1.5, label="trained D(x)")
    ax.set_ylabel("D(x)")
    ax.set_ylim(-0.02, 1.02)
    twin = ax.twinx()
    twin.fill_between(x, p, color="#9ab4dc", alpha=0.5, label="p (data)")
    twin.fill_between(x, q, color="#f2b880", alpha=0.5, label="q (generator)")
    twin.set_ylabel("density")
    lines = ax.get_legend_handles_labels()
    fills = twin.get_legend_handles_labels()
    ax.legend(lines[0] + fills[0], lines[1] + fills[1], fontsize=7, loc="upper left")
    ax.set_xlabel("x")
    fig.tight_layout()
    return fig
