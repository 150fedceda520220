"""Alert sensors: a failed run, or blocking checks failed in a run, sends an alert."""

import dagster as dg

from dataplatform.quality.alerts import (
    BLOCKING_CHECK_FAILED,
    RUN_FAILED,
    Alert,
    AlertSink,
    failed_blocking_checks,
)


@dg.run_failure_sensor(
    name="alert_on_run_failure",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Sends an alert for each failed run, naming the blocking checks that failed.",
)
def alert_on_run_failure(context: dg.RunFailureSensorContext, alerts: AlertSink) -> None:
    run = context.dagster_run
    failed = failed_blocking_checks(context.instance, run.run_id)
    alerts.send(
        Alert(
            kind=BLOCKING_CHECK_FAILED if failed else RUN_FAILED,
            title=f"{run.job_name} failed" + (" on blocking checks" if failed else ""),
            run_id=run.run_id,
            job=run.job_name,
            message=context.failure_event.message or "",
            failed_checks=failed,
        )
    )


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    name="alert_on_failed_blocking_checks",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Sends an alert when a blocking check failed in a run that still succeeded.",
)
def alert_on_failed_blocking_checks(context: dg.RunStatusSensorContext, alerts: AlertSink) -> None:
    run = context.dagster_run
    failed = failed_blocking_checks(context.instance, run.run_id)
    if failed:
        alerts.send(
            Alert(
                kind=BLOCKING_CHECK_FAILED,
                title=f"blocking checks failed in {run.job_name}",
                run_id=run.run_id,
                job=run.job_name,
                failed_checks=failed,
            )
        )
