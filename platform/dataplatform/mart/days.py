"""A day's rows of each mart table, built from the Parquet files the platform wrote that day.

The files are where the Parquet IO manager puts them: `<data_dir>/<asset/key/path>/<day>.parquet`
(`data_dir` a local folder or an fsspec URL).
"""

from datetime import date

import pyarrow as pa
import pyarrow.parquet as pq
from upath import UPath

from dataplatform.mart.tables import (
    AS_OF,
    DAY,
    IS_CURRENT,
    VALID_FROM,
    VALID_TO,
    Kind,
    MartTable,
)


class MissingSourceError(FileNotFoundError):
    """A table the mart needs has no Parquet file for the day."""


def source_path(data_dir: str, table: MartTable, day: str) -> UPath:
    return UPath(data_dir).joinpath(*table.source, f"{day}.parquet")


def read_day(path: UPath, table: MartTable, day: str) -> pa.Table | None:
    """The day's rows of `table` (its source's file for the day at `path`) with the mart's
    columns; None for an optional table whose source has not been written that day."""
    if not path.exists():
        if table.optional:
            return None
        raise MissingSourceError(
            f"mart table {table.name}: no Parquet data at {path}; materialise"
            f" {'/'.join(table.source)} for {day} first"
        )
    with path.open("rb") as source:
        rows = pq.read_table(source, columns=list(table.columns) or None)
    return day_rows(table, rows, day)


def day_rows(table: MartTable, rows: pa.Table, day: str) -> pa.Table:
    """`rows` of the source for `day`, with the columns the mart adds for the table's kind
    (a dimension's valid_to and is_current are settled in the database, across days)."""
    required = {*table.key, table.version_column, *table.columns} - {"", DAY}
    absent = sorted(required - set(rows.column_names))
    if absent:
        raise ValueError(
            f"mart table {table.name}: {'/'.join(table.source)} has no column(s) {absent}"
        )
    rows = rows.select([c for c in rows.column_names if c not in table.added_columns])
    n = rows.num_rows
    on_day = pa.repeat(pa.scalar(date.fromisoformat(day), pa.date32()), n)
    if table.kind is Kind.FACT:
        return rows.append_column(DAY, on_day)
    if table.kind is Kind.SNAPSHOT:
        return rows.append_column(AS_OF, on_day)
    valid_from = rows.column(table.version_column)
    return (
        rows.append_column(DAY, on_day)
        .append_column(VALID_FROM, valid_from)
        .append_column(VALID_TO, pa.nulls(n, valid_from.type))
        .append_column(IS_CURRENT, pa.nulls(n, pa.bool_()))
    )
