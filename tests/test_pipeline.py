"""End to end: ``dvc repro`` of the real dvc.yaml on a tiny profile in a temporary git
repository; then the report (also in a headless browser), the no-op re-run, the selective
re-run, the MLflow runs, ``dvc metrics diff`` across a params change, and experiments run
at once from DVC's queue."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
import yaml

from gan_core.data import load_dataset
from tests.tiny_project import N_ROWS, N_RUNS, project_env, run_ok


def test_repro_writes_the_report(project):
    results = pd.read_csv(project / "reports" / "results.csv")
    assert len(results) == N_ROWS
    assert set(results["feature_space"]) == {"modes", "classifier:mnist", "digits:mnist"}
    assert set(results["dataset"]) == {"ring8", "mix1d", "mnist", "stacked_mnist"}
    trained = results[results["variant"] != "real"]
    for column in ("dataset", "variant", "seed", "status", "steps", "train_seconds", "n_fake"):
        assert trained[column].notna().all(), column
    ring = results[results["dataset"] == "ring8"]
    assert ring["n_fake"].eq(200).all()
    assert ring.loc[ring["variant"] != "real", "batch_size"].eq(32).all()
    assert ring["modes_captured"].between(0, 8).all()
    mnist = results[(results["dataset"] == "mnist") & (results["variant"] == "cgan")].iloc[0]
    assert mnist["fid"] > 0 and mnist["n_real"] == 500 and mnist["kid_subsets"] == 10
    for metric in ("kid", "kid_std", "precision", "recall", "density", "coverage", "is_mean"):
        assert np.isfinite(mnist[metric]), metric
    assert len(mnist["weights_sha256"]) == 64 and mnist["preprocessing"].startswith("uint8")
    floors = results[results["variant"] == "real"].set_index("dataset")
    assert floors.loc["ring8", "modes_captured"] == 8 and floors.loc["ring8", "n_fake"] == 200
    assert floors.loc["mnist", "n_fake"] == 100 and floors.loc["mnist", "fid"] < mnist["fid"]
    assert results["run_id"].str.fullmatch(r"[0-9a-f]{32}").all()
    # The conditional generator's samples carry balanced labels; snapshots every 2 steps.
    run = project / "runs" / "mnist" / "cgan" / "0"
    with np.load(run / "samples.npz") as samples:
        assert np.bincount(samples["y"]).tolist() == [10] * 10
    assert sorted(p.name for p in (run / "model" / "checkpoints").iterdir()) == [
        "step_0000002.png", "step_0000002.pt",
    ]  # fmt: skip
    assert not (run / "progress").exists()
    summary = pd.read_csv(project / "reports" / "summary.csv")
    fid = summary[(summary["dataset"] == "mnist") & (summary["metric"] == "fid")]
    assert set(fid["variant"]) == {"cgan", "stylegan", "real"} and fid["best"].sum() == 1
    modes = summary[(summary["dataset"] == "ring8") & (summary["metric"] == "modes_captured")]
    assert set(modes["variant"]) == {"gan_ns", "gan_mm", "dragan", "real"}
    assert modes.loc[modes["variant"] != "real", "n_seeds"].eq(2).all()
    markdown = (project / "reports" / "benchmark.md").read_text()
    assert "## ring8 — modes" in markdown and "| gan_mm |" in markdown
    assert "| real data (floor) |" in markdown
    assert "Protocol: 20 generator steps of batch 32, n_fake = 200" in markdown
    # dragan's weight on ring8 comes from its by_dataset entry, and the legend says so.
    assert "dragan: on this dataset regularizers {'dragan': 0.1} (elsewhere {'dragan': 10.0})" in (
        markdown
    )
    # The run that diverged at its first step is scored, counted as failed and named.
    exploding = results[results["variant"] == "exploding"].iloc[0]
    assert exploding["status"] == "diverged" and exploding["steps"] == 1
    assert "| exploding | 1 | 1 |" in markdown
    stacked = results[(results["dataset"] == "stacked_mnist") & (results["variant"] == "gan_ns")]
    assert stacked["feature_space"].tolist() == ["classifier:mnist", "digits:mnist"]
    joint, digits = stacked.iloc[0], stacked.iloc[1]
    assert joint["n_modes"] == 1000 and 0 <= joint["modes_captured"] <= 100
    # Digit by digit: three a sample, against each distinct test digit once.
    test = load_dataset(project / "data" / "prepared" / "stacked_mnist").test.x
    distinct = np.unique(test.transpose(3, 0, 1, 2).reshape(3 * len(test), -1), axis=0)
    assert digits["n_fake"] == 3 * joint["n_fake"]
    assert digits["n_real"] == len(distinct) < 3 * len(test)
    assert 0 <= digits["precision"] <= 1 and np.isnan(digits["n_modes"])
    assert "### stacked_mnist — digits:mnist" in markdown
    assert "digits:mnist: each sample's three colour channels read as three digits" in markdown
    # The snapshots' FID (classifier:mnist, N = 100) is the tables' own there: no note that
    # sets it against the digits' N.
    assert "tables' FID at N = 300" not in markdown
    accuracy = yaml.safe_load((project / "metrics/classifier/mnist.json").read_text())
    assert 0.5 < accuracy["test_accuracy"] <= 1.0


def test_every_run_is_scored_over_training(project):
    ring = pd.read_csv(project / "results" / "ring8" / "gan_mm" / "1.checkpoints.csv")
    assert ring["step"].tolist() == [5, 10, 15, 20]
    assert ring["n_fake"].eq(100).all() and ring["fid_feature_space"].eq("data").all()
    assert (ring["fid"] >= 0).all() and ring["g_loss"].notna().all()
    # The mode counts are a histogram of the 100 samples over the 8 modes.
    assert ring[[f"mode_{i}" for i in range(8)]].sum(axis=1).eq(100).all()
    mnist = pd.read_csv(project / "results" / "mnist" / "cgan" / "0.checkpoints.csv")
    assert mnist["step"].tolist() == [2] and mnist["fid_feature_space"].eq("classifier:mnist").all()
    assert mnist[[f"mode_{i}" for i in range(10)]].sum(axis=1).eq(100).all()
    dynamics = json.loads((project / "diagnostics" / "training_dynamics.json").read_text())
    assert {(c["dataset"], c["variant"]) for c in dynamics["loss_vs_quality"]} == {
        ("ring8", "gan_ns"), ("ring8", "gan_mm"), ("ring8", "dragan"), ("mix1d", "gan_mm"),
    }  # fmt: skip
    histories = {(h["dataset"], h["variant"], h["seed"]) for h in dynamics["mode_histories"]}
    assert histories == {("ring8", "gan_mm", 0), ("ring8", "gan_mm", 1), ("mix1d", "gan_mm", 0)}


def test_report_has_every_section_figure_metric_and_plot(project):
    reports = project / "reports"
    markdown = (reports / "benchmark.md").read_text()
    for heading in ("## ring8", "## mix1d", "## mnist", "## stacked_mnist",
                    "## Does the ranking hold over training?",
                    "## Diagnostics: the theory, measured",
                    "### 1. The optimal discriminator", "### 2. Vanishing gradients",
                    "### 3. Loss is not quality", "### 4. Mode collapse over time"):  # fmt: skip
        assert heading in markdown, heading
    figures = sorted(p.name for p in (reports / "figures").iterdir())
    for dataset in ("ring8", "mix1d", "mnist", "stacked_mnist"):
        assert {f"{dataset}_samples.png", f"{dataset}_curves.png"} <= set(figures)
    assert "mnist_fid_over_training.png" in figures and "diagnostic_mode_histograms.png" in figures
    assert {"mnist_samples_by_class.png", "mnist_stylegan_truncation.png",
            "mnist_stylegan_style_mixing.png"} <= set(figures)  # fmt: skip
    for name in figures:  # every figure is linked from the markdown and embedded in the page
        assert f"](figures/{name})" in markdown
    page = (reports / "index.html").read_text()
    assert page.count("data:image/png;base64,") == len(figures)
    assert 'src="http' not in page and "href=" not in page  # nothing outside the file
    metrics = json.loads((reports / "metrics.json").read_text())
    assert metrics["ring8"]["modes"]["gan_mm"]["modes_captured"] >= 0
    assert "fid" in metrics["mnist"]["classifier:mnist"]["cgan"]
    # 10 samples a class: too few for intra-FID's covariances, enough for class accuracy
    assert 0 <= metrics["mnist"]["classifier:mnist"]["cgan"]["class_accuracy"] <= 1
    assert "class_accuracy" not in metrics["mnist"]["classifier:mnist"]["stylegan"]
    shown = json.loads(run_ok(["dvc", "metrics", "show", "--json"], project).stdout)
    assert shown  # DVC reads the declared metrics file
    fid = pd.read_csv(reports / "plots" / "fid" / "ring8.csv")
    assert list(fid.columns) == ["run", "step", "value"]
    assert set(fid["run"]) == {f"{v}/{s}" for v in ("gan_ns", "gan_mm", "dragan") for s in (0, 1)}
    plots = json.loads(run_ok(["dvc", "plots", "show", "--json"], project).stdout)
    assert "reports/plots/g_loss/mnist.csv" in plots["data"]


def _chromium() -> str | None:
    return next((path for name in ("chromium", "chromium-browser", "google-chrome")
                 if (path := shutil.which(name))), None)  # fmt: skip


@pytest.mark.skipif(_chromium() is None, reason="needs Chromium (Debian package chromium)")
def test_report_renders_in_a_headless_browser(project, tmp_path):
    """The page as a browser builds it: its tables are there and every image decoded (the
    page itself counts images that failed to load on <body>)."""
    page = (project / "reports" / "index.html").resolve()
    result = subprocess.run(
        [_chromium(), "--headless", "--no-sandbox", "--disable-gpu",
         f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000",
         "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    dom = result.stdout
    images = len(list((project / "reports" / "figures").iterdir()))
    assert f'data-images="{images}"' in dom and 'data-images-broken="0"' in dom
    assert dom.count("<table>") >= 6 and "real data (floor)" in dom


def test_second_repro_is_a_no_op(project):
    result = run_ok(["dvc", "repro"], project)
    assert "Running stage" not in result.stdout


def test_changing_one_variant_reruns_only_its_stages(project):
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["variants"]["gan_mm"]["lr_g"] = 3.0e-4
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    try:
        status = run_ok(["dvc", "status"], project).stdout
    finally:
        params["variants"]["gan_mm"]["lr_g"] = 1.0e-4
        (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    changed = {line.strip().rstrip(":") for line in status.splitlines() if line[:1] not in " \t"}
    changed.discard("")
    assert changed == {"train_toy@ring8-gan_mm", "train_toy_1d@mix1d-gan_mm"}


def test_mlflow_has_one_run_per_dataset_variant_seed(project):
    import mlflow

    client = mlflow.tracking.MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("ganbench-test")
    everything = client.search_runs([experiment.experiment_id])
    (parent,) = [r for r in everything if r.info.run_name == "pipeline"]
    assert parent.info.status == "FINISHED"
    assert {a.path for a in client.list_artifacts(parent.info.run_id)} == {
        "results.csv", "summary.csv", "metrics.json", "benchmark.md", "index.html", "figures",
    }  # fmt: skip
    runs = [r for r in everything if r is not parent]
    assert all(r.data.tags["mlflow.parentRunId"] == parent.info.run_id for r in runs)
    keys = sorted(
        (r.data.tags["dataset"], r.data.tags["variant"], r.data.tags["seed"]) for r in runs
    )
    assert keys == sorted(
        [("ring8", v, str(s)) for v in ("gan_ns", "gan_mm", "dragan") for s in (0, 1)]
        + [("mix1d", "gan_mm", "0"), ("mix1d", "exploding", "0"), ("mnist", "cgan", "0")]
        + [("mnist", "stylegan", "0")]
        + [("stacked_mnist", "gan_ns", "0")]
    )
    for run in runs:
        if run.data.tags["variant"] == "exploding":
            assert run.info.status == "FAILED"  # its training diverged
            continue
        assert "d_loss" in run.data.metrics and "train_seconds" in run.data.metrics
        image = run.data.tags["dataset"] in ("mnist", "stacked_mnist")
        space = "classifier:mnist" if image else "modes"
        metric = "modes_captured" if space == "modes" else "fid"
        assert f"{space}/{metric}" in run.data.metrics
        history = client.get_metric_history(run.info.run_id, "d_loss")
        assert len(history) >= 2  # the curve, not just the last value
        artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
        assert {"samples.png", "checkpoint.pt"} <= artifacts


def test_corrupted_raw_file_fails_prepare_and_writes_nothing(project, raw_dir, tmp_path):
    corrupt = tmp_path / "raw"
    shutil.copytree(raw_dir / "mnist", corrupt / "mnist")
    path = corrupt / "mnist" / "t10k-labels-idx1-ubyte"
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["raw_dir"] = str(corrupt)
    params_file = tmp_path / "params.yaml"
    params_file.write_text(yaml.safe_dump(params))
    out = tmp_path / "prepared"
    args = ["ganbench", "--params", str(params_file), "prepare", "mnist", "--out", str(out)]
    result = subprocess.run(args, env=project_env(tmp_path), capture_output=True, text=True)
    assert result.returncode != 0
    message = result.stderr.strip().splitlines()[-1]
    assert "t10k-labels-idx1-ubyte" in message and "sha256 mismatch" in message
    assert "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2" in message
    assert not out.exists() and list(tmp_path.glob(".prepared*")) == []


# Imports torch before the stage command would pin its thread count (stages/cli.py), so it
# pins it first, as that command does.
INTERRUPT_AFTER_STEP_2 = """
import os
import sys
os.environ.setdefault("OMP_NUM_THREADS", "1")
from gan_core.training.loop import GANTrainer
from stages.cli import main
train = GANTrainer.train
def interrupted(self, until=None, on_step=None):
    train(self, until=2, on_step=on_step)
    raise KeyboardInterrupt
GANTrainer.train = interrupted
main(sys.argv[1:])
"""


def test_interrupted_training_resumes_to_the_uninterrupted_result(project, tmp_path):
    """The mnist cgan run (3 steps, checkpoint every 2) stopped after step 2 and resumed
    with --resume ends with the weights and samples of the uninterrupted dvc repro run."""
    import torch

    out, samples, progress = tmp_path / "model", tmp_path / "samples.npz", tmp_path / "progress"
    args = [
        "train", "--dataset", "mnist", "--variant", "cgan", "--seed", "0",
        "--data", "data/prepared/mnist", "--out", str(out), "--samples", str(samples),
        "--progress", str(progress),
    ]  # fmt: skip
    stopped = subprocess.run(
        [sys.executable, "-c", INTERRUPT_AFTER_STEP_2, *args],
        cwd=project, env=project_env(project), capture_output=True, text=True,
    )  # fmt: skip
    assert stopped.returncode != 0 and "KeyboardInterrupt" in stopped.stderr
    assert (progress / "state.pt").exists() and not out.exists()
    resumed = run_ok(["ganbench", *args, "--resume"], project)
    assert "resuming from" in resumed.stdout and "at step 2" in resumed.stdout
    reference = project / "runs" / "mnist" / "cgan" / "0"
    ours = torch.load(out / "checkpoint.pt", weights_only=True)
    theirs = torch.load(reference / "model" / "checkpoint.pt", weights_only=True)
    for network in ("generator", "discriminator"):
        for key, value in theirs[network].items():
            assert torch.equal(ours[network][key], value), (network, key)
    with np.load(samples) as a, np.load(reference / "samples.npz") as b:
        assert np.array_equal(a["x"], b["x"])
    assert json.loads((out / "run.json").read_text())["params"]["resumed_from_step"] == 2


def test_real_features_of_another_classifier_are_refused(project, tmp_path):
    with np.load(project / "features" / "mnist" / "classifier.npz") as real:
        arrays = dict(real)
    arrays["weights_sha256"] = np.array("0" * 64)
    stale = tmp_path / "stale"
    stale.mkdir()
    np.savez(stale / "classifier.npz", **arrays)
    run = project / "runs" / "mnist" / "cgan" / "0"
    args = [
        "ganbench", "evaluate", "--dataset", "mnist", "--variant", "cgan", "--seed", "0",
        "--data", "data/prepared/mnist", "--model", str(run / "model"),
        "--samples", str(run / "samples.npz"), "--classifiers", "models/classifier",
        "--real-features", str(stale), "--out", str(tmp_path / "result.json"),
    ]  # fmt: skip
    result = subprocess.run(
        args, cwd=project, env=project_env(project), capture_output=True, text=True
    )
    assert result.returncode != 0
    message = result.stderr.strip().splitlines()[-1]
    assert "with weights sha256 0000" in message and "re-run its features stage" in message
    assert not (tmp_path / "result.json").exists()


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ([], "--suite: required with --runs"),
        (["--suite", "toys"], "--suite: unknown suite 'toys'; valid: toy, toy_1d, images"),
    ],
)
def test_scoring_a_suite_needs_a_known_suite(project, tmp_path, extra, expected):
    args = [
        "ganbench", "evaluate", "--dataset", "ring8", "--data", "data/prepared/ring8",
        "--runs", "runs/ring8", "--out", str(tmp_path / "results"), *extra,
    ]  # fmt: skip
    result = subprocess.run(
        args, cwd=project, env=project_env(project), capture_output=True, text=True
    )
    assert result.returncode != 0
    assert expected in result.stderr.strip().splitlines()[-1]
    assert not (tmp_path / "results").exists()


def test_metrics_diff_shows_what_a_params_change_moved(project):
    """Runs last: it commits the reproduced project, changes a variant and reproduces again."""
    run_ok(["git", "add", "-A"], project)
    run_ok(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base"], project)
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["variants"]["gan_mm"]["lr_g"] = 2.0e-3
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run_ok(["dvc", "repro"], project)
    diff = json.loads(run_ok(["dvc", "metrics", "diff", "HEAD", "--json"], project).stdout)
    changed = {key for changes in diff.values() for key in changes}
    assert any(key.startswith("ring8.modes.gan_mm.") for key in changed), changed
    assert not any(".gan_ns." in key for key in changed), changed


def test_queued_experiments_log_every_run_once_in_the_projects_database(project, tmp_path):
    """``dvc queue start -j 2``: two experiments run at once in DVC's temporary copies of the
    project; each one's pipeline run and its children land in the project's own database,
    ended, none twice."""
    import mlflow

    root = tmp_path / "queued"
    shutil.copytree(project, root, symlinks=True)
    (root / ".gitignore").write_text("mlflow.db*\nmlartifacts/\n")
    run_ok(["git", "add", "-A"], root)
    run_ok(["git", "-c", "user.name=GANBench", "-c", "user.email=ganbench@localhost", "commit",
          "-qm", "baseline"], root)  # fmt: skip
    client = mlflow.tracking.MlflowClient(f"sqlite:///{root / 'mlflow.db'}")
    experiment_id = client.get_experiment_by_name("ganbench-test").experiment_id
    before = {run.info.run_id for run in client.search_runs([experiment_id])}
    for lr in ("2.0e-4", "3.0e-4"):
        run_ok(["dvc", "exp", "run", "--queue", "-S", f"variants.gan_mm.lr_g={lr}"], root)
    run_ok(["dvc", "queue", "start", "-j", "2"], root)
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        status = run_ok(["dvc", "queue", "status"], root).stdout
        if not re.search(r"\b(Queued|Running)\b", status):
            break
        time.sleep(5)
    run_ok(["dvc", "queue", "stop"], root)
    assert status.count("Success") == 2, status
    runs = [r for r in client.search_runs([experiment_id]) if r.info.run_id not in before]
    parents = [r for r in runs if r.info.run_name == "pipeline"]
    assert len(parents) == 2 and all(r.info.status == "FINISHED" for r in parents)
    for parent in parents:
        children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
        keys = [(r.data.tags["dataset"], r.data.tags["variant"], r.data.tags["seed"])
                for r in children]  # fmt: skip
        assert len(keys) == N_RUNS and len(set(keys)) == N_RUNS
    assert not [r for r in runs if r.info.status == "RUNNING"]
