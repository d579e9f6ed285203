"""The evaluate stage's per-run rows: protocol beside metrics; a diverged run unscored."""

from __future__ import annotations

import json

import numpy as np

from stages.evaluate import Scorer, evaluate_checkpoints, evaluate_run


def _run(tmp_path, status: str):
    model = tmp_path / "model"
    model.mkdir()
    summary = {"status": status, "steps": 7, "train_seconds": 1.5}
    (model / "run.json").write_text(json.dumps(summary))
    np.savez(tmp_path / "samples.npz", x=np.ones((4, 2), np.float32))
    return model, tmp_path / "samples.npz"


SCORER = Scorer(
    ["modes"],
    lambda fake: [{"feature_space": "modes", "total": float(fake.sum())}],
    lambda fake: {"total": float(fake.sum())},
    is_image=False,
    n_snapshot=4,
)


def test_a_finished_run_gets_its_protocol_and_scores(tmp_path):
    model, samples = _run(tmp_path, "ok")
    evaluate_run("ring8", "gan_ns", 2, model, samples, tmp_path / "out.json", SCORER)
    (row,) = json.loads((tmp_path / "out.json").read_text())
    assert row == {
        "dataset": "ring8", "variant": "gan_ns", "seed": 2, "status": "ok", "steps": 7,
        "train_seconds": 1.5, "n_fake": 4, "feature_space": "modes", "total": 8.0,
    }  # fmt: skip


def test_a_diverged_run_is_reported_but_not_scored(tmp_path):
    model, samples = _run(tmp_path, "diverged")
    evaluate_run("ring8", "wgan", 0, model, samples, tmp_path / "out.json", SCORER)
    (row,) = json.loads((tmp_path / "out.json").read_text())
    assert row["status"] == "diverged" and row["feature_space"] == "modes"
    assert "total" not in row


def test_a_run_without_snapshots_gets_an_empty_table(tmp_path):
    model, _ = _run(tmp_path, "ok")
    evaluate_checkpoints(model, 0, tmp_path / "0.checkpoints.csv", SCORER)
    assert (tmp_path / "0.checkpoints.csv").read_text().strip() == "step"


def test_a_run_whose_samples_mostly_escaped_is_scored_and_flagged(tmp_path):
    def escaped(share: float) -> Scorer:
        row = {"feature_space": "modes", "escaped_fraction": share}
        return Scorer(["modes"], lambda fake: [row], lambda fake: row, False, 4)

    model, samples = _run(tmp_path, "ok")
    for share, status in ((0.5, "ok"), (0.75, "escaped")):
        evaluate_run("ring8", "gan_ml", 0, model, samples, tmp_path / "out.json", escaped(share))
        (row,) = json.loads((tmp_path / "out.json").read_text())
        assert (row["status"], row["escaped_fraction"]) == (status, share)
