"""MLflow tells the truth, against a real local tracking store: the resource's setup, the run
status of failed steps, and registrations cut short at each write."""

import time
from typing import Any

import dagster as dg
import mlflow
import mlflow.pyfunc
import pandas as pd
import pytest
from dagster_mlflow import end_mlflow_on_run_finished
from mlflow.entities import Run
from mlflow.exceptions import MlflowException
from mlflow.pyfunc.model import PythonModel
from mlflow.tracking import MlflowClient

from dataplatform.models.registry import (
    CHAMPION,
    Baseline,
    Promotion,
    RegistryError,
    register_and_promote,
)
from dataplatform.models.tracking import (
    FAILED_STEPS_TAG,
    MlflowTracking,
    ensure_experiment,
    failed_steps,
)
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
    with pytest.raises(MlflowException) as raised:
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


@dg.asset
def failing_training(mlflow: MlflowTracking) -> None:
    mlflow.log_params({"step": "failing_training"})
    raise RuntimeError("the training data is unusable")


def dagster_runs_mlflow_runs(local_mlflow: LocalMlflow, dagster_run_id: str) -> list[Run]:
    client = local_mlflow.client()
    experiment_ids = [experiment.experiment_id for experiment in client.search_experiments()]
    return list(client.search_runs(experiment_ids, f"tags.dagster_run_id = '{dagster_run_id}'"))


def dagster_runs_mlflow_run(local_mlflow: LocalMlflow, dagster_run_id: str) -> Run:
    runs = dagster_runs_mlflow_runs(local_mlflow, dagster_run_id)
    assert len(runs) == 1
    return runs[0]


def test_the_mlflow_run_of_a_failed_step_ends_failed_and_names_the_step(
    local_mlflow: LocalMlflow,
) -> None:
    result = dg.materialize(
        [failing_training], resources={"mlflow": local_mlflow.resource()}, raise_on_error=False
    )

    assert not result.success
    run = dagster_runs_mlflow_run(local_mlflow, result.run_id)
    assert run.info.status == "FAILED"
    assert run.data.tags[FAILED_STEPS_TAG] == "failing_training"
    assert run.data.params == {"step": "failing_training"}
    assert mlflow.active_run() is None


def test_a_successful_run_ends_finished_without_failed_steps(local_mlflow: LocalMlflow) -> None:
    result = dg.materialize([trained], resources={"mlflow": local_mlflow.resource()})

    run = dagster_runs_mlflow_run(local_mlflow, result.run_id)
    assert run.info.status == "FINISHED"
    assert FAILED_STEPS_TAG not in run.data.tags


@dg.asset
def linked_to_its_runs(mlflow: MlflowTracking) -> dg.MaterializeResult:
    with mlflow.start_run("nested") as nested:
        pass
    return dg.MaterializeResult(
        metadata={
            "dagster_run": mlflow.run_link()["mlflow_run_url"],
            "nested_run": mlflow.run_link(nested.info.run_id)["mlflow_run_url"],
        }
    )


def test_a_materialisation_links_its_mlflow_runs_in_the_ui(local_mlflow: LocalMlflow) -> None:
    tracking = MlflowTracking(
        tracking_uri=local_mlflow.tracking_uri,
        artifact_location=local_mlflow.artifact_location,
        experiment_name="tests",
        ui_url="http://127.0.0.1:5000/",
    )

    result = dg.materialize([linked_to_its_runs], resources={"mlflow": tracking})

    run = dagster_runs_mlflow_run(local_mlflow, result.run_id)
    [nested] = local_mlflow.client().search_runs(
        [run.info.experiment_id], filter_string="tags.mlflow.runName = 'nested'"
    )
    [event] = result.get_asset_materialization_events()
    links = event.materialization.metadata
    experiment = f"http://127.0.0.1:5000/#/experiments/{run.info.experiment_id}"
    assert links["dagster_run"].value == f"{experiment}/runs/{run.info.run_id}"
    assert links["nested_run"].value == f"{experiment}/runs/{nested.info.run_id}"


def test_no_link_without_an_mlflow_ui(local_mlflow: LocalMlflow) -> None:
    assert local_mlflow.resource().run_link("any run") == {}


@dg.asset
def finishes_after_the_failure(context: dg.AssetExecutionContext, mlflow: MlflowTracking) -> None:
    """Resumes the Dagster run's MLflow run in its own process and ends after the failure."""
    mlflow.log_metrics({"finished": 1.0})
    deadline = time.monotonic() + 120  # generous: the other step's process must start first
    while not failed_steps(context.instance, context.run_id):
        assert time.monotonic() < deadline, "the failing step never failed"
        time.sleep(0.2)


def one_failing_and_one_later_successful_step() -> dg.JobDefinition:
    """Reconstructable in the step processes; MLflow is found by MLFLOW_TRACKING_URI."""
    return dg.Definitions(
        assets=[failing_training, finishes_after_the_failure],
        jobs=[dg.define_asset_job("tracked_in_parallel")],
        resources={"mlflow": MlflowTracking(experiment_name="tests")},
        executor=dg.multiprocess_executor,
    ).resolve_job_def("tracked_in_parallel")


def test_a_step_that_succeeds_after_a_failure_in_another_process_leaves_the_run_failed(
    local_mlflow: LocalMlflow,
) -> None:
    with dg.instance_for_test() as instance:
        result = dg.execute_job(
            dg.reconstructable(one_failing_and_one_later_successful_step), instance=instance
        )

    assert not result.success
    # Both steps start at once, each in its own process: one MLflow run holds both.
    run = dagster_runs_mlflow_run(local_mlflow, result.run_id)
    assert run.info.status == "FAILED"
    assert run.data.tags[FAILED_STEPS_TAG] == "failing_training"
    assert run.data.params == {"step": "failing_training"}
    assert run.data.metrics == {"finished": 1.0}


class Constant(PythonModel):
    """Predicts one probability for every input: its score is known in advance."""

    def __init__(self, probability: float) -> None:
        self.probability = probability

    def predict(self, context: object, model_input: pd.DataFrame, params: dict | None = None):
        return pd.DataFrame({"positive_probability": [self.probability] * len(model_input)})


def constant_probability(model_uri: str) -> float:
    loaded = mlflow.pyfunc.load_model(model_uri).predict(pd.DataFrame({"x": [0]}))
    return float(loaded["positive_probability"][0])


class Killed(BaseException):
    """The process dying: not an `Exception`, so no cleanup code catches it."""


class FaultyClient(MlflowClient):
    """An MLflow client whose `fault_at`-th write to the store fails (`kill=False`), or lands
    and then the process dies (`kill=True`); writes are the create/set/delete/update calls."""

    def __init__(self, tracking_uri: str, fault_at: int | None, kill: bool) -> None:
        super().__init__(tracking_uri=tracking_uri)
        self.fault_at, self.kill, self.writes = fault_at, kill, 0

    def __getattribute__(self, name: str) -> Any:
        attribute = super().__getattribute__(name)
        if not (name.startswith(("create_", "set_", "delete_", "update_")) and callable(attribute)):
            return attribute

        def write(*args: object, **kwargs: object) -> object:
            self.writes += 1
            if self.writes == self.fault_at and not self.kill:
                raise MlflowException(f"{name} failed")
            result = attribute(*args, **kwargs)
            if self.writes == self.fault_at:
                raise Killed(name)
            return result

        return write


def register_constant(probability: float, client: MlflowClient) -> Promotion:
    """A challenger that beats its baseline and any champion of lower probability."""
    with mlflow.start_run():
        model_uri = mlflow.pyfunc.log_model(
            name="model", python_model=Constant(probability), pip_requirements=["pandas"]
        ).model_uri
    return register_and_promote(
        model_uri,
        "constant",
        "score",
        probability,
        constant_probability,
        margin=0.0,
        baseline=Baseline("coin", "score", score=0.5, challenger_score=probability),
        client=client,
    )


def versions_and_champion(client: MlflowClient) -> tuple[dict[str, dict[str, str]], str]:
    versions = client.search_model_versions("name = 'constant'")
    champion = client.get_model_version_by_alias("constant", CHAMPION)
    assert champion.status == "READY"
    return {str(v.version): v.tags for v in versions}, str(champion.version)


@pytest.mark.parametrize("kill", [True, False], ids=["killed", "failing"])
def test_a_registration_cut_short_at_any_write_never_leaves_the_alias_on_a_half_recorded_version(
    local_mlflow: LocalMlflow, kill: bool
) -> None:
    first = register_constant(0.6, local_mlflow.client())
    before, _ = versions_and_champion(local_mlflow.client())
    decision_tags = set(before[first.version])  # what a complete registration records

    for fault_at in range(1, 100):
        client = FaultyClient(local_mlflow.tracking_uri, fault_at, kill)
        before, champion_before = versions_and_champion(local_mlflow.client())
        try:
            register_constant(0.6 + fault_at / 1000, client)
        except Killed as death:
            versions, champion = versions_and_champion(local_mlflow.client())
            alias_landed = death.args[0] == "set_registered_model_alias"
            assert (champion != champion_before) == alias_landed, f"died after {death}"
            assert decision_tags <= set(versions[champion])
            assert versions[champion]["promoted"] == "true"
        except RegistryError:
            assert versions_and_champion(local_mlflow.client()) == (before, champion_before)
        else:
            break  # no write left to cut short: every step was tried
    assert client.writes < fault_at, "the registration never completed"
