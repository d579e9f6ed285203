"""Damaged files: each stage that reads one says, in one line, which file and what is wrong,
and writes nothing. One trained toy run is damaged one file at a time and scored again."""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from stages.cli import main

SETUP = {
    "arch": "mlp", "z_dim": 2, "width": 8, "depth": 1, "steps": 4, "batch_size": 16,
    "n_fake": 50, "threads": 1, "log_every": 2, "checkpoint_every": 2,
}  # fmt: skip


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    """ring8 prepared and one gan_ns run trained with snapshots, never modified."""
    from tests.tiny_project import TINY_PARAMS

    root = tmp_path_factory.mktemp("pristine")
    params = copy.deepcopy(TINY_PARAMS)
    params["raw_dir"] = str(root / "raw")
    params["setups"]["ring8"] = SETUP
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    main(["--params", str(root / "params.yaml"), "prepare", "ring8", "--out", str(root / "data")])
    main([
        "--params", str(root / "params.yaml"), "train", "--dataset", "ring8", "--variant",
        "gan_ns", "--data", str(root / "data"), "--seed", "0", "--out", str(root / "model"),
        "--samples", str(root / "samples.npz"), "--progress", str(root / "progress"),
    ])  # fmt: skip
    return root


def _evaluate(project: Path, out: Path) -> None:
    """``ganbench evaluate`` of the project's run, its results under ``out``."""
    main([
        "--params", str(project / "params.yaml"), "evaluate", "--dataset", "ring8",
        "--data", str(project / "data"), "--variant", "gan_ns", "--seed", "0",
        "--model", str(project / "model"), "--samples", str(project / "samples.npz"),
        "--out", str(out / "0.json"), "--checkpoints-out", str(out / "0.checkpoints.csv"),
    ])  # fmt: skip


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _flip_two_bytes(path: Path) -> None:
    """Flip two bytes inside the first array's data (past the zip and .npy headers)."""
    data = bytearray(path.read_bytes())
    for offset in (200, 201):
        data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def _text(path: Path) -> None:
    path.write_text("not what it should be\n")


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _npz_without_x(path: Path) -> None:
    with open(path, "wb") as f:
        np.savez(f, y=np.zeros(3))


def _npz_of_other_shape(path: Path) -> None:
    with open(path, "wb") as f:
        np.savez(f, x=np.zeros((7, 3), dtype=np.float32))


def _torch_without_model(path: Path) -> None:
    torch.save({"generator": {}}, path)


def _torch_of_unknown_arch(path: Path) -> None:
    state = torch.load(path, weights_only=True)
    torch.save({**state, "arch": "no_such_arch"}, path)


def _torch_of_other_width(path: Path) -> None:
    state = torch.load(path, weights_only=True)
    torch.save({**state, "model": {**state["model"], "width": 9}}, path)


def _snapshot_of_other_shapes(path: Path) -> None:
    torch.save({"body.net.0.weight": torch.zeros(1)}, path)


# (file relative to the project, how it is damaged, what the one line says after the path)
CASES: list[tuple[str, Callable[[Path], None], str]] = [
    ("data/train.npz", _truncate, "damaged (BadZipFile"),
    ("data/train.npz", _flip_two_bytes, "damaged (BadZipFile: Bad CRC-32"),
    ("data/train.npz", _text, "damaged ("),
    ("data/train.npz", _empty, "damaged ("),
    ("data/train.npz", _npz_without_x, "has no array 'x'"),
    ("data/train.npz", _npz_of_other_shape, "array 'x' does not match"),
    ("data/test.npz", _truncate, "damaged (BadZipFile"),
    ("data/test.npz", _flip_two_bytes, "damaged (BadZipFile: Bad CRC-32"),
    ("data/test.npz", _npz_of_other_shape, "array 'x' does not match"),
    ("data/manifest.json", _truncate, "damaged (JSONDecodeError"),
    ("data/manifest.json", _text, "damaged (JSONDecodeError"),
    ("samples.npz", _truncate, "damaged (BadZipFile"),
    ("samples.npz", _text, "damaged ("),
    ("samples.npz", _empty, "damaged ("),
    ("samples.npz", _npz_without_x, "has no array 'x'"),
    ("samples.npz", _npz_of_other_shape, "'x' holds float32 samples of shape (3,), but ring8"),
    ("model/run.json", _truncate, "damaged (JSONDecodeError"),
    ("model/run.json", _text, "damaged (JSONDecodeError"),
    ("model/checkpoint.pt", _truncate, "damaged ("),
    ("model/checkpoint.pt", _text, "damaged ("),
    ("model/checkpoint.pt", _torch_without_model, "damaged (KeyError"),
    ("model/checkpoint.pt", _torch_of_unknown_arch, "damaged (UnknownNameError"),
    ("model/checkpoint.pt", _torch_of_other_width, "damaged (RuntimeError"),
    ("model/checkpoints/step_0000002.pt", _truncate, "damaged ("),
    ("model/checkpoints/step_0000002.pt", _text, "damaged ("),
    ("model/checkpoints/step_0000002.pt", _snapshot_of_other_shapes, "damaged ("),
]


@pytest.mark.parametrize(
    ("name", "damage", "message"), CASES,
    ids=[f"{name}-{damage.__name__.strip('_')}" for name, damage, _ in CASES],
)  # fmt: skip
def test_a_damaged_file_is_named_in_one_line_and_nothing_is_written(
    pristine, tmp_path, name, damage, message
):
    project = tmp_path / "project"
    shutil.copytree(pristine, project)
    damage(project / name)
    out = project / "results"
    with pytest.raises(SystemExit) as failure:
        _evaluate(project, out)
    line = str(failure.value.code)
    assert line.startswith(f"ganbench evaluate: {project / name}: ") and "\n" not in line
    assert message in line
    assert not out.exists() or not any(out.iterdir())


def test_the_pristine_run_scores(pristine, tmp_path):
    """The cases above fail because of their damage: undamaged, the same command writes."""
    project = tmp_path / "project"
    shutil.copytree(pristine, project)
    out = project / "results"
    _evaluate(project, out)
    assert json.loads((out / "0.json").read_text())[0]["status"] == "ok"
    assert (out / "0.checkpoints.csv").exists()


def test_damaged_prepared_data_stops_training_before_any_output(pristine, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(pristine, project)
    _npz_of_other_shape(project / "data" / "train.npz")
    with pytest.raises(SystemExit) as failure:
        main([
            "--params", str(project / "params.yaml"), "train", "--dataset", "ring8",
            "--variant", "gan_ns", "--data", str(project / "data"), "--seed", "1",
            "--out", str(project / "model1"), "--samples", str(project / "samples1.npz"),
            "--progress", str(project / "progress1"),
        ])  # fmt: skip
    line = str(failure.value.code)
    assert line.startswith(f"ganbench train: {project / 'data' / 'train.npz'}: array 'x'")
    assert not any((project / p).exists() for p in ("model1", "samples1.npz", "progress1"))


def _load_features(path: Path) -> None:
    from gan_core.scoring import load_real_features

    load_real_features(path, None)  # refused before the feature space is looked at


def _load_classifier(path: Path) -> None:
    from gan_core.classifier import load_classifier

    load_classifier(path, torch.device("cpu"))


def _load_image_set(path: Path) -> None:
    from gan_core.image_sets import load_image_set

    load_image_set(path)


LOADERS = {
    "features/mnist/classifier.npz": _load_features,
    "models/classifier/mnist/classifier.pt": _load_classifier,
    "fake.npz": _load_image_set,
}


@pytest.mark.parametrize("damage", [_truncate, _text, _empty], ids=lambda d: d.__name__)
@pytest.mark.parametrize("name", list(LOADERS))
def test_other_damaged_inputs_are_named_too(tmp_path, name, damage):
    """The other readers of pipeline files: real features, the classifier, image sets."""
    from gan_core.io import DamagedFileError

    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".npz":
        with open(path, "wb") as f:
            np.savez(f, images=np.zeros((2, 4, 4), np.uint8))
    else:
        torch.save({"arch": {}, "state_dict": {}, "meta": {}}, path)
    damage(path)
    with pytest.raises(DamagedFileError) as failure:
        LOADERS[name](path)
    assert str(failure.value).startswith(f"{path}: damaged (") and "\n" not in str(failure.value)
