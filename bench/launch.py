"""``ganbench launch`` against a plain ``dvc repro``: the end-to-end tests' tiny profile
reproduced both ways in fresh temporary projects, timed from the command's start to its
report.

    python bench/launch.py [--jobs 2] [--executor local|ray]

The launch's time includes everything a user waits for: cloning the workers' repositories,
each stage's pull and push through a local-folder DVC remote, and the final ``dvc repro
--pull`` that restores every stage and runs the report. Both use one thread per stage. The
ratio is the serial time over the launch's (above 1: the launch is faster).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.tiny_project import build, project_env  # noqa: E402 (the tests' tiny profile)


def _timed(args: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(args, cwd=cwd, env=project_env(cwd), check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--executor", default="local")
    args = parser.parse_args()
    raw_dir = Path(os.environ.get("GANBENCH_RAW_DIR", ROOT / "data" / "raw"))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        serial = build(tmp / "serial", ROOT, raw_dir)
        serial_s = _timed(["dvc", "repro"], serial)
        launched = build(tmp / "launched", ROOT, raw_dir, commit=True)
        remote = ["dvc", "remote", "add", "--local", "--default", "shared", str(tmp / "remote")]
        subprocess.run(remote, cwd=launched, check=True, capture_output=True)
        launch_s = _timed(
            ["ganbench", "launch", "--executor", args.executor, "-j", str(args.jobs),
             "--workdir", str(tmp / "workers")],
            launched,
        )  # fmt: skip
    print(f"tiny profile, serial dvc repro: {serial_s:.1f} s")
    print(f"tiny profile, launch --executor {args.executor} -j {args.jobs}: {launch_s:.1f} s")
    print(f"speed-up of the launch over serial: {serial_s / launch_s:.2f}x")


if __name__ == "__main__":
    main()
