"""Column statistics of a written table, computed with Arrow kernels, batch by batch."""

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    from _typeshed import SupportsRichComparison


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


def profile_table(table: pa.Table | pa.RecordBatch) -> TableProfile:
    builder = ProfileBuilder(table.schema)
    builder.add(table)
    return builder.build()


class ProfileBuilder:
    """Accumulates row count, nulls and numeric/temporal bounds over a stream of batches."""

    def __init__(self, schema: pa.Schema) -> None:
        self._schema = schema
        self._rows = 0
        self._nulls = dict.fromkeys(schema.names, 0)
        # numbers or temporal values, each column's comparable with one another
        self._bounds: dict[str, tuple[SupportsRichComparison, SupportsRichComparison]] = {}

    def add(self, data: pa.Table | pa.RecordBatch) -> None:
        self._rows += data.num_rows
        for field in self._schema:
            column = data.column(field.name)
            self._nulls[field.name] += column.null_count
            if _has_bounds(field.type) and data.num_rows:
                self._widen(field.name, pc.min_max(column))  # pyright: ignore[reportAttributeAccessIssue]  # pyarrow.compute defines its kernels at import

    def build(self) -> TableProfile:
        return TableProfile(
            row_count=self._rows,
            columns=tuple(self._column(name) for name in self._schema.names),
        )

    def _widen(self, name: str, bounds: pa.StructScalar) -> None:
        low, high = bounds["min"].as_py(), bounds["max"].as_py()
        if low is None:
            return
        if name in self._bounds:
            known_low, known_high = self._bounds[name]
            low, high = min(low, known_low), max(high, known_high)
        self._bounds[name] = (low, high)

    def _column(self, name: str) -> ColumnProfile:
        low, high = self._bounds.get(name, (None, None))
        return ColumnProfile(
            name,
            self._nulls[name],
            None if low is None else str(low),
            None if high is None else str(high),
        )


def _has_bounds(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_temporal(kind)
