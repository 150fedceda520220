"""The mart in PostgreSQL: a day's rows are loaded with COPY (CSV from Arrow), not row inserts.

A fact table is partitioned by day, and a day is replaced by loading a new table, which builds
its indexes once over the loaded rows, and swapping it in for the day's partition: the work is
the day's, however long the history.
"""

import io
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import psycopg2
import psycopg2.extensions
import pyarrow as pa
import pyarrow.csv as pa_csv

from dataplatform.mart.schema import POSTGRES, column_list, quoted
from dataplatform.mart.tables import MartTable

# Strings are quoted and nulls left empty, so COPY tells an empty string from a null.
CSV_OPTIONS = pa_csv.WriteOptions(include_header=False, quoting_style="needed")


# For the day's transaction only. The type-2 statements' estimates over unanalysed temporary
# tables are large enough for PostgreSQL to JIT-compile each, which took 1.1-1.2 s a statement
# (EXPLAIN ANALYZE, a 110,000-user day); their sorts spilled to disk at the default 4 MB, and
# a day's partition builds its indexes over 1,000,000 rows when it is attached.
LOAD_SETTINGS = ("jit = off", "work_mem = '128MB'", "maintenance_work_mem = '256MB'")


class MartConnectionLostError(ConnectionError):
    """The server went away (or ended the session) before the day's transaction committed."""


class PostgresMart:
    """A `MartConnection` over an open psycopg2 connection, in schema `schema_name`."""

    dialect = POSTGRES

    def __init__(
        self, connection: psycopg2.extensions.connection, schema_name: str, location: str
    ) -> None:
        self.connection = connection
        self.schema_name = schema_name
        self.location = location

    def execute(self, sql: str) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute(sql)

    def change(self, sql: str) -> int:
        """Runs an INSERT, UPDATE or DELETE; the number of rows it changed."""
        with self.connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.rowcount

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        with self.connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()

    def select(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """The column names and rows of a query."""
        with self.connection.cursor() as cursor:
            cursor.execute(sql)
            columns = [column.name for column in cursor.description or []]
            return columns, cursor.fetchall() if cursor.description else []

    def stage(self, name: str, rows: pa.Table, types: Mapping[str, str]) -> None:
        columns = ", ".join(f"{quoted(c)} {self.dialect.ddl(t)}" for c, t in types.items())
        self.execute(f"CREATE TEMPORARY TABLE {quoted(name)} ({columns}) ON COMMIT DROP")
        self.copy(quoted(name), rows)

    def unstage(self, name: str) -> None:
        self.execute(f"DROP TABLE IF EXISTS {quoted(name)}")

    def replace_facts(self, table: MartTable, rows: pa.Table, day: str) -> int:
        """Loads the day into a table of its own, then swaps it in as the day's partition
        (attaching builds the partitioned indexes on it); the number of rows replaced."""
        partition = f"{table.name}__{day.replace('-', '_')}"
        incoming = f"{partition}__incoming"
        parent = quoted(self.schema_name, table.name)
        self.execute(f"CREATE TABLE {quoted(self.schema_name, incoming)} (LIKE {parent})")
        self.copy(quoted(self.schema_name, incoming), rows)
        (exists,) = self.query(f"SELECT to_regclass('{quoted(self.schema_name, partition)}')")[0]
        removed = 0
        if exists:
            (removed,) = self.query(f"SELECT count(*) FROM {quoted(self.schema_name, partition)}")[
                0
            ]
            self.execute(f"DROP TABLE {quoted(self.schema_name, partition)}")
        self.execute(
            f"ALTER TABLE {quoted(self.schema_name, incoming)} RENAME TO {quoted(partition)}"
        )
        self.execute(
            f"ALTER TABLE {parent} ATTACH PARTITION {quoted(self.schema_name, partition)}"
            f" FOR VALUES IN ('{day}')"
        )
        return int(removed)

    def replace_all(self, table: MartTable, rows: pa.Table) -> None:
        """Truncated and loaded by COPY: no dead rows left, nor a copy through a temporary
        table (TRUNCATE holds the table until the day commits, as swapping it would)."""
        target = quoted(self.schema_name, table.name)
        self.execute(f"TRUNCATE {target}")
        self.copy(target, rows)

    def copy(self, relation: str, rows: pa.Table) -> None:
        buffer = io.BytesIO()
        pa_csv.write_csv(utc_without_zone(rows), buffer, CSV_OPTIONS)
        buffer.seek(0)
        with self.connection.cursor() as cursor:
            cursor.copy_expert(
                f"COPY {relation} ({column_list(rows.column_names)}) FROM STDIN WITH (FORMAT csv)",
                buffer,
            )

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """psycopg2 opens a transaction at the first statement; the schema is created in it.
        The session's zone is UTC, as the CSV's timestamps are written in UTC."""
        try:
            self.execute("SET LOCAL TimeZone = 'UTC'")
            for setting in LOAD_SETTINGS:
                self.execute(f"SET LOCAL {setting}")
            self.execute(f"CREATE SCHEMA IF NOT EXISTS {quoted(self.schema_name)}")
            yield
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as error:
            if not self.connection.closed:
                self.connection.rollback()
                raise
            # The server rolls back a transaction whose session ends before its commit.
            raise MartConnectionLostError(
                f"PostgreSQL mart {self.location}: the connection was lost before the day"
                f" was committed ({str(error).strip()}); nothing of it was published."
                " Publish the day again once the server is back."
            ) from error
        except BaseException:
            self.connection.rollback()
            raise
        self.connection.commit()


def utc_without_zone(rows: pa.Table) -> pa.Table:
    """Zoned timestamps as their UTC wall time: Arrow writes those as CSV ~25x faster."""
    for index, field in enumerate(rows.schema):
        if pa.types.is_timestamp(field.type) and field.type.tz:  # pyright: ignore[reportAttributeAccessIssue]
            unit = field.type.unit  # pyright: ignore[reportAttributeAccessIssue]
            rows = rows.set_column(index, field.name, rows.column(index).cast(pa.timestamp(unit)))
    return rows
