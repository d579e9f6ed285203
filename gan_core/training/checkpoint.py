"""Checkpoints: networks' weights with what is needed to rebuild them."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch
from torch import nn

from gan_core.io import atomic_path
from gan_core.models import ModelConfig, build_networks


def save_checkpoint(
    path: str | Path, gen: nn.Module, disc: nn.Module, arch: str, model: ModelConfig, **extra: Any
) -> None:
    """Write both networks' state (on the CPU) plus ``arch``, ``model`` and ``extra`` facts."""
    state = {
        "arch": arch,
        "model": dataclasses.asdict(model),
        "generator": {k: v.cpu() for k, v in gen.state_dict().items()},
        "discriminator": {k: v.cpu() for k, v in disc.state_dict().items()},
        **extra,
    }
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_generator(path: str | Path, device: torch.device) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild the generator of a checkpoint on ``device``; also return the checkpoint dict."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    model = ModelConfig(**{**state["model"], "data_shape": tuple(state["model"]["data_shape"])})
    gen, _ = build_networks(state["arch"], model)
    gen.load_state_dict(state["generator"])
    return gen.to(device), state
