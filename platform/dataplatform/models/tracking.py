"""The MLflow tracking resource (dagster-mlflow's) and a fast check that MLflow is reachable.

Embedded default: a SQLite tracking store and an artifact folder in the data directory;
production points the tracking URI at an MLflow server.
"""

import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import dagster as dg
import mlflow
import pandas as pd
from dagster_mlflow import mlflow_tracking
from dagster_mlflow.resources import CONFIG_SCHEMA, MlFlow
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature

DEFAULT_EXPERIMENT = "dataplatform"


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
    try:
        with urllib.request.urlopen(f"{tracking_uri.rstrip('/')}/health", timeout=timeout_seconds):
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


@dg.resource(
    config_schema={
        **CONFIG_SCHEMA,
        "artifact_location": dg.Field(
            dg.Noneable(str),
            default_value=None,
            is_required=False,
            description="Artifact root of a new experiment (the embedded default's folder).",
        ),
    },
    description="dagster-mlflow's run-per-Dagster-run tracking, after a reachability check.",
)
def mlflow_tracking_with_check(context: dg.InitResourceContext) -> Iterator[MlFlow]:
    """dagster-mlflow's `mlflow_tracking`, failing fast when MLflow is unreachable and ending
    the MLflow run after each step (a later step of the same Dagster run resumes it)."""
    config = context.resource_config
    tracking_uri = config["mlflow_tracking_uri"] or mlflow.get_tracking_uri()
    check_reachable(tracking_uri)
    mlflow.set_tracking_uri(tracking_uri)
    ensure_experiment(config["experiment_name"], config["artifact_location"])
    end_runs_left_active(context.log)
    try:
        yield from mlflow_tracking.resource_fn(context)
    finally:
        mlflow.end_run()


def end_runs_left_active(log: dg.DagsterLogManager | None) -> None:
    """Ends MLflow runs an earlier step left active in this process.

    A Celery worker runs the steps of many Dagster runs in one process. dagster-mlflow logs
    into whatever run is active there, and then re-tags it with the current Dagster run, so
    a leftover run would mix two Dagster runs' tracking."""
    while (run := mlflow.active_run()) is not None:
        if log is not None:
            log.warning(f"Ending MLflow run {run.info.run_id}, left active by an earlier step")
        mlflow.end_run()


def mlflow_resource(
    tracking_uri: str,
    artifact_location: str | None = None,
    experiment_name: str = DEFAULT_EXPERIMENT,
) -> dg.ResourceDefinition:
    """The `mlflow` resource for assets with `required_resource_keys={"mlflow"}`."""
    return mlflow_tracking_with_check.configured(
        {
            "experiment_name": experiment_name,
            "mlflow_tracking_uri": tracking_uri,
            "artifact_location": artifact_location,
        }
    )


def log_pyfunc(
    name: str, model: mlflow.pyfunc.PythonModel, example: pd.DataFrame, packages: list[str]
) -> str:
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
