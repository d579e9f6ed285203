"""What the benchmark scripts share: timing a step function and building a dataset of
params from the raw files (``make data``), without the pipeline's prepare stage."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from gan_core.data import DATASET_KINDS, Dataset
from stages.params import Params

ROOT = Path(__file__).resolve().parent.parent


def ms_per_step(step: Callable[[], object], steps: int) -> float:
    """Mean wall time of ``steps`` calls of ``step``, in milliseconds."""
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return 1000 * (time.perf_counter() - start) / steps


def raw_dataset(params: Params, name: str) -> Dataset:
    """Dataset ``name`` of ``params`` built from the raw-data cache."""
    config = params.datasets[name]
    return DATASET_KINDS.get(config.kind).build(name, config, ROOT / params.raw_dir)
