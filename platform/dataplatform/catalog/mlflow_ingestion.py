"""The daily MLflow -> DataHub pull: DataHub's own MLflow ingestion source into our sink.

The source reads the tracking server (experiments, runs, registered models, versions and
their aliases/stages) and the pipeline writes to wherever the `DataHubSink` resource
points: Lite (under the same file lock as every other Lite writer, since Lite is not safe
for concurrent writers), a GMS over REST, or a file. The file sink writes a whole snapshot,
so it goes next to the sink's MCP file (`<name>.mlflow.json`), never over it. Model URNs are
the ones `catalog/ml_models.py` emits, so both describe the same entities.
"""

from pathlib import Path
from typing import Any

import dagster as dg
from datahub.ingestion.run.pipeline import Pipeline
from filelock import FileLock

from dataplatform.catalog.sink import DataHubSink, SinkKind


class MlflowTrackingServer(dg.ConfigurableResource):
    """Where the MLflow tracking (and model registry) server is."""

    tracking_uri: str
    registry_uri: str | None = None


class CatalogIngestionError(RuntimeError):
    """The MLflow ingestion pipeline reported failures."""


def mlflow_snapshot_path(datahub: DataHubSink) -> Path:
    path = Path(datahub.file_path)
    return path.with_name(f"{path.stem}.mlflow{path.suffix or '.json'}")


def sink_recipe(datahub: DataHubSink) -> dict[str, Any]:
    """The ingestion sink that writes where `datahub` does."""
    match datahub.kind:
        case SinkKind.LITE:
            return {
                "type": "datahub-lite",
                "config": {"type": "sqlite", "config": {"file": datahub.lite_path}},
            }
        case SinkKind.REST:
            config = {
                "server": datahub.server,
                "token": datahub.token,
                "timeout_sec": max(1, round(datahub.timeout_seconds)),
                "retry_max_times": 1,  # as the sink's own emitter: a failed day is re-run
            }
            return {"type": "datahub-rest", "config": config}
        case SinkKind.FILE:
            return {"type": "file", "config": {"filename": str(mlflow_snapshot_path(datahub))}}
    raise ValueError(f"no ingestion sink for DataHub sink kind {datahub.kind.value!r}")


def ingestion_recipe(server: MlflowTrackingServer, datahub: DataHubSink) -> dict[str, Any]:
    source = {"tracking_uri": server.tracking_uri, "env": datahub.env}
    if server.registry_uri:
        source["registry_uri"] = server.registry_uri
    return {
        "pipeline_name": "dataplatform_mlflow",
        "source": {"type": "mlflow", "config": source},
        "sink": sink_recipe(datahub),
    }


def ingest_mlflow(server: MlflowTrackingServer, datahub: DataHubSink) -> dict[str, int]:
    """Run the pull once; returns the source's counts. Raises if the pipeline failed."""
    if datahub.kind is SinkKind.LITE:
        Path(datahub.lite_path).parent.mkdir(parents=True, exist_ok=True)
        with FileLock(f"{datahub.lite_path}.lock", timeout=datahub.lock_timeout_seconds):
            return _run(server, datahub)
    if datahub.kind is SinkKind.FILE:
        mlflow_snapshot_path(datahub).parent.mkdir(parents=True, exist_ok=True)
    return _run(server, datahub)


def _run(server: MlflowTrackingServer, datahub: DataHubSink) -> dict[str, int]:
    try:
        pipeline = Pipeline.create(ingestion_recipe(server, datahub))
        pipeline.run()
        pipeline.raise_from_status()
    except Exception as error:
        raise CatalogIngestionError(
            f"MLflow -> DataHub ({datahub.kind.value}) ingestion failed:"
            f" {datahub.redact(f'{type(error).__name__}: {error}')}"
        ) from None
    source, sink = pipeline.source.get_report(), pipeline.sink.get_report()
    return {
        "workunits": source.events_produced,
        "records_written": sink.total_records_written,
    }
