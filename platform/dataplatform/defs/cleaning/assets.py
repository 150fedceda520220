"""The `cleaned` group: one multi-asset per table, writing the table and its rejects."""

import warnings
from collections.abc import Iterator
from datetime import date, timedelta
from typing import cast

import dagster as dg
import pandas as pd
import pyarrow as pa

from dataplatform.cleaning import checks
from dataplatform.cleaning.spec import TableSpec
from dataplatform.cleaning.tables import CLEANED_TABLES, LANDED_REVIEWS
from dataplatform.cleaning.validation import REJECT_REASON, Cleaned, clean_table
from dataplatform.defs.landing.assets import LANDED_AT
from dataplatform.landing.datasets import REVIEWS
from dataplatform.partitions import CALENDAR, daily_partitions
from dataplatform.resources.parquet_io_manager import ALLOW_MISSING_PARTITIONS, COLUMNS

LANDED = "landed"
SOURCE = "source"

# Ids known by day d are those of every partition up to d: a window far larger than any
# history, restricted to partitions that exist. The parameter is marked beta in Dagster.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.BetaWarning)
    HISTORY_UP_TO_DAY = dg.TimeWindowPartitionMapping(
        start_offset=-100_000, end_offset=0, allow_nonexistent_upstream_partitions=True
    )


def build_cleaned_asset(
    spec: TableSpec, partitions_def: dg.PartitionsDefinition = daily_partitions
) -> dg.AssetsDefinition:
    table_key = dg.AssetKey(["cleaned", spec.name])
    rejects_key = dg.AssetKey(["cleaned", f"{spec.name}_rejects"])

    @dg.multi_asset(
        name=f"clean_{spec.name}",
        group_name="cleaned",
        partitions_def=partitions_def,
        ins={
            "raw": dg.AssetIn(key=spec.source_key),
            **reference_inputs(spec),
            **landed_input(spec),
        },
        outs={
            "table": dg.AssetOut(
                key=table_key,
                description=spec.description,
                kinds={"parquet"},
                metadata={"dagster/column_lineage": column_lineage(spec)},
            ),
            "rejects": dg.AssetOut(
                key=rejects_key,
                description=(
                    f"{spec.source_key.to_user_string()} rows that failed validation, with the"
                    " reason."
                ),
                kinds={"parquet"},
            ),
        },
        check_specs=checks.check_specs(spec, table_key),
    )
    def clean(context: dg.AssetExecutionContext, raw: pd.DataFrame, **known: pd.DataFrame):
        cleaned = clean_table(raw, spec)
        context.log.info(
            f"{spec.name} {context.partition_key}: {len(raw)} raw rows -> {len(cleaned.table)}"
            f" clean, {len(cleaned.rejects)} rejected, {cleaned.exact_duplicates} duplicates"
        )
        table, metadata = cleaned.table, table_metadata(raw, cleaned)
        if spec.landed is not None:
            arrived = landed_on(known.pop(LANDED), context.partition_key)
            table = with_landed_rows(table, spec, arrived)
            metadata["landed_rows"] = len(arrived)
        yield dg.Output(table, output_name="table", metadata=metadata)
        yield dg.Output(cleaned.rejects, output_name="rejects", metadata=reject_metadata(cleaned))
        previous_rows = previous_partition_rows(context, table_key)
        yield from table_checks(raw, cleaned, spec, known, previous_rows)

    return clean


def column_lineage(spec: TableSpec) -> dg.TableColumnLineage:
    """Each cleaned column is its raw namesake, typed and validated."""
    return dg.TableColumnLineage(
        deps_by_column={
            column: [dg.TableColumnDep(asset_key=spec.source_key, column_name=column)]
            for column in spec.fields
        }
    )


def reference_inputs(spec: TableSpec) -> dict[str, dg.AssetIn]:
    """The keys of each referenced table, every partition up to the day."""
    return {
        table.name: dg.AssetIn(
            key=["cleaned", table.name],
            partition_mapping=HISTORY_UP_TO_DAY,
            metadata={COLUMNS: list(table.key), ALLOW_MISSING_PARTITIONS: True},
        )
        for table in spec.references.values()
    }


def landed_input(spec: TableSpec) -> dict[str, dg.AssetIn]:
    """Every landed file's cleaned rows; the asset keeps those that arrived on its day."""
    if spec.landed is None:
        return {}
    return {
        LANDED: dg.AssetIn(
            key=["cleaned", spec.landed.spec.name],
            partition_mapping=dg.AllPartitionMapping(),
            metadata={ALLOW_MISSING_PARTITIONS: True},
        )
    }


def landed_on(landed: pd.DataFrame, day: str) -> pd.DataFrame:
    if landed.empty:
        return landed
    arrival_day = landed[LANDED_AT.name].dt.tz_convert(CALENDAR.timezone).dt.strftime("%Y-%m-%d")
    return cast(pd.DataFrame, landed[arrival_day == day]).reset_index(drop=True)


def with_landed_rows(table: pa.Table, spec: TableSpec, landed: pd.DataFrame) -> pa.Table:
    """The day's table with the rows landed that day appended; `source` tells them apart.

    Checks look at the API rows only: landed rows were checked by their own table's rules.
    """
    assert spec.landed is not None
    schema = pa.schema([field.with_nullable(True) for field in spec.arrow_schema()])
    from_landing = (
        pa.Table.from_pandas(spec.landed.as_rows(landed), schema=schema, preserve_index=False)
        if len(landed)
        else schema.empty_table()
    )
    return pa.concat_tables(
        [
            table.cast(schema).append_column(SOURCE, pa.repeat(pa.scalar("api"), len(table))),
            from_landing.append_column(SOURCE, pa.repeat(pa.scalar("landing"), len(landed))),
        ]
    )


def table_checks(
    raw: pd.DataFrame,
    cleaned: Cleaned,
    spec: TableSpec,
    known: dict[str, pd.DataFrame],
    previous_rows: int | None,
) -> Iterator[dg.AssetCheckResult]:
    keys = cleaned.table.select([*spec.key, *spec.references]).to_pandas()
    yield checks.schema_matches(cleaned)
    yield checks.keys_not_null(keys, spec)
    yield checks.keys_unique(keys, spec)
    yield checks.reject_share_low(len(raw), len(cleaned.rejects))
    yield checks.row_volume_stable(len(keys), previous_rows)
    if spec.references:
        known_ids = {
            column: cast(pd.Series, known[table.name][spec.referenced_key(column)])
            for column, table in spec.references.items()
        }
        yield checks.references_known(keys, known_ids, spec.list_columns)


def table_metadata(raw: pd.DataFrame, cleaned: Cleaned) -> dict[str, int | str]:
    return {
        "raw_rows": len(raw),
        "rejected_rows": len(cleaned.rejects),
        "exact_duplicates_dropped": cleaned.exact_duplicates,
        "superseded_versions": cleaned.superseded_versions,
        "missing_columns": ", ".join(cleaned.missing_columns) or "none",
        "unexpected_columns": ", ".join(cleaned.unexpected_columns) or "none",
    }


def reject_metadata(cleaned: Cleaned) -> dict[str, dg.MetadataValue]:
    reasons = cleaned.rejects[REJECT_REASON].str.split(": ").str[0].value_counts()
    lines = [f"| {column} | {count} |" for column, count in reasons.items()]
    table = "\n".join(["| rejected on column | rows |", "|---|---|", *lines])
    return {"rejects_by_column": dg.MetadataValue.md(table)}


def previous_partition_rows(context: dg.AssetExecutionContext, key: dg.AssetKey) -> int | None:
    if not isinstance(context.assets_def.partitions_def, dg.TimeWindowPartitionsDefinition):
        return None  # one partition per landed file: no "previous day" to compare with
    previous = (date.fromisoformat(context.partition_key) - timedelta(days=1)).isoformat()
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[previous]), limit=1
    ).records
    if not records or records[0].asset_materialization is None:
        return None
    row_count = records[0].asset_materialization.metadata.get("dagster/row_count")
    return int(cast(int, row_count.value)) if row_count is not None else None


landed_reviews_cleaning = build_cleaned_asset(LANDED_REVIEWS, partitions_def=REVIEWS.partitions)
cleaned_assets = [*(build_cleaned_asset(spec) for spec in CLEANED_TABLES), landed_reviews_cleaning]
