"""Reading a set of images to score: a folder of image files, an ``.npz``, or a prepared
dataset's test split. Every form gives uint8 ``[N, H, W, C]`` with C = 1 (grayscale) or 3."""

from __future__ import annotations

from pathlib import Path

import numpy as np

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def load_image_set(source: str | Path, prepared_root: str | Path | None = None) -> np.ndarray:
    """Images of ``source``: a folder of PNG/JPEG files (sorted by name; grayscale when every
    file is, else RGB), an ``.npz`` with a uint8 ``images`` array ``[N, H, W(, C)]`` (GANBench
    sample files, with ``x``, work too), or, when ``prepared_root`` is given, the name of a
    prepared dataset under it (its test split)."""
    path = Path(source)
    if path.is_dir():
        return _load_folder(path)
    if path.suffix == ".npz" and path.is_file():
        return _load_npz(path)
    if prepared_root is not None and (Path(prepared_root) / str(source)).is_dir():
        from gan_core.data import load_dataset

        images = load_dataset(Path(prepared_root) / str(source)).test.x
        return _checked(images, f"prepared dataset '{source}'")
    expected = "a folder of PNG/JPEG images or an .npz with an 'images' array"
    if prepared_root is not None:
        expected += f", or a prepared dataset in {prepared_root}"
    raise ValueError(f"{source}: not found; expected {expected}")


def _load_folder(folder: Path) -> np.ndarray:
    from PIL import Image

    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(f"{folder}: no {'/'.join(IMAGE_SUFFIXES)} files")
    opened = [Image.open(p) for p in files]
    mode = "L" if all(im.mode == "L" for im in opened) else "RGB"
    arrays = [np.asarray(im.convert(mode)) for im in opened]
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        raise ValueError(f"{folder}: images differ in size ({sorted(shapes)[:3]}...)")
    images = np.stack(arrays)
    return images[..., None] if mode == "L" else images


def _load_npz(path: Path) -> np.ndarray:
    with np.load(path) as arrays:
        key = next((k for k in ("images", "x") if k in arrays), None)
        if key is None:
            raise ValueError(f"{path}: no 'images' array (found {', '.join(arrays.files)})")
        images = arrays[key]
    if images.ndim == 3:
        images = images[..., None]
    return _checked(images, f"{path}: '{key}'")


def _checked(images: np.ndarray, where: str) -> np.ndarray:
    if images.ndim != 4 or images.dtype != np.uint8 or images.shape[3] not in (1, 3):
        raise ValueError(
            f"{where}: expected uint8 images [N, H, W, 1 or 3], got {images.dtype} "
            f"{tuple(images.shape)}"
        )
    return images
