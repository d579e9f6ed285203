"""Image dataset kinds: MNIST, Fashion-MNIST, Stacked MNIST, CIFAR-10 and image folders.

Every builder returns images ``[N, H, W, C]`` uint8 0..255 (``C = 1`` for grayscale) and
``info`` with ``modality``, ``n_classes`` (0 when unlabelled) and ``source``. MNIST and
Fashion-MNIST come from sha256-pinned IDX files (:mod:`gan_core.data.sources`), so their
arrays are identical on every machine. CIFAR-10 has no registry copy: it comes from a
local ``cifar-10-batches-py`` folder or torchvision's download.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from gan_core.config import ConfigError
from gan_core.data import Dataset, Split, register_kind
from gan_core.data.idx import read_idx_images, read_idx_labels
from gan_core.data.sources import FetchError, fetch_raw

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


@dataclasses.dataclass(frozen=True)
class IdxDatasetConfig:
    """``mnist`` and ``fashion_mnist``: the standard splits; ``max_train`` / ``max_test``
    keep only the first N images of a split (for quick profiles), None keeps all."""

    kind: str
    max_train: int | None = None
    max_test: int | None = None


@dataclasses.dataclass(frozen=True)
class StackedMnistConfig:
    kind: str
    n_train: int = 60_000
    n_test: int = 10_000
    seed: int = 0


@dataclasses.dataclass(frozen=True)
class Cifar10Config:
    kind: str
    root: str | None = None  # a folder holding cifar-10-batches-py; None: raw_dir/cifar10
    download: bool = True


@dataclasses.dataclass(frozen=True)
class FolderConfig:
    kind: str
    path: str
    size: int = 64
    channels: int = 3
    test_fraction: float = 0.1
    seed: int = 0

    def validate(self, where: str) -> None:
        if self.channels not in (1, 3):
            raise ConfigError(f"{where}.channels: expected 1 or 3, got {self.channels}")
        if self.size < 1:
            raise ConfigError(f"{where}.size: expected a positive int, got {self.size}")
        if not 0.0 <= self.test_fraction < 1.0:
            raise ConfigError(
                f"{where}.test_fraction: expected 0 <= f < 1, got {self.test_fraction}"
            )


def read_idx_split(folder: Path, prefix: str) -> Split:
    """The ``prefix`` (``train`` or ``t10k``) split of IDX files in ``folder``:
    ``x`` ``[N, 28, 28, 1]`` uint8, ``y`` ``[N]`` int64."""
    images = read_idx_images(folder / f"{prefix}-images-idx3-ubyte")
    labels = read_idx_labels(folder / f"{prefix}-labels-idx1-ubyte")
    if len(images) != len(labels):
        raise ValueError(f"{folder}: {len(images)} {prefix} images but {len(labels)} labels")
    return Split(images[..., None], labels)


def _idx_dataset(
    name: str, kind: str, raw_dir: Path, max_train: int | None = None, max_test: int | None = None
) -> Dataset:
    folder = fetch_raw(kind, raw_dir)
    train, test = read_idx_split(folder, "train"), read_idx_split(folder, "t10k")
    info = {"modality": "image", "n_classes": 10, "source": f"{kind} IDX files, sha256-pinned"}
    if max_train is not None or max_test is not None:
        info["subset"] = {"max_train": max_train, "max_test": max_test}
    return Dataset(name, _head(train, max_train), _head(test, max_test), info)


def _head(split: Split, n: int | None) -> Split:
    return split if n is None else Split(split.x[:n], split.y[:n])


@register_kind("mnist", IdxDatasetConfig, is_image=True)
def build_mnist(name: str, cfg: IdxDatasetConfig, raw_dir: Path) -> Dataset:
    """MNIST (LeCun et al. 1998): 60k train and 10k test digits, 28x28 grayscale."""
    return _idx_dataset(name, "mnist", raw_dir, cfg.max_train, cfg.max_test)


@register_kind("fashion_mnist", IdxDatasetConfig, is_image=True)
def build_fashion_mnist(name: str, cfg: IdxDatasetConfig, raw_dir: Path) -> Dataset:
    """Fashion-MNIST (Xiao et al. 2017): 60k train and 10k test clothing images, 28x28."""
    return _idx_dataset(name, "fashion_mnist", raw_dir, cfg.max_train, cfg.max_test)


def stack_digits(digits: Split, n: int, rng: np.random.Generator) -> Split:
    """``n`` three-channel images, each channel an independent uniform draw from ``digits``.

    ``digits``: ``x`` ``[M, H, W, 1]`` uint8, ``y`` ``[M]`` int64 in 0..9. Returns ``x``
    ``[n, H, W, 3]`` uint8 and ``y`` ``[n]`` = 100 * d_R + 10 * d_G + d_B in 0..999."""
    index = rng.integers(0, len(digits), size=(n, 3))  # [n, 3]: source of R, G, B
    x = np.concatenate([digits.x[index[:, c]] for c in range(3)], axis=-1)
    y = digits.y[index] @ np.array([100, 10, 1], dtype=np.int64)
    return Split(x, y)


@register_kind("stacked_mnist", StackedMnistConfig, is_image=True)
def build_stacked_mnist(name: str, cfg: StackedMnistConfig, raw_dir: Path) -> Dataset:
    """Stacked MNIST, the 1000-mode benchmark of Unrolled GAN (Metz et al. 2017), VEEGAN
    (Srivastava et al. 2017) and PacGAN (Lin et al. 2018): each sample stacks three MNIST
    digits, drawn uniformly at random and independently per channel, as its R, G and B
    channels; its label is 100 * d_R + 10 * d_G + d_B. Train samples are drawn from MNIST
    train and test samples from MNIST test, with one generator seeded by ``cfg.seed``."""
    mnist = _idx_dataset(name, "mnist", raw_dir)
    rng = np.random.default_rng(cfg.seed)
    train = stack_digits(mnist.train, cfg.n_train, rng)
    test = stack_digits(mnist.test, cfg.n_test, rng)
    info = {
        "modality": "image",
        "n_classes": 1000,
        "source": "three MNIST digits stacked as R, G, B (mnist IDX files, sha256-pinned)",
        "seed": cfg.seed,
    }
    return Dataset(name, train, test, info)


@register_kind("cifar10", Cifar10Config, is_image=True)
def build_cifar10(name: str, cfg: Cifar10Config, raw_dir: Path) -> Dataset:
    """CIFAR-10 (Krizhevsky 2009): 50k train and 10k test 32x32 RGB images in 10 classes."""
    root = Path(cfg.root) if cfg.root is not None else Path(raw_dir) / "cifar10"
    try:
        train = _read_cifar10(root, True, cfg.download)
        test = _read_cifar10(root, False, cfg.download)
    except (RuntimeError, OSError) as err:
        how = "download failed" if cfg.download else "download is disabled"
        raise FetchError(
            f"{name}: no CIFAR-10 in {root} and {how} ({' '.join(str(err).split())}); set "
            f"datasets.{name}.root to a folder containing cifar-10-batches-py, or set "
            f"datasets.{name}.download: true on a machine with internet"
        ) from None
    info = {"modality": "image", "n_classes": 10, "source": "torchvision CIFAR10"}
    return Dataset(name, train, test, info)


def _read_cifar10(root: Path, train: bool, download: bool) -> Split:
    from torchvision.datasets import CIFAR10  # slow to import; only CIFAR-10 needs it

    data = CIFAR10(str(root), train=train, download=download)
    return Split(np.asarray(data.data, dtype=np.uint8), np.asarray(data.targets, dtype=np.int64))


@register_kind("folder", FolderConfig, is_image=True)
def build_folder(name: str, cfg: FolderConfig, raw_dir: Path) -> Dataset:
    """Every PNG/JPEG under ``cfg.path`` (recursively, in sorted path order), center-cropped
    to a square and resized (bicubic) to ``cfg.size``; a seeded shuffle then splits off
    ``cfg.test_fraction`` as the test set. Unlabelled."""
    paths = list_images(Path(cfg.path))
    x = np.stack([load_image(p, cfg.size, cfg.channels) for p in paths])  # [N, S, S, C]
    order = np.random.default_rng(cfg.seed).permutation(len(x))
    n_test = round(len(x) * cfg.test_fraction)
    if n_test >= len(x):
        raise ValueError(f"{cfg.path}: {len(x)} images are too few for a train and a test split")
    train, test = Split(x[order[n_test:]]), Split(x[order[:n_test]])
    info = {"modality": "image", "n_classes": 0, "source": f"image folder {cfg.path}"}
    return Dataset(name, train, test, info)


def list_images(folder: Path) -> list[Path]:
    """All PNG/JPEG files under ``folder``, recursively, sorted by path."""
    if not folder.is_dir():
        raise FileNotFoundError(f"image folder {folder} does not exist or is not a folder")
    paths = sorted(
        p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
    )
    if not paths:
        raise FileNotFoundError(f"image folder {folder} holds no PNG or JPEG images")
    return paths


def load_image(path: Path, size: int, channels: int) -> np.ndarray:
    """One image as ``[size, size, channels]`` uint8: center-cropped square, bicubic resize."""
    with Image.open(path) as image:
        image = ImageOps.exif_transpose(image).convert("L" if channels == 1 else "RGB")
    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    square = image.crop((left, top, left + side, top + side))
    pixels = np.asarray(square.resize((size, size), Image.Resampling.BICUBIC), dtype=np.uint8)
    return pixels.reshape(size, size, channels)
