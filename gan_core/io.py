"""Atomic file output and content hashes.

Every writer goes through :func:`atomic_path`: the content is written to a temporary file
beside the target and renamed over it only when complete, so an interrupted or failed
write never leaves a half-written file, and an existing file survives a failed rewrite. What
a killed write left behind (its temporary folder) is removed by the next write of the target.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np


def check_writable(folders: list[Path]) -> None:
    """Each folder, or its nearest existing ancestor, must be a folder that takes a new file
    (one is created there and removed): a read-only or blocked location fails here, in one
    line naming it, before any work is done and without creating anything."""
    for folder in dict.fromkeys(Path(f).absolute() for f in folders):
        existing = next(p for p in (folder, *folder.parents) if p.exists())
        try:
            if not existing.is_dir():
                raise NotADirectoryError(f"{existing} is a file")
            with tempfile.TemporaryFile(dir=existing):
                pass
        except OSError as err:
            raise ValueError(f"{folder}: cannot write there ({err.strerror or err})") from None


def _remove_stale(target: Path) -> None:
    """Remove temporary siblings an earlier write of ``target`` left when it was killed."""
    for stale in target.parent.glob(f".{glob.escape(target.name)}.*.tmp"):
        shutil.rmtree(stale, ignore_errors=True)


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path with ``target``'s file name, in a fresh folder beside it; rename
    it to ``target`` on success. The name is kept because some writers record it:
    ``torch.save`` names its archive after the file, so a random name would give the same
    weights a different sha256 on every save."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(target)
    folder = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield folder / target.name
        os.replace(folder / target.name, target)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def atomic_dir(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a fresh temporary folder beside ``target``; it replaces ``target`` on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield tmp
        os.chmod(tmp, _default_mode(0o777))
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def _default_mode(base: int) -> int:
    """``base`` less the process umask: the mode ``open`` or ``mkdir`` would give."""
    umask = os.umask(0)
    os.umask(umask)
    return base & ~umask


def write_json(path: str | os.PathLike[str], obj: Any) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n")


def read_json(path: str | os.PathLike[str]) -> Any:
    """The JSON document at ``path``; one that does not parse raises
    :class:`DamagedFileError` naming the file."""
    try:
        return json.loads(Path(path).read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise damaged(path, err) from None


def write_npz(path: str | os.PathLike[str], **arrays: np.ndarray) -> None:
    """Uncompressed ``.npz`` (fast to load; the arrays are mostly incompressible noise)."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, **arrays)


class DamagedFileError(ValueError):
    """A file that does not load, or lacks what its reader needs; the message names it."""


def damaged(path: str | os.PathLike[str], err: BaseException, hint: str = "") -> DamagedFileError:
    """The one-line error for ``path`` failing to load with ``err``."""
    reason = " ".join(f"{type(err).__name__}: {err}".split())[:200]
    return DamagedFileError(f"{path}: damaged ({reason}){'; ' + hint if hint else ''}")


@contextlib.contextmanager
def loading(path: str | os.PathLike[str], hint: str = "") -> Iterator[None]:
    """Any failure inside (but a missing file: ``FileNotFoundError``) becomes one
    :class:`DamagedFileError` naming ``path``: zip, pickle, key and shape errors alike."""
    try:
        yield
    except FileNotFoundError:
        raise
    except Exception as err:  # noqa: BLE001  (whatever a damaged file makes a reader raise)
        raise damaged(path, err, hint) from None


def read_npz(
    path: str | os.PathLike[str], required: tuple[str, ...], hint: str = ""
) -> dict[str, np.ndarray]:
    """Every array of the ``.npz`` at ``path``, read into memory; a file that does not load
    or lacks one of ``required`` raises :class:`DamagedFileError` naming it (a missing file
    raises ``FileNotFoundError``)."""
    with loading(path, hint), np.load(path) as arrays:
        loaded = {key: arrays[key] for key in arrays.files}
    missing = [key for key in required if key not in loaded]
    if missing:
        raise DamagedFileError(
            f"{path}: has no array {missing[0]!r} (has {sorted(loaded)})"
            f"{'; ' + hint if hint else ''}"
        )
    return loaded


def sha256_file(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_array(array: np.ndarray) -> str:
    """Hash of an array's dtype, shape and C-order bytes."""
    digest = hashlib.sha256(f"{array.dtype.str}{array.shape}".encode())
    digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()
