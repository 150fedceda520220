"""`dataplatform run`: one run per partition, launched through the code location, in order."""

import argparse
import signal
from collections.abc import Sequence, Set
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any

import dagster as dg

from dataplatform.catalog.runs import finished_run
from dataplatform.catalog.sink import CatalogDeliveryError
from dataplatform.cli import output
from dataplatform.cli.catalog import code_location_sink
from dataplatform.cli.errors import (
    EXIT_ERROR_CHECK_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_RUN_FAILED,
    UsageError,
)
from dataplatform.cli.instance import local_instance
from dataplatform.cli.landing_folders import create_drop_folders
from dataplatform.cli.launch import ASSET_JOB, CodeLocation, code_location, follow
from dataplatform.cli.partition_range import partitions_to_run
from dataplatform.cli.progress import RunOutcome, live_progress, upstream_steps
from dataplatform.cli.selection import common_partitions, job_definition, runnable_assets
from dataplatform.cli.summaries import print_summary
from dataplatform.demo_api import DemoApiConfig, DemoApiServer
from dataplatform.landing.zone import LandingZone
from dataplatform.settings import Calendar, ExecutorKind, PlatformSettings

RUN_OUTPUT_LOG = "run_output.log"


def run_command(args: argparse.Namespace) -> int:
    if args.last and not args.first:
        raise UsageError("--to needs --from")
    settings = PlatformSettings.from_environment()
    job_name, assets, partitions_def = run_target(args)
    label = args.select or job_name
    with ExitStack() as stack:
        instance = stack.enter_context(local_instance())
        partitions = partitions_to_run(partitions_def, args, instance)
        output.console.print(f"Dagster instance: {instance.root_directory}")
        show_drop_folders(settings)
        config = run_config(settings, args.verbose, args.parallel)
        if use_demo_api(args.demo_api, settings):
            server = stack.enter_context(DemoApiServer(demo_api_config(args.listens_per_day)))
            config["resources"] = {"source_api": {"config": {"base_url": server.url}}}
            output.console.print(f"Demo source API serving at {server.url}")
        location = stack.enter_context(code_location(instance, run_output_log(instance, args)))
        outcomes = run_partitions(location, job_name, assets, partitions, config, label)
    return run_exit_code(outcomes)


def show_drop_folders(settings: PlatformSettings) -> None:
    landing = LandingZone(root=settings.landing_folder)
    names = [folder.relative_to(landing.root) for folder in create_drop_folders(landing)]
    output.console.print(
        f"Landing zone: drop files into {landing.root}/{{{','.join(map(str, names))}}}"
    )


def run_target(
    args: argparse.Namespace,
) -> tuple[str, Set[dg.AssetKey] | None, dg.PartitionsDefinition | None]:
    """The job to launch, the assets it is limited to (an ad-hoc selection) and its partitions."""
    if args.select:
        assets = runnable_assets(args.select)
        return ASSET_JOB, assets, common_partitions(args.select, assets)
    job = job_definition(args.job or "daily_refresh")
    return job.name, None, job.partitions_def


def use_demo_api(requested: bool | None, settings: PlatformSettings) -> bool:
    """By default, serve the bundled demo API unless a source API is configured."""
    configured = "api_url" in settings.model_fields_set
    return not configured if requested is None else requested


def run_output_log(instance: dg.DagsterInstance, args: argparse.Namespace) -> Path | None:
    """Where the run workers' own output goes, so that the terminal shows only the command's
    lines; --verbose leaves it on the terminal, Dagster's events included."""
    if args.verbose:
        return None
    log = Path(instance.root_directory) / "logs" / RUN_OUTPUT_LOG
    output.console.print(f"Run workers' output (dependencies' warnings, logs): {log}")
    return log


def run_config(settings: PlatformSettings, verbose: bool, parallel: bool) -> dict[str, Any]:
    config: dict[str, Any] = {
        "loggers": {"console": {"config": {"log_level": "DEBUG" if verbose else "WARNING"}}}
    }
    if settings.executor is ExecutorKind.MULTIPROCESS and not parallel:
        # One process for the whole run starts in seconds; a process per step is the daemon's
        # default and pays Python and the code location's imports for every step.
        config["execution"] = {"config": {"in_process": {}}}
    return config


def run_partitions(
    location: CodeLocation,
    job_name: str,
    assets: Set[dg.AssetKey] | None,
    partitions: Sequence[str | None],
    config: dict[str, Any],
    label: str,
) -> list[RunOutcome]:
    outcomes = []
    for partition in partitions:
        output.console.print(f"Materialising [bold]{label} {partition or ''}[/]...")
        run = location.launch(job_name, partition, config, assets)
        outcome = follow_with_progress(location.instance, run.run_id, partition)
        record_run_in_catalog(location.instance, outcome.run_id)
        print_summary(label, outcome)
        outcomes.append(outcome)
        if not outcome.success:
            break
    not_run = partitions[len(outcomes) :]
    if not_run:
        output.console.print(
            f"[red]Stopped[/]: {len(not_run)} partitions not run ({', '.join(map(str, not_run))})"
        )
    return outcomes


def follow_with_progress(
    instance: dg.DagsterInstance, run_id: str, partition: str | None
) -> RunOutcome:
    """Shows the run's events as they are stored; Ctrl-C terminates the run, then stops."""
    dagster_run = instance.get_run_by_id(run_id)
    assert dagster_run is not None  # the run was just launched in this instance
    outcome = RunOutcome(
        partition=partition, run_id=run_id, upstream=upstream_steps(instance, dagster_run)
    )
    with live_progress() as display:
        try:
            run = follow(instance, run_id, lambda entry: display.handle(entry, outcome))
        except KeyboardInterrupt:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut this
            instance.run_launcher.terminate(run_id)
            output.console.print(f"[red]Interrupted[/]: run {run_id} asked to stop")
            raise SystemExit(EXIT_INTERRUPTED) from None
    outcome.success = run.status == dg.DagsterRunStatus.SUCCESS
    return outcome


def run_exit_code(outcomes: list[RunOutcome]) -> int:
    if not all(outcome.success for outcome in outcomes):
        return EXIT_RUN_FAILED
    if any(outcome.failed_error_checks for outcome in outcomes):
        return EXIT_ERROR_CHECK_FAILED
    return EXIT_OK


def record_run_in_catalog(instance: dg.DagsterInstance, run_id: str) -> None:
    """What the run-status sensors do under the daemon, for a run made without one."""
    dagster_run = instance.get_run_by_id(run_id)
    assert dagster_run is not None  # the run was just made in this instance
    with code_location_sink() as datahub:
        try:
            delivery = datahub.record_run(finished_run(instance, dagster_run))
        except CatalogDeliveryError as error:  # a strict sink: say so, the run itself is done
            output.console.print(f"[red]Catalog[/]: run not recorded in DataHub: {error}")
            return
    output.console.print(
        f"Catalog: run recorded in DataHub ({datahub.kind.value}: {delivery.status})"
    )


DEMO_SOURCE_HISTORY_DAYS = 7


def demo_api_config(listens_per_day: int) -> DemoApiConfig:
    """The demo source, starting on the calendar's first day when it is configured. Under the
    default calendar (which starts the day `make run` fills) it has a week of history before
    it, as a source the platform is connected to would: its first day is an initial load with
    no second accounts, which leaves the entities nothing to find."""
    calendar = Calendar.from_environment()
    start = calendar.start_date
    if calendar.configured_start is None:
        start -= timedelta(days=DEMO_SOURCE_HISTORY_DAYS)
    return DemoApiConfig.scaled(listens_per_day, start_date=start)
