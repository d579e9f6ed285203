"""``ganbench repro``: the pipeline on this machine's cores, what ``make repro`` runs.

With more than one job, the stages run ``--jobs`` at a time as ``ganbench launch --executor
local`` runs them: one CPU a stage, sharing results through a DVC remote (a folder of the
launch's own where the project has no default remote). The pipeline stages compute on one
thread either way (:mod:`stages.cli`), so the results are the bits of a serial run. A plain
``dvc repro``, one stage at a time, runs instead with one job, when the pipeline is up to
date (it says so at once), or when the working tree has uncommitted changes (a profile
written over params.yaml, an edited variant): the launch's workers clone the commit.
"""

from __future__ import annotations

import argparse
import os
import subprocess

from stages import launch


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-j", "--jobs", type=int, default=os.cpu_count() or 1,
        help="stages at once (default: one per CPU core, here %(default)s)",
    )  # fmt: skip


def _serial_reason(jobs: int) -> str | None:
    """Why the pipeline runs one stage at a time, or None to launch it."""
    if jobs == 1:
        return "one job"
    if subprocess.run(["dvc", "status", "--quiet"]).returncode == 0:
        return "nothing changed"
    try:
        launch.check_committed(launch.plan([]).outputs)
    except ValueError as uncommitted:
        return str(uncommitted)
    return None


def run(args: argparse.Namespace) -> None:
    if args.jobs < 1:
        raise ValueError(f"--jobs {args.jobs}: expected at least 1")
    reason = _serial_reason(args.jobs)
    if reason is None:
        launch.run(
            argparse.Namespace(
                targets=[], executor="local", address=None, jobs=args.jobs, retries=2,
                cpus_per_stage=1.0, gpus_per_stage=0.0, git_url=None, workdir=None,
                params=args.params,
            )
        )  # fmt: skip
        return
    print(f"repro: {reason}: dvc repro, one stage at a time", flush=True)
    result = subprocess.run(["dvc", "repro"])
    if result.returncode != 0:
        raise SystemExit(f"ganbench repro: dvc repro failed (exit {result.returncode})")
