"""The mart in a DuckDB file: a day's rows are read straight from Arrow, without a copy.

Arrow is handed to DuckDB as a stream of batches of a row group each: DuckDB then inserts the
batches in parallel and writes each full row group to the file as it goes, where one large
batch is inserted by one thread and compressed at the commit's checkpoint (about 3x longer for
a 1,000,000-listens day, measured in `bench/bench_mart.py`).
"""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import duckdb
import pyarrow as pa

from dataplatform.mart.schema import DUCKDB, column_list, quoted
from dataplatform.mart.tables import DAY, MartTable

SCHEMA = "main"
ROW_GROUP_ROWS = 122_880  # DuckDB's default row group size


class DuckDBMart:
    """A `MartConnection` over an open DuckDB connection."""

    dialect = DUCKDB

    def __init__(self, connection: duckdb.DuckDBPyConnection, location: str) -> None:
        self.connection = connection
        self.location = location
        self.schema_name = SCHEMA
        # Timestamps are shown (and compared as text) in UTC, whatever the machine's zone.
        connection.execute("SET TimeZone = 'UTC'")

    def execute(self, sql: str) -> None:
        self.connection.execute(sql)

    def change(self, sql: str) -> int:
        """Runs an INSERT, UPDATE or DELETE; the number of rows it changed."""
        (changed,) = self.connection.execute(sql).fetchone() or (0,)
        return int(changed)

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        return self.connection.execute(sql).fetchall()

    def select(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """The column names and rows of a query."""
        result = self.connection.execute(sql)
        return [column[0] for column in result.description or []], result.fetchall()

    def stage(self, name: str, rows: pa.Table, types: Mapping[str, str]) -> None:
        self.connection.register(name, rows)

    def unstage(self, name: str) -> None:
        self.connection.unregister(name)

    def replace_facts(self, table: MartTable, rows: pa.Table, day: str) -> int:
        """Deletes the day's rows (zone maps on `day` skip the other days' row groups) and
        inserts the new ones from Arrow; the number of rows deleted."""
        target = quoted(SCHEMA, table.name)
        removed = self.change(f"DELETE FROM {target} WHERE {quoted(DAY)} = DATE '{day}'")
        self.insert(target, rows)
        return removed

    def replace_all(self, table: MartTable, rows: pa.Table) -> None:
        target = quoted(SCHEMA, table.name)
        self.execute(f"DELETE FROM {target}")
        self.insert(target, rows)

    def insert(self, target: str, rows: pa.Table) -> None:
        stage = "_mart_incoming"
        self.connection.register(stage, in_row_groups(rows))
        try:
            columns = column_list(rows.column_names)
            self.execute(f"INSERT INTO {target} ({columns}) SELECT {columns} FROM {stage}")
        finally:
            self.connection.unregister(stage)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.connection.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        self.connection.execute("COMMIT")


def in_row_groups(rows: pa.Table) -> pa.RecordBatchReader:
    """The rows as a stream of row-group-sized batches (read once)."""
    return rows.to_reader(max_chunksize=ROW_GROUP_ROWS)
