"""MLflow bookkeeping that needs no pipeline run."""

from __future__ import annotations


def test_mlflow_telemetry_is_off_unless_the_user_turns_it_on(tmp_path, monkeypatch):
    from mlflow.environment_variables import MLFLOW_DISABLE_TELEMETRY

    from stages.tracking import pipeline_run

    monkeypatch.delenv("MLFLOW_DISABLE_TELEMETRY", raising=False)
    with pipeline_run(f"sqlite:///{tmp_path / 'mlflow.db'}", "telemetry", {}):
        assert MLFLOW_DISABLE_TELEMETRY.get() is True
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "false")
    with pipeline_run(f"sqlite:///{tmp_path / 'mlflow.db'}", "telemetry", {}):
        assert MLFLOW_DISABLE_TELEMETRY.get() is False
