"""The executor switch: the default keeps Dagster's behaviour; celery needs a broker."""

import dagster as dg
import pytest

from dataplatform.executors import executor_from
from dataplatform.settings import PlatformSettings, SettingsError


@dg.op
def answer() -> int:
    return 42


@dg.job
def answering_job() -> None:
    answer()


def settings(**environment: str) -> PlatformSettings:
    return PlatformSettings.from_environment(environment)


def test_the_default_runs_steps_in_processes_or_in_process_on_request() -> None:
    defs = dg.Definitions(jobs=[answering_job], executor=executor_from(settings()))
    job = defs.resolve_job_def("answering_job")

    assert job.executor_def is dg.multi_or_in_process_executor
    assert job.execute_in_process().output_for_node("answer") == 42


def test_celery_sends_steps_through_the_given_broker() -> None:
    executor = executor_from(
        settings(
            DATAPLATFORM_EXECUTOR="celery",
            DATAPLATFORM_CELERY_BROKER="redis://broker:6379/0",
            DATAPLATFORM_CELERY_BACKEND="redis://broker:6379/1",
        )
    )

    mapped = executor.apply_config_mapping({}).value
    assert mapped is not None
    config = mapped["config"]

    assert executor.name == "celery"
    assert (config["broker"], config["backend"]) == (
        "redis://broker:6379/0",
        "redis://broker:6379/1",
    )


def test_celery_without_a_result_backend_uses_the_broker_rpc_channel() -> None:
    executor = executor_from(
        settings(
            DATAPLATFORM_EXECUTOR="celery",
            DATAPLATFORM_CELERY_BROKER="amqp://guest:guest@rabbitmq:5672//",
        )
    )

    mapped = executor.apply_config_mapping({}).value
    assert mapped is not None
    assert mapped["config"]["backend"] == "rpc://"


@pytest.mark.parametrize(
    ("environment", "named"),
    [
        ({"DATAPLATFORM_EXECUTOR": "celery"}, "DATAPLATFORM_CELERY_BROKER is required"),
        ({"DATAPLATFORM_EXECUTOR": "kubernetes"}, "DATAPLATFORM_EXECUTOR='kubernetes'"),
    ],
)
def test_an_unusable_choice_is_refused_before_an_executor_exists(
    environment: dict[str, str], named: str
) -> None:
    with pytest.raises(SettingsError, match=named):
        settings(**environment)
