"""The code location: every asset, check, job, schedule and resource, chosen in one place.

This is the only module that reads the environment. Each variable has a default that
runs everything on one machine (the embedded default); production overrides them.
"""

import os
from pathlib import Path

import dagster as dg

from dataplatform.catalog.jobs import replay_lineage
from dataplatform.catalog.runs import catalog_failed_runs, catalog_successful_runs
from dataplatform.cleaning.assets import cleaned_assets
from dataplatform.executors import executor_from
from dataplatform.ingestion.assets import raw_assets
from dataplatform.jobs import (
    build_daily_refresh_schedule,
    daily_refresh_job,
    documents_job,
    group_jobs,
    landing_jobs,
)
from dataplatform.landing.assets import landing_assets
from dataplatform.landing.datasets import TABULAR_DATASETS
from dataplatform.landing.knowledge_base import build_documents_sensor, documents_knowledge_base
from dataplatform.landing.sensors import build_landing_sensor
from dataplatform.landing.zone import LandingZone
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


def resources() -> dict[str, object]:
    datahub = datahub_sink()
    return {
        "io_manager": ParquetIOManager(base_path=data_dir(), datahub=datahub),
        "source_api": source_api(),
        "datahub": datahub,
        "landing": LandingZone(root=landing_dir()),
    }


def with_ownership(spec: dg.AssetSpec) -> dg.AssetSpec:
    """Cross-cutting catalog policy, applied once: owners and a layer tag by group."""
    return spec.merge_attributes(owners=[OWNER], tags={"layer": spec.group_name or "default"})


defs = dg.Definitions(
    assets=dg.map_asset_specs(
        with_ownership,
        [*raw_assets, *landing_assets, documents_knowledge_base, *cleaned_assets],
    ),
    jobs=[daily_refresh_job, *group_jobs, *landing_jobs.values(), documents_job, replay_lineage],
    sensors=[
        catalog_successful_runs,
        catalog_failed_runs,
        *(build_landing_sensor(d, landing_jobs[d.name].name) for d in TABULAR_DATASETS),
        build_documents_sensor(documents_job.name),
    ],
    schedules=[
        build_daily_refresh_schedule(
            at=os.getenv("DATAPLATFORM_SCHEDULE_TIME", "02:00"),
            timezone=os.getenv("DATAPLATFORM_TIMEZONE", "UTC"),
        )
    ],
    resources=resources(),
    executor=executor_from(
        os.getenv("DATAPLATFORM_EXECUTOR", "multiprocess"),
        broker_url=os.getenv("DATAPLATFORM_CELERY_BROKER", ""),
        backend_url=os.getenv("DATAPLATFORM_CELERY_BACKEND", ""),
    ),
)
