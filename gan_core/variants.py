"""A GAN variant as data: the params of one variant and one dataset's setup, resolved into
networks, loss and training settings through the registries.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
from torch import nn

from gan_core.config import ConfigError
from gan_core.data import Dataset
from gan_core.losses import LOSSES, Loss
from gan_core.models import ARCHITECTURES, ModelConfig, build_networks
from gan_core.registry import UnknownNameError
from gan_core.training import TrainConfig


def _check_name(registry, name: str, where: str) -> None:
    try:
        registry.get(name)
    except UnknownNameError as err:
        raise ConfigError(f"{where}: {err}") from None


@dataclasses.dataclass(frozen=True)
class VariantConfig:
    """What defines a variant (objective, optimizer); ``arch`` overrides the setup's."""

    loss: str
    arch: str | None = None
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, ...] = (0.5, 0.999)
    n_critic: int = 1

    def validate(self, where: str) -> None:
        _check_name(LOSSES, self.loss, f"{where}.loss")
        if self.arch is not None:
            _check_name(ARCHITECTURES, self.arch, f"{where}.arch")


@dataclasses.dataclass(frozen=True)
class SetupConfig:
    """How a dataset is trained and sampled whatever the variant: networks and budget."""

    arch: str
    z_dim: int
    width: int
    steps: int
    batch_size: int
    n_fake: int
    depth: int = 2
    log_every: int = 10
    threads: int = 0  # CPU threads for torch; 0 keeps torch's default (tiny nets run best on 1)

    def validate(self, where: str) -> None:
        _check_name(ARCHITECTURES, self.arch, f"{where}.arch")


@dataclasses.dataclass
class RunPlan:
    """Everything the training loop needs for one (dataset, variant) pair."""

    gen: nn.Module
    disc: nn.Module
    loss: Loss
    model: ModelConfig
    train: TrainConfig
    arch: str


def data_shape(dataset: Dataset) -> tuple[int, ...]:
    """The generator's output shape: ``(D,)`` for points, ``(C, H, W)`` for images."""
    x = dataset.train.x
    return (x.shape[3], x.shape[1], x.shape[2]) if dataset.is_image else (x.shape[1],)


def to_model_range(x: np.ndarray) -> torch.Tensor:
    """Training data as the generator outputs it: uint8 NHWC images -> float NCHW in [-1, 1];
    points unchanged (float32)."""
    tensor = torch.from_numpy(np.ascontiguousarray(x))
    if tensor.dtype == torch.uint8:
        return tensor.permute(0, 3, 1, 2).float().div(127.5).sub(1.0).contiguous()
    return tensor.float()


def from_model_range(x: torch.Tensor, is_image: bool) -> np.ndarray:
    """Inverse of :func:`to_model_range`: images -> uint8 NHWC (rounded, clipped)."""
    if is_image:
        return (
            x.add(1.0).mul(127.5).round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()
        )
    return x.float().numpy()


def plan_run(dataset: Dataset, setup: SetupConfig, variant: VariantConfig, seed: int) -> RunPlan:
    """Build freshly initialized networks (seeded) and the training settings."""
    arch = variant.arch or setup.arch
    model = ModelConfig(data_shape(dataset), setup.z_dim, setup.width, setup.depth)
    torch.manual_seed(seed)
    gen, disc = build_networks(arch, model)
    train = TrainConfig(
        steps=setup.steps,
        batch_size=setup.batch_size,
        lr_g=variant.lr_g,
        lr_d=variant.lr_d,
        betas=variant.betas,
        n_critic=variant.n_critic,
        log_every=setup.log_every,
    )
    return RunPlan(gen, disc, LOSSES.get(variant.loss), model, train, arch)
