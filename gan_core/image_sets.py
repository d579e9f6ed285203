"""Reading a set of images to score: a folder of image files, an ``.npz``, or a prepared
dataset's test split. Every form gives uint8 ``[N, H, W, C]`` with C = 1 (grayscale) or 3."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gan_core.io import read_npz

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
    """Each file opened once at a time (no open-file limit to meet); every one converted to
    the same mode (grayscale when all are, else RGB: palette, CMYK and alpha alike); a file
    that is not an image, a size that differs from the first file's, or a link to outside the
    folder stops the read with a line naming the file."""

    root = folder.resolve()
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(f"{folder}: no {'/'.join(IMAGE_SUFFIXES)} files")
    for path in files:
        if not path.resolve().is_relative_to(root):
            raise ValueError(f"{path}: links to {path.resolve()}, outside {folder}")
    modes = [_read(path, lambda image: image.mode) for path in files]
    mode = "L" if all(m == "L" for m in modes) else "RGB"
    arrays = [_read(path, lambda image: np.asarray(image.convert(mode))) for path in files]
    for path, array in zip(files, arrays, strict=True):
        if array.shape != arrays[0].shape:
            raise ValueError(
                f"{path}: {array.shape[1]}x{array.shape[0]} pixels, but {files[0].name} has "
                f"{arrays[0].shape[1]}x{arrays[0].shape[0]}; every image must have one size"
            )
    images = np.stack(arrays)
    return images[..., None] if mode == "L" else images


def _read(path: Path, read):
    """``read(image)`` of the image file at ``path``, closed after; one line if unreadable."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return read(image)
    except (UnidentifiedImageError, OSError, SyntaxError) as err:
        reason = " ".join(str(err).split())
        raise ValueError(f"{path}: not a readable PNG or JPEG image ({reason})") from None


def _load_npz(path: Path) -> np.ndarray:
    arrays = read_npz(path, ())
    key = next((k for k in ("images", "x") if k in arrays), None)
    if key is None:
        raise ValueError(f"{path}: no 'images' array (found {', '.join(arrays)})")
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
