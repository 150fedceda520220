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
        request = urllib.request.Request(  # noqa: S310  the operator's own webhook setting
            self.webhook_url,
            data=json.dumps(asdict(alert)).encode("utf-8"),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=self.timeout_seconds):  # noqa: S310  as above
            return "webhook"


def failed_blocking_checks(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ).records
    evaluations = [check_evaluation(r) for r in records]
    return [
        f"{e.asset_key.to_user_string()}:{e.check_name}"
        for e in evaluations
        if e.blocking and not e.passed
    ]


def check_evaluation(record: dg.EventLogRecord) -> dg.AssetCheckEvaluation:
    """The check evaluation an ASSET_CHECK_EVALUATION record holds."""
    event = record.event_log_entry.dagster_event
    assert event is not None  # records fetched by a Dagster event type hold that event
    return event.asset_check_evaluation_data
