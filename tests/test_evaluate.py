"""The evaluate stage's per-run rows: protocol beside metrics; a diverged run, or one whose
samples are not finite, flagged and unscored."""

from __future__ import annotations

import json

import numpy as np

from stages.evaluate import Scorer, score_checkpoints, score_run


def _run(tmp_path, status: str, value: float = 1.0):
    model = tmp_path / "model"
    model.mkdir(exist_ok=True)
    summary = {"status": status, "steps": 7, "train_seconds": 1.5}
    (model / "run.json").write_text(json.dumps(summary))
    np.savez(tmp_path / "samples.npz", x=np.full((4, 2), value, np.float32))
    return model, tmp_path / "samples.npz"


SCORER = Scorer(
    ["modes"],
    lambda fake, _: [{"feature_space": "modes", "total": float(fake.sum())}],
    lambda fake: {"total": float(fake.sum())},
    is_image=False,
    n_snapshot=4,
)


def test_a_finished_run_gets_its_protocol_and_scores(tmp_path):
    model, samples = _run(tmp_path, "ok")
    (row,) = score_run("ring8", "gan_ns", 2, model, samples, SCORER)
    assert row == {
        "dataset": "ring8", "variant": "gan_ns", "seed": 2, "status": "ok", "steps": 7,
        "train_seconds": 1.5, "n_fake": 4, "feature_space": "modes", "total": 8.0,
    }  # fmt: skip


def test_a_diverged_run_is_reported_but_not_scored(tmp_path):
    model, samples = _run(tmp_path, "diverged")
    (row,) = score_run("ring8", "wgan", 0, model, samples, SCORER)
    assert row["status"] == "diverged" and row["feature_space"] == "modes"
    assert "total" not in row


def test_a_run_with_non_finite_samples_is_flagged_and_not_scored(tmp_path):
    for value in (np.nan, np.inf):
        model, samples = _run(tmp_path, "ok", value)
        (row,) = score_run("ring8", "gan_ns", 0, model, samples, SCORER)
        assert row["status"] == "non_finite" and "total" not in row


def test_a_run_without_snapshots_gets_an_empty_table(tmp_path):
    model, _ = _run(tmp_path, "ok")
    assert list(score_checkpoints(model, 0, SCORER).columns) == ["step"]


def test_a_run_whose_samples_mostly_escaped_is_scored_and_flagged(tmp_path):
    def escaped(share: float) -> Scorer:
        row = {"feature_space": "modes", "escaped_fraction": share}
        return Scorer(["modes"], lambda fake, _: [row], lambda fake: row, False, 4)

    model, samples = _run(tmp_path, "ok")
    for share, status in ((0.5, "ok"), (0.75, "escaped")):
        (row,) = score_run("ring8", "gan_ml", 0, model, samples, escaped(share))
        assert (row["status"], row["escaped_fraction"]) == (status, share)
