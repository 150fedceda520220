"""Declarative table specs: one place that states each cleaned table's types and rules."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum

import dagster as dg
import pandas as pd
import pandera.pandas as pdr
import pyarrow as pa


class Kind(Enum):
    """A column's logical type: its pandas dtype for validation and its Parquet type."""

    INT = ("Int64", pa.int64())
    FLOAT = ("Float64", pa.float64())
    TEXT = ("string", pa.string())
    TIMESTAMP = ("datetime64[ns, UTC]", pa.timestamp("us", tz="UTC"))
    DATE = ("datetime64[ns]", pa.date32())

    @property
    def pandas_dtype(self) -> str:
        return self.value[0]

    @property
    def arrow_type(self) -> pa.DataType:
        return self.value[1]


Normaliser = Callable[[pd.Series], pd.Series]


@dataclass(frozen=True)
class Field:
    kind: Kind
    nullable: bool = True
    checks: Sequence[pdr.Check] = ()
    normalise: Normaliser | None = None


@dataclass(frozen=True)
class LandedRows:
    """A per-file cleaned table whose rows also join a daily table, on the day they landed."""

    spec: TableSpec
    as_rows: Callable[[pd.DataFrame], pd.DataFrame]  # its rows, as rows of the daily table


@dataclass(frozen=True)
class TableSpec:
    """A cleaned table: its source asset, key, columns, and (dimensions) version column.

    Dimension tables (`version_column` set) keep the latest version per key; fact tables
    reject a second row with an existing key.
    """

    name: str
    source: tuple[str, ...]  # asset key path of the table it is cleaned from
    key: tuple[str, ...]
    fields: dict[str, Field]
    version_column: str | None = None
    description: str = ""
    references: dict[str, str] = field(default_factory=dict)
    landed: LandedRows | None = None

    @property
    def is_dimension(self) -> bool:
        return self.version_column is not None

    @property
    def source_key(self) -> dg.AssetKey:
        return dg.AssetKey(list(self.source))

    def arrow_schema(self) -> pa.Schema:
        return pa.schema(
            [
                pa.field(name, f.kind.arrow_type, nullable=f.nullable)
                for name, f in self.fields.items()
            ]
        )

    def pandera_schema(self) -> pdr.DataFrameSchema:
        return pdr.DataFrameSchema(
            {
                name: pdr.Column(f.kind.pandas_dtype, checks=list(f.checks), nullable=f.nullable)
                for name, f in self.fields.items()
            },
            strict=False,
        )
