"""Atomic writes leave either the complete new content or the old one, never a fragment."""

from __future__ import annotations

import numpy as np
import pytest

from gan_core.data import Dataset, Split, load_dataset, save_dataset
from gan_core.io import atomic_dir, atomic_path, check_writable, sha256_array, write_json


def test_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "out.json"
    write_json(target, {"a": 1})
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text('{"a": ')
        raise RuntimeError("interrupted")
    assert target.read_text().strip().replace(" ", "").replace("\n", "") == '{"a":1}'
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_failed_folder_write_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError), atomic_dir(tmp_path / "ds") as tmp:
        (tmp / "part.npz").write_bytes(b"half")
        raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


def test_dataset_round_trip_and_manifest(tmp_path):
    x = np.arange(2 * 4 * 4 * 1, dtype=np.uint8).reshape(2, 4, 4, 1)
    ds = Dataset("tiny", Split(x, np.array([1, 0])), Split(x[:1]), {"n_classes": 2})
    manifest = save_dataset(tmp_path / "tiny", ds)
    assert manifest["splits"]["train"]["label_counts"] == {"0": 1, "1": 1}
    assert manifest["splits"]["train"]["sha256_x"] == sha256_array(x)
    assert "label_counts" not in manifest["splits"]["test"]
    loaded = load_dataset(tmp_path / "tiny")
    np.testing.assert_array_equal(loaded.train.x, x)
    assert loaded.test.y is None and loaded.is_image and loaded.n_classes == 2


def test_torch_weights_written_twice_have_one_sha256(tmp_path):
    """torch.save records the file's name; the temporary file keeps the target's, so the
    bytes (and the sha256 that identifies a feature space's weights) do not vary by save."""
    import torch

    from gan_core.io import sha256_file

    digests = set()
    for folder in ("a", "b"):
        with atomic_path(tmp_path / folder / "weights.pt") as tmp:
            torch.save({"w": torch.arange(6.0)}, tmp)
        digests.add(sha256_file(tmp_path / folder / "weights.pt"))
    assert len(digests) == 1
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["weights.pt"]


def test_a_write_removes_what_a_killed_write_of_the_same_target_left(tmp_path):
    (tmp_path / ".result.json.k1ll3d.tmp").mkdir()  # a killed atomic_path's folder
    (tmp_path / ".runs.x9.tmp").mkdir()  # a killed atomic_dir's folder
    (tmp_path / ".other.json.a.tmp").mkdir()  # another target's: left alone
    write_json(tmp_path / "result.json", {"a": 1})
    with atomic_dir(tmp_path / "runs") as tmp:
        (tmp / "f").write_text("x")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".other.json.a.tmp", "result.json", "runs",
    ]  # fmt: skip


def test_an_unwritable_location_is_named_before_any_work(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(ValueError, match=r"file/out: cannot write there"):
        check_writable([tmp_path / "ok", tmp_path / "file" / "out"])
    check_writable([tmp_path / "new" / "deeper"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]  # nothing created
