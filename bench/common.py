"""What the benchmark scripts share: timing a step function, building a dataset of params
from the raw files (``make data``) without the pipeline's prepare stage, and a trainer of one
seed or of a stacked seed group."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import torch

from gan_core.data import DATASET_KINDS, Dataset
from gan_core.models.stacked import stack_networks
from gan_core.training.loop import GANTrainer
from gan_core.training.variants import SetupConfig, VariantConfig, plan_run, to_model_range
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


def make_trainer(
    dataset: Dataset, setup: SetupConfig, variant: VariantConfig, seeds: int | tuple[int, ...],
    device: torch.device,
) -> GANTrainer:  # fmt: skip
    """A trainer of one model for an int seed, else of the stacked seed group ``seeds``."""
    group = seeds if isinstance(seeds, tuple) else (seeds,)
    plans = [plan_run(dataset, setup, variant, seed) for seed in group]
    gen, disc = plans[0].gen, plans[0].disc
    if isinstance(seeds, tuple):
        gen, disc = stack_networks([p.gen for p in plans]), stack_networks([p.disc for p in plans])
    labels = None if dataset.train.y is None else torch.from_numpy(dataset.train.y)
    data, plan = to_model_range(dataset.train.x), plans[0]
    return GANTrainer(gen, disc, plan.loss, data, labels, plan.train, setup.z_dim, seeds, device)
