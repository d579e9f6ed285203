"""A tiny labelled image dataset (random 8x8 images) and a trainer on it, for tests of the
image architectures."""

from __future__ import annotations

import numpy as np
import torch

from gan_core.config import parse
from gan_core.data import Dataset, Split
from gan_core.training.loop import GANTrainer
from gan_core.training.variants import SetupConfig, VariantConfig, plan_run, to_model_range

SETUP = SetupConfig(arch="dcgan", z_dim=8, width=4, steps=12, batch_size=16, n_fake=32)


def tiny_images(n: int = 256) -> Dataset:
    """``n`` random 8x8 grey images with labels 0-9."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(n, 8, 8, 1), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n)
    return Dataset("tiny8", Split(x, labels), Split(x[:16], labels[:16]), {"n_classes": 10})


def image_trainer(variant: dict, setup: SetupConfig = SETUP) -> GANTrainer:
    """A CPU trainer of ``variant`` (params form) on :func:`tiny_images`, seed 0."""
    data = tiny_images()
    plan = plan_run(data, setup, parse(VariantConfig, variant, "variant"), 0)
    labels = torch.from_numpy(data.train.y) if variant.get("conditional") else None
    x = to_model_range(data.train.x)
    return GANTrainer(
        plan.gen, plan.disc, plan.loss, x, labels, plan.train, setup.z_dim, 0, torch.device("cpu")
    )
