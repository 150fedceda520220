"""Where a run's steps execute: in one process, in parallel processes, or on Celery workers."""

import dagster as dg
from dagster_celery import celery_executor

from dataplatform.settings import ExecutorKind, PlatformSettings


def executor_from(settings: PlatformSettings) -> dg.ExecutorDefinition:
    """The executor the settings name; `celery` sends every step to workers on the broker.

    `multiprocess` is Dagster's default (one process per step, or in-process when a run's
    config asks for it), so choosing it changes nothing for the embedded default.
    """
    match settings.executor:
        case ExecutorKind.MULTIPROCESS:
            return dg.multi_or_in_process_executor
        case ExecutorKind.IN_PROCESS:
            return dg.in_process_executor
        case ExecutorKind.CELERY:
            return celery_executor.configured(
                {"broker": settings.celery_broker, "backend": settings.celery_backend or "rpc://"},
                name="celery",
            )
