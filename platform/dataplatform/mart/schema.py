"""The SQL schema of a mart table, from the Arrow schema of its rows, and how it may evolve.

A column added upstream is added to the mart table; a column dropped or retyped upstream is a
clear error, raised before anything of the day is written. PostgreSQL declares the keys and
indexes, and partitions facts by day; DuckDB declares neither (its ART indexes cost more to
maintain than they save on analytical scans, which zone maps prune): keys are checked by the
mart's asset checks in both.
"""

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

import pyarrow as pa

from dataplatform.column_descriptions import column_description
from dataplatform.mart.tables import DAY, Kind, MartTable


class MartSchemaError(ValueError):
    """The day's rows no longer fit the mart table: a column was dropped or retyped."""


@dataclass(frozen=True)
class Dialect:
    """What differs between the databases: type names, and the names they report back."""

    name: str
    types: Mapping[str, str]  # canonical type -> the database's type name in DDL
    reported: Mapping[str, str]  # information_schema's data_type (lower case) -> canonical
    keys_and_indexes: bool  # primary keys and indexes declared (and facts partitioned by day)
    uncompressed: str = ""  # the column clause storing a column uncompressed ("": none)

    def canonical(self, data_type: str) -> str:
        return self.reported.get(data_type.lower(), data_type.lower())

    def ddl(self, canonical: str) -> str:
        # A column with only nulls (no type upstream) is created as text.
        return self.types["text" if canonical == NULL else canonical]


NULL = "null"  # an Arrow column of nulls only: it fits any type
CANONICAL_TYPES = ("bigint", "double", "text", "boolean", "date", "timestamptz", "timestamp")

DUCKDB = Dialect(
    name="duckdb",
    types={t: t.upper() for t in CANONICAL_TYPES} | {"timestamptz": "TIMESTAMPTZ"},
    reported={
        "varchar": "text",
        "timestamp with time zone": "timestamptz",
        "integer": "bigint",
    },
    keys_and_indexes=False,
    uncompressed="USING COMPRESSION uncompressed",
)
POSTGRES = Dialect(
    name="postgres",
    types={t: t for t in CANONICAL_TYPES} | {"double": "double precision"},
    reported={
        "double precision": "double",
        "timestamp with time zone": "timestamptz",
        "timestamp without time zone": "timestamp",
        "integer": "bigint",
    },
    keys_and_indexes=True,
)


def canonical_type(table: str, field: pa.Field) -> str:
    """Integers widen to bigint, so that a narrower integer upstream is not a retype."""
    kind = field.type
    if pa.types.is_integer(kind):
        return "bigint"
    if pa.types.is_floating(kind):
        return "double"
    if pa.types.is_null(kind):
        return NULL
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return "text"
    if pa.types.is_boolean(kind):
        return "boolean"
    if pa.types.is_date(kind):
        return "date"
    if pa.types.is_timestamp(kind):
        return "timestamptz" if kind.tz else "timestamp"  # pyright: ignore[reportAttributeAccessIssue]
    raise MartSchemaError(
        f"mart table {table}: column {field.name} has type {kind}, which the mart does not hold"
    )


def column_types(table: MartTable, schema: pa.Schema) -> dict[str, str]:
    return {field.name: canonical_type(table.name, field) for field in schema}


def quoted(*names: str) -> str:
    return ".".join('"' + name.replace('"', '""') + '"' for name in names)


def create_table(
    dialect: Dialect, schema_name: str, table: MartTable, types: dict[str, str]
) -> Iterator[str]:
    columns = ", ".join(column_definition(dialect, table, c, t) for c, t in types.items())
    name = quoted(schema_name, table.name)
    if not dialect.keys_and_indexes:
        yield f"CREATE TABLE {name} ({columns})"
        return
    if table.kind is Kind.FACT:
        # A day is replaced by swapping its partition; a key spanning partitions must hold the
        # day, so a fact's key is checked by the asset checks rather than declared.
        yield f"CREATE TABLE {name} ({columns}) PARTITION BY LIST ({quoted(DAY)})"
    else:
        key = ", ".join(quoted(c) for c in table.primary_key)
        yield f"CREATE TABLE {name} ({columns}, PRIMARY KEY ({key}))"
    for columns_of_index in table.indexes:
        if table.kind is Kind.FACT and columns_of_index == (DAY,):
            continue  # the partition is the day
        index = f"{table.name}__{'__'.join(columns_of_index)}"
        on = ", ".join(quoted(c) for c in columns_of_index)
        yield f"CREATE INDEX {quoted(index)} ON {name} ({on})"


def column_definition(dialect: Dialect, table: MartTable, column: str, canonical: str) -> str:
    """A column as CREATE TABLE declares it. DuckDB compresses a text column with a dictionary
    and FSST when it writes it; for a 1,000,000-listens day's `listen_id` (distinct ids) that
    cost 0.6-0.8 s against 0.1 s to write the column to Parquet, so such columns are stored
    uncompressed: the listens inserted ~40% faster for a quarter more file, the entity
    snapshots' `entity_id` 2-3x faster (bench/RESULTS.md)."""
    definition = f"{quoted(column)} {dialect.ddl(canonical)}"
    if dialect.uncompressed and column in table.distinct_text:
        return f"{definition} {dialect.uncompressed}"
    return definition


def evolve(
    dialect: Dialect,
    schema_name: str,
    table: MartTable,
    existing: Mapping[str, str],
    incoming: Mapping[str, str],
) -> list[str]:
    """The statements that add the new columns; raises if a column was dropped or retyped.
    `existing` maps the table's columns to the types the database reports."""
    dropped = [c for c in existing if c not in incoming]
    retyped = [
        f"{c} ({dialect.canonical(existing[c])} -> {incoming[c]})"
        for c in existing
        if c in incoming and incoming[c] not in (NULL, dialect.canonical(existing[c]))
    ]
    if dropped or retyped:
        problems = [f"dropped: {', '.join(dropped)}"] * bool(dropped)
        problems += [f"retyped: {', '.join(retyped)}"] * bool(retyped)
        raise MartSchemaError(
            f"mart table {table.name}: {'/'.join(table.source)} no longer fits it"
            f" ({'; '.join(problems)}). Nothing of the day was published; migrate the table"
            f" (or drop it to rebuild it from the Parquet history) and publish again."
        )
    return [
        f"ALTER TABLE {quoted(schema_name, table.name)} ADD COLUMN {quoted(c)} {dialect.ddl(t)}"
        for c, t in incoming.items()
        if c not in existing
    ]


def comments(schema_name: str, table: MartTable, columns: Iterable[str]) -> list[str]:
    """The comments describing `columns` of the table, from the one declaration of what each
    column means (a column nobody described gets none)."""
    name = quoted(schema_name, table.name)
    described = ((c, column_description(table.name, c)) for c in columns)
    return [
        f"COMMENT ON COLUMN {name}.{quoted(c)} IS {literal(text)}" for c, text in described if text
    ]


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def column_list(names: Iterable[str]) -> str:
    return ", ".join(quoted(name) for name in names)
