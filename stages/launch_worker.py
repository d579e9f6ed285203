"""One stage of ``ganbench launch`` on a worker: in a clone of the repository at the launch's
commit, ``dvc repro --pull <stage>`` (what the stage depends on comes from the shared remote:
the outputs other workers pushed, named by the lock entries they wrote; the stage itself runs,
or is restored when the run-cache already holds it), then ``dvc push --run-cache <stage>`` so
that the driver and the other workers find it there; the stage's lock entry goes back.

Each worker machine keeps its clones under one folder (``workdir``): a slot per stage running
at once, taken with a file lock, so two stages never share a clone, and one DVC cache shared
by the slots. A worker that dies releases its slot's lock; the next stage to take the slot
first kills what the dead worker's stage left running (its process group), so the retry never
races an orphan. Run as ``python -m stages.launch_worker STAGE`` (the task on standard input)
by the local executor; the Ray executor calls :func:`run_stage` in a Ray task.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import yaml

from gan_core.io import atomic_path

MAX_SLOTS = 256  # clones per worker machine, far above any CPU count


def write_lock_entries(lock: Path, entries: Mapping[str, dict], *, others: bool) -> None:
    """Set the entries of stages ``entries`` in the DVC lock file ``lock``, keeping the other
    stages' entries when ``others``, else dropping them.

    DVC restores a stage whose dependencies match its lock entry from exactly the outputs that
    entry records (pulled from the remote); a stage without an entry it looks up in the
    run-cache, which may hold several results of one stage (run twice: a killed worker's
    leftover run beside its retry; each training run records its own seconds), and of those
    DVC takes the newest file, on another machine the newest download: not necessarily the
    outputs that were pushed. So a launch hands on the entries its workers wrote: each stage
    is restored from the outputs its worker pushed."""
    content = (yaml.safe_load(lock.read_text()) if lock.exists() else None) or {"schema": "2.0"}
    kept = content.get("stages", {}) if others else {}
    stages = {**{name: entry for name, entry in kept.items() if name not in entries}, **entries}
    with atomic_path(lock) as tmp:
        tmp.write_text(yaml.safe_dump({**content, "stages": stages}, sort_keys=False))


@dataclasses.dataclass(frozen=True)
class StageTask:
    """What a worker needs to run one stage: where to clone from, at which commit, which DVC
    remote to share through, and where its clones live."""

    stage: str
    commit: str
    git_url: str
    remote: str  # the remote's name
    remote_url: str
    workdir: str
    threads: int  # the stage's torch/OpenMP threads: its CPUs, whatever the worker's default
    raw_dir: str  # the launching repository's raw-data cache, absolute
    upstream: dict[str, dict]  # every stage it depends on -> its worker's lock entry


@dataclasses.dataclass(frozen=True)
class StageResult:
    stage: str
    host: str
    slot: int
    seconds: float
    lock: dict  # the stage's entry in dvc.lock, as the worker wrote it


class StageFailed(RuntimeError):
    """A command of the stage failed (not the worker): retrying would fail again."""


def _run(args: list[str], cwd: Path, env: dict[str, str], pgid_file: Path | None = None) -> None:
    """Run a command in its own process group (recorded in ``pgid_file``, so that a later
    worker can stop it if this one dies); a failure raises StageFailed with its output."""
    proc = subprocess.Popen(
        args, cwd=cwd, env=env, start_new_session=True, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    if pgid_file is not None:
        pgid_file.write_text(str(proc.pid))
    output, _ = proc.communicate()
    if pgid_file is not None:
        pgid_file.unlink(missing_ok=True)
    if proc.returncode != 0:
        tail = "\n".join(output.strip().splitlines()[-20:])
        raise StageFailed(f"`{' '.join(args)}` failed (exit {proc.returncode}) in {cwd}:\n{tail}")


def _kill_orphans(pgid_file: Path, timeout: float = 30.0) -> None:
    """Stop the process group a dead worker's stage left in this slot, and wait until it is
    gone (DVC's lock on the clone's outputs names its processes until they end)."""
    with contextlib.suppress(FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        pgid = int(pgid_file.read_text())
        os.killpg(pgid, signal.SIGKILL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            os.killpg(pgid, 0)  # ProcessLookupError once the last one has ended
            time.sleep(0.05)
    pgid_file.unlink(missing_ok=True)


@contextlib.contextmanager
def _slot(workdir: Path) -> Iterator[int]:
    """Hold the first free slot of this machine's workdir (a file lock, released by the OS
    when the holder dies)."""
    (workdir / "slots").mkdir(parents=True, exist_ok=True)
    for slot in range(MAX_SLOTS):
        handle = open(workdir / "slots" / f"{slot}.lock", "w")  # noqa: SIM115 (held while yielded)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        try:
            yield slot
        finally:
            handle.close()
        return
    raise RuntimeError(f"{workdir}: all {MAX_SLOTS} worker slots are taken")


def _environment(clone: Path, threads: int) -> dict[str, str]:
    """The stage commands (``ganbench ...``) import the clone's code, at the launch's commit,
    and compute on ``threads`` threads: a convolution's float sums depend on the thread count,
    so a stage's result is the same on any worker (and equals a serial run's on as many)."""
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = str(threads)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(clone), env.get("PYTHONPATH")]))
    env["DVC_NO_ANALYTICS"] = "1"
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def _prepare_clone(task: StageTask, clone: Path, env: dict[str, str]) -> None:
    """A clone at the task's commit, using the shared cache and the launch's remote. Done once
    per (commit, remote) in a slot; outputs of earlier stages stay (DVC checks them)."""
    ready = clone / ".dvc" / "tmp" / "ganbench-launch.json"
    wanted = {"commit": task.commit, "remote": task.remote, "url": task.remote_url}
    if ready.exists() and json.loads(ready.read_text()) == wanted:
        return
    if not (clone / ".git").exists():
        clone_cmd = ["git", "clone", "--quiet", "--no-checkout", task.git_url, str(clone)]
        _run(clone_cmd, clone.parent, env)
    else:  # a slot's clone may come from another launch's repository (the same --workdir)
        _run(["git", "remote", "set-url", "origin", task.git_url], clone, env)
        _run(["git", "fetch", "--quiet", "origin"], clone, env)
    _run(["git", "checkout", "--quiet", "--force", "--detach", task.commit], clone, env)
    cache = Path(task.workdir) / "cache"
    _run(["dvc", "config", "--local", "cache.dir", str(cache)], clone, env)
    _run(["dvc", "remote", "add", "--local", "--default", "--force", task.remote, task.remote_url],
         clone, env)  # fmt: skip
    _link_raw_data(Path(task.raw_dir), clone)
    ready.parent.mkdir(parents=True, exist_ok=True)
    ready.write_text(json.dumps(wanted))


def _link_raw_data(raw_dir: Path, clone: Path) -> None:
    """The raw files are not in git: where the clone's params name a relative ``raw_dir`` it
    lacks and this machine has the launching repository's, link that (``ganbench fetch``
    filled it; a worker elsewhere fetches its own)."""
    relative = Path(yaml.safe_load((clone / "params.yaml").read_text())["raw_dir"])
    link = clone / relative
    if relative.is_absolute() or link.exists() or link.is_symlink() or not raw_dir.is_dir():
        return
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(raw_dir, target_is_directory=True)


def run_stage(task: StageTask) -> StageResult:
    """Run (or restore) one stage in a clone on this machine and share it through the remote."""
    started = time.monotonic()
    workdir = Path(task.workdir).expanduser().absolute()
    task = dataclasses.replace(task, workdir=str(workdir))
    with _slot(workdir) as slot:
        clone = workdir / "clones" / str(slot)
        clone.parent.mkdir(parents=True, exist_ok=True)
        pgid_file = workdir / "slots" / f"{slot}.pgid"
        _kill_orphans(pgid_file)
        env = _environment(clone, task.threads)
        _prepare_clone(task, clone, env)
        # Upstream: the outputs their workers pushed; this stage: the run-cache, or it runs.
        write_lock_entries(clone / "dvc.lock", task.upstream, others=False)
        _run(["dvc", "repro", "--pull", task.stage], clone, env, pgid_file)
        _run(["dvc", "push", "--run-cache", task.stage], clone, env, pgid_file)
        lock = yaml.safe_load((clone / "dvc.lock").read_text())["stages"][task.stage]
    return StageResult(task.stage, socket.gethostname(), slot, time.monotonic() - started, lock)


def main() -> None:
    """Local executor entry point: the JSON task on standard input (its stage's name, the only
    argument, shows in the process list); exit 3 with the message if the stage failed (a
    worker that dies exits by its signal instead, and is retried)."""
    task = StageTask(**json.loads(sys.stdin.read()))
    try:
        result = run_stage(task)
    except StageFailed as err:
        print(err, file=sys.stderr)
        raise SystemExit(3) from None
    print(json.dumps(dataclasses.asdict(result)))


if __name__ == "__main__":
    main()
