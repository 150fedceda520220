"""Publishing a day into the mart: every table of the day in one transaction, idempotently.

The SQL here is shared by DuckDB and PostgreSQL; a `MartConnection` supplies what differs (how
rows are loaded, which types and names a database uses). A day's rows replace what that day
published before, so publishing a day again gives the same tables, and a reader sees the day
either wholly before or wholly after: a failure anywhere rolls the whole day back.
"""

import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

import pyarrow as pa

from dataplatform.mart.schema import (
    Dialect,
    column_list,
    column_types,
    comments,
    create_table,
    evolve,
    literal,
    quoted,
)
from dataplatform.mart.tables import (
    AS_OF,
    DAY,
    IS_CURRENT,
    PUBLICATIONS,
    VALID_FROM,
    VALID_TO,
    Kind,
    MartTable,
)


class MartConnection(Protocol):
    dialect: Dialect
    schema_name: str
    location: str  # where the mart is, without credentials (for metadata and messages)

    def execute(self, sql: str) -> None: ...

    def change(self, sql: str) -> int:
        """Runs an INSERT, UPDATE or DELETE; the number of rows it changed."""
        ...

    def query(self, sql: str) -> list[tuple[Any, ...]]: ...

    def select(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]: ...

    def stage(self, name: str, rows: pa.Table, types: Mapping[str, str]) -> None:
        """Make `rows` readable as the temporary relation `name` inside the transaction."""
        ...

    def unstage(self, name: str) -> None: ...

    def replace_facts(self, table: MartTable, rows: pa.Table, day: str) -> int:
        """Replaces the fact table's rows of `day` with `rows`; the number of rows replaced."""
        ...

    def replace_all(self, table: MartTable, rows: pa.Table) -> None:
        """Replaces every row of the table with `rows` (a snapshot's new day)."""
        ...

    def transaction(self) -> AbstractContextManager[None]: ...


@dataclass(frozen=True)
class PublishedTable:
    name: str
    day_rows: int  # the rows the day published (0 for a snapshot older than the table's)
    total_rows: int
    replaced: bool  # False when a snapshot of a later day was kept


@dataclass(frozen=True)
class PublishedDay:
    day: str
    location: str
    tables: tuple[PublishedTable, ...]
    seconds: float


def publish_day(
    connection: MartConnection, day: str, rows_by_table: Mapping[MartTable, pa.Table | None]
) -> PublishedDay:
    """Publishes each table's rows of `day` (None: nothing that day, left as it is), all in
    one transaction."""
    date.fromisoformat(day)  # the day is written into SQL as a literal: it must be a date
    started = time.perf_counter()
    with connection.transaction():
        ensure_publications(connection)
        published = tuple(
            publish_table(connection, table, rows, day)
            for table, rows in rows_by_table.items()
            if rows is not None
        )
        for table in published:
            record_publication(connection, table, day)
    return PublishedDay(day, connection.location, published, time.perf_counter() - started)


def publish_table(
    connection: MartConnection, table: MartTable, rows: pa.Table, day: str
) -> PublishedTable:
    created = prepare_table(connection, table, rows.schema)
    before = 0 if created else rows_before(connection, table)
    if table.kind is Kind.FACT:
        removed = connection.replace_facts(table, rows, day)
        return PublishedTable(table.name, rows.num_rows, before - removed + rows.num_rows, True)
    if table.kind is Kind.SNAPSHOT:
        if not replace_snapshot(connection, table, rows, day):
            return PublishedTable(table.name, 0, before, False)
        return PublishedTable(table.name, rows.num_rows, rows.num_rows, True)
    target = quoted(connection.schema_name, table.name)
    stage = f"_mart_incoming_{table.name}"
    connection.stage(stage, rows, column_types(table, rows.schema))
    try:
        removed, added = add_versions(connection, table, target, stage, rows.column_names, day)
    finally:
        connection.unstage(stage)
    return PublishedTable(table.name, added, before - removed + added, True)


def rows_before(connection: MartConnection, table: MartTable) -> int:
    """The table's rows before the day, as its last publication recorded them: counting a
    large table would cost more than the day's work (a table never recorded is counted)."""
    recorded = connection.query(
        f"SELECT total_rows FROM {quoted(connection.schema_name, PUBLICATIONS)}"
        f" WHERE table_name = '{table.name}' ORDER BY published_at DESC, {quoted(DAY)} DESC"
        " LIMIT 1"
    )
    if recorded:
        return int(recorded[0][0])
    (total,) = connection.query(
        f"SELECT count(*) FROM {quoted(connection.schema_name, table.name)}"
    )[0]
    return int(total)


def prepare_table(connection: MartConnection, table: MartTable, schema: pa.Schema) -> bool:
    """Creates the table (keys, indexes, current view) or adds the day's new columns; whether
    the table was created."""
    incoming = column_types(table, schema)
    existing = existing_columns(connection, table.name)
    if existing:
        statements = evolve(connection.dialect, connection.schema_name, table, existing, incoming)
    else:
        statements = list(create_table(connection.dialect, connection.schema_name, table, incoming))
        statements.append(
            f"COMMENT ON TABLE {quoted(connection.schema_name, table.name)}"
            f" IS {literal(table.description)}"
        )
    new_columns = [column for column in incoming if column not in existing]
    statements += comments(connection.schema_name, table, new_columns)
    for statement in statements:
        connection.execute(statement)
    if table.current_view and statements:
        # Recreated, as PostgreSQL fixes a view's `*` when the view is created.
        view = quoted(connection.schema_name, table.current_view)
        connection.execute(f"DROP VIEW IF EXISTS {view}")
        connection.execute(
            f"CREATE VIEW {view} AS SELECT * FROM {quoted(connection.schema_name, table.name)}"
            f" WHERE {quoted(IS_CURRENT)}"
        )
    return not existing


def existing_columns(connection: MartConnection, name: str) -> dict[str, str]:
    rows = connection.query(
        "SELECT column_name, data_type FROM information_schema.columns"
        f" WHERE table_schema = '{connection.schema_name}' AND table_name = '{name}'"
        " ORDER BY ordinal_position"
    )
    return {str(column): str(data_type) for column, data_type in rows}


def replace_snapshot(
    connection: MartConnection, table: MartTable, rows: pa.Table, day: str
) -> bool:
    """The day's state replaces the table unless the table holds a later day's; whether it
    did."""
    target = quoted(connection.schema_name, table.name)
    (latest,) = connection.query(f"SELECT max({quoted(AS_OF)}) FROM {target}")[0]
    if latest is not None and latest > date.fromisoformat(day):
        return False
    connection.replace_all(table, rows)
    return True


def add_versions(
    connection: MartConnection,
    table: MartTable,
    target: str,
    stage: str,
    columns: Sequence[str],
    day: str,
) -> tuple[int, int]:
    """Replaces the day's versions, then settles valid_to and is_current for the keys whose
    history changed, whatever order days come in; the versions removed and added.

    Only the versions from the one before each key's earliest change onwards are read, and the
    new ones are inserted settled, so the next day in order updates only the current versions
    it supersedes, not the history (nor rows it has just written)."""
    key = column_list(table.key)
    touched = f"_mart_touched_{table.name}"
    on_day = f"{quoted(DAY)} = DATE '{day}'"
    valid_from = quoted(VALID_FROM)
    connection.execute(
        f"CREATE TEMPORARY TABLE {touched} AS SELECT {key}, min({valid_from}) AS first_change"
        f" FROM (SELECT {key}, {valid_from} FROM {target} WHERE {on_day}"
        f" UNION ALL SELECT {key}, {valid_from} FROM {stage}) AS changed GROUP BY {key}"
    )
    removed = connection.change(f"DELETE FROM {target} WHERE {on_day}")
    added = insert_versions(connection, table, target, stage, touched, columns)
    settle_earlier_versions(connection, table, target, touched)
    connection.execute(f"DROP TABLE {touched}")
    return removed, added


def insert_versions(
    connection: MartConnection,
    table: MartTable,
    target: str,
    stage: str,
    touched: str,
    columns: Sequence[str],
) -> int:
    """Inserts the staged versions not yet in the table (the same record extracted twice is
    kept once), each valid until the next version of its key, staged or published later."""
    key, valid_from = column_list(table.key), quoted(VALID_FROM)
    same_version = " AND ".join(f"v.{quoted(c)} = s.{quoted(c)}" for c in table.primary_key)
    new = (
        f"SELECT {prefixed('s', table.primary_key)}, true AS is_new FROM {stage} AS s"
        f" WHERE NOT EXISTS (SELECT 1 FROM {target} AS v WHERE {same_version})"
    )
    later = (
        f"SELECT {prefixed('h', table.primary_key)}, false AS is_new FROM {target} AS h"
        f" JOIN {touched} AS c USING ({key}) WHERE h.{valid_from} >= c.first_change"
    )
    settled = (
        f"SELECT *, lead({valid_from}) OVER (PARTITION BY {key} ORDER BY {valid_from})"
        f" AS next_from FROM ({new} UNION ALL {later}) AS versions"
    )
    values = {VALID_TO: "n.next_from", IS_CURRENT: "n.next_from IS NULL"}
    selected = ", ".join(values.get(c, f"s.{quoted(c)}") for c in columns)
    same_key = " AND ".join(f"n.{quoted(c)} = s.{quoted(c)}" for c in table.primary_key)
    return connection.change(
        f"INSERT INTO {target} ({column_list(columns)}) SELECT {selected} FROM {stage} AS s"
        f" JOIN ({settled}) AS n ON {same_key} WHERE n.is_new"
    )


def settle_earlier_versions(
    connection: MartConnection, table: MartTable, target: str, touched: str
) -> None:
    """Updates valid_to and is_current where they changed: the version before each key's
    first change is the one whose validity reaches past it."""
    key, valid_from = column_list(table.key), quoted(VALID_FROM)
    valid_to, is_current = quoted(VALID_TO), quoted(IS_CURRENT)
    join = " AND ".join(f"t.{quoted(c)} = n.{quoted(c)}" for c in table.primary_key)
    connection.execute(
        f"UPDATE {target} AS t SET {valid_to} = n.next_from, {is_current} = n.next_from IS NULL"
        f" FROM (SELECT {prefixed('h', table.primary_key)},"
        f" lead(h.{valid_from}) OVER (PARTITION BY {prefixed('h', table.key)}"
        f" ORDER BY h.{valid_from}) AS next_from"
        f" FROM {target} AS h JOIN {touched} AS c USING ({key})"
        f" WHERE h.{valid_to} IS NULL OR h.{valid_to} >= c.first_change"
        f" OR h.{valid_from} >= c.first_change) AS n"
        f" WHERE {join} AND (t.{valid_to} IS DISTINCT FROM n.next_from"
        f" OR t.{is_current} IS DISTINCT FROM (n.next_from IS NULL))"
    )


def prefixed(alias: str, columns: Sequence[str]) -> str:
    return ", ".join(f"{alias}.{quoted(c)}" for c in columns)


def ensure_publications(connection: MartConnection) -> None:
    connection.execute(
        f"CREATE TABLE IF NOT EXISTS {quoted(connection.schema_name, PUBLICATIONS)} ("
        f" {quoted(DAY)} DATE NOT NULL, table_name TEXT NOT NULL, day_rows BIGINT NOT NULL,"
        f" total_rows BIGINT NOT NULL, published_at TIMESTAMPTZ NOT NULL,"
        f" PRIMARY KEY ({quoted(DAY)}, table_name))"
    )


def record_publication(connection: MartConnection, table: PublishedTable, day: str) -> None:
    publications = quoted(connection.schema_name, PUBLICATIONS)
    connection.execute(
        f"DELETE FROM {publications} WHERE {quoted(DAY)} = DATE '{day}'"
        f" AND table_name = '{table.name}'"
    )
    connection.execute(
        f"INSERT INTO {publications} VALUES (DATE '{day}', '{table.name}', {table.day_rows},"
        f" {table.total_rows}, CURRENT_TIMESTAMP)"
    )


def published_days(connection: MartConnection) -> Iterator[str]:
    publications = quoted(connection.schema_name, PUBLICATIONS)
    for (day,) in connection.query(f"SELECT DISTINCT {quoted(DAY)} FROM {publications} ORDER BY 1"):
        yield day.isoformat()
