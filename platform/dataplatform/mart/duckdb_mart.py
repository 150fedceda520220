"""The mart in a DuckDB file: a day's rows are inserted from Arrow, as one chunk per column.

One chunk is appended in order by one thread, in full row groups written to the file as they
fill, so the commit's checkpoint has nothing left to compress. Several chunks (the batches a
Parquet file is read in) are inserted in parallel into partial row groups, which the checkpoint
then merges and compresses again: for a 1,000,000-listens day on DuckDB 2.0, 1.4-2.6 s of
checkpoint against 0.02 s, and a file a third larger (`bench/bench_mart.py`).
"""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import duckdb
import pyarrow as pa

from dataplatform.mart.schema import DUCKDB, column_list, quoted
from dataplatform.mart.tables import DAY, MartTable

SCHEMA = "main"


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
        self.connection.register(stage, rows.combine_chunks())
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
