"""Feature spaces and the standalone ``ganbench metrics``: clean-fid's preprocessing, parity
with clean-fid's ``compute_fid`` on image folders, image-set loading and clear errors."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from tempfile import TemporaryDirectory

import numpy as np
import pytest
import torch
from cleanfid import fid as cleanfid
from cleanfid.resize import build_resizer
from PIL import Image

from gan_core.data import load_dataset, save_dataset
from gan_core.feature_spaces import InceptionSpace, clean_resize
from gan_core.image_sets import load_image_set
from stages import cli

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def prepared(raw_dir, tmp_path_factory):
    """A prepared MNIST of 12 train and 12 test digits, as the prepare stage writes it."""
    from gan_core.data.images import IdxDatasetConfig, build_mnist

    root = tmp_path_factory.mktemp("prepared")
    config = IdxDatasetConfig(kind="mnist", max_train=12, max_test=12)
    save_dataset(root / "mnist", build_mnist("mnist", config, raw_dir))
    return root


@pytest.fixture(scope="module")
def digits(prepared, tmp_path_factory):
    """Two folders of grayscale PNGs: the 12 test digits and the 12 train digits."""
    dataset = load_dataset(prepared / "mnist")
    folders = {}
    for split in ("train", "test"):
        folder = tmp_path_factory.mktemp(split)
        for i, image in enumerate(getattr(dataset, split).x):
            Image.fromarray(image[..., 0], mode="L").save(folder / f"{i:03d}.png")
        folders[split] = folder
    return folders


def _metrics(capsys, *args: str) -> dict:
    cli.main(["metrics", *args])
    return json.loads(capsys.readouterr().out)


def test_clean_resize_is_clean_fids_resizer_with_gray_repeated():
    rng = np.random.default_rng(0)
    gray = rng.integers(0, 256, (2, 28, 28, 1), dtype=np.uint8)
    resize = build_resizer("clean")
    expected = np.stack([resize(np.repeat(im, 3, axis=2)).transpose(2, 0, 1) for im in gray])
    got = clean_resize(gray)
    assert got.shape == (2, 3, 299, 299) and got.dtype == np.float32
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(got[:, 0], got[:, 2])


# clean-fid's scipy sqrtm warns on the rank-deficient covariances of 12 samples in 2048-d.
@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::scipy.linalg.LinAlgWarning")
def test_inception_fid_equals_clean_fids_compute_fid(digits, inception_weights, capsys):
    ours = _metrics(
        capsys, "--real", str(digits["test"]), "--fake", str(digits["train"]),
        "--features", "inception", "--inception", str(inception_weights),
    )  # fmt: skip
    space = InceptionSpace(inception_weights, CPU)
    theirs = cleanfid.compute_fid(
        str(digits["test"]), str(digits["train"]), mode="clean", num_workers=0, batch_size=6,
        device=CPU, custom_feat_extractor=space.pool3, verbose=False,
    )  # fmt: skip
    assert ours["feature_space"] == "inception" and ours["n_real"] == ours["n_fake"] == 12
    assert ours["weights_sha256"] == space.weights_sha256
    assert ours["fid"] == pytest.approx(theirs, rel=1e-3)
    assert "is_mean" not in ours  # these weights have no logits


def test_unknown_inception_weights_are_refused_by_hash(tmp_path):
    weights = tmp_path / "other.pt"
    weights.write_bytes(b"not the network")
    with pytest.raises(
        ValueError,
        match=r"other.pt: unknown Inception weights \(sha256 [0-9a-f]{64}\); known: 7ff4a85c",
    ):
        InceptionSpace(weights, CPU)


def test_image_sets_from_folders_npz_and_prepared_datasets(digits, prepared, tmp_path):
    folder = load_image_set(digits["test"])
    assert folder.shape == (12, 28, 28, 1) and folder.dtype == np.uint8
    np.testing.assert_array_equal(folder, load_dataset(prepared / "mnist").test.x)
    np.savez(tmp_path / "set.npz", images=folder[..., 0])
    np.testing.assert_array_equal(load_image_set(tmp_path / "set.npz"), folder)
    np.testing.assert_array_equal(load_image_set("mnist", prepared), folder)
    rgb = tmp_path / "rgb"
    rgb.mkdir()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(rgb / "a.png")
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(rgb / "b.png")
    assert load_image_set(rgb).shape == (2, 8, 8, 3)  # not all grayscale: all RGB


def test_bad_image_sets_are_named_in_the_error(tmp_path):
    with pytest.raises(ValueError, match="nowhere: not found; expected a folder of PNG/JPEG"):
        load_image_set(tmp_path / "nowhere")
    np.savez(tmp_path / "floats.npz", images=np.zeros((2, 8, 8, 3)))
    with pytest.raises(ValueError, match="floats.npz: 'images': expected uint8 images"):
        load_image_set(tmp_path / "floats.npz")
    np.savez(tmp_path / "other.npz", pixels=np.zeros((2, 8, 8), np.uint8))
    with pytest.raises(ValueError, match=r"other.npz: no 'images' array \(found pixels\)"):
        load_image_set(tmp_path / "other.npz")


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--features", "pixels"], "'pixels'; expected inception or classifier:<dataset>"),
        (["--features", "classifier:mnist", "--classifier", "nowhere"],
         "no classifier for 'mnist'; run its classifier stage"),
        (["--features", "inception", "--inception", "missing.pt"],
         "missing.pt: Inception weights not found"),
    ],
)  # fmt: skip
def test_metrics_command_names_a_bad_option(digits, capsys, extra, expected):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["metrics", "--real", str(digits["test"]), "--fake", str(digits["train"]), *extra])
    assert expected in str(exit_info.value)


@pytest.fixture
def one_channel_space(one_thread):
    """A ClassifierSpace of an untrained 1-channel classifier of 8x8 images, 4 features."""
    from gan_core.classifier import DomainClassifier, save_classifier
    from gan_core.feature_spaces import ClassifierSpace

    torch.manual_seed(0)
    model = DomainClassifier(in_channels=1, image_size=8, n_classes=10, feature_dim=4)
    with TemporaryDirectory() as folder:
        save_classifier(Path(folder) / "c.pt", model, {})
        return ClassifierSpace("mnist", Path(folder) / "c.pt", CPU)


def test_stacked_images_are_classified_channel_by_channel(one_channel_space):
    """A 1-channel classifier on 3-channel images: per-channel features side by side, and the
    joint class 100 * c_R + 10 * c_G + c_B from the product of the channels' softmaxes."""
    space = one_channel_space
    images = np.random.default_rng(0).integers(0, 256, (5, 8, 8, 3), dtype=np.uint8)
    stacked = space.extract(images)
    channels = [space.extract(images[..., c : c + 1]) for c in range(3)]
    np.testing.assert_allclose(stacked.feats, np.concatenate([c.feats for c in channels], 1))
    assert stacked.probs.shape == (5, 1000)
    np.testing.assert_allclose(stacked.probs.sum(axis=1), 1.0)
    r, g, b = (c.probs.argmax(axis=1) for c in channels)
    expected = (100 * r + 10 * g + b).tolist()
    assert stacked.probs.argmax(axis=1).tolist() == expected


def test_the_digit_space_reads_each_channel_as_an_image_of_its_own(one_channel_space):
    """5 stacked images are 15 digits: the red channels' features and probabilities, then
    the green's, then the blue's, each exactly the classifier's on that channel alone."""
    from gan_core.feature_spaces import DigitSpace

    space = DigitSpace(one_channel_space)
    assert space.name == "digits:mnist"
    assert space.weights_sha256 == one_channel_space.weights_sha256
    images = np.random.default_rng(1).integers(0, 256, (5, 8, 8, 3), dtype=np.uint8)
    digits = space.extract(images)
    channels = [one_channel_space.extract(images[..., c : c + 1]) for c in range(3)]
    np.testing.assert_array_equal(digits.feats, np.concatenate([c.feats for c in channels]))
    np.testing.assert_array_equal(digits.probs, np.concatenate([c.probs for c in channels]))
    assert digits.probs.shape == (15, 10)
    with pytest.raises(ValueError, match=r"digits:mnist: expects stacked images \[N, H, W, 3\]"):
        space.extract(images[..., :1])


def test_a_dataset_read_by_another_datasets_classifier_is_also_scored_digit_by_digit(
    repo_root, tmp_path
):
    """Stacked MNIST (read by MNIST's classifier) is scored as triples and digit by digit;
    MNIST by its own classifier only."""
    from gan_core.classifier import DomainClassifier, save_classifier
    from stages.params import load_params
    from stages.spaces import pipeline_spaces, real_features_file

    model = DomainClassifier(in_channels=1, image_size=28, n_classes=10, feature_dim=4)
    save_classifier(tmp_path / "mnist" / "classifier.pt", model, {})
    params = load_params(repo_root / "params.yaml")
    stacked = pipeline_spaces(params, "stacked_mnist", tmp_path)
    assert [space.name for space in stacked] == ["classifier:mnist", "digits:mnist"]
    assert [real_features_file("f", space).name for space in stacked] == [
        "classifier.npz",
        "digits.npz",
    ]
    assert [space.name for space in pipeline_spaces(params, "mnist", tmp_path)] == [
        "classifier:mnist"
    ]


@pytest.mark.slow
def test_stacked_mnist_modes_with_the_mnist_classifier(raw_dir, tmp_path):
    """The default MNIST classifier reads Stacked MNIST's channels well enough to count its
    1000 modes: the real test set covers (nearly) all of them, close to uniformly."""
    from gan_core.classifier import ClassifierConfig, save_classifier, train_classifier
    from gan_core.data.images import (
        IdxDatasetConfig,
        StackedMnistConfig,
        build_mnist,
        build_stacked_mnist,
    )
    from gan_core.feature_spaces import ClassifierSpace
    from gan_core.metrics.modes import label_histogram_metrics

    mnist = build_mnist("mnist", IdxDatasetConfig(kind="mnist"), raw_dir)
    model, _ = train_classifier(mnist.train, mnist.test, 10, ClassifierConfig(), seed=0, device=CPU)
    save_classifier(tmp_path / "classifier.pt", model, {})
    stacked = build_stacked_mnist(
        "stacked_mnist", StackedMnistConfig(kind="stacked_mnist", n_train=10, n_test=10000), raw_dir
    )
    probs = ClassifierSpace("mnist", tmp_path / "classifier.pt", CPU).extract(stacked.test.x).probs
    predicted = probs.argmax(axis=1)
    assert np.mean(predicted == stacked.test.y) > 0.97  # about 0.99 ** 3
    modes = label_histogram_metrics(predicted, 1000)
    assert modes["modes_captured"] >= 995 and modes["kl_to_uniform"] < 0.1


class _LogitsInception(torch.nn.Module):
    """A stand-in with the call signature of StyleGAN2-ADA's Inception TorchScript (the file
    cannot be downloaded here): pool3-sized features, or a softmax over 1008 classes."""

    def forward(
        self, x: torch.Tensor, return_features: bool = False, no_output_bias: bool = False
    ) -> torch.Tensor:
        pooled = x.mean(dim=(2, 3))  # [B, 3]
        features = pooled.repeat(1, 683)[:, :2048]
        if return_features:
            return features
        logits = features[:, :1008] - (0.0 if no_output_bias else 1.0)
        return torch.softmax(logits, dim=1)


@pytest.mark.filterwarnings("ignore:`torch.jit:FutureWarning")  # the weights' own format
def test_weights_with_logits_give_the_inception_score(tmp_path, monkeypatch):
    from gan_core import feature_spaces
    from gan_core.io import sha256_file

    path = tmp_path / "inception-2015-12-05.pt"
    torch.jit.save(torch.jit.script(_LogitsInception()), str(path))
    official = feature_spaces.INCEPTION_WEIGHTS[
        "f58cb9b6ec323ed63459aa4fb441fe750cfe39fafad6da5cb504a16f19e958f4"
    ]
    monkeypatch.setitem(feature_spaces.INCEPTION_WEIGHTS, sha256_file(path), official)
    images = np.random.default_rng(0).integers(0, 256, (4, 16, 16, 1), dtype=np.uint8)
    features = InceptionSpace(path, CPU, batch_size=3).extract(images)
    assert features.feats.shape == (4, 2048) and features.probs.shape == (4, 1008)
    np.testing.assert_allclose(features.probs.sum(axis=1), 1.0)
    expected = clean_resize(images).mean(axis=(2, 3))[:, 0]  # gray: every channel alike
    np.testing.assert_allclose(features.feats[:, 0], expected, rtol=1e-4)  # float32 means


def test_the_pipeline_scores_in_inception_space_when_the_profile_asks(
    repo_root, inception_weights, tmp_path
):
    from gan_core.classifier import DomainClassifier, save_classifier
    from stages.params import load_params
    from stages.spaces import pipeline_spaces, real_features_file

    model = DomainClassifier(in_channels=1, image_size=8, n_classes=10, feature_dim=4)
    save_classifier(tmp_path / "mnist" / "classifier.pt", model, {})
    default = load_params(repo_root / "params.yaml")
    names = [s.name for s in pipeline_spaces(default, "mnist", tmp_path)]
    assert names == ["classifier:mnist"]
    gpu = load_params(repo_root / "profiles" / "gpu.yaml")
    gpu = dataclasses.replace(
        gpu,
        evaluation=dataclasses.replace(gpu.evaluation, inception_weights=str(inception_weights)),
    )
    spaces = pipeline_spaces(gpu, "mnist", tmp_path)
    assert [s.name for s in spaces] == ["classifier:mnist", "inception"]
    assert [real_features_file("f", s).name for s in spaces] == ["classifier.npz", "inception.npz"]


def _folder(tmp_path, name: str, images: dict[str, Image.Image]) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    for file_name, image in images.items():
        image.save(folder / file_name)
    return folder


def test_image_folders_convert_every_mode_alike_and_name_each_bad_file(tmp_path):
    gray = Image.fromarray(np.full((8, 8), 200, np.uint8))
    cmyk = Image.new("CMYK", (8, 8), (0, 0, 0, 0))  # white
    mixed = _folder(tmp_path, "mixed", {"a.png": gray, "b.jpg": cmyk, "c.png": gray.convert("P")})
    images = load_image_set(mixed)
    assert images.shape == (3, 8, 8, 3)
    assert (images[0] == 200).all() and (images[1] >= 250).all() and (images[2] == 200).all()
    text = _folder(tmp_path, "text", {"a.png": gray})
    (text / "notes.png").write_text("not an image")
    with pytest.raises(ValueError, match=r"notes.png: not a readable PNG or JPEG image"):
        load_image_set(text)
    sizes = _folder(tmp_path, "sizes", {"a.png": gray, "b.png": gray.resize((9, 9))})
    with pytest.raises(ValueError, match=r"b.png: 9x9 pixels, but a.png has 8x8"):
        load_image_set(sizes)
    outside = _folder(tmp_path, "outside", {"a.png": gray})
    gray.save(tmp_path / "elsewhere.png")
    (outside / "b.png").symlink_to(tmp_path / "elsewhere.png")
    with pytest.raises(ValueError, match=r"b.png: links to .*elsewhere.png, outside"):
        load_image_set(outside)


def test_an_image_folder_larger_than_the_open_file_limit_reads(tmp_path):
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    gray = Image.fromarray(np.zeros((4, 4), np.uint8))
    folder = _folder(tmp_path, "many", {f"{i:04d}.png": gray for i in range(300)})
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
    try:
        assert load_image_set(folder).shape == (300, 4, 4, 1)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
