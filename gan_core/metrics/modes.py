"""Mode-collapse metrics: modes captured, high-quality samples, KL of the mode histogram.

:func:`mixture_mode_metrics` scores samples of a Gaussian mixture with known centres
(the 2D ring and grid) as in PacGAN (Lin et al. 2018, Sec. 5.1 and Table 1), which follows
VEEGAN (Srivastava et al. 2017, Sec. 5.1):

- every sample is assigned to its nearest centre (Euclidean distance);
- a sample is high quality if it lies within 3 standard deviations of that centre
  (distance <= 3 * std of the centre);
- a mode is captured if at least one high-quality sample is assigned to it;
- reverse KL = KL(q || p), p the true mixture weights, 0 * log 0 = 0, with two histograms q
  of the nearest-centre assignments, each reported under its own key:

  - ``reverse_kl``: q over *all* samples. Junk far from every mode still lands in the
    histogram of its nearest mode, so it can fill modes no high-quality sample reaches.
  - ``reverse_kl_hq``: q over the *high-quality* samples only, as PacGAN's released code
    builds it (``detail_of_coverage`` in ``pacgan/extensions.py``, fjxmlzn/PacGAN). With no
    high-quality sample q is 0/0, undefined: the key is NaN (as NumPy's 0/0 in their code),
    and ``modes_captured`` = 0 and ``high_quality_fraction`` = 0 say why.

PacGAN's code assigns by the standardized distance ``||x - c|| / std`` and uses a strict
``< 3``; with equal stds (ring and grid) the assignment is the same, and the boundary has
probability 0.

:func:`label_histogram_metrics` scores predicted classes: MNIST digit coverage, and the
1000 modes of Stacked MNIST (VEEGAN Table 2, PacGAN Table 2: modes with at least one
sample, and KL(q || uniform) of the mode histogram q).
"""

from __future__ import annotations

from typing import Any

import numpy as np

HIGH_QUALITY_STDS = 3.0  # a sample within this many stds of its nearest centre is "high quality"
# A sample farther than this many data radii from the centres' mean has left the data's
# range by far (the data radius: the farthest centre's distance plus 3 of its stds).
ESCAPE_RADII = 2.0


def mixture_mode_metrics(
    points: np.ndarray,
    centres: np.ndarray,
    stds: np.ndarray,
    weights: np.ndarray | None = None,
) -> dict[str, Any]:
    """Mode metrics of samples ``points`` ``[N, D]`` against a mixture's ``centres`` ``[M, D]``.

    ``stds`` ``[M]`` are the components' isotropic standard deviations; ``weights`` ``[M]``
    the true mixture weights (uniform if None). Returns ``modes_captured`` (int 0..M),
    ``n_modes`` (M), ``high_quality_fraction`` (0..1), ``reverse_kl`` (>= 0, nats; histogram
    of all samples), ``reverse_kl_hq`` (>= 0, nats; histogram of the high-quality samples,
    PacGAN's convention; NaN when there is none) and ``escaped_fraction`` (0..1: samples
    farther than :data:`ESCAPE_RADII` data radii from the centres' mean).
    """
    points = np.asarray(points, dtype=np.float64)
    centres = np.asarray(centres, dtype=np.float64)
    stds = np.asarray(stds, dtype=np.float64)
    if points.ndim != 2 or centres.ndim != 2 or points.shape[1] != centres.shape[1]:
        raise ValueError(
            f"points [N, D] and centres [M, D] must share D; got {points.shape} and {centres.shape}"
        )
    if len(points) == 0:
        raise ValueError("need at least one sample")
    n_modes = len(centres)
    if stds.shape != (n_modes,):
        raise ValueError(f"stds must be [{n_modes}], got {stds.shape}")
    if weights is None:
        weights = np.full(n_modes, 1.0 / n_modes)
    weights = np.asarray(weights, dtype=np.float64)
    if weights.shape != (n_modes,) or np.any(weights <= 0):
        raise ValueError(f"weights must be [{n_modes}] and positive, got {weights}")
    weights = weights / weights.sum()

    nearest, distance = _nearest_centres(points, centres)
    middle = centres.mean(axis=0)  # [D]
    data_radius = (np.linalg.norm(centres - middle, axis=1) + HIGH_QUALITY_STDS * stds).max()
    escaped = np.linalg.norm(points - middle, axis=1) > ESCAPE_RADII * data_radius  # [N] bool
    high_quality = distance <= HIGH_QUALITY_STDS * stds[nearest]  # [N] bool
    counts = np.bincount(nearest, minlength=n_modes)  # [M], all samples
    hq_counts = np.bincount(nearest[high_quality], minlength=n_modes)  # [M], high quality
    n_hq = int(hq_counts.sum())
    return {
        "modes_captured": int(np.count_nonzero(hq_counts)),
        "n_modes": int(n_modes),
        "high_quality_fraction": n_hq / len(points),
        "reverse_kl": _kl_divergence(counts / len(points), weights),
        "reverse_kl_hq": _kl_divergence(hq_counts / n_hq, weights) if n_hq else float("nan"),
        "escaped_fraction": float(escaped.mean()),
    }


def nearest_mode_counts(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """``[M]`` int64: how many of ``points`` ``[N, D]`` lie nearest each of ``centres``
    ``[M, D]`` (the histogram of all samples, whose KL is ``reverse_kl``)."""
    nearest, _ = _nearest_centres(np.asarray(points, np.float64), np.asarray(centres, np.float64))
    return np.bincount(nearest, minlength=len(centres))


def label_histogram_metrics(labels: np.ndarray, n_classes: int) -> dict[str, Any]:
    """Class coverage of predicted ``labels`` ``[N]`` int in 0..n_classes-1.

    Returns ``modes_captured`` (classes with at least one sample), ``n_modes``
    (n_classes) and ``kl_to_uniform`` = KL(q || uniform) of the label histogram q (nats).
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) == 0:
        raise ValueError(f"labels must be a non-empty [N] array, got shape {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integers, got {labels.dtype}")
    if labels.min() < 0 or labels.max() >= n_classes:
        raise ValueError(
            f"labels must lie in 0..{n_classes - 1}, got {labels.min()}..{labels.max()}"
        )
    histogram = np.bincount(labels, minlength=n_classes) / len(labels)  # q, [n_classes]
    return {
        "modes_captured": int(np.count_nonzero(histogram)),
        "n_modes": int(n_classes),
        "kl_to_uniform": _kl_divergence(histogram, np.full(n_classes, 1.0 / n_classes)),
    }


def _nearest_centres(
    points: np.ndarray, centres: np.ndarray, chunk: int = 8192
) -> tuple[np.ndarray, np.ndarray]:
    """Index ``[N]`` int64 and Euclidean distance ``[N]`` of each point's nearest centre."""
    index = np.empty(len(points), dtype=np.int64)
    distance = np.empty(len(points), dtype=np.float64)
    for start in range(0, len(points), chunk):
        block = points[start : start + chunk]
        # Exact differences rather than the |a|^2 - 2ab + |b|^2 expansion, so that a point
        # on a centre has distance exactly 0.
        d2 = np.square(block[:, None, :] - centres[None, :, :]).sum(axis=2)  # [n, M]
        best = d2.argmin(axis=1)
        index[start : start + chunk] = best
        distance[start : start + chunk] = np.sqrt(d2[np.arange(len(block)), best])
    return index, distance


def _kl_divergence(q: np.ndarray, p: np.ndarray) -> float:
    """KL(q || p) in nats for histograms q, p; terms with q = 0 contribute 0."""
    support = q > 0
    return float(np.sum(q[support] * np.log(q[support] / p[support])))
