"""The `dataplatform` command: materialise assets with live progress, report their status."""

import argparse
import json
import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import dagster as dg
from dagster._core.definitions.assets.graph.asset_graph import AssetGraph
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecord
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from dataplatform import definitions
from dataplatform.catalog.metadata import run_mcps
from dataplatform.catalog.runs import finished_run
from dataplatform.catalog.sink import CatalogDeliveryError, DataHubSink
from dataplatform.defs.resources import datahub_sink, platform_resources
from dataplatform.demo_api import DemoApiConfig, DemoApiServer
from dataplatform.partitions import CALENDAR
from dataplatform.settings import PlatformSettings

EXIT_OK = 0
EXIT_RUN_FAILED = 1
EXIT_USAGE = 2
EXIT_ERROR_CHECK_FAILED = 3

EXIT_CODES = """exit codes:
  0  success; WARN-severity check failures are reported but do not change the code
  1  a run failed (a step raised, a blocking check failed, the source was unreachable), or
     replay-lineage could not reach DataHub
  2  usage error: unknown command, option, job, selection or partition
  3  the runs succeeded but an ERROR-severity check failed (run: in these runs;
     status: in the latest evaluation of any check)
"""
SELECTION_JOB = "dataplatform_cli_selection"

console = Console()


class UsageError(Exception):
    """A request the code location cannot serve: reported like an argparse error."""


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return args.handler(args)
    except SystemExit as exit_request:  # argparse: --help, --version, bad options
        return int(exit_request.code or 0)
    except UsageError as error:
        parser.print_usage(sys.stderr)
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return EXIT_USAGE


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dataplatform",
        description=__doc__,
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=version("dataplatform"))
    commands = parser.add_subparsers(dest="command", required=True)
    add_run_parser(commands)
    status = commands.add_parser(
        "status",
        help="last materialisation and latest check results per asset",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    status.add_argument("--select", help="asset selection, e.g. 'group:cleaned' (default: all)")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(handler=status_command)
    listing = commands.add_parser("list", help="assets (with groups), jobs, schedules, sensors")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handler=list_command)
    replay = commands.add_parser("replay-lineage", help="send spooled catalog metadata to DataHub")
    replay.set_defaults(handler=lambda _args: replay_lineage())
    return parser


def add_run_parser(commands: argparse._SubParsersAction) -> None:
    run = commands.add_parser(
        "run",
        help="materialise a job or an asset selection for a partition or a range of them",
        description="Materialise a job or an asset selection, one run per partition, in order. "
        "A range stops at the first failed run.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    target = run.add_mutually_exclusive_group()
    target.add_argument(
        "--job", help="a job name, see `dataplatform list` (default: daily_refresh)"
    )
    target.add_argument(
        "--select", help="an asset selection, e.g. 'group:raw or key:cleaned/reviews'"
    )
    when = run.add_mutually_exclusive_group()
    when.add_argument("--partition", help="a partition key (default for daily jobs: the last day)")
    when.add_argument("--from", dest="first", metavar="FIRST", help="first partition of a range")
    run.add_argument("--to", dest="last", metavar="LAST", help="last partition of a range")
    run.add_argument(
        "--demo-api",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="serve the bundled demo API on a free port (default: unless DATAPLATFORM_API_URL)",
    )
    run.add_argument("--listens-per-day", type=int, default=5_000, help="demo API volume")
    run.add_argument("--verbose", action="store_true", help="print every Dagster event")
    run.set_defaults(handler=run_command)


# --- run -------------------------------------------------------------------------------------


@dataclass
class RunOutcome:
    """What one run did, built from its events while it executes."""

    partition: str | None
    run_id: str = ""
    success: bool = False
    planned: dict[dg.AssetKey, str] = field(default_factory=dict)  # asset -> its step
    materialized: dict[dg.AssetKey, dict[str, object]] = field(default_factory=dict)
    checks: dict[dg.AssetKey, list[dg.AssetCheckEvaluation]] = field(default_factory=dict)
    failed_steps: dict[str, str] = field(default_factory=dict)  # step -> error

    @property
    def failed_error_checks(self) -> list[dg.AssetCheckEvaluation]:
        return [
            evaluation
            for evaluations in self.checks.values()
            for evaluation in evaluations
            if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
        ]

    def failed_assets(self) -> list[dg.AssetKey]:
        return [
            key
            for key, step in self.planned.items()
            if step in self.failed_steps and key not in self.materialized
        ]


def run_command(args: argparse.Namespace) -> int:
    if args.last and not args.first:
        raise UsageError("--to needs --from")
    job_name = args.job or ("" if args.select else "daily_refresh")
    check_target(job_name, args.select)
    with ExitStack() as stack:
        instance = stack.enter_context(local_instance())
        console.print(f"Dagster instance: {os.environ['DAGSTER_HOME']}")
        partitions_def = runnable_job(job_name, args.select).partitions_def
        partitions = partitions_to_run(partitions_def, args, instance)
        if use_demo_api(args.demo_api):
            server = stack.enter_context(DemoApiServer(demo_api_config(args.listens_per_day)))
            os.environ["DATAPLATFORM_API_URL"] = server.url
            console.print(f"Demo source API serving at {server.url}")
        # Bound again: the resources must see the demo API's address, known only now.
        job = runnable_job(job_name, args.select)
        outcomes = run_partitions(
            job, partitions, instance, args.verbose, label=job_name or args.select
        )
    return run_exit_code(outcomes)


def use_demo_api(requested: bool | None) -> bool:
    return "DATAPLATFORM_API_URL" not in os.environ if requested is None else requested


def check_target(job_name: str, selection: str | None) -> None:
    """Refuses an unknown job or an empty selection before anything starts."""
    if selection:
        selected_assets(selection)
    elif job_name not in {job.name for job in definitions.defs().resolve_all_job_defs()}:
        raise UsageError(f"no job named {job_name!r}; `dataplatform list` shows the jobs")


def selected_assets(selection: str) -> set[dg.AssetKey]:
    try:
        keys = dg.AssetSelection.from_string(selection).resolve(
            definitions.defs().resolve_asset_graph()
        )
    except Exception as error:  # Dagster raises several types for a malformed selection
        raise UsageError(f"invalid selection {selection!r}: {error}") from error
    if not keys:
        raise UsageError(f"selection {selection!r} matches no asset")
    return keys


def runnable_job(job_name: str, selection: str | None) -> dg.JobDefinition:
    """The job bound to resources built now: the environment may have changed since import."""
    jobs = list(definitions.defs().jobs or [])
    if selection:
        # A multi-asset (a table and its rejects) runs whole, so its neighbours join in.
        assets = dg.AssetSelection.from_string(selection).required_multi_asset_neighbors()
        jobs.append(dg.define_asset_job(SELECTION_JOB, selection=assets))
    fresh = dg.Definitions(
        assets=definitions.defs().assets,
        asset_checks=definitions.defs().asset_checks,
        jobs=jobs,
        resources=platform_resources(PlatformSettings.from_environment()),
    )
    try:
        return fresh.resolve_job_def(job_name or SELECTION_JOB)
    except dg.DagsterInvalidDefinitionError as error:
        reason = error.__cause__ or error  # Dagster wraps the reason (e.g. mixed partitions)
        raise UsageError(f"cannot run {selection or job_name!r} as one job: {reason}") from error


def partitions_to_run(
    partitions: dg.PartitionsDefinition | None,
    args: argparse.Namespace,
    instance: dg.DagsterInstance,
) -> list[str | None]:
    if partitions is None:
        if args.partition or args.first:
            raise UsageError("this job is not partitioned: drop --partition/--from")
        return [None]
    known = list(partitions.get_partition_keys(dynamic_partitions_store=instance))
    if args.first:
        last = args.last or args.first
        for key in (args.first, last):
            require_partition(key, known)
        if known.index(args.first) > known.index(last):
            raise UsageError(f"--from {args.first} comes after --to {last}")
        return known[known.index(args.first) : known.index(last) + 1]
    key = args.partition or default_partition(partitions)
    require_partition(key, known)
    return [key]


def default_partition(partitions: dg.PartitionsDefinition) -> str:
    """The last complete time window (yesterday, for daily), as the schedule would run."""
    if not isinstance(partitions, dg.TimeWindowPartitionsDefinition):
        raise UsageError("this job's partitions have no default: give --partition")
    return partitions.get_last_partition_key()


def require_partition(key: str, known: list[str]) -> None:
    if key not in known:
        span = f"{known[0]} .. {known[-1]}" if known else "none yet"
        raise UsageError(f"unknown partition {key!r} (known: {span})")


def run_partitions(
    job: dg.JobDefinition,
    partitions: list[str | None],
    instance: dg.DagsterInstance,
    verbose: bool,
    label: str,
) -> list[RunOutcome]:
    outcomes = []
    for partition in partitions:
        console.print(f"Materialising [bold]{label} {partition or ''}[/]...")
        outcome = run_with_progress(job, partition, instance, verbose)
        record_run_in_catalog(
            datahub_sink(PlatformSettings.from_environment()), instance, outcome.run_id
        )
        print_summary(label, outcome)
        outcomes.append(outcome)
        if not outcome.success:
            break
    not_run = partitions[len(outcomes) :]
    if not_run:
        console.print(f"[red]Stopped[/]: {len(not_run)} partitions not run ({', '.join(not_run)})")
    return outcomes


def run_with_progress(
    job: dg.JobDefinition, partition: str | None, instance: dg.DagsterInstance, verbose: bool
) -> RunOutcome:
    """Executes one run; the instance calls back with each event as it is stored."""
    outcome = RunOutcome(partition=partition, run_id=str(uuid.uuid4()))
    with live_progress() as display:
        instance.add_event_listener(outcome.run_id, lambda entry: display.handle(entry, outcome))
        result = job.execute_in_process(
            run_config={"loggers": {"console": {"config": {"log_level": log_level(verbose)}}}},
            partition_key=partition,
            instance=instance,
            run_id=outcome.run_id,
            raise_on_error=False,
        )
    outcome.success = result.success
    return outcome


def log_level(verbose: bool) -> str:
    return "DEBUG" if verbose else "WARNING"


class RunDisplay:
    """A line per asset as it lands, plus a live bar of done/running/failed on a terminal."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task = progress.add_task("starting", total=None, running="")
        self.running: set[str] = set()

    def handle(self, entry: dg.EventLogEntry, outcome: RunOutcome) -> None:
        event = entry.dagster_event
        if event is None:
            return
        if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED:
            outcome.planned[event.asset_key] = event.step_key
        elif event.event_type == dg.DagsterEventType.STEP_START:
            self.running.add(event.step_key)
        elif event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
            self.record_materialization(event, outcome)
        elif event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            self.record_check(event.asset_check_evaluation_data, outcome)
        elif event.event_type == dg.DagsterEventType.RUN_FAILURE:
            self.progress.console.print(f"[red]failed[/]  run: {event.message}")
        elif event.event_type in (
            dg.DagsterEventType.STEP_SUCCESS,
            dg.DagsterEventType.STEP_FAILURE,
        ):
            self.running.discard(event.step_key)
            if event.is_step_failure:
                self.record_failure(event, outcome)
        self.refresh(outcome)

    def record_materialization(self, event: dg.DagsterEvent, outcome: RunOutcome) -> None:
        materialization = event.step_materialization_data.materialization
        summary = materialization_summary(materialization.metadata)
        outcome.materialized[materialization.asset_key] = summary
        rows = f"{summary['rows']} rows" if summary["rows"] is not None else ""
        self.progress.console.print(
            f"[green]done[/]    {materialization.asset_key.to_user_string()}  {rows}"
        )

    def record_check(self, evaluation: dg.AssetCheckEvaluation, outcome: RunOutcome) -> None:
        outcome.checks.setdefault(evaluation.asset_key, []).append(evaluation)
        if not evaluation.passed:
            self.progress.console.print(
                f"[yellow]check[/]   {evaluation.asset_key.to_user_string()} "
                f"{evaluation.check_name} failed ({evaluation.severity.value})"
            )

    def record_failure(self, event: dg.DagsterEvent, outcome: RunOutcome) -> None:
        error = event.step_failure_data.error
        message = error.message.strip().splitlines()[0] if error else "failed"
        outcome.failed_steps[event.step_key] = message
        self.progress.console.print(f"[red]failed[/]  {event.step_key}: {message}")

    def refresh(self, outcome: RunOutcome) -> None:
        failed = len(outcome.failed_assets())
        self.progress.update(
            self.task,
            total=len(outcome.planned) or None,
            completed=len(outcome.materialized),
            description=f"assets ([red]{failed} failed[/])" if failed else "assets",
            running=", ".join(
                key.to_user_string()
                for key, step in outcome.planned.items()
                if step in self.running
            ),
        )


@contextmanager
def live_progress() -> Iterator[RunDisplay]:
    """The live bar only on a terminal: in CI and pipes the per-asset lines are enough."""
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("[cyan]{task.fields[running]}"),
        console=console,
        disable=not console.is_terminal,
    )
    with progress:
        yield RunDisplay(progress)


def materialization_summary(metadata: dict[str, dg.MetadataValue]) -> dict[str, object]:
    rows = metadata.get("dagster/row_count")
    path = metadata.get("path")
    return {
        "rows": rows.value if rows else None,
        "path": _relative(str(path.value)) if path else None,
    }


def run_exit_code(outcomes: list[RunOutcome]) -> int:
    if not all(outcome.success for outcome in outcomes):
        return EXIT_RUN_FAILED
    if any(outcome.failed_error_checks for outcome in outcomes):
        return EXIT_ERROR_CHECK_FAILED
    return EXIT_OK


def record_run_in_catalog(datahub: DataHubSink, instance: dg.DagsterInstance, run_id: str) -> None:
    """What the run-status sensors do under the daemon, for a run made without one."""
    run = finished_run(instance, instance.get_run_by_id(run_id))
    delivery = datahub.emit(run_mcps(run, datahub.naming))
    console.print(f"Catalog: run recorded in DataHub ({datahub.kind.value}: {delivery.status})")


def print_summary(label: str, outcome: RunOutcome) -> None:
    status = "[green]succeeded[/]" if outcome.success else "[red]FAILED[/]"
    title = f"{label} {outcome.partition or ''} {status}".replace("  ", " ")
    table = Table(title=title)
    for column in ("asset", "rows", "path", "checks"):
        table.add_column(column, justify="right" if column == "rows" else "left", overflow="fold")
    # In the order they were written, then the ones that were not.
    for key in [
        *outcome.materialized,
        *(k for k in outcome.planned if k not in outcome.materialized),
    ]:
        written = outcome.materialized.get(key)
        rows = written["rows"] if written else None
        where = (
            written["path"]
            if written
            else ("[red]failed[/]" if key in outcome.failed_assets() else "not run")
        )
        table.add_row(
            key.to_user_string(),
            "-" if rows is None else str(rows),
            where or "-",
            checks_cell(outcome.checks.get(key, [])),
        )
    console.print(table)
    console.print(f"Run {outcome.run_id} {status}: browse it with [bold]make dev[/].")


def checks_cell(evaluations: list[dg.AssetCheckEvaluation]) -> str:
    if not evaluations:
        return "-"
    failed = [e for e in evaluations if not e.passed]
    cell = f"{len(evaluations) - len(failed)}/{len(evaluations)} passed"
    for evaluation in failed:
        colour = "red" if evaluation.severity == dg.AssetCheckSeverity.ERROR else "yellow"
        cell += f"\n[{colour}]{evaluation.check_name} ({evaluation.severity.value})[/]"
    return cell


def _relative(path: str) -> str:
    return os.path.relpath(path) if path.startswith(str(Path.cwd())) else path


# --- status ----------------------------------------------------------------------------------


def status_command(args: argparse.Namespace) -> int:
    graph = definitions.defs().resolve_asset_graph()
    keys = selected_assets(args.select) if args.select else graph.get_all_asset_keys()
    with local_instance() as instance:
        report = [asset_status(graph, instance, key) for key in sort_by_group(graph, keys)]
    if args.json:
        sys.stdout.write(json.dumps({"assets": report}, indent=2) + "\n")
    else:
        print_status(report)
    failed = any(
        check["status"] == "failed" and check["severity"] == "ERROR"
        for asset in report
        for check in asset["checks"]
    )
    return EXIT_ERROR_CHECK_FAILED if failed else EXIT_OK


def sort_by_group(graph: AssetGraph, keys: set[dg.AssetKey]) -> list[dg.AssetKey]:
    """Upstream groups first, as the asset graph reads; keys sorted within a group."""
    order = list(dict.fromkeys(graph.get(key).group_name for key in graph.toposorted_asset_keys))
    return sorted(keys, key=lambda key: (order.index(graph.get(key).group_name), key.path))


def asset_status(
    graph: AssetGraph, instance: dg.DagsterInstance, key: dg.AssetKey
) -> dict[str, object]:
    node = graph.get(key)
    check_keys = sorted(node.check_keys, key=lambda check_key: check_key.name)
    records = instance.event_log_storage.get_latest_asset_check_execution_by_key(check_keys)
    return {
        "asset": key.to_user_string(),
        "group": node.group_name,
        "last_materialization": last_materialization(instance, key),
        "checks": [check_status(check_key, records.get(check_key)) for check_key in check_keys],
    }


def last_materialization(instance: dg.DagsterInstance, key: dg.AssetKey) -> dict | None:
    entry = instance.get_latest_materialization_event(key)
    if entry is None:
        return None
    summary = materialization_summary(entry.asset_materialization.metadata)
    return {
        "time": _iso(entry.timestamp),
        "partition": entry.dagster_event.partition,
        "run_id": entry.run_id,
        **summary,
    }


def check_status(
    check_key: dg.AssetCheckKey, record: AssetCheckExecutionRecord | None
) -> dict[str, object]:
    evaluation = record.evaluation if record and record.event else None
    if record is None:
        status = "never run"
    elif isinstance(evaluation, dg.AssetCheckEvaluation):
        status = "passed" if evaluation.passed else "failed"
    else:
        status = "not evaluated"  # planned, but its run failed or is still going
    return {
        "name": check_key.name,
        "status": status,
        "severity": evaluation.severity.value if status in ("passed", "failed") else None,
        "time": _iso(record.create_timestamp) if record else None,
        "run_id": record.run_id if record else None,
    }


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


def print_status(report: list[dict]) -> None:
    table = Table(title="Asset status")
    for column in ("asset", "group", "materialised", "partition", "rows", "checks"):
        table.add_column(column, justify="right" if column == "rows" else "left", overflow="fold")
    for asset in report:
        last = asset["last_materialization"] or {}
        table.add_row(
            asset["asset"],
            asset["group"],
            last.get("time", "[dim]never[/]"),
            last.get("partition") or "-",
            "-" if last.get("rows") is None else str(last["rows"]),
            status_checks_cell(asset["checks"]),
        )
    console.print(table)


def status_checks_cell(checks: list[dict]) -> str:
    if not checks:
        return "-"
    passed = sum(check["status"] == "passed" for check in checks)
    cell = f"{passed}/{len(checks)} passed"
    for check in checks:
        if check["status"] == "failed":
            colour = "red" if check["severity"] == "ERROR" else "yellow"
            cell += f"\n[{colour}]{check['name']} ({check['severity']})[/]"
        elif check["status"] != "passed":
            cell += f"\n[dim]{check['name']} {check['status']}[/]"
    return cell


# --- list ------------------------------------------------------------------------------------


def list_command(args: argparse.Namespace) -> int:
    inventory = code_location_inventory(definitions.defs())
    if args.json:
        sys.stdout.write(json.dumps(inventory, indent=2) + "\n")
        return EXIT_OK
    for section, rows in inventory.items():
        table = Table(title=section)
        for column in rows[0] if rows else ["name"]:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*(_cell(value) for value in row.values()))
        console.print(table)
    return EXIT_OK


def code_location_inventory(defs: dg.Definitions) -> dict[str, list[dict[str, object]]]:
    graph = defs.resolve_asset_graph()
    return {
        "assets": [
            {
                "asset": key.to_user_string(),
                "group": graph.get(key).group_name,
                "partitions": partitions_kind(graph.get(key).partitions_def),
                "checks": sorted(check_key.name for check_key in graph.get(key).check_keys),
            }
            for key in sort_by_group(graph, graph.get_all_asset_keys())
        ],
        "jobs": [
            {"job": job.name, "description": job.description or ""}
            for job in sorted(defs.resolve_all_job_defs(), key=lambda job: job.name)
            if not job.name.startswith("__")  # Dagster's implicit all-assets job
        ],
        "schedules": [
            {
                "schedule": schedule.name,
                "cron": schedule.cron_schedule,
                "timezone": schedule.execution_timezone or "UTC",
                "job": schedule.job_name,
                "default": schedule.default_status.value,
            }
            for schedule in defs.schedules or []
        ],
        "sensors": [
            {"sensor": sensor.name, "default": sensor.default_status.value}
            for sensor in defs.sensors or []
        ],
    }


def partitions_kind(partitions: dg.PartitionsDefinition | None) -> str:
    if partitions is None:
        return "-"
    return type(partitions).__name__.removesuffix("PartitionsDefinition").lower()


def _cell(value: object) -> str:
    return ", ".join(value) if isinstance(value, list) else str(value)


# --- shared ----------------------------------------------------------------------------------


def replay_lineage() -> int:
    datahub = datahub_sink(PlatformSettings.from_environment())
    try:
        sent = datahub.replay()
    except CatalogDeliveryError as error:
        console.print(f"[red]{error}[/]")
        return EXIT_RUN_FAILED
    console.print(f"Replayed {sent} spooled batches to DataHub ({datahub.kind.value}).")
    return EXIT_OK


def demo_api_config(listens_per_day: int) -> DemoApiConfig:
    return DemoApiConfig.scaled(listens_per_day, start_date=CALENDAR.start_date)


def local_instance() -> dg.DagsterInstance:
    """The embedded default: a SQLite instance in DAGSTER_HOME (./.dagster_home)."""
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(Path.cwd() / ".dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    settings = home / "dagster.yaml"
    if not settings.exists():
        settings.write_text("telemetry:\n  enabled: false\n")
    return dg.DagsterInstance.get()


if __name__ == "__main__":
    sys.exit(main())
