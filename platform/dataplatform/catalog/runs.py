"""Run-status sensors: every finished run, failed ones included, becomes a DataHub run."""

from datetime import UTC, datetime

import dagster as dg

from dataplatform.lineage.metadata import FinishedRun, run_mcps
from dataplatform.resources.datahub import DataHubSink


def finished_run(
    instance: dg.DagsterInstance, run: dg.DagsterRun, message: str | None = None
) -> FinishedRun:
    """A finished run as the catalog sees it: outcome, timing and the assets it wrote."""
    records = instance.get_records_for_run(
        run_id=run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
    ).records
    outputs = {record.event_log_entry.dagster_event.asset_key for record in records}
    stats = instance.get_run_stats(run.run_id)
    return FinishedRun(
        run_id=run.run_id,
        job_name=run.job_name,
        succeeded=run.status == dg.DagsterRunStatus.SUCCESS,
        started_at=_moment(stats.start_time),
        ended_at=_moment(stats.end_time) or datetime.now(UTC),
        outputs=sorted(outputs, key=lambda key: key.to_user_string()),
        message=message,
    )


def _moment(timestamp: float | None) -> datetime | None:
    return datetime.fromtimestamp(timestamp, UTC) if timestamp else None


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    name="catalog_successful_runs",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Records each successful run in DataHub as a DataProcessInstance.",
)
def catalog_successful_runs(context: dg.RunStatusSensorContext, datahub: DataHubSink) -> None:
    run = finished_run(context.instance, context.dagster_run)
    datahub.emit(run_mcps(run, datahub.naming))


@dg.run_failure_sensor(
    name="catalog_failed_runs",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Records each failed run in DataHub, keeping the lineage of earlier runs.",
)
def catalog_failed_runs(context: dg.RunFailureSensorContext, datahub: DataHubSink) -> None:
    run = finished_run(context.instance, context.dagster_run, context.failure_event.message)
    datahub.emit(run_mcps(run, datahub.naming))
