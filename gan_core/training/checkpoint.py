"""Checkpoints: networks' weights with what is needed to rebuild them."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch
from torch import nn

from gan_core.io import atomic_path, loading
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


def load_snapshot(path: str | Path, gen: nn.Module) -> dict[str, Any]:
    """A generator snapshot (a state dict saved with ``torch.save``), checked to fit ``gen``
    by loading it there; a file that does not load or fit raises
    :class:`gan_core.io.DamagedFileError` naming it."""
    with loading(path, "train the run again"):
        weights = torch.load(path, map_location="cpu", weights_only=True)
        gen.load_state_dict(weights)
    return weights


def load_generator(path: str | Path, device: torch.device) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild the generator of a checkpoint on ``device``; also return the checkpoint dict.
    A file that does not load or rebuild raises :class:`gan_core.io.DamagedFileError`."""
    with loading(path, "train the run again"):
        state = torch.load(path, map_location="cpu", weights_only=True)
        config = {**state["model"], "data_shape": tuple(state["model"]["data_shape"])}
        gen, _ = build_networks(state["arch"], ModelConfig(**config))
        gen.load_state_dict(state["generator"])
    return gen.to(device), state
