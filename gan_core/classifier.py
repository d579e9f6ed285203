"""A small CNN domain classifier: the feature space for FID-like metrics on MNIST-like data,
and the label predictor for class coverage and Stacked MNIST's modes.

Images are uint8 ``[N, H, W, C]`` 0..255 (28x28 or 32x32, C = 1 or 3), scaled to [-1, 1].
The architecture is three conv-BN-ReLU-maxpool blocks (32, 64, 128 channels), a
``feature_dim`` linear layer + ReLU (the features, like Inception's pool3: the input of the
classification layer), and a linear layer to K logits. Stacked MNIST classifies each of
its three channels with a one-channel MNIST classifier.

Training is deterministic on the CPU for a given seed: the initialization is drawn from a
forked, seeded RNG (the global torch RNG is left untouched) and batches are shuffled with
a seeded ``torch.Generator``. On a GPU, cuDNN may make runs differ slightly.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from gan_core.data import Split
from gan_core.io import atomic_path, loading


@dataclasses.dataclass(frozen=True)
class ClassifierConfig:
    epochs: int = 2
    batch_size: int = 128
    lr: float = 1e-3  # Adam; decays to 0 along a cosine over all steps
    feature_dim: int = 128


CONV_WIDTHS = (32, 64, 128)  # channels of the three conv blocks


class DomainClassifier(nn.Module):
    """CNN for ``[B, in_channels, image_size, image_size]`` inputs in [-1, 1]."""

    def __init__(
        self,
        in_channels: int,
        image_size: int,
        n_classes: int,
        feature_dim: int,
        widths: tuple[int, ...] = CONV_WIDTHS,
    ):
        super().__init__()
        # The constructor arguments, saved beside the weights by save_classifier.
        self.arch = {
            "in_channels": in_channels,
            "image_size": image_size,
            "n_classes": n_classes,
            "feature_dim": feature_dim,
            "widths": list(widths),
        }
        blocks: list[nn.Module] = []
        channels, size = in_channels, image_size
        for width in widths:
            blocks += [
                nn.Conv2d(channels, width, 3, padding=1, bias=False),
                nn.BatchNorm2d(width),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
            ]
            channels, size = width, size // 2
        self.body = nn.Sequential(*blocks, nn.Flatten())
        self.features = nn.Sequential(nn.Linear(channels * size * size, feature_dim), nn.ReLU())
        self.head = nn.Linear(feature_dim, n_classes)

    def forward_features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x`` ``[B, C, H, W]`` in [-1, 1] -> (features ``[B, F]``, logits ``[B, K]``)."""
        feats = self.features(self.body(x))
        return feats, self.head(feats)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_features(x)[1]


def train_classifier(
    train: Split,
    test: Split,
    n_classes: int,
    cfg: ClassifierConfig,
    seed: int,
    device: torch.device,
) -> tuple[DomainClassifier, float]:
    """Train on ``train`` (images uint8 ``[N, H, W, C]``, labels int64 ``[N]``); return the
    model in eval mode and its accuracy on ``test`` in [0, 1]."""
    if train.y is None or test.y is None:
        raise ValueError("the classifier needs labelled train and test splits")
    _check_images(train.x)
    _, height, width, channels = train.x.shape
    if height != width:
        raise ValueError(f"images must be square, got {height}x{width}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = DomainClassifier(channels, height, n_classes, cfg.feature_dim, CONV_WIDTHS)
    model.to(device)

    images = torch.from_numpy(np.ascontiguousarray(train.x))  # [N, H, W, C] uint8, on the CPU
    labels = torch.from_numpy(np.asarray(train.y, dtype=np.int64))
    steps_per_epoch = -(-len(images) // cfg.batch_size)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=cfg.epochs * steps_per_epoch
    )
    generator = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(cfg.epochs):
        order = torch.randperm(len(images), generator=generator)
        for start in range(0, len(images), cfg.batch_size):
            batch = order[start : start + cfg.batch_size]
            x = _to_input(images[batch], device)
            y = labels[batch].to(device)
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
    model.eval()
    _, probs = extract(model, test.x, cfg.batch_size * 4, device)
    accuracy = float(np.mean(probs.argmax(axis=1) == np.asarray(test.y)))
    return model, accuracy


@torch.no_grad()
def extract(
    model: DomainClassifier, images: np.ndarray, batch_size: int, device: torch.device
) -> tuple[np.ndarray, np.ndarray]:
    """Images uint8 ``[N, H, W, C]`` 0..255 -> (features ``[N, feature_dim]`` float64,
    class probabilities ``[N, K]`` float64, rows summing to 1). Puts ``model`` in eval mode."""
    _check_images(images)
    size, channels = model.arch["image_size"], model.arch["in_channels"]
    if images.shape[1:] != (size, size, channels):
        raise ValueError(
            f"model takes [N, {size}, {size}, {channels}] images, got {tuple(images.shape)}"
        )
    model.eval()
    feats, probs = [], []
    for start in range(0, len(images), batch_size):
        x = _to_input(
            torch.from_numpy(np.ascontiguousarray(images[start : start + batch_size])), device
        )
        batch_feats, logits = model.forward_features(x)
        feats.append(batch_feats.double().cpu().numpy())
        probs.append(torch.softmax(logits.double(), dim=1).cpu().numpy())
    feature_dim, n_classes = model.arch["feature_dim"], model.arch["n_classes"]
    if not feats:
        return np.zeros((0, feature_dim)), np.zeros((0, n_classes))
    return np.concatenate(feats), np.concatenate(probs)


def save_classifier(
    path: str | os.PathLike[str], model: DomainClassifier, meta: dict[str, Any]
) -> None:
    """Write the weights, constructor arguments and ``meta`` (plain JSON-like values)."""
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    with atomic_path(path) as tmp:
        torch.save({"arch": dict(model.arch), "state_dict": state, "meta": dict(meta)}, tmp)


def load_classifier(
    path: str | os.PathLike[str], device: torch.device
) -> tuple[DomainClassifier, dict[str, Any]]:
    """Read a file written by :func:`save_classifier`; return (model in eval mode, meta). A
    file that does not load or rebuild raises :class:`gan_core.io.DamagedFileError`."""
    with loading(path, "train the classifier again"):
        blob = torch.load(path, map_location="cpu", weights_only=True)
        arch = blob["arch"]
        model = DomainClassifier(**{**arch, "widths": tuple(arch["widths"])})
        model.load_state_dict(blob["state_dict"])
        meta = blob["meta"]
    return model.to(device).eval(), meta


def _to_input(images: torch.Tensor, device: torch.device) -> torch.Tensor:
    """uint8 ``[B, H, W, C]`` 0..255 -> float32 ``[B, C, H, W]`` in [-1, 1] on ``device``."""
    x = images.to(device).permute(0, 3, 1, 2).float()
    return x / 127.5 - 1.0


def _check_images(images: np.ndarray) -> None:
    if images.ndim != 4 or images.dtype != np.uint8:
        raise ValueError(
            f"images must be uint8 [N, H, W, C], got {images.dtype} {tuple(images.shape)}"
        )
