"""A second code location with test-only jobs: a transient failure, a run to kill or hang,
training runs for the queue, MLflow tracking on a server and steps on Celery over RabbitMQ."""

import os
import time
from pathlib import Path

import dagster as dg
from dagster_celery import celery_executor
from dagster_mlflow import end_mlflow_on_run_finished, mlflow_tracking
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression


class MarkerConfig(dg.Config):
    """A file whose absence means "first attempt"; the op creates it."""

    marker: str


def first_attempt(marker: str) -> bool:
    path = Path(marker)
    if path.exists():
        return False
    path.touch()
    return True


@dg.op(retry_policy=dg.RetryPolicy(max_retries=2, delay=1))
def transient_step(config: MarkerConfig) -> str:
    if first_attempt(config.marker):
        raise ConnectionError("the source dropped the connection (transient)")
    return "recovered"


@dg.job(executor_def=dg.in_process_executor)
def flaky_job() -> None:
    transient_step()


class KillableConfig(MarkerConfig):
    pid_file: str


@dg.op
def long_step(config: KillableConfig) -> None:
    """Hangs on the first attempt (so the test can kill its process); returns on the next."""
    Path(config.pid_file).write_text(str(os.getpid()))
    if first_attempt(config.marker):
        time.sleep(600)


# In-process, so the op's process is the run worker the test kills.
@dg.job(executor_def=dg.in_process_executor)
def killable_job() -> None:
    long_step()


@dg.op
def train_step() -> None:
    time.sleep(1)


@dg.job(tags={"dagster/concurrency_key": "training"}, executor_def=dg.in_process_executor)
def training_job() -> None:
    train_step()


@dg.op(required_resource_keys={"mlflow"})
def tracked_model(context: dg.OpExecutionContext) -> float:
    """Trains a small model and logs its metric and the model itself to the tracking server."""
    features, labels = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=300).fit(features, labels)
    accuracy = float(model.score(features, labels))
    context.resources.mlflow.log_metric("accuracy", accuracy)
    context.resources.mlflow.sklearn.log_model(model, name="model")
    return accuracy


@dg.job(
    resource_defs={"mlflow": mlflow_tracking},
    hooks={end_mlflow_on_run_finished},
    executor_def=dg.in_process_executor,
)
def tracked_training_job() -> None:
    tracked_model()


@dg.op
def first_half() -> int:
    return 1


@dg.op
def second_half(first: int) -> int:
    return first + 1


# Broker and backend come from the run config, so the same job runs on any broker.
@dg.job(executor_def=celery_executor)
def celery_job() -> None:
    second_half(first_half())


defs = dg.Definitions(
    jobs=[flaky_job, killable_job, training_job, tracked_training_job, celery_job]
)
