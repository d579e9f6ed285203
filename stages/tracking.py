"""MLflow bookkeeping: one parent run per pipeline execution (the report stage), with one
nested child run per (dataset, variant, seed) holding its parameters, training curves,
metrics per feature space, sample grid and checkpoint, timed by the train stage's clock.

Stages that train or score write plain files only; logging them all in one process keeps
MLflow's import and database cost to one per pipeline instead of one per stage.
``mlflow`` is imported lazily: it takes seconds.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

MAX_BATCH = 1000  # MLflow's limit on metrics per log_batch call
MAX_PARAMS = 100  # and on params per call


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
        tags = {"mlflow.parentRunId": self.run_id, **run.tags}
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
    """Open the parent run of a pipeline execution with ``params``; it ends FINISHED, or
    FAILED if the body raises."""
    from mlflow.entities import Param

    client = _client(tracking_uri)
    experiment_id = _experiment_id(client, experiment, tracking_uri)
    run_id = client.create_run(
        experiment_id, start_time=int(time.time() * 1000), run_name="pipeline"
    ).info.run_id
    client.log_batch(run_id, params=[Param(k, str(v)) for k, v in params.items()])
    status = "FAILED"
    try:
        yield PipelineRun(client, experiment_id, run_id)
        status = "FINISHED"
    finally:
        client.set_terminated(run_id, status=status, end_time=int(time.time() * 1000))
