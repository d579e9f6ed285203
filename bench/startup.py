"""Start-up of a pipeline stage: the wall time of ``ganbench <stage> --help`` in a fresh
process (the interpreter, the console script, the stage module's imports and its argument
parser: everything a stage pays before its work) against the floor every stage shares, a
fresh ``python -c "import torch"``, timed in alternation in the same run.

    python bench/startup.py [--repeats N]

A ratio of 1.2 means the stage starts 20% slower than importing torch alone.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time

STAGES = ("prepare", "train", "evaluate", "features", "diagnose", "report")


def _seconds(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    ganbench = shutil.which("ganbench")
    if ganbench is None:
        raise SystemExit("bench/startup.py: the ganbench command is not installed (make venv)")
    commands = {"python": [sys.executable, "-c", "pass"]}
    commands["import torch"] = [sys.executable, "-c", "import torch"]
    commands.update({stage: [ganbench, stage, "--help"] for stage in STAGES})
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.repeats):
        for name, command in commands.items():
            times[name].append(_seconds(command))
    floor = statistics.median(times["import torch"])
    for name, samples in times.items():
        median = statistics.median(samples)
        print(
            f"start-up {name}: {median:.2f} s (median of {args.repeats}), "
            f"{median / floor:.2f}x import torch",
            flush=True,
        )


if __name__ == "__main__":
    main()
