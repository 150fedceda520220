"""The MLflow resource's setup against a real local tracking store."""

import dagster as dg
import mlflow
import pytest
from dagster_mlflow import end_mlflow_on_run_finished

from dataplatform.models.tracking import MlflowTracking, ensure_experiment
from platform_tests.models.conftest import LocalMlflow


def test_a_run_that_loses_the_race_to_create_the_experiment_carries_on(
    local_mlflow: LocalMlflow, monkeypatch: pytest.MonkeyPatch
) -> None:
    ensure_experiment("raced", local_mlflow.artifact_location)  # the winner
    # The loser looked before the winner had created it.
    monkeypatch.setattr(mlflow, "get_experiment_by_name", lambda name: None)

    ensure_experiment("raced", local_mlflow.artifact_location)

    experiments = local_mlflow.client().search_experiments(filter_string="name = 'raced'")
    assert len(experiments) == 1


def test_other_failures_to_create_the_experiment_are_raised(
    local_mlflow: LocalMlflow,
) -> None:
    with pytest.raises(mlflow.exceptions.MlflowException) as raised:
        ensure_experiment("", local_mlflow.artifact_location)  # MLflow refuses empty names

    assert raised.value.error_code == "INVALID_PARAMETER_VALUE"


@dg.asset
def trained(mlflow: MlflowTracking) -> str:
    with mlflow.start_run(run_name="training", nested=True) as run:
        return run.info.run_id


def test_a_run_left_active_by_an_earlier_step_in_the_process_is_not_reused(
    local_mlflow: LocalMlflow,
) -> None:
    # What a long-lived Celery worker may hold from an earlier Dagster run's step.
    leftover = mlflow.start_run(tags={"dagster_run_id": "an-earlier-dagster-run"})

    result = dg.materialize([trained], resources={"mlflow": local_mlflow.resource()})

    client = local_mlflow.client()
    training = client.get_run(result.output_for_node("trained"))
    parent = client.get_run(training.data.tags["mlflow.parentRunId"])
    assert parent.info.run_id != leftover.info.run_id
    assert parent.data.tags["dagster_run_id"] == result.run_id
    assert client.get_run(leftover.info.run_id).data.tags["dagster_run_id"] == (
        "an-earlier-dagster-run"
    )
    assert mlflow.active_run() is None


@dg.op
def logged(mlflow: MlflowTracking) -> str:
    mlflow.log_params({"step": "logged"})
    return mlflow.active_run().info.run_id


@dg.op
def resumed(mlflow: MlflowTracking, logged_in: str) -> str:
    mlflow.log_metrics({"resumed": 1.0})
    return mlflow.active_run().info.run_id


def test_later_steps_resume_the_dagster_runs_mlflow_run_and_the_end_hook_still_works(
    local_mlflow: LocalMlflow,
) -> None:
    @end_mlflow_on_run_finished
    @dg.job(resource_defs={"mlflow": local_mlflow.resource()})
    def tracked() -> None:
        resumed(logged())

    result = tracked.execute_in_process()

    run_id = result.output_for_node("logged")
    assert result.output_for_node("resumed") == run_id
    run = local_mlflow.client().get_run(run_id)
    assert run.data.tags["dagster_run_id"] == result.run_id
    assert run.data.params == {"step": "logged"}
    assert run.data.metrics == {"resumed": 1.0}
    assert run.info.status == "FINISHED"
    assert mlflow.active_run() is None
