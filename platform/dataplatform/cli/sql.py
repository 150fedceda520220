"""`dataplatform sql`: one read-only query against the data mart, printed as a table."""

import argparse
import csv
import sys
from pathlib import Path
from typing import Any

from rich.table import Table

from dataplatform.cli import output
from dataplatform.cli.errors import EXIT_OK, UsageError
from dataplatform.mart.connection import connect
from dataplatform.settings import PlatformSettings

EXAMPLE = (
    'example: dataplatform sql "SELECT genre, count(*) AS listens FROM listens'
    ' JOIN tracks_current USING (track_id) GROUP BY genre ORDER BY listens DESC"'
)


def add_sql_parser(commands: argparse._SubParsersAction) -> None:
    sql = commands.add_parser(
        "sql",
        help="query the data mart (DuckDB file, or PostgreSQL when configured)",
        description=(
            "Run one read-only SQL query against the data mart (DATAPLATFORM_MART_URL; default"
            " data/mart.duckdb) and print its rows. Tables: users, tracks (every version) and"
            " users_current, tracks_current; listens, reviews; user_entities, user_golden;"
            " recommendations, sentiment_predictions; mart_publications. See docs/mart.md."
        ),
        epilog=EXAMPLE,
    )
    sql.add_argument("query", help="one SQL statement")
    sql.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    sql.set_defaults(handler=sql_command)


def sql_command(args: argparse.Namespace) -> int:
    target = PlatformSettings.from_environment().mart
    if not target.is_postgres and not Path(target.duckdb_path).exists():
        raise UsageError(
            f"no data mart at {target.duckdb_path} yet: run the daily refresh"
            " (`dataplatform run`) to publish a day"
        )
    with connect(target, read_only=True) as mart:
        columns, rows = mart.select(args.query)
    if args.csv:
        print_csv(columns, rows)
    else:
        print_table(columns, rows)
    return EXIT_OK


def print_table(columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    table = Table(*columns, show_edge=False)
    for row in rows:
        table.add_row(*(shown(value) for value in row))
    output.console.print(table)
    output.console.print(f"{len(rows)} row{'s' * (len(rows) != 1)}")


def print_csv(columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    writer = csv.writer(sys.stdout)
    writer.writerow(columns)
    writer.writerows(rows)


def shown(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
