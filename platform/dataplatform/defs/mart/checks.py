"""The mart's asset checks: each published day reconciled with its Parquet, keys unique,
references resolved.

They run after the step that published the day (so in `daily_refresh`, whose selection takes
the checks of the assets it selects) and are skipped with a model table that was not
published. A failure means the mart holds bad data, so every check is blocking: its step
fails once every check has been evaluated, and with it the run (`alert_on_run_failure` names
the failed checks); the check's metadata says what was counted and shows offending keys.
Every evaluation is also a DataHub assertion on the mart table's own dataset (`duckdb` or
`postgres`), so the catalog shows the table's quality beside its schema and lineage.
"""

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

import dagster as dg
from upath import UPath

from dataplatform.catalog.assertions import assertion_mcps, check_runs
from dataplatform.catalog.naming import mart_table
from dataplatform.catalog.sink import DataHubSink
from dataplatform.defs.mart.assets import mart_key
from dataplatform.mart.checks import (
    PRIMARY_KEY_UNIQUE,
    REFERENCES,
    REFERENCES_RESOLVED,
    ROWS_RECONCILE,
    VERSIONS_RECONCILE,
    CheckOutcome,
    check_day,
    check_names,
)
from dataplatform.mart.tables import DAILY_TABLES, MODEL_TABLES, Kind, MartTable
from dataplatform.partitions import daily_partitions
from dataplatform.resources.mart_database import MartDatabase
from dataplatform.resources.parquet_io_manager import ParquetIOManager


def description(table: MartTable, check: str) -> str:
    source = "/".join(table.source)
    scope = "The table's" if table.kind is Kind.SNAPSHOT else "The day's"
    references = ", ".join(f"{r.column} -> {r.table.name}" for r in REFERENCES.get(table.name, ()))
    return {
        ROWS_RECONCILE: f"{scope} rows are {source}'s rows of the day, one for one.",
        VERSIONS_RECONCILE: (
            f"Every version in {source}'s partition is in the dimension, the day adds none"
            " other, and each key it touched has exactly one current version."
        ),
        PRIMARY_KEY_UNIQUE: (
            f"{scope} primary keys ({', '.join(table.primary_key)}) are set and unique."
        ),
        REFERENCES_RESOLVED: (
            f"{scope} references resolve ({references}); an id the cleaning kept as an orphan"
            " (unknown upstream too) is counted, not failed."
        ),
    }[check]


def check_specs(tables: Sequence[MartTable]) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            name, asset=mart_key(table.name), blocking=True, description=description(table, name)
        )
        for table in tables
        for name in check_names(table)
    ]


def evaluate(
    context: dg.AssetCheckExecutionContext,
    tables: Sequence[MartTable],
    mart: MartDatabase,
    io_manager: ParquetIOManager,
    datahub: DataHubSink,
) -> Iterator[dg.AssetCheckResult]:
    day = context.op_execution_context.partition_key

    def history(table: MartTable) -> list[UPath]:
        """The Parquet files of `table`'s source up to the day."""
        source = dg.AssetKey(list(table.source))
        days = daily_partitions.get_partition_keys()
        paths = [io_manager.path_for(source, d) for d in days if d <= day]
        return [path for path in paths if path.exists()]

    with mart.connect() as connection:
        for table in tables:
            source = io_manager.path_for(dg.AssetKey(list(table.source)), day)
            results = [result(table, o) for o in check_day(connection, table, day, source, history)]
            record_assertions(context, datahub, mart, table, results, day)
            yield from results


def record_assertions(
    context: dg.AssetCheckExecutionContext,
    datahub: DataHubSink,
    mart: MartDatabase,
    table: MartTable,
    results: list[dg.AssetCheckResult],
    day: str,
) -> None:
    """The table's check results as assertions on its mart dataset; like the publication, a
    catalog that cannot be reached spools them rather than failing the checks."""
    runs = check_runs(
        results,
        mart_key(table.name),
        context.op_execution_context.run_id,
        datetime.now(UTC),
        day,
        {name: description(table, name) for name in check_names(table)},
        dataset=datahub.naming.table_urn(mart_table(mart.target, table.name)),
    )
    delivery = datahub.emit([mcp for run in runs for mcp in assertion_mcps(run, datahub.naming)])
    context.log.info(
        f"mart checks of {table.name} sent to DataHub as assertions: {delivery.status}"
    )


def result(table: MartTable, outcome: CheckOutcome) -> dg.AssetCheckResult:
    metadata: dict[str, dg.RawMetadataValue] = dict(outcome.counted)
    if outcome.examples:
        metadata["examples"] = dg.MetadataValue.md(
            "\n".join(f"- {example}" for example in outcome.examples)
        )
    return dg.AssetCheckResult(
        asset_key=mart_key(table.name),
        check_name=outcome.name,
        passed=outcome.passed,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata=metadata,
    )


@dg.multi_asset_check(
    name="check_mart_day",
    specs=check_specs(DAILY_TABLES),
    can_subset=False,
    description="Reconcile the day's published tables with their Parquet; keys; references.",
)
def daily_mart_checks(
    context: dg.AssetCheckExecutionContext,
    mart: MartDatabase,
    io_manager: dg.ResourceParam[ParquetIOManager],
    datahub: DataHubSink,
):
    yield from evaluate(context, DAILY_TABLES, mart, io_manager, datahub)


def build_model_mart_checks(table: MartTable) -> dg.AssetChecksDefinition:
    @dg.multi_asset_check(name=f"check_mart_{table.name}", specs=check_specs([table]))
    def model_mart_checks(
        context: dg.AssetCheckExecutionContext,
        mart: MartDatabase,
        io_manager: dg.ResourceParam[ParquetIOManager],
        datahub: DataHubSink,
    ):
        yield from evaluate(context, [table], mart, io_manager, datahub)

    return model_mart_checks


model_mart_checks = [build_model_mart_checks(table) for table in MODEL_TABLES]
