"""Launching a run against the code location, as the webserver and the daemon do, and following it.

Dagster has no public API to load a code location and create a run for one of its jobs from
Python: `dagster job launch` and the UI's GraphQL mutation use the three private imports below.
A run made this way carries its code location (it is listed under its job in the UI, and can be
re-executed there) and resolves its resources in the run worker, like any daemon-launched run.
It is launched directly, not queued: without a daemon nothing would dequeue it.
"""

import os
import time
from collections.abc import Callable, Iterator, Set
from contextlib import contextmanager, nullcontext
from pathlib import Path

import dagster as dg
from dagster._core.definitions.selector import JobSubsetSelector
from dagster._core.workspace.context import BaseWorkspaceRequestContext, WorkspaceProcessContext
from dagster._core.workspace.load_target import ModuleTarget

from dataplatform.cli import output
from dataplatform.cli.errors import LaunchError
from dataplatform.cli.progress import error_cause

LOCATION = "dataplatform"  # as in workspace.yaml, so the CLI's runs sit with the daemon's
DEFINITIONS_MODULE = "dataplatform.definitions"
ASSET_JOB = "__ASSET_JOB"  # Dagster's implicit job of every asset, for an ad-hoc selection
POLL_SECONDS = 0.25


class CodeLocation:
    """The platform's code location, served by a code server for as long as it is open."""

    def __init__(self, instance: dg.DagsterInstance, context: BaseWorkspaceRequestContext) -> None:
        self.instance = instance
        self.location = context.get_code_location(LOCATION)
        self.repository = self.location.get_repository(self.location.get_repository_names()[0])
        self._context = context

    def launch(
        self,
        job_name: str,
        partition: str | None,
        run_config: dict,
        assets: Set[dg.AssetKey] | None = None,
    ) -> dg.DagsterRun:
        selector = JobSubsetSelector(
            location_name=LOCATION,
            repository_name=self.repository.name,
            job_name=job_name,
            op_selection=None,
            asset_selection=assets,
        )
        job = self.location.get_job(selector)
        plan = self.location.get_execution_plan(
            job, run_config, step_keys_to_execute=None, known_state=None, instance=self.instance
        )
        tags = {**job.tags, **({"dagster/partition": partition} if partition else {})}
        run = self.instance.create_run(
            job_name=job.name,
            run_id=None,
            run_config=run_config,
            status=None,
            tags=tags,
            root_run_id=None,
            parent_run_id=None,
            step_keys_to_execute=plan.execution_plan_snapshot.step_keys_to_execute,
            execution_plan_snapshot=plan.execution_plan_snapshot,
            job_snapshot=job.job_snapshot,
            parent_job_snapshot=job.parent_job_snapshot,
            asset_selection=assets,
            asset_check_selection=None,
            resolved_op_selection=None,
            op_selection=None,
            remote_job_origin=job.get_remote_origin(),
            job_code_origin=job.get_python_origin(),
            asset_graph=self.repository.asset_graph,
        )
        self.instance.launch_run(run.run_id, self._context)
        return run


@contextmanager
def code_location(
    instance: dg.DagsterInstance, output_log: Path | None = None
) -> Iterator[CodeLocation]:
    """Serves the code location from a code server process, the way `dagster dev` does; the
    output of that process and of the run workers it starts goes to `output_log` if given."""
    target = ModuleTarget(
        module_name=DEFINITIONS_MODULE,
        attribute=None,
        working_directory=os.getcwd(),
        location_name=LOCATION,
    )
    with output.children_write_to(output_log) if output_log else nullcontext():
        workspace = WorkspaceProcessContext(instance, target, code_server_log_level="WARNING")
    with workspace:
        context = workspace.create_request_context()
        error = context.get_code_location_error(LOCATION)
        if error is not None:
            raise LaunchError(f"the code location did not load: {error_cause(error)}")
        yield CodeLocation(instance, context)


def follow(
    instance: dg.DagsterInstance, run_id: str, on_event: Callable[[dg.EventLogEntry], None]
) -> dg.DagsterRun:
    """Hands each event of the run to `on_event` as it is stored; returns the finished run."""
    cursor = None
    while True:
        run = instance.get_run_by_id(run_id)  # before reading events: none can be missed
        has_more = True
        while has_more:
            connection = instance.get_records_for_run(run_id, cursor=cursor)
            cursor, has_more = connection.cursor, connection.has_more
            for record in connection.records:
                on_event(record.event_log_entry)
        if run is not None and run.is_finished:
            return run
        time.sleep(POLL_SECONDS)
