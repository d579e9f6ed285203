"""MLflow bookkeeping: one parent run per pipeline execution (the report stage), with one
nested child run per (dataset, variant, seed) holding its parameters, training curves,
metrics per feature space, sample grid and checkpoint, timed by the train stage's clock.

Stages that train or score write plain files only; logging them all in one process keeps
MLflow's import and database cost to one per pipeline instead of one per stage.
``mlflow`` is imported lazily: it takes seconds.

No run is left RUNNING: the parent ends FINISHED, FAILED (an error) or KILLED (SIGINT,
SIGTERM); a run killed outright (SIGKILL) is found by the next pipeline run on the same host
(its process is gone) and ended KILLED. A parent that does not finish loses its children:
the next pipeline run logs every child again, so none is duplicated. Setting up (creating
the database, its schema and the experiment, ending stale runs) holds a lock file beside a
SQLite database, so concurrent pipelines never race its schema migration.
"""

from __future__ import annotations

import dataclasses
import fcntl
import os
import signal
import socket
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

MAX_BATCH = 1000  # MLflow's limit on metrics per log_batch call
MAX_PARAMS = 100  # and on params per call
# Who opened a run: the process, so a later pipeline can tell a run whose process is gone.
HOST_TAG, PID_TAG = "ganbench.host", "ganbench.pid"


class Terminated(BaseException):
    """Raised in the main thread on SIGTERM, so that open runs are ended on the way out."""


@dataclasses.dataclass(frozen=True)
class TrackedRun:
    """What one child run records. ``history``: curve name -> values at ``history['step']``;
    ``metrics``: flat name -> value; ``artifacts``: files to attach."""

    name: str
    tags: Mapping[str, str]
    params: Mapping[str, Any]
    history: Mapping[str, Sequence[float]]
    metrics: Mapping[str, float]
    artifacts: Sequence[Path]
    status: str  # "FINISHED" or "FAILED"
    start_ms: int
    end_ms: int


def _client(tracking_uri: str):
    # Nothing leaves the machine: MLflow's usage telemetry is off unless the user turns it on.
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    import mlflow

    mlflow.set_tracking_uri(tracking_uri)
    return mlflow.tracking.MlflowClient(tracking_uri)


@contextmanager
def _setup_lock(tracking_uri: str) -> Iterator[None]:
    """An exclusive lock on ``<database>.lock`` for a SQLite store (nothing otherwise)."""
    if not tracking_uri.startswith("sqlite:///"):
        yield
        return
    db_path = Path(tracking_uri.removeprefix("sqlite:///")).resolve()
    db_path.parent.mkdir(parents=True, exist_ok=True)
    with open(db_path.with_name(db_path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _process_tags() -> dict[str, str]:
    return {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())}


def _is_gone(run) -> bool:
    """Whether ``run`` was opened on this host by a process that no longer exists."""
    tags = run.data.tags
    if tags.get(HOST_TAG) != socket.gethostname() or not tags.get(PID_TAG, "").isdigit():
        return False
    try:
        os.kill(int(tags[PID_TAG]), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def _end_unfinished(client, parent_id: str, status: str) -> None:
    """End the parent ``status`` and remove its children (the next pipeline logs them all)."""
    children = client.search_runs(
        [client.get_run(parent_id).info.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{parent_id}'",
    )
    for child in children:
        client.delete_run(child.info.run_id)
    client.set_terminated(parent_id, status=status, end_time=int(time.time() * 1000))


def _end_stale_runs(client, experiment_id: str) -> None:
    """End KILLED every pipeline run left RUNNING by a process of this host that is gone."""
    for run in client.search_runs([experiment_id], filter_string="attributes.status = 'RUNNING'"):
        if "mlflow.parentRunId" not in run.data.tags and _is_gone(run):
            _end_unfinished(client, run.info.run_id, "KILLED")


@contextmanager
def _signals_raise() -> Iterator[None]:
    """SIGTERM raises :class:`Terminated` (SIGINT raises KeyboardInterrupt already), in the
    main thread only; the previous handler is restored after."""
    if not _in_main_thread():
        yield
        return

    def terminate(signum, frame):
        raise Terminated(signum)

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _in_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _experiment_id(client, name: str, tracking_uri: str) -> str:
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    artifact_root = None
    if tracking_uri.startswith("sqlite:///"):
        # Keep artifacts beside the database, not in the working directory of the first run.
        db_path = Path(tracking_uri.removeprefix("sqlite:///")).resolve()
        artifact_root = (db_path.parent / "mlartifacts").as_uri()
    return client.create_experiment(name, artifact_location=artifact_root)


class PipelineRun:
    """The parent run of one pipeline execution; children are logged into it."""

    def __init__(self, client, experiment_id: str, run_id: str) -> None:
        self.client, self.experiment_id, self.run_id = client, experiment_id, run_id

    def log_child(self, run: TrackedRun) -> str:
        """Create ``run`` nested under this one, finished at its own end time; its id."""
        from mlflow.entities import Metric, Param

        client = self.client
        tags = {"mlflow.parentRunId": self.run_id, **_process_tags(), **run.tags}
        child = client.create_run(
            self.experiment_id, start_time=run.start_ms, tags=tags, run_name=run.name
        ).info.run_id
        params = [Param(k, str(v)) for k, v in run.params.items()]
        for start in range(0, len(params), MAX_PARAMS):
            client.log_batch(child, params=params[start : start + MAX_PARAMS])
        steps = [int(s) for s in run.history.get("step", [])]
        metrics = [
            Metric(key, float(value), run.end_ms, step)
            for key, values in run.history.items()
            if key != "step"
            for step, value in zip(steps, values, strict=True)
        ] + [Metric(key, float(value), run.end_ms, 0) for key, value in run.metrics.items()]
        for start in range(0, len(metrics), MAX_BATCH):
            client.log_batch(child, metrics=metrics[start : start + MAX_BATCH])
        for path in run.artifacts:
            client.log_artifact(child, str(path))
        client.set_terminated(child, status=run.status, end_time=run.end_ms)
        return child

    def attach(self, paths: Sequence[Path]) -> None:
        """Log files, and folders under their own name, as artifacts of the parent run."""
        for path in paths:
            if path.is_dir():
                self.client.log_artifacts(self.run_id, str(path), path.name)
            else:
                self.client.log_artifact(self.run_id, str(path))


@contextmanager
def pipeline_run(
    tracking_uri: str, experiment: str, params: Mapping[str, Any]
) -> Iterator[PipelineRun]:
    """Open the parent run of a pipeline execution with ``params``; it ends FINISHED, FAILED
    if the body raises, or KILLED on SIGINT or SIGTERM (then without its children). Runs
    that earlier pipelines left RUNNING when they were killed are ended first."""
    from mlflow.entities import Param

    with _setup_lock(tracking_uri):
        client = _client(tracking_uri)
        experiment_id = _experiment_id(client, experiment, tracking_uri)
        _end_stale_runs(client, experiment_id)
    with _signals_raise():
        run_id = client.create_run(
            experiment_id, start_time=int(time.time() * 1000), run_name="pipeline",
            tags=_process_tags(),
        ).info.run_id  # fmt: skip
        status = "FAILED"
        try:
            client.log_batch(run_id, params=[Param(k, str(v)) for k, v in params.items()])
            yield PipelineRun(client, experiment_id, run_id)
            status = "FINISHED"
        except KeyboardInterrupt:
            status = "KILLED"
            raise
        except Terminated as err:
            status = "KILLED"
            raise SystemExit(128 + err.args[0]) from None  # the shell's code for the signal
        finally:
            if status == "FINISHED":
                client.set_terminated(run_id, status=status, end_time=int(time.time() * 1000))
            else:
                _end_unfinished(client, run_id, status)
