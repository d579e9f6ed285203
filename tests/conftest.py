"""Shared fixtures: the repository root, the verified raw-data cache and the tiny profile's
project reproduced by plain ``dvc repro``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def raw_dir() -> Path:
    """The raw-data cache (``GANBENCH_RAW_DIR``, else ``data/raw`` of this checkout), filled
    with verified MNIST and Fashion-MNIST files (``make test`` fetches them first)."""
    from gan_core.data.sources import fetch_raw

    folder = Path(os.environ.get("GANBENCH_RAW_DIR", REPO / "data" / "raw"))
    for name in ("mnist", "fashion_mnist"):
        fetch_raw(name, folder)
    return folder


@pytest.fixture()
def one_thread():
    """Torch on one CPU thread for the test (tiny networks run fastest so), then as before."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def inception_weights(raw_dir) -> Path:
    """The verified FID Inception TorchScript in the raw-data cache (fetched if missing)."""
    from gan_core.data.sources import INCEPTION_POOL3_FILE, fetch_raw

    return fetch_raw("fid_inception", raw_dir) / INCEPTION_POOL3_FILE


@pytest.fixture(scope="session")
def serial_repro(tmp_path_factory, repo_root, raw_dir) -> tuple:
    """The tiny profile's project after one plain ``dvc repro``, with its results.csv as it
    was then (tests may change the project afterwards)."""
    import pandas as pd

    from tests.tiny_project import build, run_ok

    root = build(tmp_path_factory.mktemp("project"), repo_root, raw_dir)
    run_ok(["dvc", "repro"], root)
    return root, pd.read_csv(root / "reports" / "results.csv")


@pytest.fixture(scope="session")
def project(serial_repro) -> Path:
    return serial_repro[0]
