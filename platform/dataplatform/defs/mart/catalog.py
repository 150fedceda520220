"""What the catalog is told about the tables a mart step just committed.

Each published table is a DataHub dataset of the mart's own platform (`duckdb` or `postgres`)
with the columns and types the database holds, upstream lineage to the Parquet asset it is
built from, and column lineage for the columns copied as they are.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import dagster as dg

from dataplatform.catalog.metadata import PublishedSqlTable, SqlColumn
from dataplatform.catalog.naming import mart_table
from dataplatform.mart.publish import MartConnection, PublishedTable
from dataplatform.mart.tables import VALID_FROM, Kind, MartTable
from dataplatform.mart.target import MartTarget


def published_table(
    context: dg.AssetExecutionContext,
    connection: MartConnection,
    target: MartTarget,
    key: dg.AssetKey,
    table: MartTable,
    published: PublishedTable,
    day: str,
) -> PublishedSqlTable:
    """`table` (asset `key`) as the catalog describes it, read from the database after the
    commit."""
    spec = context.assets_def.specs_by_key[key]
    columns = table_columns(connection, table.name)
    return PublishedSqlTable(
        key=key,
        table=mart_table(target, table.name),
        columns=columns,
        row_count=published.total_rows,
        location=connection.location,
        run_id=context.run_id,
        written_at=datetime.now(UTC),
        partition=day,
        description=spec.description,
        group=spec.group_name,
        owners=tuple(spec.owners),
        tags={k: v for k, v in spec.tags.items() if not k.startswith("dagster/")},
        upstream=(dg.AssetKey(list(table.source)),),
        column_lineage=direct_lineage(table, [column.name for column in columns]),
    )


def table_columns(connection: MartConnection, name: str) -> list[SqlColumn]:
    """The table's columns in order, with the types and nullability the database reports."""
    rows = connection.query(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns"
        f" WHERE table_schema = '{connection.schema_name}' AND table_name = '{name}'"
        " ORDER BY ordinal_position"
    )
    return [SqlColumn(str(column), str(kind), nullable == "YES") for column, kind, nullable in rows]


def direct_lineage(table: MartTable, columns: Sequence[str]) -> dg.TableColumnLineage:
    """The columns copied from the source as they are: all but those the mart adds, and a
    dimension's `valid_from`, the source's version column."""
    source = dg.AssetKey(list(table.source))
    copied = {column: column for column in columns if column not in table.added_columns}
    if table.kind is Kind.DIMENSION:
        copied[VALID_FROM] = table.version_column
    return dg.TableColumnLineage(
        deps_by_column={
            column: [dg.TableColumnDep(asset_key=source, column_name=upstream)]
            for column, upstream in copied.items()
        }
    )
