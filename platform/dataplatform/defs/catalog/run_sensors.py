"""Run-status sensors: every finished run, failed ones included, becomes a DataHub run."""

import dagster as dg

from dataplatform.catalog.runs import finished_run
from dataplatform.catalog.sink import DataHubSink


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    name="catalog_successful_runs",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Records each successful run in DataHub as a DataProcessInstance.",
)
def catalog_successful_runs(context: dg.RunStatusSensorContext, datahub: DataHubSink) -> None:
    datahub.record_run(finished_run(context.instance, context.dagster_run))


@dg.run_failure_sensor(
    name="catalog_failed_runs",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Records each failed run in DataHub, keeping the lineage of earlier runs.",
)
def catalog_failed_runs(context: dg.RunFailureSensorContext, datahub: DataHubSink) -> None:
    message = context.failure_event.message
    datahub.record_run(finished_run(context.instance, context.dagster_run, message))
