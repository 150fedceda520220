"""The executor switch: the default keeps Dagster's behaviour; celery needs a broker."""

import dagster as dg
import pytest

from dataplatform.executors import executor_from


@dg.op
def answer() -> int:
    return 42


@dg.job
def answering_job() -> None:
    answer()


def test_the_default_runs_steps_in_processes_or_in_process_on_request() -> None:
    defs = dg.Definitions(jobs=[answering_job], executor=executor_from("multiprocess"))
    job = defs.resolve_job_def("answering_job")

    assert job.executor_def is dg.multi_or_in_process_executor
    assert job.execute_in_process().output_for_node("answer") == 42


def test_celery_sends_steps_through_the_given_broker() -> None:
    executor = executor_from("celery", "redis://broker:6379/0", "redis://broker:6379/1")

    config = executor.apply_config_mapping({}).value["config"]

    assert executor.name == "celery"
    assert (config["broker"], config["backend"]) == (
        "redis://broker:6379/0",
        "redis://broker:6379/1",
    )


def test_celery_without_a_result_backend_uses_the_broker_rpc_channel() -> None:
    executor = executor_from("celery", "amqp://guest:guest@rabbitmq:5672//")

    assert executor.apply_config_mapping({}).value["config"]["backend"] == "rpc://"


@pytest.mark.parametrize(("kind", "broker"), [("celery", ""), ("kubernetes", "redis://b")])
def test_an_unusable_choice_is_refused(kind: str, broker: str) -> None:
    with pytest.raises(ValueError, match=kind if kind != "celery" else "broker"):
        executor_from(kind, broker)
