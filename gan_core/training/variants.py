"""A GAN variant as data: the params of one variant and one dataset's setup, resolved into
networks, loss and training settings through the registries.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import numpy as np
import torch
from torch import nn

from gan_core.config import ConfigError
from gan_core.data import Dataset
from gan_core.models import ARCHITECTURES, ModelConfig, build_networks
from gan_core.models.minibatch import MINIBATCH_LAYERS
from gan_core.models.norms import NORMALIZATIONS
from gan_core.registry import UnknownNameError
from gan_core.training.generator_objectives import G_OBJECTIVES
from gan_core.training.loop import TrainConfig, TrainingOptions
from gan_core.training.losses import LOSSES, Loss
from gan_core.training.optimizers import OPTIMIZERS
from gan_core.training.regularizers import REGULARIZERS


def _check_name(registry, name: str, where: str) -> None:
    try:
        registry.get(name)
    except UnknownNameError as err:
        raise ConfigError(f"{where}: {err}") from None


@dataclasses.dataclass(frozen=True)
class VariantConfig(TrainingOptions):
    """What defines a variant: objective, stabilizers, network options and optimizer.
    ``arch`` overrides the setup's architecture; ``conditional`` conditions both networks on
    the dataset's labels. See :class:`gan_core.training.TrainConfig` and
    :class:`gan_core.models.ModelConfig` for the meaning of the other fields (the training
    options are inherited from :class:`gan_core.training.TrainingOptions`)."""

    loss: str
    arch: str | None = None
    conditional: bool = False
    conditioning: Literal["concat", "projection"] = "concat"
    norm_g: str | None = None
    norm_d: str | None = None
    spectral_norm_g: bool = False
    spectral_norm_d: bool = False
    minibatch: str | None = None
    pack: int = 1
    # Overrides the setup's batch size: PacGAN's protocol keeps the number of packs D sees
    # per batch, so a variant packing m samples draws m times the setup's batch.
    batch_size: int | None = None
    # Overrides the setup's budget (generator steps): the Karras et al. schedules are set in
    # images shown, longer than a DCGAN's.
    steps: int | None = None
    # Overrides the setup's network width (both networks): the Karras et al. networks run two
    # 3x3 convolutions per resolution and four times the DCGAN's channels at the base.
    width: int | None = None
    # Progressive growing (arch progan): training images per growth phase; 0: fully grown.
    growth_images: int = 0
    # Style-based generator (arch stylegan): see gan_core.models.stylegan.
    mapping_layers: int = 8
    style_mixing: float = 0.9
    truncation_psi: float = 1.0

    def validate(self, where: str) -> None:
        _check_name(LOSSES, self.loss, f"{where}.loss")
        _check_name(OPTIMIZERS, self.optimizer, f"{where}.optimizer")
        _check_name(G_OBJECTIVES, self.g_objective, f"{where}.g_objective")
        for name in self.regularizers:
            _check_name(REGULARIZERS, name, f"{where}.regularizers")
        for key, registry in (
            ("arch", ARCHITECTURES),
            ("norm_g", NORMALIZATIONS),
            ("norm_d", NORMALIZATIONS),
            ("minibatch", MINIBATCH_LAYERS),
        ):
            if getattr(self, key) is not None:
                _check_name(registry, getattr(self, key), f"{where}.{key}")  # fmt: skip
        for key in (
            "n_critic",
            "g_steps",
            "regularize_every",
            "mapping_layers",
            "pack",
            "batch_size",
            "steps",
            "width",
        ):
            value = getattr(self, key)
            if value is not None and value < 1:
                raise ConfigError(f"{where}.{key}: expected an integer >= 1, got {value}")
        for key, low, high in _RANGES:
            value = getattr(self, key)
            if not low <= value <= high:
                bounds = (
                    f"a value >= {low}" if high == float("inf") else f"{low} <= value <= {high}"
                )
                raise ConfigError(f"{where}.{key}: expected {bounds}, got {value}")
        if not 0.0 <= self.ema_decay < 1.0:
            raise ConfigError(f"{where}.ema_decay: expected 0 <= decay < 1, got {self.ema_decay}")
        if self.updates == "simultaneous":
            for key, expected in _SIMULTANEOUS:
                if getattr(self, key) != expected:
                    raise ConfigError(
                        f"{where}.{key}: updates 'simultaneous' takes {key} {expected!r}, "
                        f"got {getattr(self, key)!r}"
                    )


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
    width_d: int | None = None  # the discriminator's own sizes; None: width and depth
    depth_d: int | None = None
    log_every: int = 10
    checkpoint_every: int = 0  # steps between resumable checkpoints and sample grids; 0: none
    threads: int = 0  # CPU threads for torch; 0 keeps torch's default (tiny nets run best on 1)
    latent: Literal["normal", "uniform"] = "normal"  # the prior of z (see ModelConfig)
    # The networks' arithmetic in training: fp32, or bf16 mixed precision (see
    # gan_core.device.autocast); sampling and scoring stay in fp32.
    precision: Literal["fp32", "bf16"] = "fp32"

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


def batch_size(setup: SetupConfig, variant: VariantConfig) -> int:
    """The variant's own batch size if it sets one, else the setup's."""
    return setup.batch_size if variant.batch_size is None else variant.batch_size


def check_pairing(setup: SetupConfig, variant: VariantConfig, where: str) -> None:
    """Fail early when a variant cannot run on a dataset's setup."""
    batch = batch_size(setup, variant)
    if batch % variant.pack:
        raise ConfigError(f"{where}: batch_size {batch} is not a multiple of pack={variant.pack}")


def plan_run(dataset: Dataset, setup: SetupConfig, variant: VariantConfig, seed: int) -> RunPlan:
    """Build freshly initialized networks (seeded) and the training settings."""
    check_pairing(setup, variant, f"{dataset.name} x variant")
    if variant.conditional and not dataset.n_classes:
        raise ConfigError(f"{dataset.name}: a conditional variant needs labelled data")
    arch = variant.arch or setup.arch
    defaults = {field.name: field.default for field in dataclasses.fields(VariantConfig)}
    for key, owner in _ARCH_OPTIONS.items():
        if getattr(variant, key) != defaults[key] and arch != owner:
            raise ConfigError(f"{dataset.name} x variant: {key} needs arch {owner}, not {arch}")
    model = ModelConfig(
        data_shape(dataset),
        setup.z_dim,
        setup.width if variant.width is None else variant.width,
        setup.depth,
        width_d=setup.width_d if variant.width is None else None,
        depth_d=setup.depth_d,
        n_classes=dataset.n_classes if variant.conditional else 0,
        latent=setup.latent,
        **{key: getattr(variant, key) for key in _MODEL_OPTIONS},
    )
    torch.manual_seed(seed)
    gen, disc = build_networks(arch, model)
    options = {f.name: getattr(variant, f.name) for f in dataclasses.fields(TrainingOptions)}
    train = TrainConfig(
        **options,
        steps=setup.steps if variant.steps is None else variant.steps,
        batch_size=batch_size(setup, variant),
        log_every=setup.log_every,
        precision=setup.precision,
    )
    return RunPlan(gen, disc, LOSSES.get(variant.loss), model, train, arch)


# The variant fields that are network options.
_MODEL_OPTIONS = (
    "conditioning", "norm_g", "norm_d", "spectral_norm_g", "spectral_norm_d", "minibatch", "pack",
    "growth_images", "mapping_layers", "style_mixing", "truncation_psi",
)  # fmt: skip
# Options only one architecture reads: a variant may change them on that one only.
_ARCH_OPTIONS = {
    "growth_images": "progan", "mapping_layers": "stylegan", "style_mixing": "stylegan",
    "truncation_psi": "stylegan",
}  # fmt: skip
# What simultaneous updates take: one update of each player from one minibatch, against the
# discriminator's own scores.
_SIMULTANEOUS = (
    ("n_critic", 1),
    ("g_steps", 1),
    ("unroll_steps", 0),
    ("g_objective", "adversarial"),
)
# Bounds of the numeric options that have them (besides the integers >= 1).
_RANGES = (
    ("growth_images", 0, float("inf")), ("style_mixing", 0.0, 1.0),
    ("truncation_psi", 0.0, float("inf")),
)  # fmt: skip
