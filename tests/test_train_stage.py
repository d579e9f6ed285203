"""The train stage's seed groups: every seed of a suite trained in one process, each seed's
outputs where one run writes them; an interrupted group resumes to the uninterrupted bits;
a network without a stacked form trains its seeds one after another."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import torch
import yaml

from gan_core.training.loop import GANTrainer
from stages.cli import main

SETUP = {
    "arch": "mlp", "z_dim": 2, "width": 16, "depth": 1, "steps": 12, "batch_size": 32,
    "n_fake": 100, "threads": 1, "log_every": 3, "checkpoint_every": 4,
}  # fmt: skip
SEEDS = [0, 1, 2]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """The end-to-end test's tiny params with three toy seeds, and ring8 prepared."""
    from tests.tiny_project import TINY_PARAMS

    root = tmp_path_factory.mktemp("stage")
    params = copy.deepcopy(TINY_PARAMS)
    params["raw_dir"] = str(root / "raw")
    params["setups"]["ring8"] = SETUP
    params["variants"]["wgan_gp"] = {
        "loss": "wasserstein", "regularizers": {"gradient_penalty": 10.0}, "n_critic": 2,
    }  # fmt: skip
    params["variants"]["batch_norm"] = {"loss": "ns", "norm_d": "batch"}
    params["suites"]["toy"]["seeds"] = SEEDS
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    main(["--params", str(root / "params.yaml"), "prepare", "ring8", "--out", str(root / "ring8")])
    return root


def _train(project, variant: str, runs: str, *extra: str) -> None:
    main([
        "--params", str(project / "params.yaml"), "train", "--dataset", "ring8",
        "--variant", variant, "--data", str(project / "ring8"), *extra,
        "--progress", str(project / f"{runs}.progress"),
    ])  # fmt: skip


def _group(project, variant: str, runs: str, *extra: str) -> None:
    _train(project, variant, runs, "--suite", "toy", "--runs", str(project / runs), *extra)


def _assert_same_run(a, b) -> None:
    ours = torch.load(a / "model" / "checkpoint.pt", weights_only=True)
    theirs = torch.load(b / "model" / "checkpoint.pt", weights_only=True)
    for network in ("generator", "discriminator"):
        for key, value in theirs[network].items():
            assert torch.equal(ours[network][key], value), (network, key)
    with np.load(a / "samples.npz") as x, np.load(b / "samples.npz") as y:
        assert np.array_equal(x["x"], y["x"])
    assert (a / "model" / "history.csv").read_text() == (b / "model" / "history.csv").read_text()


def test_a_suite_trains_every_seed_into_its_own_folder(project, capsys):
    _group(project, "wgan_gp", "group")
    for seed in SEEDS:
        run = project / "group" / str(seed)
        summary = json.loads((run / "model" / "run.json").read_text())
        assert summary["status"] == "ok" and summary["steps"] == 12
        assert summary["params"]["seed"] == seed and summary["params"]["seed_group"] == SEEDS
        assert sorted(p.name for p in (run / "model" / "checkpoints").iterdir()) == [
            f"step_{step:07d}.{ext}" for step in (4, 8, 12) for ext in ("png", "pt")
        ]
        with np.load(run / "samples.npz") as samples:
            assert samples["x"].shape == (100, 2)
    assert not (project / "group.progress").exists()
    assert "training the seeds one after another" not in capsys.readouterr().out


def test_an_interrupted_group_resumes_to_the_uninterrupted_result(project, monkeypatch):
    train = GANTrainer.train

    def interrupted(self, until=None, on_step=None):
        train(self, until=8, on_step=on_step)  # checkpointed at step 8, then stopped
        raise KeyboardInterrupt

    monkeypatch.setattr(GANTrainer, "train", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _group(project, "wgan_gp", "resumed", "--resume")
    monkeypatch.setattr(GANTrainer, "train", train)
    assert (project / "resumed.progress" / "state.pt").exists()
    _group(project, "wgan_gp", "resumed", "--resume")
    for seed in SEEDS:
        _assert_same_run(project / "resumed" / str(seed), project / "group" / str(seed))
        summary = json.loads((project / "resumed" / str(seed) / "model" / "run.json").read_text())
        assert summary["params"]["resumed_from_step"] == 8


def test_a_network_without_a_stacked_form_trains_seed_by_seed(project, capsys):
    _group(project, "batch_norm", "sequential")
    assert "ring8/batch_norm: BatchNorm1d has no stacked form" in capsys.readouterr().out
    # each seed as its own one-model run gives
    _train(project, "batch_norm", "one", "--seed", "1", "--out", str(project / "one" / "model"),
           "--samples", str(project / "one" / "samples.npz"))  # fmt: skip
    _assert_same_run(project / "sequential" / "1", project / "one")


def _interrupt_at_step_8(project, monkeypatch, runs: str) -> None:
    train = GANTrainer.train

    def interrupted(self, until=None, on_step=None):
        train(self, until=8, on_step=on_step)
        raise KeyboardInterrupt

    monkeypatch.setattr(GANTrainer, "train", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _group(project, "wgan_gp", runs, "--resume")
    monkeypatch.setattr(GANTrainer, "train", train)


def test_a_damaged_resume_state_is_named_and_training_restarts(project, monkeypatch, capsys):
    _interrupt_at_step_8(project, monkeypatch, "damaged")
    state = project / "damaged.progress" / "state.pt"
    state.write_bytes(state.read_bytes()[: state.stat().st_size // 2])  # truncated
    # a snapshot write killed midway leaves its temporary folder behind
    (project / "damaged.progress" / "0" / ".step_0000012.pt.abc.tmp").mkdir()
    capsys.readouterr()
    _group(project, "wgan_gp", "damaged", "--resume")
    out = capsys.readouterr().out
    assert f"{state}: damaged (" in out and "starting from step 0" in out
    for seed in SEEDS:
        _assert_same_run(project / "damaged" / str(seed), project / "group" / str(seed))
        checkpoints = project / "damaged" / str(seed) / "model" / "checkpoints"
        assert not list(checkpoints.glob("*.tmp"))


def test_a_state_written_by_other_training_code_is_not_resumed(project, monkeypatch, capsys):
    import stages.train

    _interrupt_at_step_8(project, monkeypatch, "edited")
    monkeypatch.setattr(stages.train, "training_code_hash", lambda: "an edited loop")
    capsys.readouterr()
    _group(project, "wgan_gp", "edited", "--resume")
    assert "written for other settings, seeds, data or code" in capsys.readouterr().out
    summary = json.loads((project / "edited" / "0" / "model" / "run.json").read_text())
    assert summary["params"]["resumed_from_step"] == 0


def test_a_run_diverged_before_its_first_log_writes_a_readable_history(project):
    import pandas as pd

    from gan_core.training.loop import HISTORY_KEYS

    params = yaml.safe_load((project / "params.yaml").read_text())
    params["variants"]["exploding"] = {"loss": "ml", "lr_g": 1.0e30, "lr_d": 1.0e30}
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    _train(project, "exploding", "exploding", "--seed", "0",
           "--out", str(project / "exploding" / "model"),
           "--samples", str(project / "exploding" / "samples.npz"))  # fmt: skip
    summary = json.loads((project / "exploding" / "model" / "run.json").read_text())
    assert summary["status"] == "diverged" and summary["steps"] == 1
    history = pd.read_csv(project / "exploding" / "model" / "history.csv")
    assert list(history.columns) == list(HISTORY_KEYS) and history.empty


def test_a_removal_of_the_progress_killed_midway_leaves_nothing_to_resume(project, monkeypatch):
    import shutil

    import stages.train

    _interrupt_at_step_8(project, monkeypatch, "removal")
    progress = project / "removal.progress"

    def killed(path, ignore_errors=False):
        raise KeyboardInterrupt  # the snapshots are still there, half of them in reality

    monkeypatch.setattr(shutil, "rmtree", killed)
    with pytest.raises(KeyboardInterrupt):
        stages.train.remove_progress(progress)
    monkeypatch.undo()
    assert not (progress / "state.pt").exists() and (progress / "0").exists()


def test_an_unwritable_output_stops_training_before_it_starts(project):
    (project / "a_file").write_text("")
    with pytest.raises(SystemExit, match=r"ganbench train: .*a_file/model: cannot write there"):
        _train(project, "wgan_gp", "nowhere", "--seed", "0",
               "--out", str(project / "a_file" / "model" / "run"),
               "--samples", str(project / "nowhere.npz"))  # fmt: skip
    assert not (project / "nowhere.progress").exists()


def test_networks_too_large_to_allocate_are_one_line(project):
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["setups"]["ring8"] = {**SETUP, "width": 2_000_000, "depth": 2}  # a 16 TB matrix
    (project / "huge.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    with pytest.raises(SystemExit) as failure:
        main([
            "--params", str(project / "huge.yaml"), "train", "--dataset", "ring8",
            "--variant", "gan_ns", "--data", str(project / "ring8"), "--seed", "0",
            "--out", str(project / "huge" / "model"), "--samples", str(project / "huge.npz"),
            "--progress", str(project / "huge.progress"),
        ])  # fmt: skip
    line = str(failure.value.code)
    assert line.startswith("ganbench train: ring8/gan_ns: out of memory (") and "\n" not in line
    assert line.endswith("lower setups.ring8.width or batch_size")
    assert not (project / "huge").exists() and not (project / "huge.npz").exists()


@pytest.mark.parametrize("after", ["nothing", "damaged state", "code change"])
def test_a_sigkilled_run_resumes_to_the_uninterrupted_bits(project, monkeypatch, after):
    """SIGKILL at a moment the test does not choose (after the first checkpoint, wherever the
    run is then: training, or writing a snapshot or the state); then, before resuming, the
    state is left alone, truncated, or the training code changes. Each way the resumed run
    ends bit-identical to an uninterrupted one (from its state, or from step 0)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    import stages.train

    setup = {**SETUP, "steps": 120, "checkpoint_every": 5, "log_every": 5}
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["setups"]["ring8"] = setup
    (project / "long.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    name = f"killed-{after.replace(' ', '-')}"

    def args(runs: str) -> list[str]:
        return [
            "--params", str(project / "long.yaml"), "train", "--dataset", "ring8",
            "--variant", "wgan_gp", "--data", str(project / "ring8"), "--suite", "toy",
            "--runs", str(project / runs), "--progress", str(project / f"{runs}.progress"),
        ]  # fmt: skip

    if not (project / "long-reference").exists():
        main(args("long-reference"))
    state = project / f"{name}.progress" / "state.pt"
    ganbench = os.path.join(os.path.dirname(sys.executable), "ganbench")
    process = subprocess.Popen(
        [ganbench, *args(name), "--resume"], cwd=project,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not state.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.01)
    time.sleep(0.3)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert state.exists() and not (project / name).exists()
    if after == "damaged state":
        state.write_bytes(state.read_bytes()[:100])
    if after == "code change":
        monkeypatch.setattr(stages.train, "training_code_hash", lambda: "an edited loop")
    main([*args(name), "--resume"])
    for seed in SEEDS:
        _assert_same_run(project / name / str(seed), project / "long-reference" / str(seed))
        assert not list((project / name / str(seed) / "model").rglob("*.tmp"))
