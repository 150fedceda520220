"""The code location: every asset, check, job, schedule and resource, chosen in one place.

This is the only module that reads the environment. Each variable has a default that
runs everything on one machine (the embedded default); production overrides them.
"""

import os
from pathlib import Path

import dagster as dg

from dataplatform.catalog.jobs import replay_lineage
from dataplatform.catalog.mlflow_ingestion import (
    MlflowTrackingServer,
    build_catalog_schedule,
    mlflow_to_datahub,
)
from dataplatform.catalog.runs import catalog_failed_runs, catalog_successful_runs
from dataplatform.cleaning.assets import cleaned_assets
from dataplatform.entities.assets import EntityTruth, entity_assets
from dataplatform.entities.plots import PlotStore
from dataplatform.executors import executor_from
from dataplatform.ingestion.assets import raw_assets
from dataplatform.jobs import (
    build_daily_refresh_schedule,
    build_pipeline_health_schedule,
    daily_refresh_job,
    documents_job,
    group_jobs,
    landing_jobs,
    pipeline_health_job,
    train_models_job,
)
from dataplatform.landing.assets import landing_assets
from dataplatform.landing.datasets import TABULAR_DATASETS
from dataplatform.landing.knowledge_base import build_documents_sensor, documents_knowledge_base
from dataplatform.landing.sensors import build_landing_sensor
from dataplatform.landing.zone import LandingZone
from dataplatform.models.recommender_assets import recommendations, recommender
from dataplatform.models.retraining import build_retraining_sensors
from dataplatform.models.sentiment_assets import sentiment_assets
from dataplatform.models.tracking import (
    embedded_artifact_location,
    embedded_tracking_uri,
    mlflow_resource,
)
from dataplatform.quality.alerts import (
    AlertSink,
    alert_on_failed_blocking_checks,
    alert_on_run_failure,
)
from dataplatform.quality.assets import quality_assets
from dataplatform.quality.health import pipeline_health
from dataplatform.quality.reports import ReportStore
from dataplatform.resources.datahub import DataHubSink, SinkKind
from dataplatform.resources.parquet_io_manager import ParquetIOManager
from dataplatform.resources.source_api import SourceApiClient

DEFAULT_API_URL = "http://127.0.0.1:8765"
OWNER = "team:data-platform"


def data_dir() -> str:
    return os.getenv("DATAPLATFORM_DATA_DIR", str(Path.cwd() / "data"))


def source_api() -> SourceApiClient:
    token = dg.EnvVar("DATAPLATFORM_API_TOKEN") if os.getenv("DATAPLATFORM_API_TOKEN") else None
    return SourceApiClient(
        base_url=os.getenv("DATAPLATFORM_API_URL", DEFAULT_API_URL),
        token=token,
        page_size=int(os.getenv("DATAPLATFORM_API_PAGE_SIZE", "1000")),
        concurrency=int(os.getenv("DATAPLATFORM_API_CONCURRENCY", "4")),
        max_attempts=int(os.getenv("DATAPLATFORM_API_MAX_ATTEMPTS", "6")),
        timeout_seconds=float(os.getenv("DATAPLATFORM_API_TIMEOUT_SECONDS", "30")),
    )


def catalog_dir() -> str:
    return os.getenv("DATAPLATFORM_CATALOG_DIR", str(Path(data_dir()) / "catalog"))


def datahub_sink() -> DataHubSink:
    token = (
        dg.EnvVar("DATAPLATFORM_DATAHUB_TOKEN") if os.getenv("DATAPLATFORM_DATAHUB_TOKEN") else None
    )
    return DataHubSink(
        kind=SinkKind(os.getenv("DATAPLATFORM_DATAHUB_SINK", "lite")),
        lite_path=str(Path(catalog_dir()) / "datahub_lite.sqlite"),
        file_path=os.getenv("DATAPLATFORM_DATAHUB_FILE", str(Path(catalog_dir()) / "mcps.json")),
        spool_dir=str(Path(catalog_dir()) / "spool"),
        server=os.getenv("DATAPLATFORM_DATAHUB_SERVER", ""),
        token=token,
        strict=os.getenv("DATAPLATFORM_DATAHUB_STRICT", "false").lower() == "true",
        env=os.getenv("DATAPLATFORM_DATAHUB_ENV", "PROD"),
        ui_url=os.getenv("DAGSTER_UI_URL", "http://127.0.0.1:3000"),
    )


def landing_dir() -> str:
    return os.getenv("DATAPLATFORM_LANDING_DIR", str(Path(data_dir()) / "landing"))


def mlflow_tracking_uri() -> str:
    return os.getenv("MLFLOW_TRACKING_URI") or embedded_tracking_uri(data_dir())


def mlflow_tracking() -> dg.ResourceDefinition:
    """A tracking server when MLFLOW_TRACKING_URI is set, else a SQLite store in the data dir."""
    if os.getenv("MLFLOW_TRACKING_URI"):
        return mlflow_resource(mlflow_tracking_uri())
    return mlflow_resource(mlflow_tracking_uri(), embedded_artifact_location(data_dir()))


def resources() -> dict[str, object]:
    datahub = datahub_sink()
    return {
        "io_manager": ParquetIOManager(base_path=data_dir(), datahub=datahub),
        "source_api": source_api(),
        "datahub": datahub,
        "landing": LandingZone(root=landing_dir()),
        "quality_reports": ReportStore(
            base_path=data_dir(),
            sample_size=int(os.getenv("DATAPLATFORM_QUALITY_SAMPLE_SIZE", "10000")),
        ),
        "alerts": AlertSink(webhook_url=os.getenv("DATAPLATFORM_ALERT_WEBHOOK_URL", "")),
        "entity_truth": EntityTruth(labels_path=os.getenv("DATAPLATFORM_ENTITY_TRUTH", "")),
        "plots": PlotStore(base_path=data_dir()),
        "mlflow": mlflow_tracking(),
        "mlflow_server": MlflowTrackingServer(tracking_uri=mlflow_tracking_uri()),
    }


def with_ownership(spec: dg.AssetSpec) -> dg.AssetSpec:
    """Cross-cutting catalog policy, applied once: owners and a layer tag by group."""
    return spec.merge_attributes(owners=[OWNER], tags={"layer": spec.group_name or "default"})


defs = dg.Definitions(
    assets=dg.map_asset_specs(
        with_ownership,
        [
            *raw_assets,
            *landing_assets,
            documents_knowledge_base,
            *cleaned_assets,
            *entity_assets,
            *sentiment_assets,
            recommender,
            recommendations,
            *quality_assets,
            pipeline_health,
        ],
    ),
    jobs=[
        daily_refresh_job,
        *group_jobs,
        *landing_jobs.values(),
        documents_job,
        pipeline_health_job,
        train_models_job,
        mlflow_to_datahub,
        replay_lineage,
    ],
    sensors=[
        catalog_successful_runs,
        catalog_failed_runs,
        *(build_landing_sensor(d, landing_jobs[d.name].name) for d in TABULAR_DATASETS),
        build_documents_sensor(documents_job.name),
        alert_on_run_failure,
        alert_on_failed_blocking_checks,
        *build_retraining_sensors(train_models_job.name),
    ],
    schedules=[
        build_daily_refresh_schedule(
            at=os.getenv("DATAPLATFORM_SCHEDULE_TIME", "02:00"),
            timezone=os.getenv("DATAPLATFORM_TIMEZONE", "UTC"),
        ),
        build_pipeline_health_schedule(timezone=os.getenv("DATAPLATFORM_TIMEZONE", "UTC")),
        build_catalog_schedule(
            mlflow_to_datahub,
            at=os.getenv("DATAPLATFORM_CATALOG_SCHEDULE_TIME", "03:00"),
            timezone=os.getenv("DATAPLATFORM_TIMEZONE", "UTC"),
        ),
    ],
    resources=resources(),
    executor=executor_from(
        os.getenv("DATAPLATFORM_EXECUTOR", "multiprocess"),
        broker_url=os.getenv("DATAPLATFORM_CELERY_BROKER", ""),
        backend_url=os.getenv("DATAPLATFORM_CELERY_BACKEND", ""),
    ),
)
