"""The table that ends each run: every asset written or not, its rows, path and checks, then
each trained model's promotion decision."""

import dagster as dg
from rich.markup import escape
from rich.table import Table

from dataplatform.cli import output
from dataplatform.cli.progress import RunOutcome


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
        where = written["path"] if written else why_not_written(outcome, key)
        table.add_row(
            key.to_user_string(),
            "-" if rows is None else str(rows),
            where or "-",
            checks_cell(outcome.checks.get(key, [])),
        )
    output.console.print(table)
    for key, written in outcome.materialized.items():
        if written["decision"]:
            output.console.print(f"{key.to_user_string()}: {escape(written['decision'])}")
    output.console.print(f"Run {outcome.run_id} {status}: browse it with [bold]make dev[/].")


def why_not_written(outcome: RunOutcome, key: dg.AssetKey) -> str:
    reason = escape(outcome.why_not_written(key))
    return f"[red]{reason}[/]" if key in outcome.failed_assets() else reason


def checks_cell(evaluations: list[dg.AssetCheckEvaluation]) -> str:
    if not evaluations:
        return "-"
    failed = [e for e in evaluations if not e.passed]
    cell = f"{len(evaluations) - len(failed)}/{len(evaluations)} passed"
    for evaluation in failed:
        colour = "red" if evaluation.severity == dg.AssetCheckSeverity.ERROR else "yellow"
        cell += f"\n[{colour}]{evaluation.check_name} ({evaluation.severity.value})[/]"
    return cell
