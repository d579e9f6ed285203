"""Reader for IDX files, the format MNIST and Fashion-MNIST are distributed in.

An IDX file is a big-endian header (two zero bytes, a type code, the number of
dimensions, then one uint32 per dimension) followed by the raw values in C order. Only
the two layouts these datasets use are accepted: unsigned-byte images (magic 0x00000803,
``[N, rows, cols]``) and unsigned-byte labels (magic 0x00000801, ``[N]``). Files may be
plain or gzip-compressed; a wrong magic number or a short file fails with its name.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

IMAGES_MAGIC = 0x00000803  # unsigned byte, 3 dimensions
LABELS_MAGIC = 0x00000801  # unsigned byte, 1 dimension


class IdxFormatError(ValueError):
    """A file that is not the expected IDX layout, or is cut short."""


def read_idx_images(path: str | os.PathLike[str]) -> np.ndarray:
    """Images ``[N, rows, cols]`` uint8 0..255 (``[N, 28, 28]`` for MNIST) from an IDX file."""
    return _read_idx(Path(path), IMAGES_MAGIC, "images")


def read_idx_labels(path: str | os.PathLike[str]) -> np.ndarray:
    """Labels ``[N]`` int64 from an IDX file."""
    return _read_idx(Path(path), LABELS_MAGIC, "labels").astype(np.int64)


def _read_idx(path: Path, magic: int, what: str) -> np.ndarray:
    content = _read_bytes(path)
    n_dims = magic & 0xFF
    header_size = 4 + 4 * n_dims
    found = int.from_bytes(content[:4], "big")
    if len(content) >= 4 and found != magic:
        raise IdxFormatError(
            f"{path}: bad magic number 0x{found:08x}; expected 0x{magic:08x} (IDX uint8 {what})"
        )
    if len(content) < header_size:
        raise IdxFormatError(
            f"{path}: truncated: expected a {header_size}-byte IDX {what} header, "
            f"found {len(content)} bytes"
        )
    shape = tuple(int(d) for d in np.frombuffer(content, dtype=">u4", count=n_dims, offset=4))
    n_values = int(np.prod(shape))
    n_found = len(content) - header_size
    if n_found != n_values:
        state = "truncated" if n_found < n_values else "trailing bytes"
        raise IdxFormatError(
            f"{path}: {state}: header says shape {shape}, i.e. {n_values} bytes of {what}, "
            f"found {n_found}"
        )
    return np.frombuffer(content, dtype=np.uint8, offset=header_size).reshape(shape).copy()


def _read_bytes(path: Path) -> bytes:
    with open(path, "rb") as f:
        content = f.read()
    if content[:2] != b"\x1f\x8b":  # not gzip
        return content
    try:
        return gzip.decompress(content)
    except (EOFError, OSError) as err:
        raise IdxFormatError(f"{path}: corrupt or truncated gzip stream ({err})") from None
