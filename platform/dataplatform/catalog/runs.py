"""A finished Dagster run as the catalog records it: outcome, timing and the assets it wrote.

Each output is named by the dataset its materialisation reported (`datahub/urn`), so a mart
table is the `duckdb`/`postgres` dataset the mart described, not a Parquet asset's name.
"""

from datetime import UTC, datetime

import dagster as dg

from dataplatform.catalog.metadata import FinishedRun


def finished_run(
    instance: dg.DagsterInstance, run: dg.DagsterRun, message: str | None = None
) -> FinishedRun:
    """A finished run as the catalog sees it: outcome, timing and the assets it wrote."""
    records = instance.get_records_for_run(
        run_id=run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
    ).records
    outputs = {_asset_key(record) for record in records}
    output_urns = {_asset_key(record): urn for record in records if (urn := _reported_urn(record))}
    stats = instance.get_run_stats(run.run_id)
    return FinishedRun(
        run_id=run.run_id,
        job_name=run.job_name,
        succeeded=run.status == dg.DagsterRunStatus.SUCCESS,
        started_at=_moment(stats.start_time),
        ended_at=_moment(stats.end_time) or datetime.now(UTC),
        outputs=sorted(outputs, key=lambda key: key.to_user_string()),
        output_urns=output_urns,
        message=message,
    )


def _asset_key(record: dg.EventLogRecord) -> dg.AssetKey:
    key = record.asset_key
    assert key is not None  # a materialisation event names its asset
    return key


def _reported_urn(record: dg.EventLogRecord) -> str | None:
    materialization = record.asset_materialization
    value = materialization.metadata.get("datahub/urn") if materialization else None
    return value.value if isinstance(value, dg.TextMetadataValue) else None


def _moment(timestamp: float | None) -> datetime | None:
    return datetime.fromtimestamp(timestamp, UTC) if timestamp else None
