"""Where a run's steps execute: in one process, in parallel processes, or on Celery workers."""

import dagster as dg
from dagster_celery import celery_executor

EXECUTOR_KINDS = ("multiprocess", "in_process", "celery")


def executor_from(kind: str, broker_url: str = "", backend_url: str = "") -> dg.ExecutorDefinition:
    """The executor named by `kind`; `celery` sends every step to workers on `broker_url`.

    `multiprocess` is Dagster's default (one process per step, or in-process when a run's
    config asks for it), so choosing it changes nothing for the embedded default.
    """
    if kind == "multiprocess":
        return dg.multi_or_in_process_executor
    if kind == "in_process":
        return dg.in_process_executor
    if kind == "celery":
        if not broker_url:
            raise ValueError("the celery executor needs a broker URL (redis:// or amqp://)")
        return celery_executor.configured(
            {"broker": broker_url, "backend": backend_url or "rpc://"}, name="celery"
        )
    raise ValueError(f"unknown executor {kind!r}: choose one of {', '.join(EXECUTOR_KINDS)}")
