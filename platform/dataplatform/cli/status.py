"""`dataplatform status`: each asset's last materialisation and the latest result of its checks."""

import argparse
import json
import sys
from typing import TYPE_CHECKING, TypedDict

import dagster as dg
from rich.table import Table

from dataplatform import definitions
from dataplatform.cli import output
from dataplatform.cli.errors import EXIT_ERROR_CHECK_FAILED, EXIT_OK
from dataplatform.cli.instance import local_instance
from dataplatform.cli.progress import materialization_summary
from dataplatform.cli.selection import selected_assets, sort_by_group

if TYPE_CHECKING:  # types only: Dagster exports no public name for either
    from dagster._core.definitions.assets.graph.asset_graph import AssetGraph
    from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecord


class CheckStatus(TypedDict):
    name: str
    status: str  # passed, failed, never run or not evaluated
    severity: str | None
    time: str | None
    run_id: str | None


class AssetStatus(TypedDict):
    asset: str
    group: str
    last_materialization: dict | None
    checks: list[CheckStatus]


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


def asset_status(
    graph: "AssetGraph", instance: dg.DagsterInstance, key: dg.AssetKey
) -> AssetStatus:
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
    materialization = entry.asset_materialization
    assert materialization is not None  # the entry is a materialisation event
    summary = materialization_summary(materialization.metadata)
    return {
        "time": output.iso(entry.timestamp),
        "partition": materialization.partition,
        "run_id": entry.run_id,
        **summary,
    }


def check_status(
    check_key: dg.AssetCheckKey, record: "AssetCheckExecutionRecord | None"
) -> CheckStatus:
    evaluation = record.evaluation if record and record.event else None
    severity = None
    if record is None:
        status = "never run"
    elif isinstance(evaluation, dg.AssetCheckEvaluation):
        status = "passed" if evaluation.passed else "failed"
        severity = evaluation.severity.value
    else:
        status = "not evaluated"  # planned, but its run failed or is still going
    return {
        "name": check_key.name,
        "status": status,
        "severity": severity,
        "time": output.iso(record.create_timestamp) if record else None,
        "run_id": record.run_id if record else None,
    }


def print_status(report: list[AssetStatus]) -> None:
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
    output.console.print(table)


def status_checks_cell(checks: list[CheckStatus]) -> str:
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
