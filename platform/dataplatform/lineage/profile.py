"""Column statistics of a written table, computed with Arrow kernels (no copy to pandas)."""

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc


@dataclass(frozen=True)
class ColumnProfile:
    name: str
    null_count: int
    min: str | None = None
    max: str | None = None


@dataclass(frozen=True)
class TableProfile:
    row_count: int
    columns: tuple[ColumnProfile, ...]


def profile_table(table: pa.Table) -> TableProfile:
    return TableProfile(
        row_count=table.num_rows,
        columns=tuple(_profile_column(name, table.column(name)) for name in table.column_names),
    )


def _profile_column(name: str, column: pa.ChunkedArray) -> ColumnProfile:
    kind = column.type
    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_temporal(kind)):
        return ColumnProfile(name, column.null_count)
    bounds = pc.min_max(column)
    low, high = bounds["min"].as_py(), bounds["max"].as_py()
    return ColumnProfile(
        name,
        column.null_count,
        None if low is None else str(low),
        None if high is None else str(high),
    )
