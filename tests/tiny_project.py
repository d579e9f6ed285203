"""The tiny profile of the end-to-end tests: params small enough that the real dvc.yaml runs
in minutes, and a temporary git + DVC project that holds them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

TOY_SETUP = {
    "arch": "mlp", "width": 16, "depth": 1, "steps": 20, "batch_size": 32, "n_fake": 200,
    "threads": 1, "log_every": 5, "checkpoint_every": 5,
}  # fmt: skip
TINY_PARAMS = {
    "profile": "tiny",
    "description": "",
    "report_dir": "reports",
    "reproduction": {},
    "device": "cpu",
    "tracking": {"uri": "sqlite:///mlflow.db", "experiment": "ganbench-test"},
    "datasets": {
        "ring8": {"kind": "ring", "n_train": 2000, "n_test": 500, "seed": 0},
        "mix1d": {"kind": "mix1d", "n_train": 2000, "n_test": 500, "seed": 0},
        "mnist": {"kind": "mnist", "max_train": 2000, "max_test": 500},
        "stacked_mnist": {"kind": "stacked_mnist", "n_train": 500, "n_test": 200, "seed": 0},
    },
    "setups": {
        "ring8": {**TOY_SETUP, "z_dim": 2},
        "mix1d": {**TOY_SETUP, "z_dim": 1},
        "mnist": {
            "arch": "dcgan",
            "z_dim": 8,
            "width": 4,
            "steps": 3,
            "batch_size": 8,
            "n_fake": 100,
            "log_every": 1,
            "checkpoint_every": 2,
        },
        "stacked_mnist": {
            "arch": "dcgan",
            "z_dim": 8,
            "width": 4,
            "steps": 2,
            "batch_size": 8,
            "n_fake": 100,
            "log_every": 1,
        },
    },  # fmt: skip
    "variants": {
        "gan_ns": {"loss": "ns"},
        "gan_mm": {"loss": "minimax", "lr_g": 1.0e-4},
        "cgan": {"loss": "ns", "conditional": True, "ema_decay": 0.9},
        "stylegan": {"loss": "ns", "arch": "stylegan", "mapping_layers": 2, "ema_decay": 0.9},
        "dragan": {
            "loss": "ns",
            "regularizers": {"dragan": 10.0},
            "norm_d": "none",
            "by_dataset": {"ring8": {"regularizers": {"dragan": 0.1}}},
        },
        # D's first update (lr 1e30) makes G's first loss infinite: diverged before its first
        # log; the pipeline must still reach the report and mark the run.
        "exploding": {"loss": "ml", "lr_g": 1.0e30, "lr_d": 1.0e30},
    },
    "suites": {
        "toy": {"datasets": ["ring8"], "variants": ["gan_ns", "gan_mm", "dragan"], "seeds": [0, 1]},
        "toy_1d": {"datasets": ["mix1d"], "variants": ["gan_mm", "exploding"], "seeds": [0]},
        "images": {"datasets": ["mnist"], "variants": ["cgan", "stylegan"], "seeds": [0]},
        "fashion": {"datasets": [], "variants": [], "seeds": []},
        "stacked": {"datasets": ["stacked_mnist"], "variants": ["gan_ns"], "seeds": [0]},
    },
    "classifier": {"datasets": ["mnist"], "seed": 0, "train": {"epochs": 1, "batch_size": 64}},
    "evaluation": {
        "inception": False,
        "checkpoint_samples": 100,
        "metrics": {"kid_subsets": 10, "kid_subset_size": 100},
        "classifier_of": {"stacked_mnist": "mnist"},
        "ranked_by": {"ring8": "high_quality_fraction"},
    },
    "diagnostics": {
        "data": "mix1d",
        "optimal_discriminator": {"steps": 50, "batch_size": 256, "grid_size": 201},
        "vanishing_gradients": {"steps": 50, "n_checkpoints": 4, "n_measure": 64},
        "training_dynamics": {"datasets": ["ring8", "mix1d"], "variants": ["gan_mm"]},
    },
}
N_RUNS = 3 * 2 + 2 + 2 + 1
N_FLOORS = 4  # one real-versus-real row per dataset
# Result rows: a row per run and floor in each feature space (Stacked MNIST has two).
N_ROWS = N_RUNS + N_FLOORS + 2


def project_env(workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env["DVC_NO_ANALYTICS"] = "1"
    # The stages' own thread count (one, see stages/cli.py), which the launch's workers
    # compute on too: the serial run and the launched one must agree without being told.
    env.pop("OMP_NUM_THREADS", None)
    env.pop("MLFLOW_TRACKING_URI", None)
    return env


def run_ok(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    result = subprocess.run(args, cwd=cwd, env=project_env(cwd), capture_output=True, text=True)
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result


def build(root: Path, repo_root: Path, raw_dir: Path, commit: bool = False) -> Path:
    """A git + DVC project at ``root`` with this checkout's pipeline and code and the tiny
    params (committed when ``commit``), not yet reproduced."""
    root.mkdir(parents=True, exist_ok=True)
    for name in ("dvc.yaml", ".dvcignore"):
        shutil.copy(repo_root / name, root / name)
    for package in ("gan_core", "stages"):
        shutil.copytree(repo_root / package, root / package,
                        ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    params = {**TINY_PARAMS, "raw_dir": str(raw_dir)}
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run_ok(["git", "init", "-q"], root)
    run_ok(["dvc", "init", "-q"], root)  # keeps the copied .dvcignore
    shutil.copytree(repo_root / ".dvc" / "plots", root / ".dvc" / "plots")
    if commit:
        (root / ".gitignore").write_text("__pycache__/\n/mlflow.db\n/mlartifacts/\n")
        run_ok(["git", "add", "-A"], root)
        run_ok(["git", "-c", "user.name=GANBench", "-c", "user.email=ganbench@localhost",
             "commit", "-qm", "tiny profile"], root)  # fmt: skip
    return root
