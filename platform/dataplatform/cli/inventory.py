"""`dataplatform list`: assets with groups, partitions and checks; jobs; schedules; sensors."""

import argparse
import json
import sys
from collections.abc import Iterator

import dagster as dg
from rich.table import Table

from dataplatform import definitions
from dataplatform.cli import output
from dataplatform.cli.errors import EXIT_OK
from dataplatform.cli.selection import sort_by_group


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
        output.console.print(table)
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
            for schedule in schedule_definitions(defs)
        ],
        "sensors": [
            {"sensor": sensor.name, "default": sensor.default_status.value}
            for sensor in defs.sensors or []
        ],
    }


def schedule_definitions(defs: dg.Definitions) -> Iterator[dg.ScheduleDefinition]:
    for schedule in defs.schedules or []:
        # Each is declared with its cron; none is built from a partitioned asset job.
        assert isinstance(schedule, dg.ScheduleDefinition)
        yield schedule


def partitions_kind(partitions: dg.PartitionsDefinition | None) -> str:
    if partitions is None:
        return "-"
    return type(partitions).__name__.removesuffix("PartitionsDefinition").lower()


def _cell(value: object) -> str:
    return ", ".join(value) if isinstance(value, list) else str(value)
