"""Speed and memory of GANBench's metrics, each as a ratio against a reference measured in
the same run on the same inputs (clean-fid's implementation, or the input's own size).

    python bench/metrics.py [--quick]

Prints one line per figure. Ratios below 1 mean GANBench is faster (or uses less memory).
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from collections.abc import Callable

import numpy as np
from cleanfid.fid import frechet_distance as cleanfid_frechet_distance
from cleanfid.fid import kernel_distance as cleanfid_kernel_distance

from gan_core.metrics.fid import feature_statistics, frechet_distance
from gan_core.metrics.kid import kernel_inception_distance
from gan_core.metrics.precision_recall import precision_recall


def best_of(repeats: int, fn: Callable[[], object]) -> float:
    """The fastest of ``repeats`` wall-clock timings of ``fn()``, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def fid_speed(n: int, dim: int) -> None:
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(n, dim)), rng.normal(0.1, 1.1, size=(n, dim))
    stats_real, stats_fake = feature_statistics(real), feature_statistics(fake)
    ours = best_of(3, lambda: frechet_distance(*stats_real, *stats_fake))
    theirs = best_of(3, lambda: cleanfid_frechet_distance(*stats_real, *stats_fake))
    gap = abs(frechet_distance(*stats_real, *stats_fake) / cleanfid_frechet_distance(
        *stats_real, *stats_fake) - 1)  # fmt: skip
    print(f"FID from statistics, d={dim}: {ours:.3f} s vs clean-fid {theirs:.3f} s: "
          f"ratio {ours / theirs:.2f} (relative difference {gap:.1e})")  # fmt: skip


def kid_speed(n: int, dim: int) -> None:
    rng = np.random.default_rng(1)
    real, fake = rng.normal(size=(n, dim)), rng.normal(0.1, 1.0, size=(n, dim))
    ours = best_of(2, lambda: kernel_inception_distance(real, fake))
    theirs = best_of(2, lambda: cleanfid_kernel_distance(real, fake))
    print(f"KID, N={n}, d={dim}, 100 subsets of 1000: {ours:.2f} s vs clean-fid {theirs:.2f} s: "
          f"ratio {ours / theirs:.2f}")  # fmt: skip


def precision_recall_memory(n: int, dim: int) -> None:
    rng = np.random.default_rng(2)
    real, fake = rng.normal(size=(n, dim)), rng.normal(size=(n, dim))
    tracemalloc.start()
    start = time.perf_counter()
    precision_recall(real, fake)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    inputs = real.nbytes + fake.nbytes
    full_matrix = n * n * 8
    print(f"precision/recall, N={n}, d={dim}: {seconds:.1f} s, peak extra memory "
          f"{peak / 2**20:.0f} MiB = {peak / inputs:.2f} x the inputs "
          f"({peak / full_matrix:.3f} x one full N x N distance matrix)")  # fmt: skip


def inception_throughput(n: int) -> None:
    """Our extraction (clean resize + network) against clean-fid's folder pipeline with the
    same network, on the same ``n`` 28x28 grayscale images."""
    import tempfile
    from pathlib import Path

    import torch
    from cleanfid.fid import get_folder_features
    from PIL import Image

    from gan_core.data.sources import fetch_raw
    from gan_core.feature_spaces import InceptionSpace
    from stages.params import load_params

    raw_dir = Path(load_params().raw_dir)
    weights = fetch_raw("fid_inception", raw_dir) / "inception_pool3.pt"
    cpu = torch.device("cpu")
    space = InceptionSpace(weights, cpu)
    images = np.random.default_rng(3).integers(0, 256, (n, 28, 28, 1), dtype=np.uint8)
    with tempfile.TemporaryDirectory() as folder:
        for i, image in enumerate(images):
            Image.fromarray(image[..., 0], mode="L").save(Path(folder) / f"{i:05d}.png")
        ours = best_of(1, lambda: space.extract(images))
        theirs = best_of(1, lambda: get_folder_features(
            folder, space.pool3, num_workers=0, batch_size=50, device=cpu, mode="clean",
            verbose=False,
        ))  # fmt: skip
    threads = torch.get_num_threads()
    print(f"Inception features, {n} images on {threads} threads: {n / ours:.1f} images/s "
          f"vs clean-fid {n / theirs:.1f}: time ratio {ours / theirs:.2f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller inputs, for a smoke run")
    quick = parser.parse_args().quick
    fid_speed(n=3000 if quick else 10000, dim=512 if quick else 2048)
    kid_speed(n=2000 if quick else 10000, dim=512 if quick else 2048)
    precision_recall_memory(n=5000 if quick else 50000, dim=64)
    inception_throughput(n=20 if quick else 200)


if __name__ == "__main__":
    main()
