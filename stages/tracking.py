"""MLflow bookkeeping for the stages: one run per (dataset, variant, seed).

The train stage opens the run and records its id in its output folder; the evaluate stage
reopens the same run to add the metrics. ``mlflow`` is imported lazily: it takes seconds.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def _client(tracking_uri: str):
    import mlflow

    mlflow.set_tracking_uri(tracking_uri)
    return mlflow, mlflow.tracking.MlflowClient(tracking_uri)


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


@contextmanager
def open_run(
    tracking_uri: str,
    experiment: str,
    run_id: str | None = None,
    run_name: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> Iterator[Any]:
    """Start a new run (``run_id`` None) or reopen ``run_id``; yield the mlflow module."""
    mlflow, client = _client(tracking_uri)
    experiment_id = _experiment_id(client, experiment, tracking_uri)
    with mlflow.start_run(
        run_id=run_id, experiment_id=experiment_id, run_name=run_name, tags=dict(tags or {})
    ):
        yield mlflow


def log_history(mlflow, history: Mapping[str, list[float]]) -> None:
    """Log per-step curves in batches of at most 1000 values (MLflow's batch limit)."""
    from mlflow.entities import Metric

    run_id = mlflow.active_run().info.run_id
    client = mlflow.tracking.MlflowClient()
    now = int(time.time() * 1000)
    steps = [int(s) for s in history["step"]]
    metrics = [
        Metric(key, float(value), now, step)
        for key, values in history.items()
        if key != "step"
        for step, value in zip(steps, values, strict=True)
    ]
    for start in range(0, len(metrics), 1000):
        client.log_batch(run_id, metrics=metrics[start : start + 1000])
