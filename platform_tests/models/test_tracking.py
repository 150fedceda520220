"""The MLflow resource's setup against a real local tracking store."""

import dagster as dg
import mlflow
import pytest

from dataplatform.models.tracking import ensure_experiment
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


@dg.asset(required_resource_keys={"mlflow"})
def trained(context: dg.AssetExecutionContext) -> str:
    with context.resources.mlflow.start_run(run_name="training", nested=True) as run:
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
