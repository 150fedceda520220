"""The MLflow -> DataHub job: a model registered in a local MLflow store ends up in Lite."""

import json
from pathlib import Path

import dagster as dg
import pytest
from datahub.lite.lite_util import get_datahub_lite
from mlflow import MlflowClient

from dataplatform.catalog.ml_models import model_group_urn, model_urn
from dataplatform.catalog.mlflow_ingestion import (
    CatalogIngestionError,
    MlflowTrackingServer,
    mlflow_snapshot_path,
)
from dataplatform.catalog.sink import DataHubSink
from dataplatform.defs.catalog.mlflow_ingestion import mlflow_to_datahub
from dataplatform.defs.schedules import build_catalog_schedule
from platform_tests.events import op_output_metadata
from platform_tests.gms_stand_in import GmsStandIn

MODEL = "ingested_model"
TOKEN = "tok-mlflow-ingestion-s3cr3t"


@pytest.fixture(scope="module")
def tracking_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A local MLflow store holding one run and a registered model version with an alias."""
    root = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment = client.create_experiment("ingestion", artifact_location=str(root / "artifacts"))
    run = client.create_run(experiment)
    client.log_param(run.info.run_id, "factors", "16")
    client.log_metric(run.info.run_id, "precision_at_10", 0.25)
    client.set_terminated(run.info.run_id)
    client.create_registered_model(MODEL, description="A model to find in the catalog.")
    client.create_model_version(MODEL, f"runs:/{run.info.run_id}/model", run_id=run.info.run_id)
    client.set_registered_model_alias(MODEL, "champion", "1")
    return uri


def run_job(tracking_uri: str, datahub: DataHubSink) -> dg.ExecuteInProcessResult:
    return mlflow_to_datahub.execute_in_process(
        resources={
            "mlflow_server": MlflowTrackingServer(tracking_uri=tracking_uri),
            "datahub": datahub,
        },
        raise_on_error=False,
    )


def read_lite(path: Path, urn: str) -> dict:
    lite = get_datahub_lite({"type": "sqlite", "config": {"file": str(path)}}, read_only=True)
    try:
        return lite.get(urn, aspects=None) or {}
    finally:
        lite.close()


def test_the_job_puts_the_registered_model_and_its_version_into_lite(
    tracking_uri: str, tmp_path: Path
) -> None:
    lite_path = tmp_path / "lite.sqlite"
    sink = DataHubSink(kind="lite", lite_path=str(lite_path), spool_dir=str(tmp_path / "spool"))

    result = run_job(tracking_uri, sink)

    assert result.success
    assert op_output_metadata(result, "ingest_mlflow_into_datahub")["records_written"] > 0
    group = read_lite(lite_path, model_group_urn(MODEL, "PROD"))
    assert group["mlModelGroupProperties"]["description"] == "A model to find in the catalog."
    version = read_lite(lite_path, model_urn(MODEL, "1", "PROD"))
    properties = version["mlModelProperties"]
    assert properties["groups"] == [model_group_urn(MODEL, "PROD")]
    assert {m["name"]: float(m["value"]) for m in properties["trainingMetrics"]} == {
        "precision_at_10": 0.25
    }
    assert {p["name"]: p["value"] for p in properties["hyperParams"]} == {"factors": "16"}


def test_the_file_sink_gets_a_snapshot_beside_the_mcp_file_not_over_it(
    tracking_uri: str, tmp_path: Path
) -> None:
    mcp_file = tmp_path / "mcps.json"
    mcp_file.write_text("[]")
    sink = DataHubSink(kind="file", file_path=str(mcp_file), spool_dir=str(tmp_path / "spool"))

    assert run_job(tracking_uri, sink).success

    assert mcp_file.read_text() == "[]"
    snapshot = json.loads(mlflow_snapshot_path(sink).read_text())
    assert model_urn(MODEL, "1", "PROD") in {record.get("entityUrn") for record in snapshot}


def test_an_unreachable_tracking_server_fails_the_run_with_a_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    sink = DataHubSink(kind="lite", lite_path=str(tmp_path / "lite.sqlite"))

    result = run_job("http://127.0.0.1:9", sink)

    assert not result.success
    [failure] = [event for event in result.all_events if event.is_step_failure]
    error = failure.step_failure_data.error
    message = (error.cause or error).message
    assert message.startswith(f"{CatalogIngestionError.__module__}.CatalogIngestionError:")
    assert "MLflow -> DataHub (lite) ingestion failed" in message


def test_the_catalog_schedule_runs_the_job_daily() -> None:
    schedule = build_catalog_schedule(mlflow_to_datahub, at="03:30")

    assert schedule.job_name == "mlflow_to_datahub"
    assert schedule.cron_schedule == "30 3 * * *"
    assert schedule.execution_timezone == "UTC"


def test_an_unreachable_gms_fails_the_run_without_leaking_the_token(
    tracking_uri: str, tmp_path: Path
) -> None:
    sink = DataHubSink(
        kind="rest",
        server="http://127.0.0.1:9",
        token=TOKEN,
        timeout_seconds=2.0,
        spool_dir=str(tmp_path / "spool"),
    )

    result = run_job(tracking_uri, sink)

    assert not result.success
    [failure] = [event for event in result.all_events if event.is_step_failure]
    error = failure.step_failure_data.error
    message = (error.cause or error).message
    assert "MLflow -> DataHub (rest) ingestion failed" in message
    assert TOKEN not in error.to_string()


def test_the_rest_sink_sends_the_model_to_gms_with_the_token(
    tracking_uri: str, tmp_path: Path
) -> None:
    with GmsStandIn() as gms:
        sink = DataHubSink(
            kind="rest", server=gms.url, token=TOKEN, spool_dir=str(tmp_path / "spool")
        )

        result = run_job(tracking_uri, sink)

        assert result.success
        ingests = [request for request in gms.requests if request.method == "POST"]
        assert ingests
        assert {request.headers["Authorization"] for request in ingests} == {f"Bearer {TOKEN}"}
        properties = gms.aspects(model_urn(MODEL, "1", "PROD"))["mlModelProperties"]
        assert properties["groups"] == [model_group_urn(MODEL, "PROD")]
