"""The MLflow resource's setup against a real local tracking store."""

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
