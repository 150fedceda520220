"""The `quality` group: an integrity report per cleaned table and landed dataset, drift reports
for reviews and listens, each partition-aligned with the table it judges.

A quality asset is named after what it judges, so no two in the group share a label in the
graph: `quality/cleaned_reviews_report` judges `cleaned/reviews`, `quality/reviews_drift` the
drift of `cleaned/reviews`. It writes its report under the judged table's key,
`<data dir>/quality/<table key>/<partition>.html` (drift: `quality/drift/<table key>/...`), its
failing conditions as a small Parquet table under its own key, its asset checks (see `checks`),
and the same check results to DataHub as assertions on the judged table.
"""

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import cast

import dagster as dg
import pandas as pd

from dataplatform.catalog.assertions import assertion_mcps, check_runs
from dataplatform.catalog.sink import DataHubSink
from dataplatform.cleaning.spec import TableSpec
from dataplatform.cleaning.tables import CLEANED_TABLES, LISTENS, REVIEWS
from dataplatform.landing.datasets import TABULAR_DATASETS, LandingDataset
from dataplatform.partitions import daily_partitions
from dataplatform.quality import checks
from dataplatform.quality.checks import DRIFT_CHECKS, INTEGRITY_CHECKS, QualityCheck
from dataplatform.quality.reports import QualityReport, ReportStore, report_metadata, summary_table
from dataplatform.resources.parquet_io_manager import ROWS_ARE, ParquetIOManager

QUALITY = "quality"
DRIFT_REFERENCE_DAYS = 7
# Below this, "a constant column" or "20% nulls" says nothing (a one-row file is constant).
MIN_ROWS_TO_JUDGE = 20
# Row bookkeeping added by the landing zone: not data to judge.
LANDING_COLUMNS = ("_source_file", "_row_number", "_sheet", "_landed_at")
# A quality asset's table holds the report's failing conditions: its length is their number,
# not the size of a table (a report that passes has none).
FAILING_CONDITIONS = {ROWS_ARE: "failing_conditions"}


def quality_key(source: dg.AssetKey) -> dg.AssetKey:
    """`landed/reviews` -> `quality/landed_reviews_report`."""
    return dg.AssetKey([QUALITY, "_".join([*source.path, "report"])])


def drift_key(source: dg.AssetKey) -> dg.AssetKey:
    """`cleaned/reviews` -> `quality/reviews_drift`: drift is only judged on cleaned tables."""
    return dg.AssetKey([QUALITY, f"{source.path[-1]}_drift"])


def build_integrity_asset(
    source: dg.AssetKey,
    partitions_def: dg.PartitionsDefinition,
    exclude: Sequence[str] = (),
    columns: Sequence[str] | None = None,
) -> dg.AssetsDefinition:
    """Judges `columns` (default: all) of each partition of `source`, except `exclude`."""
    key = quality_key(source)

    @dg.asset(
        key=key,
        group_name=QUALITY,
        partitions_def=partitions_def,
        ins={"table": dg.AssetIn(key=source)},
        check_specs=checks.check_specs(INTEGRITY_CHECKS, key),
        kinds={"deepchecks", "parquet"},
        metadata=FAILING_CONDITIONS,
        description=f"Deepchecks data-integrity report on {source.to_user_string()}.",
    )
    def integrity(
        context: dg.AssetExecutionContext,
        table: pd.DataFrame,
        quality_reports: ReportStore,
        datahub: DataHubSink,
    ):
        from dataplatform.quality.integrity import integrity_report  # slow import, see reports

        if columns is not None:
            table = cast(pd.DataFrame, table[[c for c in columns if c in table.columns]])
        if len(table) < MIN_ROWS_TO_JUDGE:
            yield dg.Output(summary_table_empty(), metadata={"rows": len(table)})
            yield from checks.passed_without_report(
                INTEGRITY_CHECKS, f"{len(table)} rows: too few to judge (< {MIN_ROWS_TO_JUDGE})"
            )
            return
        report = integrity_report(
            table, quality_reports, source.path, context.partition_key, exclude
        )
        yield from report_outputs(
            context, datahub, quality_reports, report, INTEGRITY_CHECKS, source
        )

    return integrity


def build_drift_asset(spec: TableSpec, label: str | None = None) -> dg.AssetsDefinition:
    source = dg.AssetKey(["cleaned", spec.name])
    key = drift_key(source)
    ignored = [*spec.key, *spec.references]
    declared = list(spec.fields)

    @dg.asset(
        key=key,
        group_name=QUALITY,
        partitions_def=daily_partitions,
        ins={"current": dg.AssetIn(key=source)},
        check_specs=checks.check_specs(DRIFT_CHECKS, key),
        kinds={"deepchecks", "parquet"},
        metadata=FAILING_CONDITIONS,
        description=(
            f"Deepchecks train-test validation of {source.to_user_string()} against its previous"
            f" {DRIFT_REFERENCE_DAYS} days."
        ),
    )
    def drift(
        context: dg.AssetExecutionContext,
        current: pd.DataFrame,
        quality_reports: ReportStore,
        datahub: DataHubSink,
        # An IO manager is not a `ConfigurableResource`: Dagster takes it as a `ResourceParam`.
        io_manager: dg.ResourceParam[ParquetIOManager],
    ):
        from dataplatform.quality.drift import drift_report  # slow import, see reports

        reference = reference_partitions(io_manager, source, context.partition_key)
        if reference.empty:
            yield dg.Output(summary_table_empty(), metadata={"reference_rows": 0})
            yield from checks.passed_without_report(DRIFT_CHECKS, "no reference partition yet")
            return
        report = drift_report(
            cast(pd.DataFrame, reference[[c for c in declared if c in reference.columns]]),
            cast(pd.DataFrame, current[[c for c in declared if c in current.columns]]),
            quality_reports,
            ["drift", *source.path],
            context.partition_key,
            exclude=ignored,
            label=label,
        )
        yield from report_outputs(
            context, datahub, quality_reports, report, DRIFT_CHECKS, source, len(reference)
        )

    return drift


def reference_partitions(
    io_manager: ParquetIOManager, source: dg.AssetKey, partition_key: str
) -> pd.DataFrame:
    """The previous `DRIFT_REFERENCE_DAYS` partitions of `source` that exist."""
    day = date.fromisoformat(partition_key)
    previous = [(day - timedelta(days=n)).isoformat() for n in range(DRIFT_REFERENCE_DAYS, 0, -1)]
    paths = [io_manager.path_for(source, day) for day in previous]
    frames = [pd.read_parquet(str(path)) for path in paths if path.exists()]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def report_outputs(
    context: dg.AssetExecutionContext,
    datahub: DataHubSink,
    store: ReportStore,
    report: QualityReport,
    quality_checks: Sequence[QualityCheck],
    source: dg.AssetKey,
    reference_rows: int | None = None,
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    results = checks.check_results(report, quality_checks, store.links(report.path))
    delivery = emit_assertions(context, datahub, results, source, quality_checks)
    metadata = report_metadata(report, store) | {"datahub/assertions": delivery}
    if reference_rows is not None:
        metadata["reference_rows"] = reference_rows
    yield dg.Output(summary_table(report), metadata=metadata)
    yield from results


def emit_assertions(
    context: dg.AssetExecutionContext,
    datahub: DataHubSink,
    results: list[dg.AssetCheckResult],
    source: dg.AssetKey,
    quality_checks: Sequence[QualityCheck],
) -> str:
    """The check results as assertions on the judged table, where the catalog shows them."""
    runs = check_runs(
        results,
        source,
        context.run_id,
        datetime.now(UTC),
        context.partition_key,
        {check.name: check.description for check in quality_checks},
    )
    delivery = datahub.emit([mcp for run in runs for mcp in assertion_mcps(run, datahub.naming)])
    return delivery.status


def summary_table_empty() -> pd.DataFrame:
    return pd.DataFrame(columns=["check", "condition", "category", "details"]).astype("string")  # pyright: ignore[reportArgumentType]  # pandas' SequenceNotStr rejects list


def landed_integrity_asset(dataset: LandingDataset) -> dg.AssetsDefinition:
    return build_integrity_asset(dataset.key, dataset.partitions, LANDING_COLUMNS)


def cleaned_integrity_asset(spec: TableSpec) -> dg.AssetsDefinition:
    """Judges the declared columns: keys are the cleaning checks' business, and bookkeeping
    columns (e.g. reviews' `source`) are constant on most days by design."""
    source = dg.AssetKey(["cleaned", spec.name])
    return build_integrity_asset(source, daily_partitions, spec.key, list(spec.fields))


integrity_assets = [
    *(cleaned_integrity_asset(spec) for spec in CLEANED_TABLES),
    *(landed_integrity_asset(dataset) for dataset in TABULAR_DATASETS),
]
drift_assets = [build_drift_asset(REVIEWS, label="rating"), build_drift_asset(LISTENS)]
quality_assets = [*integrity_assets, *drift_assets]

# The quality assets whose blocking checks guard training (see `checks`).
TRAINING_GUARDS = (
    quality_key(dg.AssetKey(["cleaned", REVIEWS.name])),
    quality_key(dg.AssetKey(["landed", "reviews"])),
)


def failed_training_guards(instance: dg.DagsterInstance) -> list[str]:
    """The blocking checks on the training data whose latest evaluation failed.

    Dagster skips what follows a failed blocking check within one run; training runs in its
    own job, so it asks the instance instead.
    """
    keys = [
        dg.AssetCheckKey(guard, check.name)
        for guard in TRAINING_GUARDS
        for check in INTEGRITY_CHECKS
        if check.blocking
    ]
    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(keys)
    return [
        f"{key.asset_key.to_user_string()}:{key.name}"
        for key, record in latest.items()
        if record.status.value == "FAILED"
    ]
