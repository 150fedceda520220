"""The `dataplatform` command: run the daily refresh for a day and summarise what it wrote."""

import argparse
import os
import sys
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
from rich.console import Console
from rich.table import Table

from dataplatform import definitions
from dataplatform.catalog.runs import finished_run
from dataplatform.demo_api import DemoApiConfig, DemoApiServer
from dataplatform.lineage.metadata import run_mcps
from dataplatform.partitions import PARTITIONS_START_DATE
from dataplatform.resources.datahub import CatalogDeliveryError, DataHubSink

console = Console()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dataplatform", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="materialise one daily partition of a job")
    run.add_argument("--partition", help="YYYY-MM-DD (default: yesterday, as the schedule)")
    run.add_argument("--job", default="daily_refresh")
    run.add_argument(
        "--demo-api",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="serve the bundled demo API on a free port (default: unless DATAPLATFORM_API_URL)",
    )
    run.add_argument("--listens-per-day", type=int, default=5_000, help="demo API volume")
    run.add_argument("--verbose", action="store_true", help="print every Dagster event")
    commands.add_parser("replay-lineage", help="send spooled catalog metadata to DataHub")
    args = parser.parse_args(argv)
    return run_partition(args) if args.command == "run" else replay_lineage()


def run_partition(args: argparse.Namespace) -> int:
    partition = args.partition or (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    use_demo_api = args.demo_api
    if use_demo_api is None:
        use_demo_api = "DATAPLATFORM_API_URL" not in os.environ
    with ExitStack() as stack:
        if use_demo_api:
            server = stack.enter_context(DemoApiServer(demo_api_config(args.listens_per_day)))
            os.environ["DATAPLATFORM_API_URL"] = server.url
            console.print(f"Demo source API serving at {server.url}")
        instance = stack.enter_context(local_instance())
        console.print(f"Materialising [bold]{args.job}[/] for partition [bold]{partition}[/] ...")
        log_level = "DEBUG" if args.verbose else "WARNING"
        result = definitions.defs.resolve_job_def(args.job).execute_in_process(
            run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
            partition_key=partition,
            instance=instance,
            # Built now, not at import: DATAPLATFORM_API_URL may have been set just above.
            resources=definitions.resources(),
            raise_on_error=False,
        )
        record_run_in_catalog(definitions.datahub_sink(), instance, result.run_id)
        print_summary(result, partition)
    return 0 if result.success else 1


def record_run_in_catalog(datahub: DataHubSink, instance: dg.DagsterInstance, run_id: str) -> None:
    """What the run-status sensors do under the daemon, for a run made without one."""
    run = finished_run(instance, instance.get_run_by_id(run_id))
    delivery = datahub.emit(run_mcps(run, datahub.naming))
    console.print(f"Catalog: run recorded in DataHub ({datahub.kind.value}: {delivery.status})")


def replay_lineage() -> int:
    datahub = definitions.datahub_sink()
    try:
        sent = datahub.replay()
    except CatalogDeliveryError as error:
        console.print(f"[red]{error}[/]")
        return 1
    console.print(f"Replayed {sent} spooled batches to DataHub ({datahub.kind.value}).")
    return 0


def demo_api_config(listens_per_day: int) -> DemoApiConfig:
    return DemoApiConfig.scaled(
        listens_per_day, start_date=date.fromisoformat(PARTITIONS_START_DATE)
    )


def local_instance() -> dg.DagsterInstance:
    """The embedded default: a SQLite instance in DAGSTER_HOME (./.dagster_home)."""
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(Path.cwd() / ".dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    settings = home / "dagster.yaml"
    if not settings.exists():
        settings.write_text("telemetry:\n  enabled: false\n")
    console.print(f"Dagster instance: {home}")
    return dg.DagsterInstance.get()


def print_summary(result: dg.ExecuteInProcessResult, partition: str) -> None:
    table = Table(title=f"Materialised for {partition}")
    table.add_column("asset")
    table.add_column("rows", justify="right")
    table.add_column("where", overflow="fold")
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        metadata = materialization.metadata
        rows = metadata.get("dagster/row_count")
        path = metadata.get("path")
        table.add_row(
            materialization.asset_key.to_user_string(),
            str(rows.value) if rows else "-",
            _relative(str(path.value)) if path else "-",
        )
    console.print(table)
    print_failed_checks(result)
    status = "[green]succeeded[/]" if result.success else "[red]FAILED[/]"
    console.print(f"Run {result.run_id} {status}.")
    console.print("Open the UI with [bold]make dev[/] and browse to http://127.0.0.1:3000")


def _relative(path: str) -> str:
    return os.path.relpath(path) if path.startswith(str(Path.cwd())) else path


def print_failed_checks(result: dg.ExecuteInProcessResult) -> None:
    evaluations = [
        event.asset_check_evaluation_data
        for event in result.all_events
        if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ]
    failed = [e for e in evaluations if not e.passed]
    console.print(f"Checks: {len(evaluations) - len(failed)} passed, {len(failed)} failed")
    for evaluation in failed:
        console.print(
            f"  [yellow]{evaluation.severity.value}[/] {evaluation.asset_key.to_user_string()}"
            f" {evaluation.check_name}"
        )


if __name__ == "__main__":
    sys.exit(main())
