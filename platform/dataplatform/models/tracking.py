"""The MLflow tracking resource (dagster-mlflow's run-per-Dagster-run tracking, typed) and a fast
check that MLflow is reachable.

Embedded default: a SQLite tracking store and an artifact folder in the data directory;
production points the tracking URI at an MLflow server.
"""

import re
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Any, Self

import dagster as dg
import mlflow
import pandas as pd
from mlflow.entities import Run
from mlflow.entities.run_status import RunStatus
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature
from mlflow.pyfunc.model import PythonModel
from mlflow.tracking import MlflowClient

from dataplatform.models.top_level_run import top_level_run_id

with warnings.catch_warnings():  # dagster-mlflow marks its run hook beta when imported
    warnings.simplefilter("ignore", dg.BetaWarning)
    from dagster_mlflow.resources import MlFlow

DEFAULT_EXPERIMENT = "dataplatform"
FAILED_STEPS_TAG = "dagster_failed_steps"


class MlflowUnreachable(RuntimeError):
    """MLflow cannot be reached: training stops before anything is logged or registered."""


def embedded_tracking_uri(data_dir: str) -> str:
    return f"sqlite:///{Path(data_dir).resolve() / 'mlflow' / 'mlflow.db'}"


def embedded_artifact_location(data_dir: str) -> str:
    return (Path(data_dir).resolve() / "mlflow" / "artifacts").as_uri()


def check_reachable(tracking_uri: str, timeout_seconds: float = 5.0) -> None:
    """Raises `MlflowUnreachable` at once, instead of after MLflow's minutes of HTTP retries."""
    if tracking_uri.startswith("sqlite:///"):
        Path(tracking_uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    elif tracking_uri.startswith(("http://", "https://")):
        _check_server(tracking_uri, timeout_seconds)


def _check_server(tracking_uri: str, timeout_seconds: float) -> None:
    health = f"{tracking_uri.rstrip('/')}/health"
    try:
        with urllib.request.urlopen(health, timeout=timeout_seconds):  # noqa: S310  http(s) only
            return
    except urllib.error.HTTPError:
        return  # it answered: reachable (a proxy may not route /health)
    except (urllib.error.URLError, OSError) as error:
        raise MlflowUnreachable(
            f"MLflow tracking server {_without_credentials(tracking_uri)} is unreachable"
            f" ({getattr(error, 'reason', error)}); start it or point MLFLOW_TRACKING_URI at a"
            " running server"
        ) from None


def _without_credentials(uri: str) -> str:
    return re.sub(r"//[^/@]*@", "//", uri)


def ensure_experiment(experiment_name: str, artifact_location: str | None) -> None:
    """Creates the experiment with its artifact root, which MLflow cannot change later.

    Runs starting at once on a fresh tracking store (a backfill's first runs) may all find
    the experiment missing; the ones that lose the race to create it carry on."""
    if mlflow.get_experiment_by_name(experiment_name) is not None:
        return
    try:
        mlflow.create_experiment(experiment_name, artifact_location=artifact_location)
    except MlflowException as error:
        if error.error_code != "RESOURCE_ALREADY_EXISTS":
            raise


class MlflowTracking(dg.ConfigurableResource):
    """dagster-mlflow's tracking as a typed resource: one MLflow run per Dagster run, found by
    its `dagster_run_id` tag so a later step resumes it, after a reachability check.

    Each step checks MLflow is reachable, ensures the experiment (with its artifact root),
    ends runs an earlier step left active in the process, finds or creates the Dagster run's
    MLflow run (`top_level_run`: exactly one, also when steps in separate processes start at
    once), enters it, and ends it when the step is over: FAILED, naming the steps, once a step
    of the Dagster run has failed, else FINISHED."""

    tracking_uri: str | None = None
    experiment_name: str = DEFAULT_EXPERIMENT
    artifact_location: str | None = None
    ui_url: str = ""  # MLflow's UI on this store, for a link to each run

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator[Self]:
        tracking_uri = self.tracking_uri or mlflow.get_tracking_uri()
        check_reachable(tracking_uri)
        mlflow.set_tracking_uri(tracking_uri)
        ensure_experiment(self.experiment_name, self.artifact_location)
        end_runs_left_active(context.log)
        run_id = self._dagster_runs_run_id(context)
        try:
            # dagster-mlflow's own setup, handed the run: it resumes it and sets its tags. Its
            # own search-then-create is not atomic across processes. Its class is marked beta
            # too, and warns on every step: the version is pinned.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", dg.BetaWarning)
                MlFlow(context.replace_config(self._dagster_mlflow_config(tracking_uri, run_id)))
            yield self
        finally:
            end_run_with_the_steps_outcome(context)

    def _dagster_runs_run_id(self, context: dg.InitResourceContext) -> str:
        experiment = mlflow.get_experiment_by_name(self.experiment_name)
        assert experiment is not None, "ensure_experiment created it"
        run = context.dagster_run
        if run is None:
            raise RuntimeError("The mlflow resource tracks a Dagster run: build it inside one")
        return top_level_run_id(
            MlflowClient(), experiment.experiment_id, run.run_id, run_name=run.job_name
        )

    def _dagster_mlflow_config(self, tracking_uri: str, run_id: str) -> dict[str, Any]:
        return {
            "experiment_name": self.experiment_name,
            "mlflow_tracking_uri": tracking_uri,
            "parent_run_id": None,
            "mlflow_run_id": run_id,
            "env": {},
            "env_to_tag": None,
            "extra_tags": {},
        }

    def active_run(self) -> Run:
        """The Dagster run's MLflow run (or a nested run started in it)."""
        run = mlflow.active_run()
        if run is None:
            raise RuntimeError("No active MLflow run: use the `mlflow` resource inside a step")
        return run

    def run_link(self, run_id: str | None = None) -> dict[str, dg.MetadataValue]:
        """The run `run_id` (default: the active one) in MLflow's UI, one click from the
        materialisation; nothing without a UI."""
        if not self.ui_url:
            return {}
        run = mlflow.get_run(run_id).info if run_id else self.active_run().info
        return {
            "mlflow_run_url": dg.MetadataValue.url(
                f"{self.ui_url.rstrip('/')}/#/experiments/{run.experiment_id}/runs/{run.run_id}"
            )
        }

    def start_run(self, run_name: str, nested: bool = True) -> mlflow.ActiveRun:
        return mlflow.start_run(run_name=run_name, nested=nested)

    def end_run(self, status: str = RunStatus.to_string(RunStatus.FINISHED)) -> None:
        """Also what dagster-mlflow's `end_mlflow_on_run_finished` hook calls."""
        mlflow.end_run(status=status)

    def log_params(self, params: dict[str, Any]) -> None:
        MlFlow.log_params(params)  # in chunks of 100, MLflow's limit per call

    def log_metrics(self, metrics: dict[str, float]) -> None:
        mlflow.log_metrics(metrics)

    def log_artifacts(self, folder: str, artifact_path: str | None = None) -> None:
        mlflow.log_artifacts(folder, artifact_path=artifact_path)

    def set_tags(self, tags: dict[str, Any]) -> None:
        mlflow.set_tags(tags)

    def set_tag(self, key: str, value: Any) -> None:
        mlflow.set_tag(key, value)


def end_run_with_the_steps_outcome(context: dg.InitResourceContext) -> None:
    """Ends the active run FAILED if a step of the Dagster run has failed, else FINISHED.

    Dagster catches a step's exception before resources are torn down, so the failure is read
    from the Dagster run's event log. A later step in another process, which resumes the run
    (setting it RUNNING), reads the same failure when it ends and leaves the run FAILED."""
    failed = failed_steps(context.instance, context.run_id)
    if failed and mlflow.active_run() is not None:
        mlflow.set_tag(FAILED_STEPS_TAG, ", ".join(failed))
    mlflow.end_run(RunStatus.to_string(RunStatus.FAILED if failed else RunStatus.FINISHED))


def failed_steps(instance: dg.DagsterInstance | None, run_id: str | None) -> list[str]:
    if instance is None or run_id is None:  # a resource built outside a run
        return []
    failures = instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
    return sorted({entry.step_key for entry in failures if entry.step_key})


def end_runs_left_active(log: dg.DagsterLogManager | None) -> None:
    """Ends MLflow runs an earlier step left active in this process.

    A Celery worker runs the steps of many Dagster runs in one process. dagster-mlflow logs
    into whatever run is active there, and then re-tags it with the current Dagster run, so
    a leftover run would mix two Dagster runs' tracking."""
    while (run := mlflow.active_run()) is not None:
        if log is not None:
            log.warning(f"Ending MLflow run {run.info.run_id}, left active by an earlier step")
        mlflow.end_run()


def log_pyfunc(name: str, model: PythonModel, example: pd.DataFrame, packages: list[str]) -> str:
    """Logs `model` in the active MLflow run with a signature inferred from `example`;
    returns its model URI."""
    info = mlflow.pyfunc.log_model(
        name=name,
        python_model=model,
        signature=infer_signature(example, model.predict(None, example)),
        input_example=example,
        pip_requirements=pip_requirements(packages),
    )
    return info.model_uri


def pip_requirements(packages: list[str]) -> list[str]:
    """Stated, so MLflow does not spend a subprocess inferring them."""
    return [f"{name}=={version(name)}" for name in packages]
