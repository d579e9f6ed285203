"""Datasets: in-memory splits, the on-disk prepared format, and the dataset-kind registry.

A prepared dataset is a folder holding ``train.npz`` and ``test.npz`` (arrays ``x`` and,
where labels exist, ``y``) and ``manifest.json`` (counts, shapes, label counts, sha256 of
every array, and kind-specific facts such as mode centres).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from gan_core.io import DamagedFileError, atomic_dir, read_json, read_npz, sha256_array
from gan_core.registry import Registry


@dataclasses.dataclass(frozen=True)
class Split:
    """One split. ``x``: images ``[N, H, W, C]`` uint8 0..255, or points ``[N, D]`` float32.
    ``y``: labels ``[N]`` int64, or None for unlabelled data."""

    x: np.ndarray
    y: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.x)


@dataclasses.dataclass(frozen=True)
class Dataset:
    """A prepared dataset: both splits plus facts the metrics need (``info``)."""

    name: str
    train: Split
    test: Split
    info: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def is_image(self) -> bool:
        return self.train.x.ndim == 4

    @property
    def n_classes(self) -> int:
        return int(self.info.get("n_classes", 0))


@dataclasses.dataclass(frozen=True)
class DatasetKind:
    """A registered way of building a dataset: its params dataclass and its builder.

    ``build(name, config, raw_dir)`` returns a :class:`Dataset`; ``raw_dir`` is where
    downloaded source files are cached."""

    config: type
    build: Callable[[str, Any, Path], Dataset]
    is_image: bool = False


DATASET_KINDS: Registry[DatasetKind] = Registry("dataset kind")


def register_kind(name: str, config: type, *, is_image: bool = False) -> Callable:
    """Decorator for a builder function of dataset kind ``name`` taking params ``config``."""

    def add(build: Callable[[str, Any, Path], Dataset]) -> Callable:
        DATASET_KINDS.register(name)(DatasetKind(config, build, is_image))
        return build

    return add


def describe(dataset: Dataset) -> dict[str, Any]:
    """The manifest: what a reader needs to trust the arrays without loading them."""
    splits = {}
    for split_name in ("train", "test"):
        split: Split = getattr(dataset, split_name)
        entry: dict[str, Any] = {
            "count": len(split),
            "shape": list(split.x.shape),
            "dtype": str(split.x.dtype),
            "sha256_x": sha256_array(split.x),
        }
        if split.y is not None:
            labels, counts = np.unique(split.y, return_counts=True)
            entry["label_counts"] = {str(k): int(v) for k, v in zip(labels, counts, strict=True)}
            entry["sha256_y"] = sha256_array(split.y)
        splits[split_name] = entry
    return {"name": dataset.name, "splits": splits, "info": dataset.info}


def save_dataset(folder: str | Path, dataset: Dataset) -> dict[str, Any]:
    """Write ``dataset`` to ``folder`` atomically (all files or none); return the manifest."""
    manifest = describe(dataset)
    with atomic_dir(folder) as tmp:
        for split_name in ("train", "test"):
            split: Split = getattr(dataset, split_name)
            arrays = {"x": split.x} if split.y is None else {"x": split.x, "y": split.y}
            with open(tmp / f"{split_name}.npz", "wb") as f:
                np.savez(f, **arrays)
        (tmp / "manifest.json").write_text(_dumps(manifest))
    return manifest


def load_dataset(folder: str | Path) -> Dataset:
    """Read a folder written by :func:`save_dataset`, each array checked against the
    manifest's sha256 (which covers dtype and shape); raises
    :class:`gan_core.io.DamagedFileError` naming the file and what is wrong."""
    folder = Path(folder)
    manifest = read_json(folder / "manifest.json")
    splits = {}
    for split_name in ("train", "test"):
        path = folder / f"{split_name}.npz"
        arrays = read_npz(path, ("x",), _REPREPARE)
        split = Split(arrays["x"], arrays.get("y"))
        for key, array in (("x", split.x), ("y", split.y)):
            want = manifest["splits"][split_name].get(f"sha256_{key}")
            if (want is None) != (array is None) or (want and sha256_array(array) != want):
                raise DamagedFileError(
                    f"{path}: array {key!r} does not match {folder / 'manifest.json'} "
                    f"(sha256 of its dtype, shape and bytes); {_REPREPARE}"
                )
        splits[split_name] = split
    return Dataset(manifest["name"], splits["train"], splits["test"], manifest["info"])


_REPREPARE = "prepare it again (`dvc repro -f -s prepare@<dataset>`)"


def _dumps(obj: Any) -> str:
    return json.dumps(obj, indent=2, sort_keys=True) + "\n"


# Importing the modules registers their dataset kinds.
from gan_core.data import images, toy  # noqa: E402, F401
