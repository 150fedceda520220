"""A second code location with test-only jobs: a transient failure, a run to kill or hang,
training runs for the queue, steps on Celery over RabbitMQ, and a job with nothing to do
(whose runs measure the launch path alone)."""

import os
import time
from pathlib import Path

import dagster as dg
from dagster_celery import celery_executor


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


@dg.op
def no_work() -> None:
    return None


@dg.job(executor_def=dg.in_process_executor)
def trivial_job() -> None:
    no_work()


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
    jobs=[
        flaky_job,
        killable_job,
        training_job,
        celery_job,
        trivial_job,
    ]
)
