"""The mart group: each day's tables, entities and model outputs published as SQL tables.

The daily tables are one step and one transaction, so a reader sees a day whole or not at all.
Model outputs exist only once a model has been trained and are rescored apart from the refresh,
so each is published in its own transaction, and is skipped with its upstream when that is.
The Parquet files are read through the IO manager's layout, not loaded as inputs: Arrow
straight into the database, without a round trip through pandas. Once a transaction has
committed, its tables are described to DataHub (`catalog`); as with the IO manager, a catalog
that cannot be reached spools the metadata rather than failing the publication.
"""

from collections.abc import Sequence

import dagster as dg

from dataplatform.catalog.sink import DataHubSink
from dataplatform.defs.mart.catalog import published_table
from dataplatform.mart.days import read_day
from dataplatform.mart.publish import publish_day
from dataplatform.mart.tables import DAILY_TABLES, MODEL_TABLES, MartTable
from dataplatform.partitions import daily_partitions
from dataplatform.resources.mart_database import MartDatabase
from dataplatform.resources.parquet_io_manager import ParquetIOManager

MART = "mart"


def mart_key(name: str) -> dg.AssetKey:
    return dg.AssetKey([MART, name])


def mart_spec(table: MartTable) -> dg.AssetSpec:
    return dg.AssetSpec(
        mart_key(table.name),
        skippable=table.optional,
        deps=[dg.AssetKey(list(table.source))],
        group_name=MART,
        partitions_def=daily_partitions,
        kinds={"sql"},
        description=f"{table.description} Primary key: {', '.join(table.primary_key)}.",
    )


def publish(
    context: dg.AssetExecutionContext,
    tables: Sequence[MartTable],
    mart: MartDatabase,
    io_manager: ParquetIOManager,
    datahub: DataHubSink,
) -> list[dg.MaterializeResult]:
    """Publishes the day's `tables` in one transaction, then describes them to the catalog."""
    day = context.partition_key
    rows = {
        table: read_day(io_manager.path_for(dg.AssetKey(list(table.source)), day), table, day)
        for table in tables
    }
    with mart.connect() as connection:
        published = publish_day(connection, day, rows)
        by_name = {table.name: table for table in tables}
        described = [
            published_table(
                context, connection, mart.target, mart_key(t.name), by_name[t.name], t, day
            )
            for t in published.tables
        ]
    catalog = datahub.record_tables(described) if described else {}
    return [
        dg.MaterializeResult(
            asset_key=mart_key(table.name),
            metadata={
                "dagster/row_count": table.total_rows,
                "day_rows": table.day_rows,
                "replaced": table.replaced,
                "database": dg.MetadataValue.path(published.location),
                "publish_seconds": round(published.seconds, 3),
                **catalog[mart_key(table.name)],
            },
        )
        for table in published.tables
    ]


@dg.multi_asset(
    name="publish_mart_day",
    specs=[mart_spec(table) for table in DAILY_TABLES],
    can_subset=False,
    description="Publish the day's dimensions, facts and entities in one transaction.",
)
def daily_mart(
    context: dg.AssetExecutionContext,
    mart: MartDatabase,
    # An IO manager is not a `ConfigurableResource`: Dagster takes it as a `ResourceParam`.
    io_manager: dg.ResourceParam[ParquetIOManager],
    datahub: DataHubSink,
):
    yield from publish(context, DAILY_TABLES, mart, io_manager, datahub)


def build_model_mart_asset(table: MartTable) -> dg.AssetsDefinition:
    @dg.multi_asset(name=f"publish_mart_{table.name}", specs=[mart_spec(table)])
    def model_mart(
        context: dg.AssetExecutionContext,
        mart: MartDatabase,
        io_manager: dg.ResourceParam[ParquetIOManager],
        datahub: DataHubSink,
    ):
        yield from publish(context, [table], mart, io_manager, datahub)

    return model_mart


model_marts = [build_model_mart_asset(table) for table in MODEL_TABLES]
