"""``ganbench launch``: the scheduler on a made-up graph; then the tiny profile launched on two
workers (a local Ray instance, and local processes) sharing results through a local-folder
DVC remote, with a worker killed mid-stage, against the plain ``dvc repro`` of the same
project; the report logged to an MLflow server on loopback."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from stages.cli import main
from stages.launch import schedule
from stages.launch_worker import StageResult
from tests.tiny_project import N_RUNS, build, project_env, run_ok

# Differ between any two runs: the MLflow run ids and the measured training time.
UNREPRODUCIBLE = ["run_id", "train_seconds"]


@pytest.mark.parametrize(
    ("command", "preset", "expected"),
    [("train", None, "1"), ("evaluate", None, "1"), ("report", None, "1"),
     ("train", "3", "3"), ("metrics", None, None), ("launch", None, None)],
)  # fmt: skip
def test_pipeline_stages_compute_on_one_thread_unless_told(monkeypatch, command, preset, expected):
    """A stage's float sums depend on its thread count: the stages dvc.yaml runs take one
    thread wherever OMP_NUM_THREADS is unset (so a serial repro on any machine equals a launch
    of one CPU a stage); a set value, and the standalone commands, are left alone."""
    monkeypatch.setenv("OMP_NUM_THREADS", "x")  # restored after the test, whatever happens
    if preset is None:
        monkeypatch.delenv("OMP_NUM_THREADS")
    else:
        monkeypatch.setenv("OMP_NUM_THREADS", preset)
    with pytest.raises(SystemExit):
        main([command, "--help"])
    assert os.environ.get("OMP_NUM_THREADS") == expected


# The scheduler, with stages that finish at once (or fail) instead of workers.


def _scheduled(upstream: dict[str, set[str]], failing=(), jobs=2):
    submitted: list[str] = []
    running, most = [], 0
    pool = ThreadPoolExecutor(max_workers=4)

    def work(name: str) -> StageResult:
        time.sleep(0.01)
        running.remove(name)
        if name in failing:
            raise RuntimeError(f"{name} failed")
        return StageResult(name, "host", 0, 0.0, {"cmd": name})

    def submit(name: str, results: dict[str, StageResult]) -> Future:
        nonlocal most
        assert upstream[name] <= set(submitted)
        assert {up: r.lock["cmd"] for up, r in results.items()} == {up: up for up in upstream[name]}
        submitted.append(name)
        running.append(name)
        most = max(most, len(running))
        return pool.submit(work, name)

    done, failed = schedule(sorted(upstream), upstream, submit, jobs)
    pool.shutdown()
    return submitted, done, failed, most


def test_a_stage_is_sent_after_all_it_depends_on_and_at_most_jobs_at_once():
    upstream = {"a": set(), "b": set(), "c": set(), "d": {"a", "b"}, "e": {"a", "b", "c", "d"}}
    submitted, done, failed, most = _scheduled(upstream, jobs=2)
    assert sorted(done) == sorted(upstream) and not failed
    order = list(done)  # the order they finished in
    for name, before in upstream.items():
        assert all(order.index(b) < order.index(name) for b in before)
    assert most <= 2


def test_a_failed_stage_stops_its_dependents_only():
    upstream = {"a": set(), "b": set(), "c": {"a"}, "d": {"a", "c"}, "e": {"b"}}
    submitted, done, failed, _ = _scheduled(upstream, failing={"a"})
    assert sorted(done) == ["b", "e"] and sorted(failed) == ["a", "c", "d"]
    assert "c" not in submitted and "d" not in submitted
    assert "a stage it depends on failed" in str(failed["d"])


# Bad input: one line naming what is wrong, before any stage is sent.


@pytest.fixture(scope="module")
def committed(tmp_path_factory, repo_root, raw_dir) -> Path:
    return build(tmp_path_factory.mktemp("committed"), repo_root, raw_dir, commit=True)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--executor", "slurm"], "--executor slurm: expected one of local, ray"),
        (["-j", "0"], "--jobs 0: expected at least 1"),
        (["--cpus-per-stage", "0"], "expected more than 0 CPUs"),
        (["--executor", "local", "--address", "head:6379"], "only the ray executor takes"),
        (["train_toy@ring8-nope"], "unknown stage train_toy@ring8-nope"),
        (["--executor", "ray"], "no default DVC remote: workers on other machines"),
    ],
)
def test_bad_launch_arguments_fail_in_one_line(committed, monkeypatch, capsys, args, expected):
    monkeypatch.chdir(committed)
    with pytest.raises(SystemExit) as exit_info:
        main(["launch", *args])
    assert expected in str(exit_info.value) and "\n" not in str(exit_info.value)


def test_uncommitted_code_is_refused(committed, monkeypatch, tmp_path):
    monkeypatch.chdir(committed)
    run_ok(["dvc", "remote", "add", "--local", "--default", "shared", str(tmp_path)], committed)
    (committed / "stages" / "extra.py").write_text("")
    try:
        with pytest.raises(SystemExit, match=r"uncommitted changes \(stages/extra.py\)"):
            main(["launch"])
    finally:
        (committed / "stages" / "extra.py").unlink()
        run_ok(["dvc", "remote", "remove", "--local", "shared"], committed)


# The tiny profile on two workers.


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory):
    """``mlflow server`` on loopback with a SQLite database, as the README starts one."""
    folder = tmp_path_factory.mktemp("mlflow-server")
    port = _free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "mlflow"), "server", "--host", "127.0.0.1",
         "--port", str(port), "--workers", "1",
         "--backend-store-uri", f"sqlite:///{folder / 'mlflow.db'}",
         "--artifacts-destination", str(folder / "artifacts")],
        env={**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    uri = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert server.poll() is None, "mlflow server exited"
            time.sleep(0.5)
    yield uri
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=30)


# Set in the environment of a launch under test, so that the processes it starts (which
# inherit it, the Ray workers too) are told apart from any other launch on the machine.
LAUNCH_MARK = "GANBENCH_TEST_LAUNCH"


def _processes(mark: str) -> dict[int, str]:
    """Command lines, by pid, of the processes whose environment has ``LAUNCH_MARK=mark``."""
    tag = f"{LAUNCH_MARK}={mark}".encode()
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if tag in (entry / "environ").read_bytes().split(b"\0"):
                    found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
    return {pid: cmd.decode(errors="replace") for pid, cmd in found.items()}


class WorkerKiller(threading.Thread):
    """Once ``busy`` shows in a command line of the launch marked ``mark`` (the stage's own
    command is running), SIGKILL that launch's process whose command line has ``worker`` in
    it: the worker, mid-stage. Another launch on the machine is left alone."""

    def __init__(self, busy: str, worker: str, mark: str) -> None:
        super().__init__(daemon=True)
        self.busy, self.worker, self.mark, self.killed = busy, worker, mark, None
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set() and self.killed is None:
            processes = _processes(self.mark)
            if any(self.busy in cmd for cmd in processes.values()):
                victims = [pid for pid, cmd in processes.items() if self.worker in cmd]
                for pid in victims:
                    os.kill(pid, signal.SIGKILL)
                    self.killed = pid
            time.sleep(0.05)


def _launch(root: Path, args: list[str], killer: WorkerKiller | None = None, env=None):
    if killer is not None:
        killer.start()
    try:
        result = subprocess.run(
            ["ganbench", "launch", "--workdir", str(root.parent / "workers"), *args],
            cwd=root, env={**project_env(root), LAUNCH_MARK: str(root), **(env or {})},
            capture_output=True, text=True,
            timeout=1200,
        )  # fmt: skip
    finally:
        if killer is not None:
            killer.stop.set()
            killer.join()
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    return result


def _launched_project(tmp_path: Path, repo_root: Path, raw_dir: Path) -> Path:
    root = build(tmp_path / "project", repo_root, raw_dir, commit=True)
    run_ok(["dvc", "remote", "add", "--local", "--default", "shared", str(tmp_path / "remote")],
           root)  # fmt: skip
    return root


def test_ray_launch_reproduces_the_serial_run_with_one_mlflow_run_each(
    serial_repro, mlflow_server, tmp_path, repo_root, raw_dir
):
    pytest.importorskip("ray")
    import mlflow

    root = _launched_project(tmp_path, repo_root, raw_dir)
    stage = "train_toy@ring8-gan_ns"
    busy = "ganbench train --dataset ring8 --variant gan_ns"
    killer = WorkerKiller(busy, f"ray::ganbench:{stage}", str(root))
    result = _launch(root, ["--executor", "ray", "-j", "2"], killer,
                     env={"MLFLOW_TRACKING_URI": mlflow_server})  # fmt: skip
    assert killer.killed is not None, "no worker was killed"
    # Every stage sent out was restored from its worker's outputs; only the report ran, once.
    assert "launch: 23 stages finished" in result.stdout
    assert result.stdout.count("Running stage") == 1 and "Running stage 'report'" in result.stdout
    assert f"Pulling data for stage: '{stage}'" in result.stdout
    launched = pd.read_csv(root / "reports" / "results.csv")
    serial = serial_repro[1]
    pd.testing.assert_frame_equal(
        launched.drop(columns=UNREPRODUCIBLE), serial.drop(columns=UNREPRODUCIBLE)
    )
    client = mlflow.tracking.MlflowClient(mlflow_server)
    experiment = client.get_experiment_by_name("ganbench-test")
    runs = client.search_runs([experiment.experiment_id])
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert len(runs) == len(children) + 1 and len(children) == N_RUNS
    keys = {(r.data.tags["dataset"], r.data.tags["variant"], r.data.tags["seed"]) for r in children}
    assert len(keys) == N_RUNS
    trained = launched[launched["variant"] != "real"]
    assert set(trained["run_id"]) == {r.info.run_id for r in children}


def _assert_samples_equal(ours: Path, theirs: Path) -> None:
    for seed in ("0", "1"):
        with (
            np.load(ours / seed / "samples.npz") as mine,
            np.load(theirs / seed / "samples.npz") as serial,
        ):
            assert mine.files == serial.files
            for key in serial.files:
                np.testing.assert_array_equal(mine[key], serial[key])


def _point_outputs_nowhere(entry: dict) -> None:
    """Make a lock or run-cache entry record outputs that no cache or remote holds."""
    for out in entry["outs"]:
        out["md5"] = "0" * 32 + (".dir" if out["md5"].endswith(".dir") else "")


def test_a_lock_made_elsewhere_does_not_make_the_launch_run_a_stage_twice(
    serial_repro, tmp_path, repo_root, raw_dir
):
    # The committed lock matches the stage's dependencies but records outputs that neither
    # the cache nor the remote holds (made by another run: another thread count, a profile
    # with the same dependencies). DVC would run such a stage again rather than look in
    # the run-cache; the launch restores it from the outputs its worker pushed.
    root = _launched_project(tmp_path, repo_root, raw_dir)
    stage = "train_toy@ring8-gan_ns"
    lock = yaml.safe_load((serial_repro[0] / "dvc.lock").read_text())
    _point_outputs_nowhere(lock["stages"][stage])
    (root / "dvc.lock").write_text(yaml.safe_dump(lock, sort_keys=False))
    run_ok(["git", "add", "dvc.lock"], root)
    run_ok(["git", "-c", "user.name=GANBench", "-c", "user.email=ganbench@localhost",
            "commit", "-qm", "a lock made elsewhere"], root)  # fmt: skip
    result = _launch(root, ["--executor", "local", "-j", "2", stage])
    assert "Running stage" not in result.stdout  # restored from its worker's outputs
    assert f"Pulling data for stage: '{stage}'" in result.stdout
    _assert_samples_equal(root / "runs/ring8/gan_ns", serial_repro[0] / "runs" / "ring8" / "gan_ns")


def test_a_newer_run_cache_entry_does_not_make_the_launch_run_a_stage_twice(
    serial_repro, tmp_path, repo_root, raw_dir
):
    # A stage run twice (a killed worker's leftover run beside its retry) leaves two
    # run-cache entries, each training run with its own seconds; DVC takes the newest file,
    # on the launching machine the newest download, whose outputs may never have been
    # pushed. The launch restores the outputs its worker pushed, named by its lock entry.
    root = _launched_project(tmp_path, repo_root, raw_dir)
    stage = "train_toy@ring8-gan_ns"
    serial_runs = serial_repro[0] / ".dvc" / "cache" / "runs"
    (entry,) = [
        path for path in serial_runs.glob("*/*/*")
        if "--dataset ring8 --variant gan_ns " in yaml.safe_load(path.read_text())["cmd"]
    ]  # fmt: skip
    stale = yaml.safe_load(entry.read_text())
    _point_outputs_nowhere(stale)
    newest = root / ".dvc" / "cache" / "runs" / entry.parent.parent.name / entry.parent.name / "0"
    newest.parent.mkdir(parents=True)
    newest.write_text(yaml.safe_dump(stale, sort_keys=False))
    later = time.time() + 10 * 365 * 86400  # newer than anything the launch downloads
    os.utime(newest, (later, later))
    result = _launch(root, ["--executor", "local", "-j", "2", stage])
    assert "Running stage" not in result.stdout
    assert f"Pulling data for stage: '{stage}'" in result.stdout
    _assert_samples_equal(root / "runs/ring8/gan_ns", serial_repro[0] / "runs" / "ring8" / "gan_ns")


def test_local_launch_retries_a_killed_worker(serial_repro, tmp_path, repo_root, raw_dir):
    root = _launched_project(tmp_path, repo_root, raw_dir)
    stage = "train_toy@ring8-gan_ns"
    busy = "ganbench train --dataset ring8 --variant gan_ns"
    killer = WorkerKiller(busy, f"stages.launch_worker {stage}", str(root))
    result = _launch(root, ["--executor", "local", "-j", "2", stage], killer)
    assert killer.killed is not None, "no worker was killed"
    assert f"launch: {stage}: worker died (exit -9) on attempt 1" in result.stderr
    assert "Running stage" not in result.stdout  # both restored from their workers' outputs
    _assert_samples_equal(root / "runs/ring8/gan_ns", serial_repro[0] / "runs" / "ring8" / "gan_ns")


def test_repro_runs_a_fresh_clone_on_local_cores_as_the_serial_run_does(
    serial_repro, tmp_path, repo_root, raw_dir
):
    """``make repro``'s command on a committed project as a fresh clone has it: no DVC remote,
    the raw files in its own ignored data/raw. Two local workers, whose clones link that
    folder, give the serial run's results; a second call finds nothing to do."""
    root = build(tmp_path / "project", repo_root, Path("data/raw"), commit=True)
    (root / "data").mkdir()
    (root / "data" / "raw").symlink_to(raw_dir, target_is_directory=True)
    with (root / ".git" / "info" / "exclude").open("a") as exclude:
        exclude.write("/data/raw\n")
    env = {**project_env(root), "HOME": str(tmp_path / "home")}  # the workers' default workdir

    def repro() -> subprocess.CompletedProcess:
        result = subprocess.run(["ganbench", "repro", "--jobs", "2"], cwd=root, env=env,
                                capture_output=True, text=True, timeout=1200)  # fmt: skip
        assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
        return result

    first = repro()
    assert "launch: no default DVC remote: the workers share results through" in first.stdout
    assert "launch: 23 stages finished" in first.stdout
    record = json.loads((root / ".dvc" / "tmp" / "launch.json").read_text())
    assert record["jobs"] == 2 and len(record["stages"]) == 23
    assert all(stage["seconds"] > 0 for stage in record["stages"].values())
    assert record["stages_seconds"] > max(s["seconds"] for s in record["stages"].values())
    launched = pd.read_csv(root / "reports" / "results.csv")
    serial = serial_repro[1]
    pd.testing.assert_frame_equal(
        launched.drop(columns=UNREPRODUCIBLE), serial.drop(columns=UNREPRODUCIBLE)
    )
    workers = tmp_path / "home" / ".cache" / "ganbench" / "launch"
    links = list(workers.glob("*/clones/*/data/raw"))
    assert links and all(link.resolve() == raw_dir.resolve() for link in links)
    assert all(link.is_symlink() for link in links)
    second = repro()
    assert "repro: nothing changed: dvc repro, one stage at a time" in second.stdout
    assert "Running stage" not in second.stdout
