"""MLflow bookkeeping that needs no pipeline run: telemetry off, no run left RUNNING by a
signal, no child logged twice."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def test_mlflow_telemetry_is_off_unless_the_user_turns_it_on(tmp_path, monkeypatch):
    from mlflow.environment_variables import MLFLOW_DISABLE_TELEMETRY

    from stages.tracking import pipeline_run

    monkeypatch.delenv("MLFLOW_DISABLE_TELEMETRY", raising=False)
    with pipeline_run(f"sqlite:///{tmp_path / 'mlflow.db'}", "telemetry", {}):
        assert MLFLOW_DISABLE_TELEMETRY.get() is True
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "false")
    with pipeline_run(f"sqlite:///{tmp_path / 'mlflow.db'}", "telemetry", {}):
        assert MLFLOW_DISABLE_TELEMETRY.get() is False


def _runs(uri: str, experiment: str):
    import mlflow

    client = mlflow.tracking.MlflowClient(uri)
    experiment_id = client.get_experiment_by_name(experiment).experiment_id
    return client.search_runs([experiment_id])  # active runs (deleted ones left out)


PIPELINE_THEN = """
import os, signal, sys, time
from stages.tracking import TrackedRun, pipeline_run
# A shell that starts a job in the background ignores SIGINT for it: handle it as a
# terminal would, whatever started this test.
signal.signal(signal.SIGINT, signal.default_int_handler)
child = TrackedRun("c", {{}}, {{}}, {{}}, {{}}, [], "FINISHED", 0, 1)
with pipeline_run(sys.argv[1], "signals", {{}}) as pipeline:
    pipeline.log_child(child)
    os.kill(os.getpid(), signal.{signal})
    time.sleep(30)
"""


@pytest.mark.parametrize(("name", "code"), [("SIGTERM", 143), ("SIGINT", -2), ("SIGKILL", -9)])
def test_a_signalled_pipeline_leaves_no_run_running_and_no_child_twice(tmp_path, name, code):
    """SIGTERM and SIGINT end the parent KILLED at once; after SIGKILL the next pipeline run
    ends it. Either way the killed parent's children are removed (the next run logs them
    all again), and nothing stays RUNNING."""
    from stages.tracking import TrackedRun, pipeline_run

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    script = PIPELINE_THEN.format(signal=name)
    result = subprocess.run(
        [sys.executable, "-c", script, uri], capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )  # fmt: skip
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr or name == "SIGINT"
    with pipeline_run(uri, "signals", {}) as pipeline:
        pipeline.log_child(TrackedRun("c", {}, {}, {}, {}, [], "FINISHED", 0, 1))
    runs = _runs(uri, "signals")
    statuses = sorted(r.info.status for r in runs if r.info.run_name == "pipeline")
    assert statuses == ["FINISHED", "KILLED"]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert len(children) == 1 and children[0].data.tags["mlflow.parentRunId"] == pipeline.run_id
    assert not [r for r in runs if r.info.status == "RUNNING"]


def test_a_run_of_a_live_process_is_left_alone(tmp_path):
    """Only a run whose process is gone counts as stale: this process's open run survives a
    second pipeline run started meanwhile."""
    from stages.tracking import pipeline_run

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    with pipeline_run(uri, "live", {}) as outer:
        with pipeline_run(uri, "live", {}):
            pass
        (still,) = [r for r in _runs(uri, "live") if r.info.run_id == outer.run_id]
        assert still.info.status == "RUNNING"


def test_a_relative_sqlite_location_is_the_projects_even_in_dvc_queue_copies(
    tmp_path, monkeypatch, repo_root
):
    from stages.params import load_params

    params = load_params(repo_root / "params.yaml")
    assert params.tracking.uri == "sqlite:///mlflow.db"
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("DVC_ROOT", str(tmp_path / "project"))  # as DVC's queue sets it
    assert params.tracking_uri == f"sqlite:///{tmp_path / 'project' / 'mlflow.db'}"
    monkeypatch.delenv("DVC_ROOT")
    monkeypatch.chdir(tmp_path)
    assert params.tracking_uri == f"sqlite:///{tmp_path.resolve() / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:////elsewhere/runs.db")
    assert params.tracking_uri == "sqlite:////elsewhere/runs.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://tracking.example:5000")
    assert params.tracking_uri == "http://tracking.example:5000"


def test_two_pipelines_opening_a_fresh_database_at_once_both_succeed(tmp_path):
    """The set-up lock: two processes create the database, its schema and the experiment at
    the same moment; both log their runs and the schema works after."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    script = (
        "import sys\nfrom stages.tracking import pipeline_run\n"
        "with pipeline_run(sys.argv[1], 'race', {}):\n    pass\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    processes = [
        subprocess.Popen([sys.executable, "-c", script, uri], env=env, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    for process in processes:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr.decode()
    statuses = [r.info.status for r in _runs(uri, "race")]
    assert statuses == ["FINISHED", "FINISHED"]
