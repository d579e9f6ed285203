"""``ganbench launch``: reproduce the pipeline with its independent stages on many workers, a
Ray cluster (``--executor ray``) or processes on this machine (``--executor local``), with
``dvc.yaml`` still the one definition of the work.

DVC shares the results: each worker runs its stage in a clone of this repository at the same
commit and pushes the outputs and the run-cache entry to the project's default DVC remote
(:mod:`stages.launch_worker`); local workers, where the project has none, use a folder in
their workdir, which the launch makes the project's default in ``.dvc/config.local``. A
stage is sent only when every stage it depends on has finished, so its inputs are already in
the remote, and its workers' lock entries go with it (a worker restores exactly the outputs
they record). When all have, this repository writes the workers' entries into its dvc.lock
and runs ``dvc repro --pull``: every stage sent out is restored from the outputs its worker
pushed, not run, and the stages nothing depends on (the report, which also logs the runs to
MLflow) run here, once. A worker that dies has its stage retried; a finished stage is never
run twice, because its retry (or a later launch) finds it in the run-cache. Each stage's
seconds and the launch's wall time are kept in ``.dvc/tmp/launch.json`` (read by
``bench/stage_groups.py``).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import os
import subprocess
import sys
import time
from concurrent.futures import FIRST_COMPLETED, Future, wait
from pathlib import Path

from gan_core.io import write_json
from stages.executors import EXECUTORS, Resources, make_executor
from stages.launch_worker import StageResult, StageTask, write_lock_entries
from stages.params import load_params

DEVICE_PARAM = "device"  # stages that declare it run networks: they get the GPUs asked for
LOCAL_REMOTE = "launch-local"  # the remote local workers share through, where there is none
RECORD = Path(".dvc", "tmp", "launch.json")  # the last launch's stage times (DVC's ignored tmp)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "targets", nargs="*", help="stages to reproduce, with all they depend on (default: all)"
    )
    parser.add_argument("--executor", default="local", help=f"one of {', '.join(EXECUTORS)}")
    parser.add_argument("--address", help="the Ray cluster (default: a Ray instance started here)")
    parser.add_argument("-j", "--jobs", type=int, default=2, help="stages at once (default 2)")
    parser.add_argument("--retries", type=int, default=2, help="per stage whose worker dies")
    parser.add_argument(
        "--cpus-per-stage", type=float, default=1.0,
        help="CPUs each stage asks for, and the threads it computes on (default 1)",
    )  # fmt: skip
    parser.add_argument(
        "--gpus-per-stage", type=float, default=0.0,
        help="GPUs for each stage that trains or scores networks (default 0)",
    )  # fmt: skip
    parser.add_argument(
        "--git-url", help="where workers clone this commit from (default: this repository)"
    )
    parser.add_argument(
        "--workdir", help="the workers' folder for clones and cache (default: ~/.cache/ganbench/)"
    )


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=True).stdout


@dataclasses.dataclass(frozen=True)
class Plan:
    """What a launch sends out, from DVC's own reading of dvc.yaml."""

    sent: list[str]  # every selected stage something depends on; the rest run here
    upstream: dict[str, set[str]]  # stage -> the sent stages it depends on, directly or not
    runs_networks: dict[str, bool]  # stage -> declares the device param (gets the GPUs)
    kept_in_git: list[str]  # sent stages with outputs in git, which a DVC remote cannot carry
    outputs: set[str]  # every stage's output paths
    remote: str | None  # the project's default DVC remote, if it has one
    remote_url: str | None


def plan(targets: list[str]) -> Plan:
    import networkx as nx
    from dvc.repo import Repo

    with Repo(".") as repo:
        graph = repo.index.graph  # an edge goes from a stage to a stage it depends on
        by_name = {stage.addressing: stage for stage in graph}
        unknown = [t for t in targets if t not in by_name]
        if unknown:
            raise ValueError(f"unknown stage {', '.join(unknown)}: see `dvc stage list`")
        selected = set(targets) if targets else set(by_name)
        for target in targets:
            selected |= {stage.addressing for stage in nx.descendants(graph, by_name[target])}
        sinks = {name for name, stage in by_name.items() if graph.in_degree(stage) == 0}
        sent = sorted(selected - sinks)
        remote = repo.config["core"].get("remote")
        return Plan(
            sent=sent,
            upstream={
                name: {dep.addressing for dep in nx.descendants(graph, by_name[name])} & set(sent)
                for name in sent
            },
            runs_networks={
                name: any(DEVICE_PARAM in getattr(d, "params", ()) for d in by_name[name].deps)
                for name in sent
            },
            kept_in_git=[n for n in sent if any(not out.use_cache for out in by_name[n].outs)],
            outputs={str(out.def_path).rstrip("/") for s in by_name.values() for out in s.outs},
            remote=remote,
            remote_url=str(repo.config["remote"][remote]["url"]) if remote else None,
        )


def _rewritten_by_repro(path: str, outputs: set[str]) -> bool:
    """dvc.lock, an output, or a .gitignore DVC writes beside outputs."""
    path = path.rstrip("/")
    return (
        path == "dvc.lock"
        or Path(path).name == ".gitignore"
        or any(path == out or path.startswith(f"{out}/") for out in outputs)
    )


def check_committed(outputs: set[str]) -> str:
    """Workers clone the commit, so what the stages run must be committed; what a repro
    rewrites may differ. Returns the commit."""
    changed = [
        line[3:] for line in _git("status", "--porcelain").splitlines()
        if not _rewritten_by_repro(line[3:], outputs)
    ]  # fmt: skip
    if changed:
        shown = ", ".join(changed[:5]) + (" ..." if len(changed) > 5 else "")
        raise ValueError(f"uncommitted changes ({shown}): commit them, workers clone the commit")
    return _git("rev-parse", "HEAD").strip()


def schedule(
    sent, upstream, submit, jobs: int
) -> tuple[dict[str, StageResult], dict[str, BaseException]]:
    """Send each stage once all it depends on have finished, at most ``jobs`` at once, as
    ``submit(name, their results)``; a failed stage's dependents are not sent. Returns
    (finished stages' results in the order they finished, failures by stage)."""
    done: dict[str, StageResult] = {}
    failed: dict[str, BaseException] = {}
    waiting = set(sent)
    running: dict[Future, str] = {}
    while waiting or running:
        for name in sorted(waiting):
            if len(running) == jobs:
                break
            if upstream[name] <= set(done):
                waiting.discard(name)
                running[submit(name, {up: done[up] for up in upstream[name]})] = name
        if not running:  # what still waits depends on a stage that failed
            break
        finished, _ = wait(running, return_when=FIRST_COMPLETED)
        for future in finished:
            name = running.pop(future)
            error = future.exception()
            if error is None:
                result = done[name] = future.result()
                print(f"launch: [{len(done)}/{len(sent)}] {name}: {result.seconds:.1f} s on "
                      f"{result.host} (slot {result.slot})", flush=True)  # fmt: skip
            else:
                failed[name] = error
                print(f"launch: {name} FAILED: {error}", file=sys.stderr, flush=True)
    for name in waiting:
        failed[name] = RuntimeError("not run: a stage it depends on failed")
    return done, failed


def run(args: argparse.Namespace) -> None:
    if args.executor not in EXECUTORS:
        raise ValueError(f"--executor {args.executor}: expected one of {', '.join(EXECUTORS)}")
    if args.address and args.executor != "ray":
        raise ValueError(f"--address {args.address}: only the ray executor takes an address")
    if args.jobs < 1:
        raise ValueError(f"--jobs {args.jobs}: expected at least 1")
    if args.retries < 0:
        raise ValueError(f"--retries {args.retries}: expected 0 or more")
    if args.cpus_per_stage <= 0 or args.gpus_per_stage < 0:
        raise ValueError(
            f"--cpus-per-stage {args.cpus_per_stage} / --gpus-per-stage {args.gpus_per_stage}:"
            " expected more than 0 CPUs and 0 or more GPUs"
        )
    if not Path("dvc.yaml").is_file():
        raise FileNotFoundError("dvc.yaml: run launch in the project's root folder")
    work = plan(args.targets)
    if work.remote is None and args.executor != "local":
        raise ValueError(
            "no default DVC remote: workers on other machines share results through one "
            "(e.g. dvc remote add --default shared /path/or/s3://bucket/path)"
        )
    commit = check_committed(work.outputs)
    git_url = args.git_url or _git("rev-parse", "--show-toplevel").strip()
    workdir = args.workdir or (
        f"~/.cache/ganbench/launch/{Path(git_url).name}-"
        f"{hashlib.sha256(git_url.encode()).hexdigest()[:8]}"
    )
    remote, remote_url = work.remote, work.remote_url
    if remote is None:  # the final `dvc repro --pull` below reads the project's default
        remote, remote_url = LOCAL_REMOTE, str(Path(workdir).expanduser().absolute() / "remote")
        subprocess.run(["dvc", "remote", "add", "--local", "--default", "--force", remote,
                        remote_url], check=True, capture_output=True)  # fmt: skip
        print(f"launch: no default DVC remote: the workers share results through {remote_url} "
              "(the default in .dvc/config.local from now on)", flush=True)  # fmt: skip
    # The raw files are not in git: a worker links its clone's raw_dir to this one.
    raw_dir = str(Path(load_params(args.params).raw_dir).absolute())
    for name in work.kept_in_git:
        print(f"launch: {name} keeps outputs in git (cache: false), which a DVC remote does "
              "not carry: it will run again here", file=sys.stderr)  # fmt: skip
    executor = make_executor(args.executor, args.jobs, args.retries, args.address)
    threads = max(1, int(args.cpus_per_stage))
    cpu_only = Resources(cpus=args.cpus_per_stage)
    with_gpus = Resources(cpus=args.cpus_per_stage, gpus=args.gpus_per_stage)

    def submit(name: str, upstream: dict[str, StageResult]) -> Future:
        locks = {up: result.lock for up, result in upstream.items()}
        task = StageTask(name, commit, git_url, remote, remote_url, workdir, threads, raw_dir,
                         locks)  # fmt: skip
        return executor.submit(task, with_gpus if work.runs_networks[name] else cpu_only)

    started = time.monotonic()
    print(f"launch: {len(work.sent)} stages on {args.executor} ({args.jobs} at once), "
          f"commit {commit[:10]}, remote {remote}", flush=True)  # fmt: skip
    try:
        done, failed = schedule(work.sent, work.upstream, submit, args.jobs)
    finally:
        executor.close()
    stages_seconds = time.monotonic() - started
    print(f"launch: {len(done)} stages finished in {stages_seconds:.1f} s", flush=True)
    if failed:
        names = ", ".join(sorted(failed))
        raise SystemExit(f"ganbench launch: {len(failed)} stages failed: {names}")
    # Every stage sent out is now in the remote, named by its worker's lock entry: restored
    # here, not run again. What does run here computes on the workers' thread count.
    write_lock_entries(Path("dvc.lock"), {n: r.lock for n, r in done.items()}, others=True)
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    started = time.monotonic()
    repro = subprocess.run(["dvc", "repro", "--pull", *args.targets], env=env)
    write_json(RECORD, {
        "commit": commit, "executor": args.executor, "jobs": args.jobs,
        "stages_seconds": round(stages_seconds, 1),  # from the first stage sent to the last
        "here_seconds": round(time.monotonic() - started, 1),  # the final dvc repro --pull
        "stages": {name: {"seconds": round(r.seconds, 1), "host": r.host, "slot": r.slot}
                   for name, r in done.items()},
    })  # fmt: skip
    if repro.returncode != 0:
        raise SystemExit(f"ganbench launch: dvc repro --pull failed (exit {repro.returncode})")
