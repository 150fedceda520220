"""The resources and executor of every run, bound from the settings when the code loads."""

import dagster as dg

from dataplatform.catalog.mlflow_ingestion import MlflowTrackingServer
from dataplatform.catalog.sink import DataHubSink
from dataplatform.entities.key_store import PreparedKeyStore
from dataplatform.entities.plots import PlotStore
from dataplatform.entities.truth import EntityTruth
from dataplatform.executors import executor_from
from dataplatform.landing.zone import LandingZone
from dataplatform.models.tracking import (
    MlflowTracking,
    embedded_artifact_location,
    embedded_tracking_uri,
)
from dataplatform.quality.alerts import AlertSink
from dataplatform.quality.reports import ReportStore
from dataplatform.resources.mart_database import MartDatabase
from dataplatform.resources.parquet_io_manager import ParquetIOManager
from dataplatform.resources.source_api import SourceApiClient
from dataplatform.settings import PlatformSettings


def secret(name: str, is_set: bool) -> dg.EnvVar | None:
    """A secret is bound by name: Dagster resolves it when a run launches and never shows it."""
    return dg.EnvVar(name) if is_set else None


def datahub_sink(settings: PlatformSettings) -> DataHubSink:
    catalog = settings.catalog_folder
    return DataHubSink(
        kind=settings.datahub_sink,
        lite_path=f"{catalog}/datahub_lite.sqlite",
        file_path=settings.datahub_file_path,
        spool_dir=f"{catalog}/spool",
        server=settings.datahub_server,
        token=secret("DATAPLATFORM_DATAHUB_TOKEN", settings.datahub_token_set),
        strict=settings.datahub_strict,
        env=settings.datahub_env,
        ui_url=settings.ui_url,
    )


def source_api(settings: PlatformSettings) -> SourceApiClient:
    return SourceApiClient(
        base_url=settings.api_url,
        token=secret("DATAPLATFORM_API_TOKEN", settings.api_token_set),
        page_size=settings.api_page_size,
        concurrency=settings.api_concurrency,
        max_attempts=settings.api_max_attempts,
        timeout_seconds=settings.api_timeout_seconds,
        max_retry_after_seconds=settings.api_max_retry_after_seconds,
    )


def mlflow_tracking(settings: PlatformSettings) -> MlflowTracking:
    """A tracking server when MLFLOW_TRACKING_URI is set, else a SQLite store in the data dir."""
    if settings.mlflow_tracking_uri:
        return MlflowTracking(tracking_uri=settings.mlflow_tracking_uri, ui_url=settings.mlflow_ui)
    return MlflowTracking(
        tracking_uri=embedded_tracking_uri(settings.data_dir),
        artifact_location=embedded_artifact_location(settings.data_dir),
        ui_url=settings.mlflow_ui,
    )


def platform_resources(settings: PlatformSettings) -> dict[str, object]:
    datahub = datahub_sink(settings)
    tracking_uri = settings.mlflow_tracking_uri or embedded_tracking_uri(settings.data_dir)
    return {
        "io_manager": ParquetIOManager(base_path=settings.data_dir, datahub=datahub),
        "source_api": source_api(settings),
        "datahub": datahub,
        "landing": LandingZone(root=settings.landing_folder),
        "quality_reports": ReportStore(
            base_path=settings.data_dir,
            sample_size=settings.quality_sample_size,
            base_url=settings.reports_url,
        ),
        "alerts": AlertSink(
            webhook_url=secret("DATAPLATFORM_ALERT_WEBHOOK_URL", settings.alert_webhook_set) or ""
        ),
        "entity_truth": EntityTruth(labels_path=settings.entity_truth),
        "plots": PlotStore(base_path=settings.data_dir),
        "prepared_keys": PreparedKeyStore(base_path=settings.data_dir),
        "mlflow": mlflow_tracking(settings),
        "mlflow_server": MlflowTrackingServer(tracking_uri=tracking_uri),
        "mart": MartDatabase.for_target(settings.mart),
    }


@dg.definitions
def resources() -> dg.Definitions:
    settings = PlatformSettings.from_environment()
    return dg.Definitions(resources=platform_resources(settings), executor=executor_from(settings))
