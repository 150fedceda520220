"""Runs left STARTED by a run worker that was killed are marked failed; live ones are not."""

import os
import subprocess
import sys

import dagster as dg
from dagster._core.events import DagsterEvent, EngineEventData

from dataplatform.cli.abandoned_runs import fail_abandoned_runs


@dg.op
def nothing() -> None:
    pass


@dg.job
def small_job() -> None:
    nothing()


def started_run(instance: dg.DagsterInstance, worker_pid: int) -> dg.DagsterRun:
    """A run as the default launcher leaves it: STARTED, its worker's pid in the event log."""
    run = instance.create_run_for_job(small_job)
    start = DagsterEvent(dg.DagsterEventType.RUN_START.value, job_name=run.job_name)
    instance.report_dagster_event(start, run_id=run.run_id)
    instance.report_engine_event(
        f"Started process for run (pid: {worker_pid}).", run, EngineEventData.in_process(worker_pid)
    )
    return run


def dead_process_pid() -> int:
    worker = subprocess.Popen([sys.executable, "-c", "pass"])
    worker.wait()
    return worker.pid


def status(instance: dg.DagsterInstance, run: dg.DagsterRun) -> dg.DagsterRunStatus:
    found = instance.get_run_by_id(run.run_id)
    assert found is not None
    return found.status


def test_a_run_whose_worker_is_gone_is_marked_failed_with_the_reason() -> None:
    with dg.instance_for_test() as instance:
        killed = started_run(instance, dead_process_pid())
        alive = started_run(instance, worker_pid=os.getpid())

        assert fail_abandoned_runs(instance) == [killed.run_id]

        assert status(instance, killed) == dg.DagsterRunStatus.FAILURE
        assert status(instance, alive) == dg.DagsterRunStatus.STARTED
        failure = instance.get_records_for_run(
            killed.run_id, of_type=dg.DagsterEventType.RUN_FAILURE
        ).records
        assert "run worker" in (failure[0].event_log_entry.dagster_event.message or "")
        assert fail_abandoned_runs(instance) == []


def test_a_run_executed_in_process_has_no_worker_and_is_left_alone() -> None:
    with dg.instance_for_test() as instance:
        run = instance.create_run_for_job(small_job)
        start = DagsterEvent(dg.DagsterEventType.RUN_START.value, job_name=run.job_name)
        instance.report_dagster_event(start, run_id=run.run_id)

        assert fail_abandoned_runs(instance) == []
        assert status(instance, run) == dg.DagsterRunStatus.STARTED
