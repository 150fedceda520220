"""Runs that a killed process left STARTED on the local instance, marked failed.

The default run launcher starts each run worker as a local process and cannot tell the run
monitor whether it still lives, so after kill -9 (or a reboot) the run stays STARTED for good:
the UI shows it running and its job cannot be re-run cleanly. On a SQLite instance every run
worker was a process of this machine, so a run whose worker is gone is known to be dead.
"""

import os

import dagster as dg
from dagster._core.storage.runs import SqliteRunStorage

RUN_WORKER_STARTED = "Started process for run"


def fail_abandoned_runs(instance: dg.DagsterInstance) -> list[str]:
    """Marks failed the runs STARTED on this machine whose run worker is gone; their ids."""
    if not isinstance(instance.run_storage, SqliteRunStorage):
        return []  # a shared instance: its run workers may live on other machines
    running = instance.get_run_records(
        dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED])
    )
    failed = []
    for record in running:
        run = record.dagster_run
        pid = run_worker_pid(instance, run.run_id)
        if pid is not None and not process_exists(pid):
            instance.report_run_failed(
                run,
                f"its run worker (process {pid}) is gone: it was killed or the machine"
                " restarted. Marked failed when the platform next started.",
            )
            failed.append(run.run_id)
    return failed


def run_worker_pid(instance: dg.DagsterInstance, run_id: str) -> int | None:
    """The process id the run worker reported when it started (None for a run executed in
    the launching process, which has no run worker of its own)."""
    events = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT)
    for record in events.records:
        event = record.event_log_entry.dagster_event
        if event is None or not (event.message or "").startswith(RUN_WORKER_STARTED):
            continue
        pid = event.engine_event_data.metadata.get("pid")
        if pid is not None:
            return int(str(pid.value))
    return None


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True
