"""Alerts for failed runs and failed blocking checks reach a real local webhook, or the log."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dagster as dg
import pytest

from dataplatform.defs.quality.alerts import alert_on_failed_blocking_checks, alert_on_run_failure
from dataplatform.quality.alerts import (
    BLOCKING_CHECK_FAILED,
    RUN_FAILED,
    Alert,
    AlertSink,
)
from dataplatform.resources.parquet_io_manager import ParquetIOManager
from platform_tests.quality.runs import exploding, guarded, run_failure_event, songs


class Webhook(ThreadingHTTPServer):
    received: list[dict]


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    server = Webhook(("127.0.0.1", 0), Receiver)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def url(server: Webhook) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/alerts"


def failure_context(
    instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult, sink: AlertSink
) -> dg.RunFailureSensorContext:
    return dg.build_run_status_sensor_context(
        sensor_name=alert_on_run_failure.name,
        dagster_event=run_failure_event(instance, result.run_id),
        dagster_instance=instance,
        dagster_run=instance.get_run_by_id(result.run_id),
        resources={"alerts": sink},
    ).for_run_failure()


def test_failed_runs_alert_the_webhook_naming_blocking_checks(
    webhook: Webhook, tmp_path: Path
) -> None:
    sink = AlertSink(webhook_url=url(webhook))
    resources = {"io_manager": ParquetIOManager(base_path=str(tmp_path))}
    with dg.instance_for_test() as instance:
        for failing in (exploding, guarded):
            result = dg.materialize(
                [failing], instance=instance, resources=resources, raise_on_error=False
            )
            alert_on_run_failure(failure_context(instance, result, sink))

    crashed, blocked = webhook.received
    assert (crashed["kind"], crashed["failed_checks"]) == (RUN_FAILED, [])
    assert "exploding" in crashed["message"]
    assert (blocked["kind"], blocked["failed_checks"]) == (
        BLOCKING_CHECK_FAILED,
        ["guarded:not_empty"],
    )


def test_successful_runs_without_failed_checks_send_nothing(
    webhook: Webhook, tmp_path: Path
) -> None:
    sink = AlertSink(webhook_url=url(webhook))
    resources = {"io_manager": ParquetIOManager(base_path=str(tmp_path))}
    with dg.instance_for_test() as instance:
        result = dg.materialize([songs], instance=instance, resources=resources)
        [success] = [
            e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_SUCCESS
        ]
        context = dg.build_run_status_sensor_context(
            sensor_name=alert_on_failed_blocking_checks.name,
            dagster_event=success,
            dagster_instance=instance,
            dagster_run=instance.get_run_by_id(result.run_id),
            resources={"alerts": sink},
        )
        alert_on_failed_blocking_checks(context)

    assert webhook.received == []


def test_without_a_url_alerts_go_to_the_log(caplog: pytest.LogCaptureFixture) -> None:
    alert = Alert(kind=RUN_FAILED, title="daily_refresh failed", run_id="r1", job="daily_refresh")

    assert AlertSink().send(alert) == "log"
    assert "daily_refresh failed" in caplog.text
