"""A run seen over training: its generator snapshots scored one by one, beside the losses
logged since the previous snapshot, so that quality can be set against the losses (is the
generator loss a measure of sample quality?) and the mode histogram followed in time (does
the generator collapse, or hop from mode to mode?)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from gan_core.training.loop import balanced_labels, generate
from gan_core.training.variants import from_model_range


def window_means(
    history: Mapping[str, Sequence[float]], steps: Sequence[int], keys: Sequence[str]
) -> dict[str, list[float]]:
    """For each checkpoint ``steps[i]``, the mean of each of ``keys`` over the logged steps
    in ``(steps[i-1], steps[i]]`` (``(0, steps[0]]`` for the first); NaN where none was
    logged. ``history`` maps "step" and each key to the values at the logged steps."""
    logged = np.asarray(history["step"], dtype=np.int64)
    means: dict[str, list[float]] = {key: [] for key in keys}
    previous = 0
    for step in steps:
        window = (logged > previous) & (logged <= step)
        for key in keys:
            values = np.asarray(history[key], dtype=np.float64)[window]
            means[key].append(float(values.mean()) if len(values) else float("nan"))
        previous = step
    return means


def score_snapshots(
    gen: nn.Module,
    snapshots: Sequence[tuple[int, Mapping[str, torch.Tensor]]],
    z_dim: int,
    n_classes: int,
    n: int,
    seed: int,
    device: torch.device,
    is_image: bool,
    score: Callable[[np.ndarray], dict[str, Any]],
) -> list[dict[str, Any]]:
    """One row per ``(step, state_dict)`` snapshot of ``gen``: ``score`` of ``n`` samples
    (uint8 NHWC images or float points) drawn from the same noise (``seed``; every class
    equally often when ``n_classes`` > 0) at every step, so the rows differ by the weights
    only. A snapshot whose samples are not finite (a diverging run) gets the step alone."""
    labels = balanced_labels(n, n_classes) if n_classes else None
    rows = []
    for step, state in snapshots:
        gen.load_state_dict(state)
        samples = generate(gen, n, z_dim, seed, device, labels)
        finite = bool(torch.isfinite(samples).all())
        row = score(from_model_range(samples, is_image)) if finite else {}
        rows.append({"step": step, **row})
    return rows


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman rank correlation of paired values, NaN pairs dropped; NaN with fewer than
    3 pairs or a constant side (no ranking to correlate)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    from scipy import stats  # slow to import; only the diagnostics correlate

    return float(stats.spearmanr(x, y).statistic)


def histogram_shift(histograms: np.ndarray) -> float:
    """Mean total-variation distance between the consecutive snapshots of a mode histogram
    ``[T, M]`` (counts or fractions, each row normalized): 0 for a generator whose mix of
    modes stays put, up to 1 for one that jumps to new modes at every snapshot (the minimax
    oscillation of mode collapse); NaN with fewer than two snapshots."""
    histograms = np.asarray(histograms, dtype=np.float64)
    if histograms.ndim != 2:
        raise ValueError(f"histograms must be [T, M], got shape {histograms.shape}")
    if len(histograms) < 2:
        return float("nan")
    fractions = histograms / np.maximum(histograms.sum(axis=1, keepdims=True), 1e-300)
    return float(0.5 * np.abs(np.diff(fractions, axis=0)).sum(axis=1).mean())
