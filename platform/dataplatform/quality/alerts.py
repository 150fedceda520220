"""Alerts on failed runs and failed blocking checks, sent to a log or to a webhook URL.

`alert_on_run_failure` fires for every failed run; when blocking checks failed in it (which
is what failed the run: Dagster fails the step of an asset whose blocking check failed), the
alert says so and lists them. `alert_on_failed_blocking_checks` covers checks that failed in
a run that still succeeded (a check-only run, or a blocking check failing with WARN).
"""

import json
import urllib.request
from dataclasses import asdict, dataclass, field

import dagster as dg

RUN_FAILED = "run_failed"
BLOCKING_CHECK_FAILED = "blocking_check_failed"


@dataclass(frozen=True)
class Alert:
    kind: str  # RUN_FAILED or BLOCKING_CHECK_FAILED
    title: str
    run_id: str
    job: str
    message: str = ""
    failed_checks: list[str] = field(default_factory=list)  # "asset:check"


class AlertSink(dg.ConfigurableResource):
    """Where alerts go: the Dagster log (no URL) or a webhook receiving each alert as JSON."""

    webhook_url: str = ""
    timeout_seconds: float = 10.0

    def send(self, alert: Alert) -> str:
        if not self.webhook_url:
            dg.get_dagster_logger().error(f"ALERT {alert.title}: {json.dumps(asdict(alert))}")
            return "log"
        request = urllib.request.Request(
            self.webhook_url,
            data=json.dumps(asdict(alert)).encode("utf-8"),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=self.timeout_seconds):
            return "webhook"


def failed_blocking_checks(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ).records
    evaluations = [r.event_log_entry.dagster_event.asset_check_evaluation_data for r in records]
    return [
        f"{e.asset_key.to_user_string()}:{e.check_name}"
        for e in evaluations
        if e.blocking and not e.passed
    ]


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
