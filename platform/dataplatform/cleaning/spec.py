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
    """A value's logical type: its pandas dtype for validation and its Parquet type."""

    INT = ("Int64", pa.int64())
    FLOAT = ("Float64", pa.float64())
    BOOL = ("boolean", pa.bool_())
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
    """A column: its kind, whether it may be null, its rules and a text normaliser.

    `is_list` makes it a list of `kind` (a JSON array in the raw text, an Arrow list in
    Parquet); then `checks` apply to every element, and `nullable` to the list itself (an
    empty list is not null).
    """

    kind: Kind
    nullable: bool = True
    checks: Sequence[pdr.Check] = ()
    normalise: Normaliser | None = None
    is_list: bool = False

    @property
    def arrow_type(self) -> pa.DataType:
        return pa.list_(self.kind.arrow_type) if self.is_list else self.kind.arrow_type

    @property
    def type_name(self) -> str:
        """`int`, `list of int`: as rejection reasons name it."""
        name = self.kind.name.lower()
        return f"list of {name}" if self.is_list else name


@dataclass(frozen=True)
class LandedRows:
    """A per-file cleaned table whose rows also join a daily table, on the day they landed."""

    spec: TableSpec
    as_rows: Callable[[pd.DataFrame], pd.DataFrame]  # its rows, as rows of the daily table


@dataclass(frozen=True)
class TableSpec:
    """A cleaned table: its source asset, key, columns, and (dimensions) version column.

    Dimension tables (`version_column` set) keep the latest version per key; fact tables
    reject a second row with an existing key. `references` maps a column to the table whose
    (single-column) key each of its values refers to; for a list column, each element.
    """

    name: str
    source: tuple[str, ...]  # asset key path of the table it is cleaned from
    key: tuple[str, ...]
    fields: dict[str, Field]
    version_column: str | None = None
    description: str = ""
    references: dict[str, TableSpec] = field(default_factory=dict)
    landed: LandedRows | None = None

    def __post_init__(self) -> None:
        for column, table in self.references.items():
            if column not in self.fields or len(table.key) != 1:
                raise ValueError(
                    f"{self.name}: a reference needs a declared column and a table with a"
                    f" one-column key; {column!r} -> {table.name} (key {table.key}) is not"
                )

    @property
    def is_dimension(self) -> bool:
        return self.version_column is not None

    @property
    def source_key(self) -> dg.AssetKey:
        return dg.AssetKey(list(self.source))

    @property
    def list_columns(self) -> list[str]:
        return [name for name, f in self.fields.items() if f.is_list]

    def referenced_key(self, column: str) -> str:
        """The key column of the table that `column` refers to."""
        (key,) = self.references[column].key
        return key

    def arrow_schema(self) -> pa.Schema:
        return pa.schema(
            [pa.field(name, f.arrow_type, nullable=f.nullable) for name, f in self.fields.items()]
        )

    def pandera_schema(self) -> pdr.DataFrameSchema:
        """Scalar columns with their rules; list columns are only checked for nulls here (their
        rules apply per element, see `element_schema`)."""
        return pdr.DataFrameSchema(
            {
                name: pdr.Column(None, nullable=f.nullable)
                if f.is_list
                else pdr.Column(f.kind.pandas_dtype, checks=list(f.checks), nullable=f.nullable)
                for name, f in self.fields.items()
            },
            strict=False,
        )

    def element_schema(self, column: str) -> pdr.DataFrameSchema:
        """The rules of a list column, checked on its elements (one row per element)."""
        f = self.fields[column]
        return pdr.DataFrameSchema({column: pdr.Column(f.kind.pandas_dtype, checks=list(f.checks))})
