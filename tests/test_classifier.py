"""Domain classifier: determinism, extraction shapes and ranges, save/load, real accuracy."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gan_core.classifier import (
    ClassifierConfig,
    DomainClassifier,
    extract,
    load_classifier,
    save_classifier,
    train_classifier,
)
from gan_core.data import Split

CPU = torch.device("cpu")
FAST = ClassifierConfig(epochs=1, batch_size=32, feature_dim=16)


def _squares(n: int, size: int, channels: int, seed: int) -> Split:
    """4 classes: a bright 8x8 square in the class's quadrant, at a random offset, on noise.

    ``x`` ``[n, size, size, channels]`` uint8 0..255, ``y`` ``[n]`` int64 0..3."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, n)
    images = rng.integers(0, 60, (n, size, size, channels), dtype=np.uint8)
    half = size // 2
    for image, label in zip(images, labels, strict=True):
        top = (label // 2) * half + rng.integers(0, half - 8)
        left = (label % 2) * half + rng.integers(0, half - 8)
        image[top : top + 8, left : left + 8] = 255
    return Split(images, labels.astype(np.int64))


@pytest.fixture(scope="module")
def squares() -> tuple[Split, Split]:
    return _squares(384, 28, 1, seed=0), _squares(128, 28, 1, seed=1)


@pytest.fixture(scope="module")
def trained(squares) -> tuple[DomainClassifier, float]:
    train, test = squares
    return train_classifier(train, test, 4, FAST, seed=0, device=CPU)


def test_learns_a_separable_task(trained):
    model, accuracy = trained
    assert not model.training
    assert accuracy >= 0.95


def test_training_is_deterministic_for_a_seed(squares, trained):
    train, test = squares
    rng_before = torch.get_rng_state()
    again, accuracy = train_classifier(train, test, 4, FAST, seed=0, device=CPU)
    other, _ = train_classifier(train, test, 4, FAST, seed=1, device=CPU)
    assert torch.equal(torch.get_rng_state(), rng_before)  # the global RNG is left alone
    first = trained[0].state_dict()
    assert all(torch.equal(v, first[k]) for k, v in again.state_dict().items())
    assert accuracy == trained[1]
    assert not torch.equal(other.state_dict()["head.weight"], first["head.weight"])


def test_extract_shapes_and_ranges(squares, trained):
    model, _ = trained
    images = squares[1].x[:50]
    feats, probs = extract(model, images, batch_size=16, device=CPU)
    assert feats.shape == (50, FAST.feature_dim) and probs.shape == (50, 4)
    assert feats.dtype == probs.dtype == np.float64
    assert feats.min() >= 0.0  # ReLU features
    assert probs.min() >= 0.0 and probs.max() <= 1.0
    np.testing.assert_allclose(probs.sum(axis=1), np.ones(50), rtol=1e-12)
    # Eval mode: the result does not depend on the batch split.
    feats_1, probs_1 = extract(model, images, batch_size=50, device=CPU)
    np.testing.assert_allclose(feats_1, feats, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(probs_1, probs, rtol=1e-5, atol=1e-6)


def test_extract_of_no_images(trained):
    feats, probs = extract(trained[0], np.zeros((0, 28, 28, 1), np.uint8), 8, CPU)
    assert feats.shape == (0, FAST.feature_dim) and probs.shape == (0, 4)


def test_extract_rejects_wrong_shape_and_dtype(trained):
    with pytest.raises(ValueError, match=r"takes \[N, 28, 28, 1\] images"):
        extract(trained[0], np.zeros((2, 28, 28, 3), np.uint8), 8, CPU)
    with pytest.raises(ValueError, match=r"takes \[N, 28, 28, 1\] images"):
        extract(trained[0], np.zeros((2, 32, 32, 1), np.uint8), 8, CPU)
    with pytest.raises(ValueError, match="uint8"):
        extract(trained[0], np.zeros((2, 28, 28, 1), np.float32), 8, CPU)


def test_three_channel_32px_images():
    train, test = _squares(64, 32, 3, seed=2), _squares(16, 32, 3, seed=3)
    model, accuracy = train_classifier(train, test, 4, FAST, seed=0, device=CPU)
    feats, probs = extract(model, test.x, 8, CPU)
    assert feats.shape == (16, FAST.feature_dim) and probs.shape == (16, 4)
    assert 0.0 <= accuracy <= 1.0


def test_save_and_load_round_trip(tmp_path, squares, trained):
    model, accuracy = trained
    path = tmp_path / "classifier.pt"
    save_classifier(path, model, {"dataset": "squares", "test_accuracy": accuracy})
    assert [p.name for p in tmp_path.iterdir()] == ["classifier.pt"]  # no temporary files left
    loaded, meta = load_classifier(path, CPU)
    assert meta == {"dataset": "squares", "test_accuracy": accuracy}
    assert not loaded.training
    images = squares[1].x[:20]
    for a, b in zip(extract(model, images, 8, CPU), extract(loaded, images, 8, CPU), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.slow
@pytest.mark.parametrize(("dataset", "min_accuracy"), [("mnist", 0.99), ("fashion_mnist", 0.90)])
def test_default_config_accuracy_on_real_data(tmp_path_factory, dataset, min_accuracy):
    from gan_core.data.idx import read_idx_images, read_idx_labels
    from gan_core.data.sources import FetchError, fetch_raw

    try:
        folder = fetch_raw(dataset, tmp_path_factory.mktemp("raw"))
    except FetchError as err:
        pytest.skip(f"raw {dataset} files unavailable: {err}")

    def split(prefix: str) -> Split:
        images = read_idx_images(folder / f"{prefix}-images-idx3-ubyte")[..., None]
        return Split(images, read_idx_labels(folder / f"{prefix}-labels-idx1-ubyte"))

    _, accuracy = train_classifier(
        split("train"), split("t10k"), 10, ClassifierConfig(), seed=0, device=CPU
    )
    assert accuracy >= min_accuracy
